// Command okserver is the trivial HTTP server scripts/loadgen-vs-wrk.sh measures load
// generators against: every request gets a 200 with a two-byte body, so the numbers compare the
// clients, not the handler.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "okserver: listen %s: %v\n", *addr, err)
		os.Exit(1)
	}
	// The chosen address is the first line on stdout, so a script can read the port.
	fmt.Println(ln.Addr().String())
	mux := http.NewServeMux()
	body := []byte("ok")
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "okserver: %v\n", err)
		os.Exit(1)
	}
}
