package executor

import (
	"context"
	"sort"
	"sync"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

// memStore is a test double of the storage engine: sorted maps, private write sets, no locks.
// The executor's tests use it so they check the SQL layer alone.
type memStore struct {
	mu    sync.Mutex
	trees map[string]map[string][]byte
}

func newMemStore() *memStore { return &memStore{trees: map[string]map[string][]byte{}} }

func (m *memStore) CreateTree(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.trees[name]; ok {
		return storage.ErrTreeExists
	}
	m.trees[name] = map[string][]byte{}
	return nil
}

func (m *memStore) DropTree(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.trees, name)
	return nil
}

func (m *memStore) TreeLen(name string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.trees[name]
	if !ok {
		return 0, storage.ErrNoTree
	}
	return int64(len(t)), nil
}

func (m *memStore) LatestDeadlock() string { return "" }

func (m *memStore) Begin() Txn { return &memTxn{m: m, writes: map[string]map[string][]byte{}} }

type memTxn struct {
	m      *memStore
	writes map[string]map[string][]byte // nil value: deleted
}

func (t *memTxn) Get(_ context.Context, tree string, key []byte) ([]byte, bool, error) {
	if w, ok := t.writes[tree][string(key)]; ok {
		return w, w != nil, nil
	}
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	tr, ok := t.m.trees[tree]
	if !ok {
		return nil, false, storage.ErrNoTree
	}
	v, ok := tr[string(key)]
	return v, ok, nil
}

func (t *memTxn) Put(_ context.Context, tree string, key, val []byte) error {
	if t.writes[tree] == nil {
		t.writes[tree] = map[string][]byte{}
	}
	t.writes[tree][string(key)] = append([]byte{}, val...)
	return nil
}

func (t *memTxn) Delete(_ context.Context, tree string, key []byte) error {
	if t.writes[tree] == nil {
		t.writes[tree] = map[string][]byte{}
	}
	t.writes[tree][string(key)] = nil
	return nil
}

func (t *memTxn) Scan(_ context.Context, tree string, from, to []byte, fn func(k, v []byte) bool) error {
	t.m.mu.Lock()
	merged := map[string][]byte{}
	for k, v := range t.m.trees[tree] {
		merged[k] = v
	}
	t.m.mu.Unlock()
	for k, v := range t.writes[tree] {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		if k >= string(from) && (to == nil || k < string(to)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn([]byte(k), merged[k]) {
			return nil
		}
	}
	return nil
}

func (t *memTxn) LockExclusive(context.Context, string, []byte) error { return nil }

func (t *memTxn) Commit(context.Context) error {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	for tree, w := range t.writes {
		for k, v := range w {
			if v == nil {
				delete(t.m.trees[tree], k)
			} else {
				t.m.trees[tree][k] = v
			}
		}
	}
	t.writes = nil
	return nil
}

func (t *memTxn) Rollback() error { t.writes = nil; return nil }
