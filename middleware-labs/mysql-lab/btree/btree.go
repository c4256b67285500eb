// Package btree is a B+tree on buffer-pool pages: variable-length keys and
// values in slotted pages, splits on insert, merge or redistribution on delete,
// and leaf links for range scans. Keys compare bytewise.
//
// A Tree is not safe for concurrent use: the engine lets many readers or one
// writer in at a time, which keeps the lesson on the tree and not on latch
// crabbing.
package btree

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
)

// ErrTooLarge is returned for a key or entry that would not leave room for four
// entries per page, which splits need.
var ErrTooLarge = errors.New("btree: key or value too large for the page size")

// maxDepth bounds a descent: a corrupted child pointer that loops back up the
// tree must be an error, not a hang. 2^64 keys fit in far fewer levels.
const maxDepth = 64

var errCycle = fmt.Errorf("%w: the tree is deeper than %d levels: a cycle", pager.ErrCorrupt, maxDepth)

// Tree is one B+tree. Root changes when the root splits or collapses; the
// owner persists it.
type Tree struct {
	pool     *bufpool.Pool
	root     uint64
	maxKey   int
	maxEntry int
	minFill  int
}

// Create allocates an empty tree (one leaf).
func Create(pool *bufpool.Pool) (*Tree, error) {
	pg, err := pool.NewPage()
	if err != nil {
		return nil, err
	}
	(&node{leaf: true}).encode(pg.Data)
	pool.Unpin(pg, true)
	return Open(pool, pg.ID), nil
}

// Open is the tree whose root is page root.
func Open(pool *bufpool.Pool, root uint64) *Tree {
	ps := pool.PageSize()
	return &Tree{pool: pool, root: root, maxKey: (ps - nodeHeader) / 8, maxEntry: (ps - nodeHeader) / 4, minFill: ps / 4}
}

// Root is the root page id.
func (t *Tree) Root() uint64 { return t.root }

// MaxKey and MaxEntry are the size limits of a key and of a key plus value.
func (t *Tree) MaxKey() int { return t.maxKey }

// MaxEntry is the limit on a key plus its value (and a few bytes of framing).
func (t *Tree) MaxEntry() int { return t.maxEntry }

func (t *Tree) check(key, val []byte) error {
	if len(key) > t.maxKey || leafCellSize(key, val) > t.maxEntry {
		return fmt.Errorf("%w: key %d bytes (limit %d), key+value %d bytes (limit %d)", ErrTooLarge, len(key), t.maxKey, len(key)+len(val), t.maxEntry-8)
	}
	return nil
}

// Get returns a copy of key's value.
func (t *Tree) Get(key []byte) ([]byte, bool, error) {
	id := t.root
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return nil, false, errCycle
		}
		pg, err := t.pool.Fetch(id)
		if err != nil {
			return nil, false, err
		}
		v, err := newView(pg.Data)
		if err != nil {
			t.pool.Unpin(pg, false)
			return nil, false, fmt.Errorf("page %d: %w", id, err)
		}
		if !v.leaf {
			id, err = v.childFor(key)
			t.pool.Unpin(pg, false)
			if err != nil {
				return nil, false, fmt.Errorf("page %d: %w", pg.ID, err)
			}
			continue
		}
		i, eq, err := v.search(key)
		if err != nil || !eq {
			t.pool.Unpin(pg, false)
			return nil, false, err
		}
		_, val, _, err := v.cell(i)
		out := append([]byte(nil), val...)
		t.pool.Unpin(pg, false)
		return out, err == nil, err
	}
}

func (t *Tree) load(id uint64) (*node, error) {
	pg, err := t.pool.Fetch(id)
	if err != nil {
		return nil, err
	}
	defer t.pool.Unpin(pg, false)
	n, err := decode(pg.Data)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return n, nil
}

func (t *Tree) store(id uint64, n *node) error {
	pg, err := t.pool.Fetch(id)
	if err != nil {
		return err
	}
	n.encode(pg.Data)
	t.pool.Unpin(pg, true)
	return nil
}

func (t *Tree) storeNew(n *node) (uint64, error) {
	pg, err := t.pool.NewPage()
	if err != nil {
		return 0, err
	}
	n.encode(pg.Data)
	t.pool.Unpin(pg, true)
	return pg.ID, nil
}

// Put inserts or replaces key. replaced reports whether key was there.
func (t *Tree) Put(key, val []byte) (replaced bool, err error) {
	if err := t.check(key, val); err != nil {
		return false, err
	}
	replaced, sep, right, err := t.insert(t.root, key, val, 0)
	if err != nil || right == 0 {
		return replaced, err
	}
	// The root split: a new root above the two halves.
	root, err := t.storeNew(&node{keys: [][]byte{sep}, children: []uint64{t.root, right}})
	if err != nil {
		return false, err
	}
	t.root = root
	return replaced, nil
}

// insert puts key under page id; a split returns the separator and the new right page.
func (t *Tree) insert(id uint64, key, val []byte, depth int) (replaced bool, sep []byte, right uint64, err error) {
	if depth > maxDepth {
		return false, nil, 0, errCycle
	}
	pg, err := t.pool.Fetch(id)
	if err != nil {
		return false, nil, 0, err
	}
	v, err := newView(pg.Data)
	if err != nil {
		t.pool.Unpin(pg, false)
		return false, nil, 0, fmt.Errorf("page %d: %w", id, err)
	}
	if v.leaf {
		// Most inserts fit the leaf's free space: write the cell in place.
		if done, replaced, err := v.insertInPlace(key, val); err != nil || done {
			t.pool.Unpin(pg, done)
			return replaced, nil, 0, err
		}
		t.pool.Unpin(pg, false)
		return t.insertSlow(id, key, val)
	}
	child, err := v.childFor(key)
	t.pool.Unpin(pg, false)
	if err != nil {
		return false, nil, 0, fmt.Errorf("page %d: %w", id, err)
	}
	replaced, csep, cright, err := t.insert(child, key, val, depth+1)
	if err != nil || cright == 0 {
		return replaced, nil, 0, err
	}
	// The child split: its new right half joins this node.
	n, err := t.load(id)
	if err != nil {
		return false, nil, 0, err
	}
	ci, _ := n.search(csep)
	n.keys = insertAt(n.keys, ci, csep)
	n.children = insertAt(n.children, ci+1, cright)
	sep, right, err = t.storeOrSplit(id, n)
	return replaced, sep, right, err
}

// insertSlow decodes the leaf, inserts, and re-encodes it (compacting it) or splits it.
func (t *Tree) insertSlow(id uint64, key, val []byte) (replaced bool, sep []byte, right uint64, err error) {
	n, err := t.load(id)
	if err != nil {
		return false, nil, 0, err
	}
	i, eq := n.search(key)
	if eq {
		n.vals[i] = val
	} else {
		n.keys = insertAt(n.keys, i, key)
		n.vals = insertAt(n.vals, i, val)
	}
	sep, right, err = t.storeOrSplit(id, n)
	return eq, sep, right, err
}

func (t *Tree) storeOrSplit(id uint64, n *node) (sep []byte, right uint64, err error) {
	if n.size() <= t.pool.PageSize() {
		return nil, 0, t.store(id, n)
	}
	left, r, sep := n.split()
	rid, err := t.storeNew(r)
	if err != nil {
		return nil, 0, err
	}
	if left.leaf {
		left.next = rid
	}
	return sep, rid, t.store(id, left)
}

func (n *node) search(key []byte) (int, bool) {
	lo, hi := 0, len(n.keys)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if bytes.Compare(n.keys[mid], key) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(n.keys) && bytes.Equal(n.keys[lo], key)
}

// Delete removes key; found reports whether it was there.
func (t *Tree) Delete(key []byte) (found bool, err error) {
	found, _, err = t.remove(t.root, key, 0)
	if err != nil || !found {
		return found, err
	}
	// An internal root left with one child gives the tree one level less.
	for {
		n, err := t.load(t.root)
		if err != nil {
			return true, err
		}
		if n.leaf || len(n.keys) > 0 {
			return true, nil
		}
		old := t.root
		t.root = n.children[0]
		if err := t.free(old); err != nil {
			return true, err
		}
	}
}

// remove deletes key under page id and reports whether the node is now underfull.
func (t *Tree) remove(id uint64, key []byte, depth int) (found, underfull bool, err error) {
	if depth > maxDepth {
		return false, false, errCycle
	}
	n, err := t.load(id)
	if err != nil {
		return false, false, err
	}
	i, eq := n.search(key)
	if n.leaf {
		if !eq {
			return false, false, nil
		}
		n.keys = removeAt(n.keys, i)
		n.vals = removeAt(n.vals, i)
	} else {
		ci := i
		if eq {
			ci++
		}
		var cu bool
		found, cu, err = t.remove(n.children[ci], key, depth+1)
		if err != nil || !cu {
			return found, false, err
		}
		changed, err := t.rebalance(n, ci)
		if err != nil || !changed {
			return found, false, err
		}
	}
	return true, n.size() < t.minFill, t.store(id, n)
}

// rebalance fixes the underfull child ci of n with a sibling: the two merge
// when they fit in one page, else their entries are redistributed evenly.
func (t *Tree) rebalance(n *node, ci int) (changed bool, err error) {
	li := ci
	if ci == len(n.children)-1 {
		li = ci - 1
	}
	if li < 0 {
		return false, nil // an only child: nothing to merge with
	}
	lid, rid := n.children[li], n.children[li+1]
	l, err := t.load(lid)
	if err != nil {
		return false, err
	}
	r, err := t.load(rid)
	if err != nil {
		return false, err
	}
	both := &node{leaf: l.leaf}
	both.keys = append(append(both.keys, l.keys...), r.keys...)
	if l.leaf {
		both.vals = append(append(both.vals, l.vals...), r.vals...)
		both.next = r.next
	} else {
		// The separator comes down between the two halves' keys.
		both.keys = append(append(append([][]byte{}, l.keys...), n.keys[li]), r.keys...)
		both.children = append(append(both.children, l.children...), r.children...)
	}
	if both.size() <= t.pool.PageSize() {
		n.keys = removeAt(n.keys, li)
		n.children = removeAt(n.children, li+1)
		if err := t.store(lid, both); err != nil {
			return false, err
		}
		return true, t.free(rid)
	}
	nl, nr, sep := both.split()
	old := n.keys[li]
	n.keys[li] = sep
	if n.size() > t.pool.PageSize() {
		n.keys[li] = old // a longer separator would overflow the parent: stay underfull
		return false, nil
	}
	if nl.leaf {
		nl.next = rid
	}
	if err := t.store(lid, nl); err != nil {
		return false, err
	}
	return true, t.store(rid, nr)
}

func (t *Tree) free(id uint64) error {
	pg, err := t.pool.Fetch(id)
	if err != nil {
		return err
	}
	t.pool.FreePage(pg)
	return nil
}

// Scan calls fn for every from <= key < to in order (nil bounds are open)
// until fn returns false. k and v alias the page: copy them to keep them.
func (t *Tree) Scan(from, to []byte, fn func(k, v []byte) bool) error {
	return t.ScanFrom(from, to, false, fn)
}

// ScanFrom is Scan; resumed says from continues an earlier Scan that stopped
// on the leaf holding from, so the path down to that leaf and the leaf are
// reread without counting as new references in the buffer pool (see
// bufpool.FetchQuiet).
func (t *Tree) ScanFrom(from, to []byte, resumed bool, fn func(k, v []byte) bool) error {
	// A resumed scan walks down the path it walked last time: those are not
	// new references either, or every inner node a long scan passes would be
	// made young (referenced again well after it was read) and push hot
	// pages out.
	descend := t.pool.Fetch
	if resumed {
		descend = t.pool.FetchQuiet
	}
	id := t.root
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return errCycle
		}
		pg, err := descend(id)
		if err != nil {
			return err
		}
		v, err := newView(pg.Data)
		if err != nil {
			t.pool.Unpin(pg, false)
			return fmt.Errorf("page %d: %w", id, err)
		}
		if v.leaf {
			t.pool.Unpin(pg, false)
			break
		}
		if from == nil {
			id = v.first()
		} else {
			id, err = v.childFor(from)
		}
		t.pool.Unpin(pg, false)
		if err != nil {
			return fmt.Errorf("page %d: %w", pg.ID, err)
		}
	}
	for leaves := uint64(0); id != 0; leaves++ {
		if leaves > t.pool.PageCount() {
			return fmt.Errorf("%w: the leaf chain is longer than the file: a cycle", pager.ErrCorrupt)
		}
		fetch := t.pool.Fetch
		if resumed && leaves == 0 {
			fetch = t.pool.FetchQuiet
		}
		pg, err := fetch(id)
		if err != nil {
			return err
		}
		more, next, err := scanLeaf(pg.Data, from, to, fn)
		t.pool.Unpin(pg, false)
		if err != nil {
			return fmt.Errorf("page %d: %w", id, err)
		}
		if !more {
			return nil
		}
		id = next
	}
	return nil
}

func scanLeaf(page []byte, from, to []byte, fn func(k, v []byte) bool) (more bool, next uint64, err error) {
	v, err := newView(page)
	if err != nil {
		return false, 0, err
	}
	if !v.leaf {
		return false, 0, fmt.Errorf("%w: leaf link to an internal node", pager.ErrCorrupt)
	}
	i := 0
	if from != nil {
		if i, _, err = v.search(from); err != nil {
			return false, 0, err
		}
	}
	for ; i < v.n; i++ {
		k, val, _, err := v.cell(i)
		if err != nil {
			return false, 0, err
		}
		if to != nil && bytes.Compare(k, to) >= 0 {
			return false, 0, nil
		}
		if !fn(k, val) {
			return false, 0, nil
		}
	}
	return true, v.first(), nil
}

// Pages lists every page of the tree, children before their parent.
func (t *Tree) Pages() ([]uint64, error) {
	var out []uint64
	var walk func(id uint64, depth int) error
	walk = func(id uint64, depth int) error {
		if depth > maxDepth {
			return errCycle
		}
		n, err := t.load(id)
		if err != nil {
			return err
		}
		for _, c := range n.children {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		out = append(out, id)
		return nil
	}
	return out, walk(t.root, 0)
}

// Height is the number of levels (1 for a lone leaf).
func (t *Tree) Height() (int, error) {
	h, id := 1, t.root
	for {
		if h > maxDepth {
			return 0, errCycle
		}
		n, err := t.load(id)
		if err != nil {
			return 0, err
		}
		if n.leaf {
			return h, nil
		}
		h++
		id = n.children[0]
	}
}
