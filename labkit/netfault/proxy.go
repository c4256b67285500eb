package netfault

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// faults is what is wrong with one stream of a link right now.
type faults struct {
	blackhole bool          // swallow every byte (a partition)
	drop      float64       // blackhole each new connection with this probability
	delay     time.Duration // each chunk waits delay ± jitter after it was read
	jitter    time.Duration
	rate      int  // bytes a second; 0 is unlimited
	reset     bool // reset the connection (TCP RST) on its next bytes
}

// proxy is one link: a listener on 127.0.0.1 whose every connection is
// paired with one to the target, and two pumps copying between them, each
// consulting its stream's faults for every chunk it reads. A fault changes
// connections that already exist, as a real network change would.
type proxy struct {
	name   string
	ln     net.Listener
	target string

	mu      sync.Mutex
	streams [2]faults // up, down
	rand    *rand.Rand
	conns   map[*pair]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// The two streams of a link: up carries the dialer's bytes, down the
// answers.
const (
	up   = 0
	down = 1
)

func startProxy(name, target string, seed uint64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{name: name, ln: ln, target: target, rand: rand.New(rand.NewPCG(seed, 0)), conns: map[*pair]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // the listener was closed
		}
		server, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			_ = client.Close() // the target is down: so is the link
			continue
		}
		c := &pair{ends: [2]net.Conn{client, server}, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed { // stop came while this connection was being made
			p.mu.Unlock()
			_, _ = client.Close(), server.Close()
			return
		}
		if f := p.streams[up]; f.drop > 0 {
			c.dropped = p.rand.Float64() < f.drop
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		c.open.Store(2)
		p.wg.Go(func() { p.pump(c, up) })
		p.wg.Go(func() { p.pump(c, down) })
	}
}

// pair is one proxied connection: ends[0] is the dialer's side, ends[1]
// the target's.
type pair struct {
	ends    [2]net.Conn
	dropped bool         // chosen by Drop when the connection was made
	holed   bool         // bytes were swallowed: the stream can never be whole again
	open    atomic.Int32 // pumps still running
	once    sync.Once
	done    chan struct{}
}

func (c *pair) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ends[0].Close()
		_ = c.ends[1].Close()
	})
}

// reset closes both ends with an RST rather than a FIN.
func (c *pair) reset() {
	for _, e := range c.ends {
		if tc, ok := e.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
	c.close()
}

// wait sleeps d, or less if the connection closes first.
func (c *pair) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.done:
		return false
	}
}

// pump copies one stream of c, chunk by chunk, through the stream's faults.
func (p *proxy) pump(c *pair, stream int) {
	defer p.finish(c)
	src, dst := c.ends[0], c.ends[1]
	if stream == down {
		src, dst = dst, src
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.forward(c, stream, dst, buf[:n], time.Now()) {
			return
		}
		if errors.Is(err, io.EOF) {
			// Pass the half-close on: the other stream may still be talking.
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
		if err != nil {
			c.close()
			return
		}
	}
}

// forward applies the stream's faults to one chunk read at readAt and
// writes what survives; false means the connection is finished.
func (p *proxy) forward(c *pair, stream int, dst net.Conn, chunk []byte, readAt time.Time) bool {
	p.mu.Lock()
	f := p.streams[stream]
	delay := f.delay
	if f.jitter > 0 {
		delay += time.Duration((2*p.rand.Float64() - 1) * float64(f.jitter))
	}
	swallow := f.blackhole || (stream == up && c.dropped)
	if swallow {
		c.holed = true
	}
	p.mu.Unlock()
	switch {
	case f.reset:
		c.reset()
		return false
	case swallow:
		return true
	}
	if !c.wait(time.Until(readAt.Add(delay))) {
		return false
	}
	// A capped link sends in small pieces, each after the time it takes
	// at the rate, so a large write trickles rather than bursts.
	piece := len(chunk)
	if f.rate > 0 {
		piece = max(1, f.rate/20)
	}
	for len(chunk) > 0 {
		k := min(piece, len(chunk))
		if f.rate > 0 && !c.wait(time.Duration(k)*time.Second/time.Duration(f.rate)) {
			return false
		}
		if _, err := dst.Write(chunk[:k]); err != nil {
			c.close()
			return false
		}
		chunk = chunk[k:]
	}
	return true
}

// finish is a pump's end: the pair is closed once both pumps are done.
func (p *proxy) finish(c *pair) {
	if c.open.Add(-1) > 0 {
		return
	}
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// set changes a stream's faults.
func (p *proxy) set(stream int, change func(*faults)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	change(&p.streams[stream])
}

// heal clears every fault, and closes the connections whose bytes were
// swallowed or that were dropped: their streams have a hole, so nothing
// after it could be read correctly. Clients dial again and get clean ones.
func (p *proxy) heal() {
	p.mu.Lock()
	p.streams = [2]faults{}
	var broken []*pair
	for c := range p.conns {
		if c.holed || c.dropped {
			broken = append(broken, c)
		}
	}
	p.mu.Unlock()
	for _, c := range broken {
		c.close()
	}
}

// stop closes the listener and every connection, and waits for the pumps.
func (p *proxy) stop() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.closed = true
	conns := make([]*pair, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}
