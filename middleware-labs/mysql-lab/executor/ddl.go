package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

func (ex *Executor) createTable(ctx context.Context, ct *sqlparser.CreateTable) error {
	t, err := newTable(ct)
	if err != nil {
		return err
	}
	ex.cat.mu.Lock()
	defer ex.cat.mu.Unlock()
	if _, ok := ex.cat.tables[strings.ToLower(t.Name)]; ok {
		if ct.IfNotExists {
			return nil
		}
		return &Error{Code: ErTableExists, State: "42S01", Msg: fmt.Sprintf("Table '%s' already exists", t.Name)}
	}
	if err := ex.store.CreateTree(t.dataTree()); err != nil {
		return fmt.Errorf("create table %s: %w", t.Name, err)
	}
	for i := range t.Indexes {
		if err := ex.store.CreateTree(t.indexTree(&t.Indexes[i])); err != nil {
			return fmt.Errorf("create index %s: %w", t.Indexes[i].Name, err)
		}
	}
	t.nextID = 1
	if err := saveTable(ctx, ex.store, t); err != nil {
		return err
	}
	ex.cat.tables[strings.ToLower(t.Name)] = t
	return nil
}

// createIndex builds the index from the table's rows in batches, so a large table does not become
// one enormous transaction.
func (ex *Executor) createIndex(ctx context.Context, ci *sqlparser.CreateIndex) error {
	t, err := ex.cat.get(ci.Table)
	if err != nil {
		return err
	}
	ex.cat.mu.Lock()
	defer ex.cat.mu.Unlock()
	for _, ix := range t.Indexes {
		if strings.EqualFold(ix.Name, ci.Index.Name) {
			return &Error{Code: ErDupKeyName, State: "42000", Msg: fmt.Sprintf("Duplicate key name '%s'", ix.Name)}
		}
	}
	cols, err := columnIndexes(t, ci.Index.Columns)
	if err != nil {
		return err
	}
	ix := Index{Name: ci.Index.Name, Columns: cols, Unique: ci.Index.Unique}
	if err := ex.store.CreateTree(t.indexTree(&ix)); err != nil {
		return fmt.Errorf("create index %s: %w", ix.Name, err)
	}
	const batch = 2000
	var from []byte
	for {
		txn := ex.store.Begin()
		type entry struct{ k, pk []byte }
		var entries []entry
		var last []byte
		var decodeErr error
		err := txn.Scan(ctx, t.dataTree(), from, nil, func(k, v []byte) bool {
			row, err := decodeRow(v, len(t.Columns))
			if err != nil {
				decodeErr = err
				return false
			}
			pk := append([]byte{}, k...)
			entries = append(entries, entry{t.indexKey(&ix, row, pk), pk})
			last = pk
			return len(entries) < batch
		})
		if err == nil {
			err = decodeErr
		}
		for _, e := range entries {
			if err != nil {
				break
			}
			err = txn.Put(ctx, t.indexTree(&ix), e.k, e.pk)
		}
		if err != nil {
			_ = txn.Rollback()
			return fmt.Errorf("build index %s: %w", ix.Name, err)
		}
		if err := txn.Commit(ctx); err != nil {
			return fmt.Errorf("build index %s: %w", ix.Name, err)
		}
		if len(entries) < batch {
			break
		}
		from = append(last, 0x00) // the next key after last
	}
	t.Indexes = append(t.Indexes, ix)
	return saveTable(ctx, ex.store, t)
}

func (ex *Executor) dropTable(ctx context.Context, d *sqlparser.DropTable) error {
	ex.cat.mu.Lock()
	defer ex.cat.mu.Unlock()
	t, ok := ex.cat.tables[strings.ToLower(d.Name)]
	if !ok {
		if d.IfExists {
			return nil
		}
		return &Error{Code: 1051, State: "42S02", Msg: fmt.Sprintf("Unknown table 'test.%s'", d.Name)}
	}
	for i := range t.Indexes {
		if err := ex.store.DropTree(t.indexTree(&t.Indexes[i])); err != nil {
			return fmt.Errorf("drop index %s: %w", t.Indexes[i].Name, err)
		}
	}
	if err := ex.store.DropTree(t.dataTree()); err != nil {
		return fmt.Errorf("drop table %s: %w", t.Name, err)
	}
	txn := ex.store.Begin()
	if err := txn.Delete(ctx, catalogTree, []byte(strings.ToLower(t.Name))); err != nil {
		_ = txn.Rollback()
		return fmt.Errorf("drop table %s: %w", t.Name, err)
	}
	if err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("drop table %s: %w", t.Name, err)
	}
	delete(ex.cat.tables, strings.ToLower(t.Name))
	return nil
}

func (ex *Executor) dropIndex(ctx context.Context, d *sqlparser.DropIndex) error {
	t, err := ex.cat.get(d.Table)
	if err != nil {
		return err
	}
	ex.cat.mu.Lock()
	defer ex.cat.mu.Unlock()
	for i := range t.Indexes {
		if strings.EqualFold(t.Indexes[i].Name, d.Name) {
			if err := ex.store.DropTree(t.indexTree(&t.Indexes[i])); err != nil {
				return fmt.Errorf("drop index %s: %w", d.Name, err)
			}
			t.Indexes = append(t.Indexes[:i], t.Indexes[i+1:]...)
			return saveTable(ctx, ex.store, t)
		}
	}
	return &Error{Code: 1091, State: "42000", Msg: fmt.Sprintf("Can't DROP INDEX `%s`; check that it exists", d.Name)}
}
