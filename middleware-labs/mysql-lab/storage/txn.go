package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/lock"
	gbtree "github.com/google/btree"
)

// Txn is a transaction. Its writes are private until Commit (reads by other
// transactions see committed data only); Put and Delete take an exclusive row
// lock held until Commit or Rollback, like InnoDB.
type Txn struct {
	e      *Engine
	id     uint64
	writes map[string]*gbtree.BTreeG[write] // tree → its pending writes, in key order
	done   bool
}

// write is one pending change; del marks a delete.
type write struct {
	key string
	val []byte
	del bool
}

func lessWrite(a, b write) bool { return a.key < b.key }

// scanChunk is how many entries Scan reads from a tree under the read lock
// before it releases it and calls fn: fn may wait for a row lock held by a
// committer that needs the write lock.
const scanChunk = 256

// ID is the transaction's id, increasing with Begin order.
func (t *Txn) ID() uint64 { return t.id }

func (t *Txn) check(tree string) (*treeInfo, error) {
	if t.done {
		return nil, ErrTxnDone
	}
	if err := t.e.usable(); err != nil {
		return nil, err
	}
	ti, ok := t.e.trees[tree]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoTree, tree)
	}
	return ti, nil
}

func (t *Txn) lookupTree(tree string) (*treeInfo, error) {
	t.e.treeMu.RLock()
	defer t.e.treeMu.RUnlock()
	return t.check(tree)
}

// lock takes a row lock; a deadlock verdict rolls the transaction back, as
// InnoDB does, so the other transactions in the cycle can go on.
func (t *Txn) lock(ctx context.Context, tree string, key []byte, mode lock.Mode) error {
	err := t.e.locks.Acquire(ctx, t.id, tree, key, mode)
	if errors.Is(err, lock.ErrDeadlock) {
		_ = t.Rollback()
	}
	return err
}

// Get reads key, seeing the transaction's own writes. It takes no lock (a
// non-locking read, as InnoDB's plain SELECT); use Lock for FOR UPDATE.
func (t *Txn) Get(ctx context.Context, tree string, key []byte) (val []byte, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if ws := t.writes[tree]; ws != nil && !t.done {
		if w, found := ws.Get(write{key: string(key)}); found {
			if w.del {
				return nil, false, nil
			}
			return bytes.Clone(w.val), true, nil
		}
	}
	t.e.treeMu.RLock()
	defer t.e.treeMu.RUnlock()
	ti, err := t.check(tree)
	if err != nil {
		return nil, false, err
	}
	return ti.t.Get(key)
}

// Put writes key=val, taking an exclusive lock on key first.
func (t *Txn) Put(ctx context.Context, tree string, key, val []byte) error {
	ti, err := t.lookupTree(tree)
	if err != nil {
		return err
	}
	// Refuse what the tree would refuse now: once a commit is logged, applying
	// it must not fail.
	if len(key) > ti.t.MaxKey() || len(key)+len(val)+8 > ti.t.MaxEntry() {
		return fmt.Errorf("storage: key of %d bytes (limit %d) with value of %d bytes (limit %d together): too large for %d-byte pages",
			len(key), ti.t.MaxKey(), len(val), ti.t.MaxEntry()-8, t.e.opts.PageSize)
	}
	if err := t.lock(ctx, tree, key, lock.Exclusive); err != nil {
		return err
	}
	t.stage(tree, write{key: string(key), val: bytes.Clone(val)})
	return nil
}

// Delete removes key (no error if absent), taking an exclusive lock on key first.
func (t *Txn) Delete(ctx context.Context, tree string, key []byte) error {
	if _, err := t.lookupTree(tree); err != nil {
		return err
	}
	if err := t.lock(ctx, tree, key, lock.Exclusive); err != nil {
		return err
	}
	t.stage(tree, write{key: string(key), del: true})
	return nil
}

func (t *Txn) stage(tree string, w write) {
	ws := t.writes[tree]
	if ws == nil {
		ws = gbtree.NewG(16, lessWrite)
		t.writes[tree] = ws
	}
	ws.ReplaceOrInsert(w)
}

// SetStatement records the SQL statement the transaction is running: the
// deadlock report (LatestDeadlock) prints it, as InnoDB's does.
func (t *Txn) SetStatement(sql string) {
	if !t.done { // a finished transaction's lock state is gone: do not recreate it
		t.e.locks.SetStatement(t.id, sql)
	}
}

// Lock takes a row lock on key in mode (SELECT ... FOR UPDATE / LOCK IN SHARE MODE).
func (t *Txn) Lock(ctx context.Context, tree string, key []byte, mode lock.Mode) error {
	if _, err := t.lookupTree(tree); err != nil {
		return err
	}
	return t.lock(ctx, tree, key, mode)
}

// Scan calls fn for each entry with from <= key < to in key order (nil from or to
// is unbounded), merging the transaction's own writes, until fn returns false.
// fn may call other methods of t. k and v are fn's to keep.
func (t *Txn) Scan(ctx context.Context, tree string, from, to []byte, fn func(k, v []byte) bool) error {
	cursor, resumed := from, false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		type kv struct{ k, v []byte }
		var chunk []kv
		t.e.treeMu.RLock()
		ti, err := t.check(tree)
		if err == nil {
			err = ti.t.ScanFrom(cursor, to, resumed, func(k, v []byte) bool {
				chunk = append(chunk, kv{bytes.Clone(k), bytes.Clone(v)})
				return len(chunk) < scanChunk
			})
		}
		t.e.treeMu.RUnlock()
		if err != nil {
			return err
		}
		// This chunk covers [cursor, end): up to its last key when it is full,
		// to the end of the range otherwise. Own writes in it merge in.
		full := len(chunk) == scanChunk
		end := to
		if full {
			end = append(bytes.Clone(chunk[len(chunk)-1].k), 0)
		}
		var own []write
		if ws := t.writes[tree]; ws != nil {
			visit := func(w write) bool { own = append(own, w); return true }
			lo := write{key: string(cursor)}
			switch {
			case end != nil:
				ws.AscendRange(lo, write{key: string(end)}, visit)
			default:
				ws.AscendGreaterOrEqual(lo, visit)
			}
		}
		i, j := 0, 0
		for i < len(chunk) || j < len(own) {
			var k, v []byte
			switch {
			case j == len(own) || (i < len(chunk) && string(chunk[i].k) < own[j].key):
				k, v = chunk[i].k, chunk[i].v
				i++
			default:
				w := own[j]
				if i < len(chunk) && string(chunk[i].k) == w.key {
					i++ // the transaction's write replaces the committed row
				}
				j++
				if w.del {
					continue
				}
				k, v = []byte(w.key), bytes.Clone(w.val)
			}
			if !fn(k, v) {
				return nil
			}
		}
		if !full {
			return nil
		}
		cursor, resumed = end, true
	}
}

// Commit makes the writes durable (the redo record is fsynced, sharing the
// fsync with concurrent commits) and visible, then releases the locks. Once
// the record is logged the commit goes through even if ctx ends: it would
// be replayed after a crash anyway.
func (t *Txn) Commit(ctx context.Context) error {
	if t.done {
		return ErrTxnDone
	}
	if err := t.e.usable(); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = t.Rollback()
		return err
	}
	defer t.finish()
	var ops []op
	for tree, ws := range t.writes {
		ws.Ascend(func(w write) bool {
			o := op{kind: opPut, tree: tree, key: []byte(w.key), val: w.val}
			if w.del {
				o.kind = opDelete
			}
			ops = append(ops, o)
			return true
		})
	}
	if len(ops) == 0 {
		return nil
	}
	e := t.e
	lsn, err := e.logged(encodeRecord(record{kind: recCommit, txn: t.id, ops: ops}))
	if err != nil {
		return e.fail(err)
	}
	defer e.unmarkInflight(lsn)
	if err := e.log.Sync(context.WithoutCancel(ctx), lsn); err != nil {
		return e.fail(err)
	}
	e.treeMu.Lock()
	err = e.applyLocked(ops)
	e.treeMu.Unlock()
	if err != nil {
		return e.fail(err)
	}
	e.commits.Add(1)
	e.commitsC.Inc()
	return nil
}

// Rollback discards the writes and releases the locks. It is a no-op on a
// finished transaction (one a deadlock already rolled back, for instance).
func (t *Txn) Rollback() error {
	if t.done {
		return nil
	}
	t.finish()
	return nil
}

func (t *Txn) finish() {
	t.done = true
	t.writes = nil
	t.e.locks.ReleaseAll(t.id)
}
