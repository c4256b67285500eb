package idgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
)

// KV is what the segment allocator needs from the store.
type KV interface {
	Get(ctx context.Context, key string) (kvhttp.GetReply, error)
	CAS(ctx context.Context, key, expect string, absent bool, value string) (kv.Result, error)
}

// Segments is a Leaf-style (Meituan's ID service) segment allocator: it
// takes a range of Step IDs from a counter in the KV with one CAS and hands
// them out from memory. It is double-buffered: once a tenth of the current
// range is used, the next range is fetched in the background, so a caller
// waits on the KV only if a whole range is used before the next arrives.
// IDs are unique and increasing per allocator, not across allocators.
type Segments struct {
	kv   KV
	key  string
	step int64

	mu      sync.Mutex
	cur     segment
	next    *segment
	loading chan struct{} // non-nil while a fetch is in flight; closed when it ends
	loadErr error
	wg      sync.WaitGroup
}

type segment struct{ next, end int64 }

// NewSegments allocates from the counter at key, step IDs at a time.
func NewSegments(store KV, key string, step int64) (*Segments, error) {
	if step < 10 {
		return nil, fmt.Errorf("idgen: segment step %d: expected at least 10", step)
	}
	return &Segments{kv: store, key: key, step: step}, nil
}

// Next returns the next ID.
func (s *Segments) Next(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.cur.next < s.cur.end {
			id := s.cur.next
			s.cur.next++
			if s.next == nil && s.loading == nil && s.cur.end-s.cur.next < s.step*9/10 {
				s.prefetch()
			}
			return id, nil
		}
		if s.next != nil {
			s.cur, s.next = *s.next, nil
			continue
		}
		if s.loading == nil {
			s.prefetch()
		}
		wait := s.loading
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			s.mu.Lock()
			return 0, fmt.Errorf("idgen: waiting for a segment: %w", ctx.Err())
		}
		s.mu.Lock()
		if s.next == nil && s.loadErr != nil {
			err := s.loadErr
			s.loadErr = nil
			return 0, err
		}
	}
}

// prefetch starts fetching the next segment; s.mu is held.
func (s *Segments) prefetch() {
	done := make(chan struct{})
	s.loading = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		seg, err := s.fetch(ctx)
		cancel()
		s.mu.Lock()
		if err == nil {
			s.next = &seg
		}
		s.loadErr = err
		s.loading = nil
		s.mu.Unlock()
		close(done)
	}()
}

// fetch moves the counter forward by step with a CAS, retrying when another
// allocator moved it first.
func (s *Segments) fetch(ctx context.Context) (segment, error) {
	for {
		cur, err := s.kv.Get(ctx, s.key)
		if err != nil {
			return segment{}, fmt.Errorf("idgen: read %s: %w", s.key, err)
		}
		start := int64(1)
		if cur.Found {
			if start, err = strconv.ParseInt(cur.Value, 10, 64); err != nil {
				return segment{}, fmt.Errorf("idgen: %s holds %q: expected a counter: %w", s.key, cur.Value, err)
			}
		}
		res, err := s.kv.CAS(ctx, s.key, cur.Value, !cur.Found, strconv.FormatInt(start+s.step, 10))
		if err != nil {
			return segment{}, fmt.Errorf("idgen: advance %s: %w", s.key, err)
		}
		if res.OK {
			return segment{next: start, end: start + s.step}, nil
		}
		if ctx.Err() != nil {
			return segment{}, errors.Join(ctx.Err(), errors.New("idgen: the counter kept moving"))
		}
	}
}

// Close waits for a fetch in flight.
func (s *Segments) Close() { s.wg.Wait() }
