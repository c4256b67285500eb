package executor

import (
	"context"
	"errors"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

var errStop = errors.New("stop")

// readTable reads the rows of b that access a selects, counting every row the engine hands back
// (MySQL's Rows_examined), and calls fn with each; fn returns false to stop.
func (s *Session) readTable(ctx context.Context, txn Txn, b *binding, a access, env *evalEnv, fn func(row []Value, pk []byte) (bool, error)) error {
	t := b.table
	if a.typ == "ALL" {
		s.fullScans++
		return s.scanRows(ctx, txn, t.dataTree(), nil, nil, t, fn)
	}
	rs, err := ranges(t, a, env)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.to != nil && string(r.from) >= string(r.to) {
			continue
		}
		if a.index == nil {
			if a.typ == "const" || a.typ == "eq_ref" {
				// A full primary-key match is one B+tree lookup.
				v, ok, err := txn.Get(ctx, t.dataTree(), r.from)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				s.examined++
				row, err := decodeRow(v, len(t.Columns))
				if err != nil {
					return err
				}
				more, err := fn(row, r.from)
				if err != nil || !more {
					return err
				}
				continue
			}
			if err := s.scanRows(ctx, txn, t.dataTree(), r.from, r.to, t, fn); err != nil {
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
			continue
		}
		var inner error
		stopped := false
		err := txn.Scan(ctx, t.indexTree(a.index), r.from, r.to, func(k, pk []byte) bool {
			s.examined++
			var row []Value
			if a.covering {
				row, inner = rowFromIndexKey(t, a.index, k)
			} else {
				var v []byte
				var ok bool
				v, ok, inner = txn.Get(ctx, t.dataTree(), pk)
				if inner != nil || !ok {
					return inner == nil
				}
				row, inner = decodeRow(v, len(t.Columns))
			}
			if inner != nil {
				return false
			}
			var more bool
			more, inner = fn(row, append([]byte{}, pk...))
			stopped = !more
			return more && inner == nil
		})
		if err != nil {
			return err
		}
		if inner != nil || stopped {
			return inner
		}
	}
	return nil
}

// scanRows reads [from, to) of a table's clustered index.
func (s *Session) scanRows(ctx context.Context, txn Txn, tree string, from, to []byte, t *Table, fn func([]Value, []byte) (bool, error)) error {
	var inner error
	err := txn.Scan(ctx, tree, from, to, func(k, v []byte) bool {
		s.examined++
		var row []Value
		row, inner = decodeRow(v, len(t.Columns))
		if inner != nil {
			return false
		}
		var more bool
		more, inner = fn(row, append([]byte{}, k...))
		if inner == nil && !more {
			inner = errStop
		}
		return inner == nil
	})
	if err != nil {
		return err
	}
	if errors.Is(inner, errStop) {
		return nil
	}
	return inner
}

// rowFromIndexKey rebuilds the columns a covering index holds from its key (the others stay NULL;
// the planner only chooses covering when the statement reads no others).
func rowFromIndexKey(t *Table, ix *Index, k []byte) ([]Value, error) {
	row := make([]Value, len(t.Columns))
	cols := append(append([]int{}, ix.Columns...), t.PK...)
	for _, c := range cols {
		v, n, err := decodeKey(k, kindOf(t.Columns[c].Type))
		if err != nil {
			return nil, err
		}
		row[c] = v
		k = k[n:]
	}
	return row, nil
}

func decodeKey(k []byte, kd kind) (Value, int, error) {
	if len(k) == 0 {
		return nil, 0, errCorruptRow
	}
	if k[0] == 0x00 {
		return nil, 1, nil
	}
	switch kd {
	case kindInt, kindFloat:
		if len(k) < 9 {
			return nil, 0, errCorruptRow
		}
		var u uint64
		for _, c := range k[1:9] {
			u = u<<8 | uint64(c)
		}
		if kd == kindInt {
			return int64(u ^ (1 << 63)), 9, nil
		}
		if u&(1<<63) != 0 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		return float64FromBits(u), 9, nil
	}
	var out []byte
	for i := 1; i+1 < len(k); i++ {
		if k[i] == 0x00 {
			if k[i+1] == 0x01 {
				return string(out), i + 2, nil
			}
			out = append(out, 0)
			i++
			continue
		}
		out = append(out, k[i])
	}
	return nil, 0, errCorruptRow
}

// needCols lists the columns of b that the statement reads; nil means "all" (SELECT *).
func needCols(b *binding, exprs ...[]sqlparser.Expr) map[int]bool {
	out := map[int]bool{}
	all := false
	var walk func(e sqlparser.Expr)
	walk = func(e sqlparser.Expr) {
		switch x := e.(type) {
		case nil:
		case *sqlparser.ColumnRef:
			if c := bareColumn(x, b); c >= 0 {
				out[c] = true
			}
		case *sqlparser.BinaryExpr:
			walk(x.L)
			walk(x.R)
		case *sqlparser.NotExpr:
			walk(x.E)
		case *sqlparser.Neg:
			walk(x.E)
		case *sqlparser.Between:
			walk(x.E)
			walk(x.Lo)
			walk(x.Hi)
		case *sqlparser.InList:
			walk(x.E)
			for _, i := range x.List {
				walk(i)
			}
		case *sqlparser.Like:
			walk(x.E)
			walk(x.Pattern)
		case *sqlparser.IsNull:
			walk(x.E)
		case *sqlparser.FuncCall:
			for _, a := range x.Args {
				walk(a)
			}
		case starMarker:
			all = true
		}
	}
	for _, list := range exprs {
		for _, e := range list {
			walk(e)
		}
	}
	if all {
		return nil
	}
	return out
}

// starMarker stands for SELECT * in needCols.
type starMarker struct{ sqlparser.Expr }
