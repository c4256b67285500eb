package lock

import (
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"
)

// ErrStaleToken is a write refused because a holder with a larger fencing
// token has already written.
var ErrStaleToken = errors.New("lock: stale fencing token")

// Record is one write the storage accepted.
type Record struct {
	Token  uint64 `json:"token"`
	Writer string `json:"writer"`
	Data   string `json:"data"`
}

// Storage is the resource the lock protects: an append-only file, say, that
// only one holder at a time may write.
type Storage struct {
	fenced bool
	log    *zap.Logger

	mu      sync.Mutex
	highest uint64 // the largest token of an accepted write
	records []Record
	counts  Counts
}

// Counts are what the storage saw.
type Counts struct {
	Accepted      int `json:"accepted"`
	Rejected      int `json:"rejected"`       // refused for a stale token (fenced only)
	StaleAccepted int `json:"stale_accepted"` // landed after a newer holder's write
}

// NewStorage is a storage that rejects stale tokens (fenced) or one that
// takes every write (the split-brain fault: a lock without fencing).
func NewStorage(fenced bool, log *zap.Logger) *Storage {
	if log == nil {
		log = zap.NewNop()
	}
	return &Storage{fenced: fenced, log: log}
}

// staleToken is what a fenced storage answers a writer whose token is older
// than one it has already seen: that writer's lease has run out.
func staleToken(token, highest uint64) error {
	return fmt.Errorf("%w: %d < %d", ErrStaleToken, token, highest)
}

// Write appends data for writer, who holds (or believes it holds) the lock
// under token.
func (s *Storage) Write(token uint64, writer, data string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// exercise:begin split-brain
	if s.fenced && token < s.highest {
		s.counts.Rejected++
		s.log.Info("rejected a write with a stale fencing token",
			zap.String("writer", writer), zap.Uint64("token", token), zap.Uint64("highest", s.highest))
		return staleToken(token, s.highest)
	}
	// exercise:stub
	// _ = token // every write is taken, whoever holds the lock now
	// exercise:end
	s.audit(token, writer)
	s.records = append(s.records, Record{Token: token, Writer: writer, Data: data})
	s.counts.Accepted++
	s.highest = max(s.highest, token)
	return nil
}

// audit runs on every accepted write, fenced or not: a write whose token
// is older than one already written means two holders interleaved, and the
// data is no longer one holder's. With fencing it never fires.
func (s *Storage) audit(token uint64, writer string) {
	if token >= s.highest {
		return
	}
	s.counts.StaleAccepted++
	s.log.Warn("a write from an older lock holder landed after a newer holder's: two writers interleaved",
		zap.String("writer", writer), zap.Uint64("token", token), zap.Uint64("highest", s.highest))
}

// Counts returns what the storage has seen so far.
func (s *Storage) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Records returns the accepted writes in order.
func (s *Storage) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}
