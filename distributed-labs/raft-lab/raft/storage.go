package raft

import (
	"slices"
	"sync"
)

// Storage is where a node keeps what it promised: its HardState, its log
// and its snapshot. Every method returns only once the data is durable
// (fsync'd for a file), because the node answers a vote or an append right
// after, and an answer given from state that a crash can forget breaks
// Raft's safety.
type Storage interface {
	// Load returns what was saved; all zero for a new node.
	Load() (hs HardState, snap Snapshot, entries []Entry, err error)
	// Save records hs, and entries if any: every saved entry at or after
	// entries[0].Index is replaced by entries.
	Save(hs HardState, entries []Entry) error
	// SaveSnapshot records snap and hs and replaces the whole saved log by
	// entries (the ones after snap.Index).
	SaveSnapshot(hs HardState, snap Snapshot, entries []Entry) error
}

// MemoryStorage is a Storage in memory, for tests: it survives a node
// (a "crash" is a new Node over the same MemoryStorage), not a process.
type MemoryStorage struct {
	mu      sync.Mutex
	hs      HardState
	snap    Snapshot
	entries []Entry
	bytes   int
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{} }

// Load returns copies, so a node never shares memory with its storage.
func (s *MemoryStorage) Load() (HardState, Snapshot, []Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snap
	snap.Data = slices.Clone(s.snap.Data)
	return s.hs, snap, cloneEntries(s.entries), nil
}

// Save implements Storage.
func (s *MemoryStorage) Save(hs HardState, entries []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hs = hs
	if len(entries) == 0 {
		return nil
	}
	first := entries[0].Index
	keep := 0
	for keep < len(s.entries) && s.entries[keep].Index < first {
		keep++
	}
	s.entries = append(s.entries[:keep], cloneEntries(entries)...)
	s.recount()
	return nil
}

// SaveSnapshot implements Storage.
func (s *MemoryStorage) SaveSnapshot(hs HardState, snap Snapshot, entries []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hs = hs
	s.snap = Snapshot{Index: snap.Index, Term: snap.Term, Data: slices.Clone(snap.Data)}
	s.entries = cloneEntries(entries)
	s.recount()
	return nil
}

// Size is the bytes of log and snapshot held, which tests use to check
// that compaction keeps the log bounded.
func (s *MemoryStorage) Size() (logBytes, snapBytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, len(s.snap.Data)
}

func (s *MemoryStorage) recount() {
	s.bytes = 0
	for _, e := range s.entries {
		s.bytes += len(e.Data) + 16
	}
}

func cloneEntries(es []Entry) []Entry {
	if len(es) == 0 {
		return nil
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Index: e.Index, Term: e.Term, Data: slices.Clone(e.Data)}
	}
	return out
}
