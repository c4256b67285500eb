// Package loopback starts a server on a free port of 127.0.0.1 for a test or
// a scenario, and stops it when that test or scenario cleans up. The port is
// chosen by listening on :0 and handed to the server as that listener, never
// closed and dialled again, so no other process can take it in between.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Cleaner is what registers the stop: *testing.T and *runner.Env both are.
type Cleaner interface {
	Cleanup(func())
}

// Serve listens on 127.0.0.1:0 and runs serve(listener) in a goroutine.
// At cleanup it calls stop and waits for serve to return, so no goroutine
// outlives the test (goleak) or the scenario. It returns the host:port.
func Serve(c Cleaner, serve func(net.Listener) error, stop func()) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("loopback: listen: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = serve(ln) // its error after stop is the stop itself
	}()
	c.Cleanup(func() {
		stop()
		<-done
	})
	return ln.Addr().String(), nil
}

// ShutdownTimeout bounds how long HTTP's cleanup waits for requests in
// flight before it closes their connections.
const ShutdownTimeout = 5 * time.Second

// HTTP serves h on 127.0.0.1:0 and returns its base URL
// ("http://127.0.0.1:PORT"). The server has a ReadHeaderTimeout, and at
// cleanup it shuts down gracefully within ShutdownTimeout.
func HTTP(c Cleaner, h http.Handler) (string, error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: ShutdownTimeout}
	addr, err := Serve(c, func(ln net.Listener) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
	})
	if err != nil {
		return "", err
	}
	return "http://" + addr, nil
}
