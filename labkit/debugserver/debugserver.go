// Package debugserver serves pprof, Prometheus /metrics and a health check on
// a port of its own.
//
// It never uses http.DefaultServeMux: importing net/http/pprof registers its
// handlers there as a side effect, and a service that serves the default mux
// on its public port would publish profiling to the world. Here the handlers
// are mounted explicitly on a private mux bound to loopback by default.
package debugserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is a running debug server.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// Mux returns the debug handlers: /debug/pprof/*, /metrics for the given
// gatherer, and /healthz answering 200 "ok".
func Mux(g prometheus.Gatherer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Start listens on addr ("127.0.0.1:0" picks a free loopback port) and serves
// the debug mux until Shutdown.
func Start(addr string, g prometheus.Gatherer) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debugserver: listen on %s: %w", addr, err)
	}
	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           Mux(g),
			ReadHeaderTimeout: 5 * time.Second,
			// No WriteTimeout: /debug/pprof/profile?seconds=30 streams for 30s.
			IdleTimeout: time.Minute,
		},
		done: make(chan error, 1),
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Addr is the address the server listens on, e.g. "127.0.0.1:40123".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// PprofURL is where a learner points `go tool pprof` or a browser.
func (s *Server) PprofURL() string { return "http://" + s.Addr() + "/debug/pprof/" }

// MetricsURL is the Prometheus scrape address.
func (s *Server) MetricsURL() string { return "http://" + s.Addr() + "/metrics" }

// Shutdown stops the server, waiting for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("debugserver: shutdown: %w", err)
	}
	return <-s.done
}
