// Package kv is the replicated key-value state machine: Put, Get, CAS and
// Delete, with a revision per change (the fencing token the lock hands
// out) and client sessions that make a retried command apply once.
//
// A Store is a consensus.FSM: the log carries encoded Commands, every node
// applies them in the same order, and Apply returns a Result to the node
// that proposed the command.
package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Ops a Command may carry.
const (
	OpPut    = "put"
	OpCAS    = "cas"
	OpDelete = "delete"
)

// Command is one write, as it travels in the log.
type Command struct {
	Op    string `json:"op"`
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// Expect is CAS's expected current value; with ExpectAbsent the key
	// must not exist.
	Expect       string `json:"expect,omitempty"`
	ExpectAbsent bool   `json:"expect_absent,omitempty"`
	// Client and Seq identify the command for deduplication: a client
	// numbers its commands 1, 2, 3 ... and retries one with the same
	// number. Client "" opts out.
	Client string `json:"client,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
}

// Encode is the command's log entry.
func (c Command) Encode() ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("kv: encode command: %w", err)
	}
	return b, nil
}

// DecodeCommand parses a log entry, checking that it names a known op and a key.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("kv: decode command: expected a JSON object {\"op\":\"put|cas|delete\",\"key\":...}: %w", err)
	}
	switch c.Op {
	case OpPut, OpCAS, OpDelete:
	default:
		return c, fmt.Errorf("kv: decode command: op %q: expected put, cas or delete", c.Op)
	}
	if c.Key == "" {
		return c, errors.New("kv: decode command: expected a non-empty key")
	}
	return c, nil
}

// Result is what applying a Command returned.
type Result struct {
	// OK is false for a CAS whose expectation did not hold, or a Delete of
	// an absent key.
	OK bool `json:"ok"`
	// Value is the key's value after the command (for a failed CAS: the
	// current value, so the caller can retry without a read).
	Value string `json:"value"`
	Found bool   `json:"found"`
	// Rev is the store's revision after the command: it grows by one for
	// every change, across all keys, so it orders writes.
	Rev uint64 `json:"rev"`
	// Duplicate is true when the command had already been applied under
	// its client and sequence number, and this is the first application's
	// result.
	Duplicate bool `json:"duplicate,omitempty"`
	// Err is set for a command that could not be applied at all (a sequence
	// number older than the client's last one).
	Err string `json:"error,omitempty"`
}

// Entry is one key's value and the revision that last changed it.
type Entry struct {
	Value  string `json:"value"`
	ModRev uint64 `json:"mod_rev"`
}

// session is a client's last applied command and its result.
type session struct {
	Seq    uint64 `json:"seq"`
	Result Result `json:"result"`
}

// Store is the state machine. It is safe for concurrent reads while the
// log applies.
type Store struct {
	mu       sync.RWMutex
	data     map[string]Entry
	sessions map[string]session
	rev      uint64
	// dedupe off is the defect a lab reader may try: a client's retry of a
	// command whose answer was lost applies twice.
	dedupe bool
}

// New is an empty store that deduplicates by client and sequence number.
func New() *Store {
	return &Store{data: map[string]Entry{}, sessions: map[string]session{}, dedupe: true}
}

// NewWithoutDedupe is a store that applies every command it is given,
// retries included: the behaviour without client sessions.
func NewWithoutDedupe() *Store {
	s := New()
	s.dedupe = false
	return s
}

// Apply applies one encoded Command and returns its Result. A malformed
// entry yields a Result with Err set rather than a panic: one bad entry
// must not stop every replica.
func (s *Store) Apply(b []byte) any {
	c, err := DecodeCommand(b)
	if err != nil {
		return Result{Err: err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dedupe && c.Client != "" {
		if last, ok := s.sessions[c.Client]; ok {
			switch {
			case c.Seq == last.Seq:
				r := last.Result
				r.Duplicate = true
				return r
			case c.Seq < last.Seq:
				return Result{Err: fmt.Sprintf("kv: client %s: sequence %d is older than its last, %d", c.Client, c.Seq, last.Seq)}
			}
		}
	}
	r := s.apply(c)
	if s.dedupe && c.Client != "" {
		s.sessions[c.Client] = session{Seq: c.Seq, Result: r}
	}
	return r
}

func (s *Store) apply(c Command) Result {
	cur, found := s.data[c.Key]
	switch c.Op {
	case OpPut:
		s.rev++
		s.data[c.Key] = Entry{Value: c.Value, ModRev: s.rev}
		return Result{OK: true, Value: c.Value, Found: true, Rev: s.rev}
	case OpCAS:
		holds := (c.ExpectAbsent && !found) || (!c.ExpectAbsent && found && cur.Value == c.Expect)
		if !holds {
			return Result{OK: false, Value: cur.Value, Found: found, Rev: s.rev}
		}
		s.rev++
		s.data[c.Key] = Entry{Value: c.Value, ModRev: s.rev}
		return Result{OK: true, Value: c.Value, Found: true, Rev: s.rev}
	default: // OpDelete
		if !found {
			return Result{OK: false, Rev: s.rev}
		}
		s.rev++
		delete(s.data, c.Key)
		return Result{OK: true, Rev: s.rev}
	}
}

// Get returns a key's entry as this replica holds it: current only when the
// caller has made the read linearizable (consensus.Node.LinearRead).
func (s *Store) Get(key string) (Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.data[key]
	return e, ok
}

// GetAt is Get with the store's revision at the same instant: the answer
// reflects every change up to that revision and none after it.
func (s *Store) GetAt(key string) (Entry, bool, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.data[key]
	return e, ok, s.rev
}

// List returns the entries whose key starts with prefix, sorted by key.
func (s *Store) List(prefix string) map[string]Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]Entry{}
	for k, e := range s.data {
		if strings.HasPrefix(k, prefix) {
			out[k] = e
		}
	}
	return out
}

// Keys returns the keys starting with prefix, sorted.
func (s *Store) Keys(prefix string) []string {
	m := s.List(prefix)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Rev is the store's current revision.
func (s *Store) Rev() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

type snapshot struct {
	Rev      uint64             `json:"rev"`
	Data     map[string]Entry   `json:"data"`
	Sessions map[string]session `json:"sessions"`
}

// Snapshot encodes the whole state, sessions included: a replica restored
// from it must still recognise a retry of a command the snapshot covers.
func (s *Store) Snapshot() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, err := json.Marshal(snapshot{Rev: s.rev, Data: s.data, Sessions: s.sessions})
	if err != nil {
		return nil, fmt.Errorf("kv: snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the state with a snapshot's.
func (s *Store) Restore(b []byte) error {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("kv: restore: expected a snapshot written by Store.Snapshot: %w", err)
	}
	if snap.Data == nil {
		snap.Data = map[string]Entry{}
	}
	if snap.Sessions == nil {
		snap.Sessions = map[string]session{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev, s.data, s.sessions = snap.Rev, snap.Data, snap.Sessions
	return nil
}
