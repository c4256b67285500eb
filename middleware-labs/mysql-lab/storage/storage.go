// Package storage is lab 4's storage engine: B+trees on pages in a buffer pool,
// a redo log fsynced at commit, and row locks held to commit (2PL).
package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/btree"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/lock"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/wal"
	gbtree "github.com/google/btree"
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
	RecoveredRecords uint64        // redo records replayed by Open
	RecoveryTime     time.Duration // how long Open took, recovery included
}

// How pages stay consistent across a crash (the choice the lab makes):
//
//   - The redo log is logical: a commit logs its puts and deletes, once, and is
//     fsynced (group commit) before Commit returns.
//   - Writes are deferred: a transaction's writes live in its own write set
//     until commit, so the trees only ever hold committed data and nothing needs
//     undoing after a crash. That is the price of not having an undo log.
//   - The buffer pool never writes a dirty page on eviction (no steal). Dirty
//     pages reach the data file only at a checkpoint, all at once, between two
//     tree operations, through the doublewrite file. So the data file is always
//     a structurally sound tree as of some checkpoint — never half a split —
//     and logical redo can be replayed onto it.
//   - A checkpoint records the LSN redo must start from: the oldest commit that
//     is logged but not fully applied. Recovery replays from there; records
//     already in the pages replay harmlessly (puts overwrite, deletes of
//     missing keys do nothing), and conflicting commits are in LSN order
//     because a commit holds its row locks until it is applied.
//
// The alternatives: full-page images in the log (PostgreSQL) write a whole
// page per first change after a checkpoint, and physiological redo with an
// undo log (InnoDB) lets dirty pages be stolen at the cost of two more logs
// to teach. No steal costs frequent checkpoints when the pool is small.

// Engine is an open database directory. It is safe for concurrent use; each Txn
// is used by one goroutine at a time.
type Engine struct {
	opts  Options
	pager *pager.Pager
	pool  *bufpool.Pool
	log   *wal.Log
	locks *lock.Manager

	// treeMu lets many readers or one writer at the trees: commits apply
	// under the write lock, so a reader sees a commit whole or not at all.
	treeMu  sync.RWMutex
	trees   map[string]*treeInfo
	reserve int // frames kept free of dirty pages for one tree operation

	inflightMu sync.Mutex
	inflight   map[uint64]struct{} // LSNs logged but not yet applied

	nextTxn                atomic.Uint64
	commits, checkpoints   atomic.Uint64
	recovered              uint64
	recoveryTime           time.Duration
	closed                 atomic.Bool
	failed                 atomic.Pointer[error]
	stop                   chan struct{}
	flusher                sync.WaitGroup
	commitsC, checkpointsC prometheus.Counter
}

type treeInfo struct {
	t     *btree.Tree
	count int64
}

// Open opens (or creates) the database in opts.Dir, running crash recovery first.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, errors.New("storage: Options.Dir is required")
	}
	if opts.PageSize == 0 {
		opts.PageSize = pager.DefaultPageSize
	}
	if opts.PoolFrames == 0 {
		opts.PoolFrames = 1024
	}
	if opts.PoolFrames < 64 {
		return nil, fmt.Errorf("storage: %d pool frames: want at least 64", opts.PoolFrames)
	}
	if opts.LockWaitTimeout == 0 {
		opts.LockWaitTimeout = 50 * time.Second
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = time.Second
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	start := time.Now()
	pg, err := pager.Open(filepath.Join(opts.Dir, "data.db"), opts.PageSize)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, pager: pg, trees: map[string]*treeInfo{}, inflight: map[uint64]struct{}{}, stop: make(chan struct{}),
		reserve: max(24, opts.PoolFrames/4)}
	fail := func(err error) (*Engine, error) {
		if e.log != nil {
			_ = e.log.Close()
		}
		_ = pg.Close()
		return nil, err
	}
	e.pool, err = bufpool.New(pg, bufpool.Options{Frames: opts.PoolFrames, Policy: opts.Policy, OldBlocksTime: opts.OldBlocksTime, Registerer: opts.Registerer})
	if err != nil {
		return fail(err)
	}
	e.locks, err = lock.New(lock.Options{WaitTimeout: opts.LockWaitTimeout, Registerer: opts.Registerer})
	if err != nil {
		return fail(err)
	}
	if err := e.registerMetrics(); err != nil {
		return fail(err)
	}
	meta := pg.Meta()
	cat, err := decodeCatalog(meta.Catalog)
	if err != nil {
		return fail(err)
	}
	for _, c := range cat {
		e.trees[c.name] = &treeInfo{t: btree.Open(e.pool, c.root), count: c.count}
	}
	e.log, err = wal.Open(filepath.Join(opts.Dir, "redo"))
	if err != nil {
		return fail(err)
	}
	if err := e.recover(ctx, meta.CheckpointLSN); err != nil {
		return fail(err)
	}
	e.recoveryTime = time.Since(start)
	e.flusher.Add(1)
	go e.flush()
	return e, nil
}

func (e *Engine) registerMetrics() error {
	e.commitsC = prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_commits_total", Help: "Transactions committed (redo fsynced)."})
	e.checkpointsC = prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_checkpoints_total", Help: "Checkpoints: dirty pages written through the doublewrite file."})
	fsyncs := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mysqllab_redo_fsyncs_total", Help: "fsyncs of the redo log; commits per fsync is the group commit batch."},
		func() float64 { _, f := e.log.Counts(); return float64(f) })
	if e.opts.Registerer == nil {
		return nil
	}
	return telemetry.Register(e.opts.Registerer, e.commitsC, e.checkpointsC, fsyncs)
}

// recover replays the redo log from the checkpoint's LSN onto the trees, then
// checkpoints so the next start has nothing to replay.
func (e *Engine) recover(ctx context.Context, from uint64) error {
	e.treeMu.Lock()
	defer e.treeMu.Unlock()
	err := e.log.Replay(from, func(lsn uint64, p []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := decodeRecord(p)
		if err != nil {
			return fmt.Errorf("redo record %d: %w", lsn, err)
		}
		e.recovered++
		e.markInflight(lsn)
		defer e.unmarkInflight(lsn)
		switch rec.kind {
		case recCreate:
			if _, ok := e.trees[rec.name]; ok {
				return nil
			}
			return e.createLocked(rec.name)
		case recDrop:
			if _, ok := e.trees[rec.name]; !ok {
				return nil
			}
			return e.dropLocked(rec.name)
		default:
			return e.applyLocked(rec.ops)
		}
	})
	if err != nil {
		return fmt.Errorf("storage: recovery: %w", err)
	}
	return e.checkpointLocked()
}

func (e *Engine) markInflight(lsn uint64) {
	e.inflightMu.Lock()
	e.inflight[lsn] = struct{}{}
	e.inflightMu.Unlock()
}

func (e *Engine) unmarkInflight(lsn uint64) {
	e.inflightMu.Lock()
	delete(e.inflight, lsn)
	e.inflightMu.Unlock()
}

// logged appends a record and registers it as in flight in one step, so a
// checkpoint never computes a redo start past it.
func (e *Engine) logged(rec []byte) (uint64, error) {
	e.inflightMu.Lock()
	defer e.inflightMu.Unlock()
	lsn, err := e.log.Append(rec)
	if err != nil {
		return 0, err
	}
	e.inflight[lsn] = struct{}{}
	return lsn, nil
}

// checkpointLocked writes every dirty page and the catalog, then drops the
// redo the data file no longer needs. The caller holds treeMu for writing.
func (e *Engine) checkpointLocked() error {
	e.inflightMu.Lock()
	redoStart := e.log.Next()
	for lsn := range e.inflight {
		redoStart = min(redoStart, lsn)
	}
	e.inflightMu.Unlock()
	cat := make([]catalogEntry, 0, len(e.trees))
	for name, ti := range e.trees {
		cat = append(cat, catalogEntry{name: name, root: ti.t.Root(), count: ti.count})
	}
	e.pager.UpdateMeta(func(m *pager.Meta) {
		m.CheckpointLSN = redoStart
		m.Catalog = encodeCatalog(cat)
	})
	if err := e.pool.Checkpoint(); err != nil {
		return e.fail(err)
	}
	e.checkpoints.Add(1)
	e.checkpointsC.Inc()
	if err := e.log.Truncate(redoStart); err != nil {
		return e.fail(err)
	}
	return nil
}

// fail poisons the engine: after a failed write to the data file or the log
// it can no longer say what is durable, and refuses everything.
func (e *Engine) fail(err error) error {
	err = fmt.Errorf("storage: engine stopped after an I/O failure: %w", err)
	e.failed.CompareAndSwap(nil, &err)
	return err
}

func (e *Engine) usable() error {
	if e.closed.Load() {
		return ErrClosed
	}
	if p := e.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// flush is the flusher: it checkpoints every CheckpointEvery while pages are dirty.
func (e *Engine) flush() {
	defer e.flusher.Done()
	tick := time.NewTicker(e.opts.CheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			if e.pool.Dirty() == 0 || e.usable() != nil {
				continue
			}
			e.treeMu.Lock()
			_ = e.checkpointLocked() // a failure poisons the engine; callers see it
			e.treeMu.Unlock()
		}
	}
}

// Checkpoint writes every dirty page now, as the flusher does every
// CheckpointEvery. Dirty pages cannot be evicted, so a scenario that
// measures the pool after a load calls it first.
func (e *Engine) Checkpoint() error {
	if err := e.usable(); err != nil {
		return err
	}
	e.treeMu.Lock()
	defer e.treeMu.Unlock()
	return e.checkpointLocked()
}

// Close checkpoints and closes the files.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(e.stop)
	e.flusher.Wait()
	e.treeMu.Lock()
	defer e.treeMu.Unlock()
	var err error
	if e.failed.Load() == nil {
		err = e.checkpointLocked()
	}
	if cerr := e.log.Close(); err == nil {
		err = cerr
	}
	if cerr := e.pager.Close(); err == nil {
		err = cerr
	}
	return err
}

// ddl logs and applies a CreateTree or DropTree.
func (e *Engine) ddl(kind byte, name string, apply func(string) error) error {
	if err := e.usable(); err != nil {
		return err
	}
	if name == "" || len(name) > 255 {
		return fmt.Errorf("storage: tree name %q: want 1 to 255 bytes", name)
	}
	e.treeMu.Lock()
	defer e.treeMu.Unlock()
	_, exists := e.trees[name]
	if kind == recCreate && exists {
		return fmt.Errorf("%w: %q", ErrTreeExists, name)
	}
	if kind == recDrop && !exists {
		return fmt.Errorf("%w: %q", ErrNoTree, name)
	}
	lsn, err := e.logged(encodeRecord(record{kind: kind, name: name}))
	if err != nil {
		return e.fail(err)
	}
	defer e.unmarkInflight(lsn)
	if err := e.log.Sync(context.Background(), lsn); err != nil {
		return e.fail(err)
	}
	if err := e.makeRoom(); err != nil {
		return err
	}
	if err := apply(name); err != nil {
		return e.fail(err)
	}
	return nil
}

// CreateTree creates an empty B+tree: one per table index (clustered or secondary).
// It is durable when it returns.
func (e *Engine) CreateTree(name string) error { return e.ddl(recCreate, name, e.createLocked) }

// DropTree removes a tree and frees its pages. It is durable when it returns.
func (e *Engine) DropTree(name string) error { return e.ddl(recDrop, name, e.dropLocked) }

func (e *Engine) createLocked(name string) error {
	t, err := btree.Create(e.pool)
	if err != nil {
		return err
	}
	e.trees[name] = &treeInfo{t: t}
	return nil
}

func (e *Engine) dropLocked(name string) error {
	ti := e.trees[name]
	ids, err := ti.t.Pages()
	if err != nil {
		return err
	}
	delete(e.trees, name)
	// Freeing dirties a page per page of the tree, more than the pool may hold:
	// checkpoint between pages as needed. The tree is out of the catalog
	// already, so a checkpoint mid-way is consistent; a crash after one leaks
	// the pages not yet on the free list (the replayed drop finds no tree).
	for _, id := range ids {
		if err := e.makeRoom(); err != nil {
			return err
		}
		pg, err := e.pool.Fetch(id)
		if err != nil {
			return err
		}
		e.pool.FreePage(pg)
	}
	return nil
}

// makeRoom checkpoints when so many frames are dirty that the next tree
// operation might find no clean frame to evict. The caller holds treeMu for
// writing, between two operations: the trees are consistent.
func (e *Engine) makeRoom() error {
	if e.pool.Dirty() <= e.opts.PoolFrames-e.reserve {
		return nil
	}
	return e.checkpointLocked()
}

// applyLocked applies a commit's operations in order.
func (e *Engine) applyLocked(ops []op) error {
	for _, o := range ops {
		ti, ok := e.trees[o.tree]
		if !ok {
			continue // dropped after the commit was logged: replay drops it again
		}
		if err := e.makeRoom(); err != nil {
			return err
		}
		switch o.kind {
		case opPut:
			replaced, err := ti.t.Put(o.key, o.val)
			if err != nil {
				return err
			}
			if !replaced {
				ti.count++
			}
		case opDelete:
			found, err := ti.t.Delete(o.key)
			if err != nil {
				return err
			}
			if found {
				ti.count--
			}
		}
	}
	return nil
}

// Trees lists the trees, sorted by name.
func (e *Engine) Trees() []string {
	e.treeMu.RLock()
	defer e.treeMu.RUnlock()
	names := make([]string, 0, len(e.trees))
	for n := range e.trees {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TreeLen is the number of committed entries in a tree, kept exactly (EXPLAIN's rows).
func (e *Engine) TreeLen(name string) (int64, error) {
	e.treeMu.RLock()
	defer e.treeMu.RUnlock()
	ti, ok := e.trees[name]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrNoTree, name)
	}
	return ti.count, nil
}

// Begin starts a transaction.
func (e *Engine) Begin() *Txn {
	return &Txn{e: e, id: e.nextTxn.Add(1), writes: map[string]*gbtree.BTreeG[write]{}}
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	ps := e.pool.Stats()
	ls := e.locks.Stats()
	_, fsyncs := e.log.Counts()
	return Stats{
		Policy: ps.Policy, Hits: ps.Hits, Misses: ps.Misses, Evictions: ps.Evictions,
		PagesRead: ps.PagesRead, PagesWritten: ps.PagesWritten, HitRatio: ps.HitRatio(),
		Commits: e.commits.Load(), Fsyncs: fsyncs, Checkpoints: e.checkpoints.Load(),
		LockWaits: ls.Waits, LockWaitTimeouts: ls.Timeouts, Deadlocks: ls.Deadlocks,
		RecoveredRecords: e.recovered, RecoveryTime: e.recoveryTime,
	}
}

// LatestDeadlock is InnoDB's "LATEST DETECTED DEADLOCK" section of SHOW ENGINE
// INNODB STATUS for the most recent deadlock, or "" if there has been none.
func (e *Engine) LatestDeadlock() string { return e.locks.LatestDeadlock() }
