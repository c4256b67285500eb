package server

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
)

// client is one connection's state. Fields other than outMu/w/push are touched only under the
// executor lock.
type client struct {
	id      int64
	name    string
	addr    string
	created time.Time
	conn    net.Conn
	r       *resp.Reader

	outMu sync.Mutex // guards w and out between the connection goroutine and the push writer
	w     *resp.Writer
	// out is the client's output buffer: replies are encoded into memory while the executor
	// lock is held and written to the socket after it is released, so a client that does not
	// read its replies can never block the executor (Redis's client output buffer).
	out *bytes.Buffer
	buf *bytes.Buffer // fake clients (AOF loader, Lua) reply into a buffer

	proto           int
	db              int // the selected database (SELECT)
	closeAfterReply bool
	replyErr        bool // the last reply written was an error
	rewrite         [][]byte
	noPropagate     bool

	inMulti  bool
	multiErr bool
	queued   [][][]byte
	watched  map[string]struct{}
	dirtyCAS bool

	subs  map[string]struct{}
	psubs map[string]struct{}
	push  chan []byte
	done  chan struct{}
	pushW sync.WaitGroup

	lastCmd string

	block   *blockState     // set while the client waits in a blocking command
	blockCh chan blockReply // the executor's answer to a blocked client
}

func (s *Server) newClient(conn net.Conn) *client {
	c := &client{
		id:      s.nextID.Add(1),
		conn:    conn,
		addr:    conn.RemoteAddr().String(),
		created: time.Now(),
		r:       resp.NewReader(conn, s.cfg.Limits),
		out:     &bytes.Buffer{},
		proto:   2,
	}
	c.w = resp.NewWriter(c.out)
	s.mu.Lock()
	s.clients[c.id] = c
	s.stats.connections++
	s.mu.Unlock()
	return c
}

// newFakeClient returns a client without a connection whose replies go to a buffer.
func (s *Server) newFakeClient() *client {
	buf := &bytes.Buffer{}
	return &client{id: s.nextID.Add(1), w: resp.NewWriter(buf), buf: buf, proto: 2, addr: "internal"}
}

// freeClient drops every server-side reference to c (under the executor lock).
func (s *Server) freeClient(c *client) {
	s.unwatchAll(c)
	for ch := range c.subs {
		s.removeSub(s.channels, ch, c)
	}
	for p := range c.psubs {
		s.removeSub(s.patterns, p, c)
	}
	if c.block != nil {
		s.unblock(c)
	}
	delete(s.clients, c.id)
}

func (c *client) setProto(p int) {
	c.proto = p
	c.w.Proto = p
}

func (c *client) subscribed() bool { return len(c.subs)+len(c.psubs) > 0 }

// startPush starts the goroutine that delivers pub/sub messages to c. PUBLISH runs under the
// executor lock and must never block on a slow subscriber's socket, so it only enqueues; a full
// queue disconnects the subscriber, as Redis's client-output-buffer-limit pubsub does.
func (c *client) startPush() {
	if c.push != nil || c.conn == nil {
		return
	}
	c.push = make(chan []byte, 4096)
	c.done = make(chan struct{})
	c.pushW.Add(1)
	go func() {
		defer c.pushW.Done()
		for {
			select {
			case <-c.done:
				return
			case msg := <-c.push:
				c.outMu.Lock()
				c.w.Raw(msg)
				for more := true; more; {
					select {
					case m := <-c.push:
						c.w.Raw(m)
					default:
						more = false
					}
				}
				err := c.flushOut()
				c.outMu.Unlock()
				if err != nil {
					c.conn.Close()
					return
				}
			}
		}
	}()
}

func (c *client) stopPush() {
	if c.done != nil {
		close(c.done)
		c.pushW.Wait()
	}
}

// flushOut moves the encoded replies to the socket; the caller holds outMu, never the executor
// lock.
func (c *client) flushOut() error {
	if err := c.w.Flush(); err != nil {
		return err
	}
	if c.out.Len() == 0 {
		return nil
	}
	_, err := c.conn.Write(c.out.Bytes())
	if c.out.Cap() > 1<<20 {
		c.out = &bytes.Buffer{} // give a burst's memory back
		c.w.Reset(c.out)
	} else {
		c.out.Reset()
	}
	return err
}

// deliver enqueues an encoded push message without blocking.
func (c *client) deliver(msg []byte) {
	if c.push == nil {
		return
	}
	select {
	case c.push <- msg:
	default:
		c.conn.Close() // output buffer limit reached
	}
}

// encode renders a reply for this client's protocol into a standalone buffer.
func (c *client) encode(fn func(w *resp.Writer)) []byte {
	var b bytes.Buffer
	w := resp.NewWriter(&b)
	w.Proto = c.proto
	fn(w)
	// A bytes.Buffer's Write never returns an error, so neither can this Flush.
	_ = w.Flush()
	return b.Bytes()
}

var _ io.Writer = (*bytes.Buffer)(nil)

// reply helpers: they record whether the reply was an error so the executor knows not to
// propagate a failed write to the AOF.

func (c *client) err(msg string) {
	c.replyErr = true
	c.w.Error(msg)
}

func (c *client) ok() { c.w.OK() }
