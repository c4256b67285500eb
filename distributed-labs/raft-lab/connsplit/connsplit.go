// Package connsplit serves two protocols on one listener by the first byte
// a client sends: a node process gets one service address from labkit/node,
// and both its HTTP API and its Raft peers use it.
//
// HTTP requests start with a method name, an ASCII letter; hashicorp/raft's
// network transport starts every connection with an RPC type byte below
// 0x20. Anything else is closed.
package connsplit

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// peekTimeout bounds how long a new connection may take to send its first
// byte before it is dropped, so a silent client cannot hold a goroutine.
const peekTimeout = 10 * time.Second

// Splitter owns a listener and hands its connections to two others.
type Splitter struct {
	ln         net.Listener
	http, raft *sub
	done       chan struct{}
	once       sync.Once
	wg         sync.WaitGroup
}

// New starts splitting ln's connections. Close stops it and closes ln.
func New(ln net.Listener) *Splitter {
	s := &Splitter{ln: ln, done: make(chan struct{})}
	s.http = &sub{s: s, conns: make(chan net.Conn)}
	s.raft = &sub{s: s, conns: make(chan net.Conn)}
	s.wg.Add(1)
	go s.accept()
	return s
}

// HTTP is the listener of connections whose first byte is a letter.
func (s *Splitter) HTTP() net.Listener { return s.http }

// Raft is the listener of connections whose first byte is a control byte.
func (s *Splitter) Raft() net.Listener { return s.raft }

// Close closes the underlying listener; Accept on both halves returns
// net.ErrClosed.
func (s *Splitter) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ln.Close()
	})
	s.wg.Wait()
	return err
}

func (s *Splitter) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.route(c)
	}
}

func (s *Splitter) route(c net.Conn) {
	defer s.wg.Done()
	_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
	br := bufio.NewReader(c)
	b, err := br.Peek(1)
	if err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	to := s.http
	if b[0] < 0x20 {
		to = s.raft
	}
	select {
	case to.conns <- &peeked{Conn: c, r: br}:
	case <-s.done:
		_ = c.Close()
	}
}

// peeked is a connection whose first bytes sit in a bufio.Reader.
type peeked struct {
	net.Conn
	r *bufio.Reader
}

func (p *peeked) Read(b []byte) (int, error) { return p.r.Read(b) }

type sub struct {
	s     *Splitter
	conns chan net.Conn
}

func (l *sub) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.s.done:
		return nil, fmt.Errorf("connsplit: %w", net.ErrClosed)
	}
}

// Close of one half closes both: they share the listener.
func (l *sub) Close() error {
	err := l.s.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (l *sub) Addr() net.Addr { return l.s.ln.Addr() }
