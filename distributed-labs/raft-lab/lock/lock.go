// Package lock is a distributed lock on the replicated KV: a lease with a
// TTL that its holder keeps alive, and a fencing token per acquisition,
// which the storage the lock protects checks (Storage).
//
// A lease is a key whose value names the holder and the moment the lease
// ends. Acquiring is a CAS from "absent" or from an expired lease; keeping
// alive is a CAS from the holder's own value to one with a later end. The
// fencing token is the KV revision of the acquiring CAS: revisions only
// grow, so a later holder always has a larger token.
//
// A lease alone cannot make a lock safe: a holder that stops for longer
// than its TTL (a GC pause, SIGSTOP, a swapped-out VM) resumes still
// believing it holds the lock, and writes. Only the storage can tell that
// write is from the past: by its token.
package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
)

// KV is what the lock needs from the store: linearizable reads and CAS.
type KV interface {
	Get(ctx context.Context, key string) (kvhttp.GetReply, error)
	CAS(ctx context.Context, key, expect string, absent bool, value string) (kv.Result, error)
}

// ErrLeaseLost is returned by KeepAlive once another holder has the lock,
// or the lease ended before it could be renewed.
var ErrLeaseLost = errors.New("lock: lease lost")

// Lease is one acquisition of the lock.
type Lease struct {
	Key    string
	Owner  string
	Token  uint64    // fencing token: the KV revision of the acquisition
	Ends   time.Time // by the holder's clock, when it last renewed
	stored string    // the value in the KV, for the next CAS
}

type record struct {
	Owner  string `json:"owner"`
	EndsMS int64  `json:"ends_ms"`
	Token  uint64 `json:"token,omitempty"`
}

// Locker acquires and renews leases on one key.
type Locker struct {
	KV    KV
	Key   string
	Owner string
	TTL   time.Duration
	Now   func() time.Time // the holder's clock; time.Now when nil
}

func (l *Locker) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// TryAcquire takes the lock if it is free or its lease has ended; ok is
// false when someone else holds a live lease.
func (l *Locker) TryAcquire(ctx context.Context) (Lease, bool, error) {
	cur, err := l.KV.Get(ctx, l.Key)
	if err != nil {
		return Lease{}, false, fmt.Errorf("lock: read %s: %w", l.Key, err)
	}
	if cur.Found {
		var r record
		if err := json.Unmarshal([]byte(cur.Value), &r); err != nil {
			return Lease{}, false, fmt.Errorf("lock: %s holds %q: expected a lease record: %w", l.Key, cur.Value, err)
		}
		if l.now().UnixMilli() < r.EndsMS {
			return Lease{}, false, nil
		}
	}
	ends := l.now().Add(l.TTL)
	val, err := json.Marshal(record{Owner: l.Owner, EndsMS: ends.UnixMilli()})
	if err != nil {
		return Lease{}, false, fmt.Errorf("lock: %w", err)
	}
	res, err := l.KV.CAS(ctx, l.Key, cur.Value, !cur.Found, string(val))
	if err != nil {
		return Lease{}, false, fmt.Errorf("lock: acquire %s: %w", l.Key, err)
	}
	if !res.OK {
		return Lease{}, false, nil // someone else got there first
	}
	return Lease{Key: l.Key, Owner: l.Owner, Token: res.Rev, Ends: ends, stored: string(val)}, true, nil
}

// Acquire waits, polling every poll, until it holds the lock or ctx ends.
func (l *Locker) Acquire(ctx context.Context, poll time.Duration) (Lease, error) {
	for {
		lease, ok, err := l.TryAcquire(ctx)
		if ok {
			return lease, nil
		}
		if ctx.Err() != nil {
			return Lease{}, errors.Join(ctx.Err(), err)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return Lease{}, ctx.Err()
		case <-t.C:
		}
	}
}

// KeepAlive renews the lease for another TTL. The token does not change:
// it names the acquisition, not the renewal.
func (l *Locker) KeepAlive(ctx context.Context, lease *Lease) error {
	if !l.now().Before(lease.Ends) {
		return fmt.Errorf("%w: it ended at %s", ErrLeaseLost, lease.Ends.Format(time.StampMilli))
	}
	ends := l.now().Add(l.TTL)
	val, err := json.Marshal(record{Owner: l.Owner, EndsMS: ends.UnixMilli(), Token: lease.Token})
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	res, err := l.KV.CAS(ctx, l.Key, lease.stored, false, string(val))
	if err != nil {
		return fmt.Errorf("lock: renew %s: %w", l.Key, err)
	}
	if !res.OK {
		return fmt.Errorf("%w: %s now holds %s", ErrLeaseLost, res.Value, l.Key)
	}
	lease.Ends, lease.stored = ends, string(val)
	return nil
}

// Session holds a lease and keeps it alive in the background, the way
// etcd's concurrency.Session does: Held is true until a renewal fails.
type Session struct {
	lease Lease
	mu    sync.Mutex
	lost  error
	done  chan struct{}
	wg    sync.WaitGroup
}

// Hold starts keeping lease alive every TTL/3 until ctx ends or a renewal
// fails.
func (l *Locker) Hold(ctx context.Context, lease Lease) *Session {
	s := &Session{lease: lease, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(l.TTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				s.end(ctx.Err())
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(ctx, l.TTL)
				err := l.KeepAlive(rctx, &s.lease)
				cancel()
				if err != nil {
					s.end(err)
					return
				}
			}
		}
	}()
	return s
}

func (s *Session) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost == nil {
		s.lost = err
		close(s.done)
	}
}

// Token is the session's fencing token.
func (s *Session) Token() uint64 { return s.lease.Token }

// Held reports whether no renewal has failed yet. It is what the holder
// believes, not a guarantee: after a pause longer than the TTL it is still
// true until the next renewal runs, which is why writes carry the token.
func (s *Session) Held() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost == nil
}

// Done is closed when the session has ended; Err says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended (nil while held).
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// Wait waits for the keep-alive goroutine to end.
func (s *Session) Wait() { s.wg.Wait() }
