package executor

import (
	"context"
	"sort"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

// diveLimit caps the index dive the planner makes to estimate a range's rows, as MySQL's
// records_in_range does with pages instead of rows.
const diveLimit = 2000

// pred is a sargable predicate: an indexed column compared with values that are known before the
// scan starts (constants, arguments, or the outer row of a join).
type pred struct {
	col   int
	op    string // = < <= > >= in prefix
	vals  []sqlparser.Expr
	outer bool // a value is a column of the outer table (index nested loop join)
}

// access is how one table is read: EXPLAIN's type/key/key_len/ref/rows/Extra come from it.
type access struct {
	typ      string // ALL, const, eq_ref, ref, range
	keyName  string // PRIMARY or the index name; "" for ALL
	index    *Index // nil with keyName PRIMARY
	cols     []int  // the index's columns
	eq       []pred // equality (or IN) on cols[0..len(eq)-1]
	rng      []pred // bounds on cols[len(eq)], if any
	possible []string
	rows     int64
	covering bool
	ordered  bool // rows come out in ORDER BY order, no filesort
}

// conjuncts splits WHERE a AND b AND c into its terms.
func conjuncts(e sqlparser.Expr) []sqlparser.Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*sqlparser.BinaryExpr); ok && b.Op == "AND" {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []sqlparser.Expr{e}
}

// bareColumn returns the column index when e is a column of table t itself, not wrapped in a
// function or arithmetic: only then can an index on it be searched.
func bareColumn(e sqlparser.Expr, b *binding) int {
	ref, ok := e.(*sqlparser.ColumnRef)
	if !ok {
		return -1
	}
	if ref.Table != "" && !strings.EqualFold(ref.Table, b.alias) && !strings.EqualFold(ref.Table, b.table.Name) {
		return -1
	}
	return b.table.column(ref.Name)
}

// known reports whether e's value is fixed before this table is read: a constant, an argument, or
// (outer != nil) a column of the outer table.
func known(e sqlparser.Expr, outer *binding) (ok, isOuter bool) {
	switch x := e.(type) {
	case *sqlparser.Literal, *sqlparser.Param:
		return true, false
	case *sqlparser.Neg:
		return known(x.E, outer)
	case *sqlparser.ColumnRef:
		if outer != nil && bareColumn(x, outer) >= 0 {
			return true, true
		}
	}
	return false, false
}

// sargableValue is where MySQL's implicit conversion breaks an index: a string column compared
// with a number is compared as numbers, row by row (' 7', '7abc' and '07' all equal 7), so the
// index's string order is useless and the optimizer falls back to a full scan.
func sargableValue(col Column, e sqlparser.Expr, env *evalEnv, isOuter bool) bool {
	if isOuter {
		return true
	}
	v, err := eval(e, env)
	if err != nil || v == nil {
		return false
	}
	switch kindOf(col.Type) {
	case kindString:
		_, isStr := v.(string)
		return isStr
	case kindInt:
		switch v.(type) {
		case int64, string:
			return true
		}
	case kindFloat:
		return true
	}
	return false
}

var flipped = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// preds finds the sargable predicates on table b among the conjuncts.
func preds(conj []sqlparser.Expr, b, outer *binding, env *evalEnv) []pred {
	var out []pred
	add := func(colExpr, valExpr sqlparser.Expr, op string) {
		c := bareColumn(colExpr, b)
		if c < 0 {
			return
		}
		ok, isOuter := known(valExpr, outer)
		if !ok || !sargableValue(b.table.Columns[c], valExpr, env, isOuter) {
			return
		}
		out = append(out, pred{col: c, op: op, vals: []sqlparser.Expr{valExpr}, outer: isOuter})
	}
	for _, e := range conj {
		switch x := e.(type) {
		case *sqlparser.BinaryExpr:
			if _, cmp := flipped[x.Op]; !cmp {
				continue
			}
			add(x.L, x.R, x.Op)
			add(x.R, x.L, flipped[x.Op])
		case *sqlparser.Between:
			if !x.Not {
				add(x.E, x.Lo, ">=")
				add(x.E, x.Hi, "<=")
			}
		case *sqlparser.InList:
			c := bareColumn(x.E, b)
			if x.Not || c < 0 {
				continue
			}
			all := true
			for _, v := range x.List {
				ok, isOuter := known(v, outer)
				if !ok || isOuter || !sargableValue(b.table.Columns[c], v, env, false) {
					all = false
				}
			}
			if all {
				out = append(out, pred{col: c, op: "in", vals: x.List})
			}
		case *sqlparser.Like:
			c := bareColumn(x.E, b)
			if ok, isOuter := known(x.Pattern, outer); x.Not || c < 0 || !ok || isOuter || kindOf(b.table.Columns[c].Type) != kindString {
				continue
			}
			v, err := eval(x.Pattern, env)
			pat, isStr := v.(string)
			if err != nil || !isStr {
				continue
			}
			// A leading wildcard has no prefix to seek to: the B+tree is sorted by the first bytes.
			if p := likePrefix(pat); p != "" {
				out = append(out, pred{col: c, op: "prefix", vals: []sqlparser.Expr{&sqlparser.Literal{Value: p}}})
			}
		}
	}
	return out
}

func likePrefix(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '%' || p[i] == '_' || p[i] == '\\' {
			return p[:i]
		}
	}
	return p
}

// candidates lists the table's indexes, PRIMARY first.
func candidates(t *Table) []access {
	var out []access
	if len(t.PK) > 0 {
		out = append(out, access{keyName: "PRIMARY", cols: t.PK})
	}
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		out = append(out, access{keyName: ix.Name, index: ix, cols: ix.Columns})
	}
	return out
}

// plan chooses how to read table b: the index whose leftmost columns the predicates fix with the
// fewest estimated rows, or a full scan. needed lists the columns the statement reads, for covering.
func (ex *Executor) plan(ctx context.Context, txn Txn, b *binding, conj []sqlparser.Expr, outer *binding, env *evalEnv, needed map[int]bool, orderBy []sqlparser.OrderItem) (access, error) {
	ps := preds(conj, b, outer, env)
	total, err := ex.store.TreeLen(b.table.dataTree())
	if err != nil {
		return access{}, err
	}
	best := access{typ: "ALL", rows: total}
	if len(b.table.PK) > 0 && orderedBy(orderBy, b, b.table.PK, 0) {
		best.ordered = true
	}
	found := false
	var possible []string
	for _, cand := range candidates(b.table) {
		a := cand
		for _, c := range a.cols {
			var eq *pred
			var rng []pred
			for i := range ps {
				if ps[i].col != c {
					continue
				}
				switch ps[i].op {
				case "=", "in":
					if eq == nil || (eq.op == "in" && ps[i].op == "=") {
						eq = &ps[i]
					}
				default:
					rng = append(rng, ps[i])
				}
			}
			if eq != nil {
				a.eq = append(a.eq, *eq)
				continue
			}
			a.rng = rng
			break
		}
		if len(a.eq) == 0 && len(a.rng) == 0 {
			continue // no leftmost prefix: the index cannot be searched
		}
		possible = append(possible, a.keyName)
		unique := a.index == nil || a.index.Unique
		fullEq := len(a.eq) == len(a.cols) && len(a.rng) == 0 && !hasIn(a.eq)
		switch {
		case fullEq && unique && outer != nil && anyOuter(a.eq):
			a.typ = "eq_ref"
		case fullEq && unique:
			a.typ = "const"
		case len(a.rng) == 0 && !hasIn(a.eq):
			a.typ = "ref"
		default:
			a.typ = "range"
		}
		if anyOuter(a.eq) || anyOuter(a.rng) {
			a.rows = 1
			if !unique || !fullEq {
				a.rows = max(1, total/10)
			}
		} else {
			n, capped, err := ex.dive(ctx, txn, b, a, env)
			if err != nil {
				return access{}, err
			}
			a.rows = n
			if capped {
				a.rows = max(n, total/3)
			}
		}
		a.covering = covers(b.table, a, needed)
		a.ordered = !hasIn(a.eq) && orderedBy(orderBy, b, a.cols, len(a.eq))
		if !found || a.rows < best.rows || (a.rows == best.rows && a.ordered && !best.ordered) {
			best = a
			found = true
		}
	}
	if found && best.rows > total && total > 0 {
		// A range that reads more than the table is worse than scanning it.
		best = access{typ: "ALL", rows: total}
	}
	best.possible = possible
	return best, nil
}

func hasIn(ps []pred) bool {
	for _, p := range ps {
		if p.op == "in" {
			return true
		}
	}
	return false
}

func anyOuter(ps []pred) bool {
	for _, p := range ps {
		if p.outer {
			return true
		}
	}
	return false
}

func covers(t *Table, a access, needed map[int]bool) bool {
	if a.index == nil || needed == nil {
		return false
	}
	in := map[int]bool{}
	for _, c := range a.cols {
		in[c] = true
	}
	for _, c := range t.PK {
		in[c] = true
	}
	for c := range needed {
		if !in[c] {
			return false
		}
	}
	return true
}

// orderedBy reports whether ORDER BY is the index's columns after its equality prefix, ascending.
func orderedBy(orderBy []sqlparser.OrderItem, b *binding, cols []int, eqPrefix int) bool {
	if len(orderBy) == 0 {
		return true
	}
	for i, o := range orderBy {
		if o.Desc || eqPrefix+i >= len(cols) || bareColumn(o.Expr, b) != cols[eqPrefix+i] {
			return false
		}
	}
	return true
}

// keyRange is a half-open range [from, to) of one tree; nil is unbounded.
type keyRange struct{ from, to []byte }

// ranges turns the chosen predicates into key ranges on the index tree.
func ranges(t *Table, a access, env *evalEnv) ([]keyRange, error) {
	prefixes := [][]byte{nil}
	for i, p := range a.eq {
		k := kindOf(t.Columns[a.cols[i]].Type)
		var next [][]byte
		for _, pre := range prefixes {
			for _, ve := range p.vals {
				v, err := eval(ve, env)
				if err != nil {
					return nil, err
				}
				if v == nil {
					continue // = NULL matches nothing
				}
				next = append(next, appendKey(append([]byte{}, pre...), v, k))
			}
		}
		// IN lists read in key order, as a B+tree range scan returns them.
		sort.Slice(next, func(i, j int) bool { return string(next[i]) < string(next[j]) })
		prefixes = next
	}
	var out []keyRange
	for _, pre := range prefixes {
		r := keyRange{from: pre}
		if pre != nil {
			r.to = afterPrefix(pre)
		}
		if len(a.rng) > 0 {
			k := kindOf(t.Columns[a.cols[len(a.eq)]].Type)
			// NULLs sort first; a bound on the column excludes them.
			r.from = append(append([]byte{}, pre...), 0x01)
			for _, p := range a.rng {
				v, err := eval(p.vals[0], env)
				if err != nil {
					return nil, err
				}
				if v == nil {
					return nil, nil
				}
				if p.op == "prefix" {
					key := appendKey(append([]byte{}, pre...), v, kindString)
					key = key[:len(key)-2] // drop the terminator: a prefix of every longer string
					r.from = key
					r.to = successor(key)
					continue
				}
				key := appendKey(append([]byte{}, pre...), v, k)
				switch p.op {
				case ">":
					r.from = maxBytes(r.from, afterPrefix(key))
				case ">=":
					r.from = maxBytes(r.from, key)
				case "<":
					r.to = minBytes(r.to, key)
				case "<=":
					r.to = minBytes(r.to, afterPrefix(key))
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func maxBytes(a, b []byte) []byte {
	if string(a) >= string(b) {
		return a
	}
	return b
}

// minBytes treats nil as +infinity.
func minBytes(a, b []byte) []byte {
	if a == nil {
		return b
	}
	if string(a) <= string(b) {
		return a
	}
	return b
}

func (a access) tree(t *Table) string {
	if a.index == nil {
		return t.dataTree()
	}
	return t.indexTree(a.index)
}

// dive counts the index entries in the ranges, up to diveLimit.
func (ex *Executor) dive(ctx context.Context, txn Txn, b *binding, a access, env *evalEnv) (int64, bool, error) {
	rs, err := ranges(b.table, a, env)
	if err != nil {
		return 0, false, err
	}
	var n int64
	for _, r := range rs {
		if r.to != nil && string(r.from) >= string(r.to) {
			continue
		}
		err := txn.Scan(ctx, a.tree(b.table), r.from, r.to, func(_, _ []byte) bool {
			n++
			return n < diveLimit
		})
		if err != nil {
			return 0, false, err
		}
		if n >= diveLimit {
			return n, true, nil
		}
	}
	return n, false, nil
}

// keyLen is EXPLAIN's key_len: the bytes of the index prefix used (utf8mb4: 4 bytes a character,
// 2 more for a VARCHAR's length, 1 more for a nullable column's flag), as MySQL computes it.
func keyLen(t *Table, a access) int {
	used := len(a.eq)
	if len(a.rng) > 0 {
		used++
	}
	n := 0
	for _, c := range a.cols[:min(used, len(a.cols))] {
		col := t.Columns[c]
		switch col.Type {
		case "INT":
			n += 4
		case "BIGINT", "DOUBLE":
			n += 8
		case "DATETIME":
			n += 5
		case "VARCHAR":
			n += col.Size*4 + 2
		case "CHAR":
			n += col.Size * 4
		default:
			n += 3074 // TEXT: an index on it is a 767-character prefix
		}
		if !col.NotNull {
			n++
		}
	}
	return n
}
