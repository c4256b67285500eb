// Package storage is lab 4's storage engine: B+trees on pages in a buffer pool,
// a redo log fsynced at commit, and row locks held to commit (2PL).
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/lock"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors a caller maps to MySQL codes; check them with errors.Is.
var (
	// ErrLockWaitTimeout is ER_LOCK_WAIT_TIMEOUT (1205). The transaction stays open.
	ErrLockWaitTimeout = lock.ErrLockWaitTimeout
	// ErrDeadlock is ER_LOCK_DEADLOCK (1213). The engine has already rolled the
	// transaction back, as InnoDB does; further calls on it return ErrTxnDone.
	ErrDeadlock = lock.ErrDeadlock
	// ErrTxnDone is returned by any call on a committed or rolled-back transaction.
	ErrTxnDone = errors.New("storage: transaction already committed or rolled back")
	// ErrNoTree is returned for a tree name that does not exist.
	ErrNoTree = errors.New("storage: no such tree")
	// ErrTreeExists is returned by CreateTree for a name already in use.
	ErrTreeExists = errors.New("storage: tree already exists")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("storage: engine closed")
)

// Options configure an Engine. Zero values take the defaults in the comments.
type Options struct {
	Dir             string                // data file, redo log and doublewrite file live here (required)
	PageSize        int                   // bytes per page; 16 KiB, as InnoDB
	PoolFrames      int                   // buffer pool frames; 1024 (16 MiB of 16 KiB pages)
	Policy          bufpool.Policy        // replacement policy; LRU
	OldBlocksTime   time.Duration         // midpoint's innodb_old_blocks_time and LRU-K's correlated period; see bufpool.Options
	LockWaitTimeout time.Duration         // innodb_lock_wait_timeout; 50 s
	Registerer      prometheus.Registerer // where pool, log and lock metrics go; nil: not exported
	CheckpointEvery time.Duration         // the flusher's period; 1 s
}

// Stats is a snapshot of the engine's counters.
type Stats struct {
	Policy           string // the buffer pool policy's name
	Hits             uint64
	Misses           uint64
	Evictions        uint64
	PagesRead        uint64
	PagesWritten     uint64
	HitRatio         float64 // Hits / (Hits + Misses); 0 before any access
	Commits          uint64
	Fsyncs           uint64 // commits per fsync is the group commit's batch size
	Checkpoints      uint64
	LockWaits        uint64
	LockWaitTimeouts uint64
	Deadlocks        uint64
}

// Engine is an open database directory. It is safe for concurrent use; each Txn
// is used by one goroutine at a time.
type Engine struct{}

var errNotYet = errors.New("storage: not yet implemented")

// Open opens (or creates) the database in opts.Dir, running crash recovery first.
func Open(ctx context.Context, opts Options) (*Engine, error) { return nil, errNotYet }

// Close checkpoints and closes the files.
func (e *Engine) Close() error { return errNotYet }

// CreateTree creates an empty B+tree: one per table index (clustered or secondary).
// It is durable when it returns.
func (e *Engine) CreateTree(name string) error { return errNotYet }

// DropTree removes a tree and frees its pages.
func (e *Engine) DropTree(name string) error { return errNotYet }

// Trees lists the trees, sorted by name.
func (e *Engine) Trees() []string { return nil }

// TreeLen is the number of committed entries in a tree, kept exactly (EXPLAIN's rows).
func (e *Engine) TreeLen(name string) (int64, error) { return 0, errNotYet }

// Begin starts a transaction.
func (e *Engine) Begin() *Txn { return &Txn{} }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats { return Stats{} }

// LatestDeadlock is InnoDB's "LATEST DETECTED DEADLOCK" section of SHOW ENGINE
// INNODB STATUS for the most recent deadlock, or "" if there has been none.
func (e *Engine) LatestDeadlock() string { return "" }

// Txn is a transaction. Its writes are private until Commit (reads by other
// transactions see committed data only); Put and Delete take an exclusive row
// lock held until Commit or Rollback, like InnoDB.
type Txn struct{}

// ID is the transaction's id, increasing with Begin order.
func (t *Txn) ID() uint64 { return 0 }

// Get reads key, seeing the transaction's own writes. It takes no lock (a
// non-locking read, as InnoDB's plain SELECT); use Lock for FOR UPDATE.
func (t *Txn) Get(ctx context.Context, tree string, key []byte) (val []byte, ok bool, err error) {
	return nil, false, errNotYet
}

// Put writes key=val, taking an exclusive lock on key first.
func (t *Txn) Put(ctx context.Context, tree string, key, val []byte) error { return errNotYet }

// Delete removes key (no error if absent), taking an exclusive lock on key first.
func (t *Txn) Delete(ctx context.Context, tree string, key []byte) error { return errNotYet }

// Scan calls fn for each entry with from <= key < to in key order (nil from or to
// is unbounded), merging the transaction's own writes, until fn returns false.
// fn may call other methods of t.
func (t *Txn) Scan(ctx context.Context, tree string, from, to []byte, fn func(k, v []byte) bool) error {
	return errNotYet
}

// Lock takes a row lock on key in mode (SELECT ... FOR UPDATE / LOCK IN SHARE MODE).
func (t *Txn) Lock(ctx context.Context, tree string, key []byte, mode lock.Mode) error {
	return errNotYet
}

// Commit makes the writes durable (the redo record is fsynced, sharing the
// fsync with concurrent commits) and visible, then releases the locks.
func (t *Txn) Commit(ctx context.Context) error { return errNotYet }

// Rollback discards the writes and releases the locks.
func (t *Txn) Rollback() error { return errNotYet }
