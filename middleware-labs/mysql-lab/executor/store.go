package executor

import (
	"context"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/lock"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

// Store is what the SQL layer needs from a storage engine: named ordered trees of byte keys and
// transactions over them. The lab runs on storage.Engine through FromStorage; tests may use a double.
type Store interface {
	CreateTree(name string) error
	DropTree(name string) error
	TreeLen(name string) (int64, error)
	Begin() Txn
	LatestDeadlock() string
}

// Txn is one storage transaction. Get and Scan are non-locking reads of committed data plus the
// transaction's own writes; Put and Delete take an exclusive row lock; LockExclusive is the locking
// read behind SELECT ... FOR UPDATE and UPDATE's "current read".
type Txn interface {
	Get(ctx context.Context, tree string, key []byte) ([]byte, bool, error)
	Put(ctx context.Context, tree string, key, val []byte) error
	Delete(ctx context.Context, tree string, key []byte) error
	Scan(ctx context.Context, tree string, from, to []byte, fn func(k, v []byte) bool) error
	LockExclusive(ctx context.Context, tree string, key []byte) error
	Commit(ctx context.Context) error
	Rollback() error
}

// FromStorage adapts the lab's storage engine to Store.
func FromStorage(e *storage.Engine) Store { return engineStore{e} }

type engineStore struct{ e *storage.Engine }

func (s engineStore) CreateTree(name string) error       { return s.e.CreateTree(name) }
func (s engineStore) DropTree(name string) error         { return s.e.DropTree(name) }
func (s engineStore) TreeLen(name string) (int64, error) { return s.e.TreeLen(name) }
func (s engineStore) Begin() Txn                         { return engineTxn{s.e.Begin()} }
func (s engineStore) LatestDeadlock() string             { return s.e.LatestDeadlock() }

type engineTxn struct{ t *storage.Txn }

func (t engineTxn) Get(ctx context.Context, tree string, key []byte) ([]byte, bool, error) {
	return t.t.Get(ctx, tree, key)
}
func (t engineTxn) Put(ctx context.Context, tree string, key, val []byte) error {
	return t.t.Put(ctx, tree, key, val)
}
func (t engineTxn) Delete(ctx context.Context, tree string, key []byte) error {
	return t.t.Delete(ctx, tree, key)
}
func (t engineTxn) Scan(ctx context.Context, tree string, from, to []byte, fn func(k, v []byte) bool) error {
	return t.t.Scan(ctx, tree, from, to, fn)
}
func (t engineTxn) LockExclusive(ctx context.Context, tree string, key []byte) error {
	return t.t.Lock(ctx, tree, key, lock.Exclusive)
}
func (t engineTxn) Commit(ctx context.Context) error { return t.t.Commit(ctx) }
func (t engineTxn) Rollback() error                  { return t.t.Rollback() }

// statementSetter is implemented by engines whose deadlock report names each transaction's
// current statement, as InnoDB's LATEST DETECTED DEADLOCK does.
type statementSetter interface{ SetStatement(sql string) }

func (t engineTxn) SetStatement(sql string) { t.t.SetStatement(sql) }
