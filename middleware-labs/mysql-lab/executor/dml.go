package executor

import (
	"context"
	"fmt"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

func (s *Session) insert(ctx context.Context, txn Txn, x *sqlparser.Insert, args []Value) (*Result, error) {
	t, err := s.ex.cat.get(x.Table)
	if err != nil {
		return nil, err
	}
	cols := make([]int, 0, len(t.Columns))
	if len(x.Columns) == 0 {
		for i := range t.Columns {
			cols = append(cols, i)
		}
	} else if cols, err = columnIndexes(t, x.Columns); err != nil {
		return nil, err
	}
	env := &evalEnv{sess: s, args: args}
	res := &Result{}
	for n, exprs := range x.Rows {
		if len(exprs) != len(cols) {
			return nil, &Error{Code: ErWrongValueCount, State: "21S01", Msg: fmt.Sprintf("Column count doesn't match value count at row %d", n+1)}
		}
		row := make([]Value, len(t.Columns))
		set := make([]bool, len(t.Columns))
		for i, c := range cols {
			v, err := eval(exprs[i], env)
			if err != nil {
				return nil, err
			}
			if row[c], err = coerce(v, kindOf(t.Columns[c].Type)); err != nil {
				return nil, err
			}
			set[c] = true
		}
		var hidden int64
		for c, col := range t.Columns {
			if !set[c] {
				row[c] = col.Default
			}
			if col.AutoInc {
				explicit, _ := row[c].(int64)
				id := t.allocID(explicit)
				row[c] = id
				if explicit == 0 {
					s.lastInsertID = id
					if res.LastInsertID == 0 {
						res.LastInsertID = uint64(id)
					}
				}
			}
			if row[c] == nil && col.NotNull {
				return nil, &Error{Code: ErBadNull, State: "23000", Msg: fmt.Sprintf("Column '%s' cannot be null", col.Name)}
			}
		}
		if len(t.PK) == 0 {
			hidden = t.allocID(0)
		}
		pk := t.pkKey(row, hidden)
		if err := txn.LockExclusive(ctx, t.dataTree(), pk); err != nil {
			return nil, err
		}
		if _, exists, err := txn.Get(ctx, t.dataTree(), pk); err != nil {
			return nil, err
		} else if exists {
			return nil, dupEntry(t, row, t.PK, "PRIMARY")
		}
		if err := s.checkUnique(ctx, txn, t, row, nil); err != nil {
			return nil, err
		}
		if err := txn.Put(ctx, t.dataTree(), pk, encodeRow(row)); err != nil {
			return nil, err
		}
		for i := range t.Indexes {
			ix := &t.Indexes[i]
			if err := txn.Put(ctx, t.indexTree(ix), t.indexKey(ix, row, pk), pk); err != nil {
				return nil, err
			}
		}
		res.Affected++
	}
	return res, nil
}

func dupEntry(t *Table, row []Value, cols []int, key string) error {
	var parts []string
	for _, c := range cols {
		parts = append(parts, formatValue(row[c]))
	}
	return &Error{Code: ErDupEntry, State: "23000", Msg: fmt.Sprintf("Duplicate entry '%s' for key '%s.%s'", strings.Join(parts, "-"), t.Name, key)}
}

// checkUnique rejects a row whose unique-index columns another row (not self) already has.
func (s *Session) checkUnique(ctx context.Context, txn Txn, t *Table, row []Value, self []byte) error {
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if !ix.Unique {
			continue
		}
		var prefix []byte
		hasNull := false
		for _, c := range ix.Columns {
			hasNull = hasNull || row[c] == nil
			prefix = appendKey(prefix, row[c], kindOf(t.Columns[c].Type))
		}
		if hasNull {
			continue
		}
		dup := false
		err := txn.Scan(ctx, t.indexTree(ix), prefix, afterPrefix(prefix), func(_, pk []byte) bool {
			dup = string(pk) != string(self)
			return !dup
		})
		if err != nil {
			return err
		}
		if dup {
			return dupEntry(t, row, ix.Columns, ix.Name)
		}
	}
	return nil
}

// target finds the rows an UPDATE or DELETE changes. Candidates come from a non-locking read by the
// plan; then each is locked and read again (InnoDB's "current read"), outside the scan, so a lock
// wait never happens while a scan is in progress.
func (s *Session) target(ctx context.Context, txn Txn, table string, where sqlparser.Expr, args []Value, fn func(t *Table, row []Value, pk []byte) error) error {
	sel := &sqlparser.Select{Exprs: []sqlparser.SelectExpr{{Star: true}}, From: []sqlparser.TableRef{{Name: table}}, Where: where}
	q, err := s.prepare(ctx, txn, sel, args)
	if err != nil {
		return err
	}
	var pks [][]byte
	err = s.each(ctx, txn, q, func() (bool, error) {
		b := q.tables[0]
		pks = append(pks, b.table.pkKey(b.row, 0))
		return true, nil
	})
	if err != nil {
		return err
	}
	if len(q.tables[0].table.PK) == 0 {
		return notSupported("UPDATE or DELETE on a table without a primary key")
	}
	b := q.tables[0]
	for _, pk := range pks {
		row, err := s.lockAndReread(ctx, txn, b.table, pk)
		if err != nil {
			return err
		}
		if row == nil {
			continue
		}
		b.row = row
		ok, err := q.matches()
		if err != nil {
			return err
		}
		if ok {
			if err := fn(b.table, row, pk); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Session) update(ctx context.Context, txn Txn, x *sqlparser.Update, args []Value) (*Result, error) {
	res := &Result{}
	err := s.target(ctx, txn, x.Table, x.Where, args, func(t *Table, row []Value, pk []byte) error {
		env := &evalEnv{sess: s, args: args, tables: []*binding{{table: t, alias: t.Name, row: row}}}
		next := append([]Value{}, row...)
		for _, a := range x.Set {
			c := t.column(a.Name)
			if c < 0 {
				return unknownColumn(a.Name)
			}
			v, err := eval(a.Value, env)
			if err != nil {
				return err
			}
			if next[c], err = coerce(v, kindOf(t.Columns[c].Type)); err != nil {
				return err
			}
			if next[c] == nil && t.Columns[c].NotNull {
				return &Error{Code: ErBadNull, State: "23000", Msg: fmt.Sprintf("Column '%s' cannot be null", a.Name)}
			}
		}
		if fmt.Sprint(next...) == fmt.Sprint(row...) {
			return nil // matched, not changed: MySQL does not count it as affected
		}
		newPK := t.pkKey(next, 0)
		if string(newPK) != string(pk) {
			if err := txn.LockExclusive(ctx, t.dataTree(), newPK); err != nil {
				return err
			}
			if _, exists, err := txn.Get(ctx, t.dataTree(), newPK); err != nil {
				return err
			} else if exists {
				return dupEntry(t, next, t.PK, "PRIMARY")
			}
			if err := txn.Delete(ctx, t.dataTree(), pk); err != nil {
				return err
			}
		}
		if err := s.checkUnique(ctx, txn, t, next, pk); err != nil {
			return err
		}
		if err := txn.Put(ctx, t.dataTree(), newPK, encodeRow(next)); err != nil {
			return err
		}
		for i := range t.Indexes {
			ix := &t.Indexes[i]
			oldKey, newKey := t.indexKey(ix, row, pk), t.indexKey(ix, next, newPK)
			if string(oldKey) == string(newKey) {
				continue
			}
			if err := txn.Delete(ctx, t.indexTree(ix), oldKey); err != nil {
				return err
			}
			if err := txn.Put(ctx, t.indexTree(ix), newKey, newPK); err != nil {
				return err
			}
		}
		res.Affected++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Session) deleteRows(ctx context.Context, txn Txn, x *sqlparser.Delete, args []Value) (*Result, error) {
	res := &Result{}
	err := s.target(ctx, txn, x.Table, x.Where, args, func(t *Table, row []Value, pk []byte) error {
		for i := range t.Indexes {
			ix := &t.Indexes[i]
			if err := txn.Delete(ctx, t.indexTree(ix), t.indexKey(ix, row, pk)); err != nil {
				return err
			}
		}
		if err := txn.Delete(ctx, t.dataTree(), pk); err != nil {
			return err
		}
		res.Affected++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
