// Package msgcache receives framed messages and remembers each message's subject by id, so
// duplicates can be recognised. Built with Pinning, it has a classic memory defect: the cache
// keeps the subject as a sub-slice of the frame it was read into, which pins the whole frame
// (16 KiB for a subject of a few dozen bytes), and it never evicts. Heap in-use grows with
// traffic while the live data it is meant to hold stays tiny.
package msgcache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// FrameSize is the fixed size of one frame on the wire.
const FrameSize = 16 << 10

// ErrBadFrame is returned for a frame without a well-formed header.
var ErrBadFrame = errors.New("msgcache: bad frame")

// Cache maps message ids to subjects.
type Cache struct {
	mu      sync.Mutex
	entries map[string][]byte
	order   []string // insertion order, for FIFO eviction
	max     int
	pinning bool
	live    int64 // bytes of subject held (len)
	pinned  int64 // bytes of memory those subjects keep reachable (cap)
}

// New returns a cache that keeps at most max subjects (the fix). pinning selects the defective
// Receive, which also ignores max.
func New(max int, pinning bool) (*Cache, error) {
	if max < 1 {
		return nil, fmt.Errorf("msgcache: want max >= 1, got %d", max)
	}
	return &Cache{entries: map[string][]byte{}, max: max, pinning: pinning}, nil
}

// Receive reads one frame from r, "id=<id>;subject=<subject>;" followed by the body, and
// records its subject. It reports whether the id was new.
func (c *Cache) Receive(r io.Reader) (bool, error) {
	frame := make([]byte, FrameSize)
	if _, err := io.ReadFull(r, frame); err != nil {
		return false, fmt.Errorf("msgcache: read frame: %w", err)
	}
	id, subject, err := parseHeader(frame)
	if err != nil {
		return false, err
	}
	if !c.pinning {
		// exercise:begin memory-bloat
		subject = bytes.Clone(subject) // the fix: copy the few bytes we keep, let the frame go
		// exercise:stub
		// // subject still points into frame.
		// exercise:end
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := string(id)
	if _, dup := c.entries[key]; dup {
		return false, nil
	}
	// The defect: with pinning, subject still points into frame, so storing it keeps all
	// FrameSize bytes alive, and nothing is ever evicted.
	c.entries[key] = subject
	c.order = append(c.order, key)
	c.live += int64(len(subject))
	c.pinned += int64(cap(subject))
	if !c.pinning {
		for len(c.order) > c.max {
			old := c.order[0]
			c.order = c.order[1:]
			c.live -= int64(len(c.entries[old]))
			c.pinned -= int64(cap(c.entries[old]))
			delete(c.entries, old)
		}
	}
	return true, nil
}

// parseHeader returns sub-slices of frame: the id and the subject.
func parseHeader(frame []byte) (id, subject []byte, err error) {
	rest, ok := bytes.CutPrefix(frame, []byte("id="))
	if !ok {
		return nil, nil, fmt.Errorf("%w: want id=<id>;subject=<subject>;", ErrBadFrame)
	}
	id, rest, ok = bytes.Cut(rest, []byte(";subject="))
	if !ok || len(id) == 0 || len(id) > 64 {
		return nil, nil, fmt.Errorf("%w: want id=<id>;subject=<subject>; with a 1..64 byte id", ErrBadFrame)
	}
	subject, _, ok = bytes.Cut(rest, []byte(";"))
	if !ok || len(subject) > 256 {
		return nil, nil, fmt.Errorf("%w: want a subject of at most 256 bytes ended by ';'", ErrBadFrame)
	}
	return id, subject, nil
}

// Subject returns the subject remembered for id.
func (c *Cache) Subject(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.entries[id]
	return string(s), ok
}

// Stats are the cache's size: entries, subject bytes held, and memory those bytes keep alive.
type Stats struct {
	Entries      int
	LiveBytes    int64
	PinnedBytes  int64
	PinnedToLive float64
}

// Stats reports the cache's size.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Entries: len(c.entries), LiveBytes: c.live, PinnedBytes: c.pinned}
	if c.live > 0 {
		s.PinnedToLive = float64(c.pinned) / float64(c.live)
	}
	return s
}

// WriteFrame encodes one frame (for the load generator and tests).
func WriteFrame(w io.Writer, id, subject string, body byte) error {
	if len(id) == 0 || len(id) > 64 || len(subject) > 256 {
		return fmt.Errorf("msgcache: want an id of 1..64 bytes and a subject of at most 256, got %d and %d",
			len(id), len(subject))
	}
	frame := make([]byte, FrameSize)
	n := copy(frame, "id="+id+";subject="+subject+";")
	for i := n; i < len(frame); i++ {
		frame[i] = body
	}
	_, err := w.Write(frame)
	return err
}
