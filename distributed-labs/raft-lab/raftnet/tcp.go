package raftnet

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

// Stepper is what receives messages: a *raft.Node.
type Stepper interface {
	Step(m raft.Message)
}

// Options tune a TCP transport; zero values take the defaults.
type Options struct {
	// DialTimeout bounds a connection attempt (default 200 ms).
	DialTimeout time.Duration
	// WriteTimeout bounds one write, so a peer that stopped reading (a
	// paused process, a blackholed link) costs a reconnect, not a stuck
	// sender (default 1 s).
	WriteTimeout time.Duration
	// HandshakeTimeout bounds the preamble of an accepted connection
	// (default 2 s).
	HandshakeTimeout time.Duration
	// QueueLen is the messages queued per peer; beyond it Send drops, as
	// the network would (default 4096).
	QueueLen int
}

// Stats counts what the transport did.
type Stats struct {
	Sent, Dropped, Received, Rejected, Dials uint64
}

// TCP is a raft.Transport over TCP.
type TCP struct {
	id    int
	opts  Options
	peers map[int]*peer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool

	sent, dropped, received, rejected, dials atomic.Uint64
}

type peer struct {
	id    int
	addr  string
	queue chan raft.Message
}

// NewTCP starts a sender per peer of node id; peers maps each other node
// to the address to dial it at (a netfault proxy in a scenario). Close,
// or cancelling ctx, stops it.
func NewTCP(ctx context.Context, id int, peers map[int]string, opts Options) (*TCP, error) {
	if id <= 0 {
		return nil, fmt.Errorf("raftnet: node ID %d: expected > 0", id)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 200 * time.Millisecond
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = time.Second
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 2 * time.Second
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 4096
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &TCP{id: id, opts: opts, peers: map[int]*peer{}, ctx: ctx, cancel: cancel, conns: map[net.Conn]bool{}}
	for pid, addr := range peers {
		if pid == id {
			continue
		}
		if pid <= 0 || addr == "" {
			cancel()
			return nil, fmt.Errorf("raftnet: peer %d at %q: expected an ID > 0 and an address", pid, addr)
		}
		p := &peer{id: pid, addr: addr, queue: make(chan raft.Message, opts.QueueLen)}
		t.peers[pid] = p
		t.wg.Add(1)
		go t.sender(p)
	}
	// Closing the connections unblocks readers and writers when ctx ends.
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		<-ctx.Done()
		t.mu.Lock()
		defer t.mu.Unlock()
		for c := range t.conns {
			_ = c.Close()
		}
	}()
	return t, nil
}

// Send queues msgs for their peers and returns at once; a message for an
// unknown peer, or beyond a full queue, is dropped.
func (t *TCP) Send(msgs []raft.Message) {
	for _, m := range msgs {
		p, ok := t.peers[m.To]
		if !ok || t.ctx.Err() != nil {
			t.dropped.Add(1)
			continue
		}
		select {
		case p.queue <- m:
		default:
			t.dropped.Add(1)
		}
	}
}

// Stats reports counters since the start.
func (t *TCP) Stats() Stats {
	return Stats{Sent: t.sent.Load(), Dropped: t.dropped.Load(), Received: t.received.Load(),
		Rejected: t.rejected.Load(), Dials: t.dials.Load()}
}

// Close stops the senders and closes every connection; Serve returns.
func (t *TCP) Close() error {
	t.cancel()
	t.wg.Wait()
	return nil
}

// Serve accepts peers' connections on ln and hands their messages to s
// until ctx or the transport ends; it closes ln.
func (t *TCP) Serve(ctx context.Context, ln net.Listener, s Stepper) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	go func() {
		select {
		case <-t.ctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			_ = ln.Close()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("raftnet: accept: %w", err)
		}
		if !t.track(c) {
			_ = c.Close()
			return nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer t.untrack(c)
			t.receive(ctx, c, s)
		}()
	}
}

func (t *TCP) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		return false
	}
	t.conns[c] = true
	return true
}

func (t *TCP) untrack(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
	_ = c.Close()
}

// receive reads one peer's stream. Any bad byte ends the connection: a
// stream with a hole in it cannot be re-framed, and the peer redials.
func (t *TCP) receive(ctx context.Context, c net.Conn, s Stepper) {
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	r := bufio.NewReaderSize(c, 64<<10)
	_ = c.SetReadDeadline(time.Now().Add(t.opts.HandshakeTimeout))
	from, err := readPreamble(r)
	if err != nil {
		t.rejected.Add(1)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	for {
		m, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				t.rejected.Add(1)
			}
			return
		}
		if m.From != from || m.To != t.id {
			// A message that claims another sender, or is not ours, means
			// the peer is confused; drop the connection rather than trust it.
			t.rejected.Add(1)
			return
		}
		t.received.Add(1)
		s.Step(m)
	}
}

func readPreamble(r *bufio.Reader) (int, error) {
	head := make([]byte, len(Preamble))
	if _, err := io.ReadFull(r, head); err != nil {
		return 0, fmt.Errorf("raftnet: preamble: %w", err)
	}
	for i := range head {
		if head[i] != Preamble[i] {
			return 0, fmt.Errorf("%w: preamble %q: expected %q", ErrBadMessage, head, Preamble)
		}
	}
	id, err := binary.ReadUvarint(r)
	if err != nil || id == 0 || id > 1<<20 {
		return 0, fmt.Errorf("%w: sender ID %d: expected 1..2^20", ErrBadMessage, id)
	}
	return int(id), nil
}

func readFrame(r *bufio.Reader) (raft.Message, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return raft.Message{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > MaxFrame {
		return raft.Message{}, fmt.Errorf("%w: frame of %d bytes: expected at most %d", ErrBadMessage, n, MaxFrame)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return raft.Message{}, fmt.Errorf("raftnet: frame: %w", err)
	}
	return DecodeMessage(buf)
}

// sender keeps one connection to p, writes every queued message to it,
// and redials after any failure. While p cannot be reached, messages are
// dropped: Raft retries what matters, and a stale backlog would only
// delay fresh messages once the link returns.
func (t *TCP) sender(p *peer) {
	defer t.wg.Done()
	var (
		conn    net.Conn
		w       *bufio.Writer
		backoff time.Duration
		retryAt time.Time
	)
	closeConn := func() {
		if conn != nil {
			t.untrack(conn)
			conn, w = nil, nil
		}
	}
	defer closeConn()
	for {
		var m raft.Message
		select {
		case <-t.ctx.Done():
			return
		case m = <-p.queue:
		}
		if conn == nil {
			if time.Now().Before(retryAt) {
				t.dropped.Add(1)
				continue
			}
			c, err := t.dial(p.addr)
			if err != nil {
				backoff = min(max(2*backoff, 20*time.Millisecond), time.Second)
				retryAt = time.Now().Add(backoff)
				t.dropped.Add(1)
				continue
			}
			backoff = 0
			conn, w = c, bufio.NewWriterSize(c, 64<<10)
		}
		// Take whatever else is queued, so one write carries a burst.
		batch := []raft.Message{m}
	drain:
		for len(batch) < 1024 {
			select {
			case m := <-p.queue:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		if err := t.write(conn, w, batch); err != nil {
			t.dropped.Add(uint64(len(batch)))
			closeConn()
			continue
		}
		t.sent.Add(uint64(len(batch)))
	}
}

func (t *TCP) dial(addr string) (net.Conn, error) {
	t.dials.Add(1)
	d := net.Dialer{Timeout: t.opts.DialTimeout}
	c, err := d.DialContext(t.ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("raftnet: dial %s: %w", addr, err)
	}
	if !t.track(c) {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	_ = c.SetWriteDeadline(time.Now().Add(t.opts.WriteTimeout))
	hello := binary.AppendUvarint(append([]byte{}, Preamble...), uint64(t.id)) //nolint:gosec // ID > 0
	if _, err := c.Write(hello); err != nil {
		t.untrack(c)
		return nil, fmt.Errorf("raftnet: preamble to %s: %w", addr, err)
	}
	return c, nil
}

func (t *TCP) write(c net.Conn, w *bufio.Writer, batch []raft.Message) error {
	_ = c.SetWriteDeadline(time.Now().Add(t.opts.WriteTimeout))
	var buf []byte
	for _, m := range batch {
		buf = AppendMessage(buf[:0], m)
		if len(buf) > MaxFrame {
			// The receiver would refuse it and drop the connection; a
			// snapshot this big needs a chunked transfer this lab lacks.
			t.dropped.Add(1)
			continue
		}
		var head [4]byte
		binary.BigEndian.PutUint32(head[:], uint32(len(buf))) //nolint:gosec // bounded by MaxFrame in practice
		if _, err := w.Write(head[:]); err != nil {
			return fmt.Errorf("raftnet: write: %w", err)
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("raftnet: write: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("raftnet: write: %w", err)
	}
	return nil
}
