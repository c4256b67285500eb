package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

func (s *Session) selectNoTable(x *sqlparser.Select, args []Value) (*Result, error) {
	env := &evalEnv{sess: s, args: args}
	res := &Result{IsResultSet: true}
	var row []Value
	for _, se := range x.Exprs {
		if se.Star {
			return nil, &Error{Code: 1096, State: "HY000", Msg: "No tables used"}
		}
		v, err := eval(se.Expr, env)
		if err != nil {
			return nil, err
		}
		row = append(row, v)
		res.Columns = append(res.Columns, ResultColumn{Name: columnName(se), Type: typeOfValue(v)})
	}
	res.Rows = [][]Value{row}
	if lim, ok := x.Limit.(*sqlparser.Literal); ok && lim.Value == int64(0) {
		res.Rows = nil
	}
	return res, nil
}

func columnName(se sqlparser.SelectExpr) string {
	if se.Alias != "" {
		return se.Alias
	}
	return exprText(se.Expr)
}

// exprText renders an expression for a result column's name, close to what MySQL shows.
func exprText(e sqlparser.Expr) string {
	switch x := e.(type) {
	case *sqlparser.ColumnRef:
		return x.Name
	case *sqlparser.Literal:
		return formatValue(x.Value)
	case *sqlparser.Variable:
		if x.System {
			return "@@" + x.Name
		}
		return "@" + x.Name
	case *sqlparser.FuncCall:
		if x.Star {
			return x.Name + "(*)"
		}
		var parts []string
		for _, a := range x.Args {
			parts = append(parts, exprText(a))
		}
		d := ""
		if x.Distinct {
			d = "DISTINCT "
		}
		return x.Name + "(" + d + strings.Join(parts, ",") + ")"
	case *sqlparser.BinaryExpr:
		return exprText(x.L) + " " + x.Op + " " + exprText(x.R)
	case *sqlparser.Param:
		return "?"
	}
	return "expr"
}

func typeOfValue(v Value) string {
	switch v.(type) {
	case int64:
		return "BIGINT"
	case float64:
		return "DOUBLE"
	}
	return "VARCHAR"
}

// query is a SELECT bound to its tables and plans.
type query struct {
	sel      *sqlparser.Select
	tables   []*binding
	all      []sqlparser.Expr // every condition (WHERE and ON), checked on each joined row
	plans    []access
	env      *evalEnv
	agg      bool
	items    []sqlparser.SelectExpr // * expanded
	forWrite bool
}

func (s *Session) prepare(ctx context.Context, txn Txn, x *sqlparser.Select, args []Value) (*query, error) {
	if len(x.From) > 2 {
		return nil, notSupported("a join of more than two tables")
	}
	q := &query{sel: x, env: &evalEnv{sess: s, args: args}, forWrite: x.ForUpdate}
	for _, ref := range x.From {
		t, err := s.ex.cat.get(ref.Name)
		if err != nil {
			return nil, err
		}
		alias := ref.Alias
		if alias == "" {
			alias = t.Name
		}
		q.tables = append(q.tables, &binding{table: t, alias: alias})
	}
	q.env.tables = q.tables
	q.all = conjuncts(x.Where)
	for _, ref := range x.From {
		q.all = append(q.all, conjuncts(ref.On)...)
	}
	for _, se := range x.Exprs {
		if !se.Star {
			q.items = append(q.items, se)
			continue
		}
		for _, b := range q.tables {
			for _, c := range b.table.Columns {
				q.items = append(q.items, sqlparser.SelectExpr{Expr: &sqlparser.ColumnRef{Table: b.alias, Name: c.Name}})
			}
		}
	}
	// Unknown columns are an error even when no row is read, as MySQL resolves names first.
	var unknown error
	check := func(e sqlparser.Expr) {
		walkExpr(e, func(e sqlparser.Expr) {
			if ref, ok := e.(*sqlparser.ColumnRef); ok && unknown == nil {
				found := false
				for _, b := range q.tables {
					found = found || bareColumn(ref, b) >= 0
				}
				if !found {
					unknown = unknownColumn(ref.Name)
				}
			}
		})
	}
	for _, e := range q.all {
		check(e)
	}
	for _, se := range q.items {
		check(se.Expr)
	}
	if unknown != nil {
		return nil, unknown
	}
	for _, se := range q.items {
		if hasAggregate(se.Expr) {
			q.agg = true
		}
	}
	if len(x.GroupBy) > 0 {
		q.agg = true
	}
	var itemExprs, orderExprs []sqlparser.Expr
	for _, se := range q.items {
		itemExprs = append(itemExprs, se.Expr)
	}
	for _, o := range x.OrderBy {
		orderExprs = append(orderExprs, o.Expr)
	}
	for i, b := range q.tables {
		var outer *binding
		if i == 1 {
			outer = q.tables[0]
		}
		needed := needCols(b, itemExprs, orderExprs, x.GroupBy, q.all)
		order := x.OrderBy
		if i > 0 || q.agg {
			order = nil
		}
		a, err := s.ex.plan(ctx, txn, b, q.all, outer, q.env, needed, order)
		if err != nil {
			return nil, err
		}
		if x.ForUpdate {
			a.covering = false
		}
		q.plans = append(q.plans, a)
	}
	return q, nil
}

func hasAggregate(e sqlparser.Expr) bool {
	found := false
	walkExpr(e, func(e sqlparser.Expr) {
		if f, ok := e.(*sqlparser.FuncCall); ok && isAggregate(f.Name) {
			found = true
		}
	})
	return found
}

func walkExpr(e sqlparser.Expr, fn func(sqlparser.Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch x := e.(type) {
	case *sqlparser.BinaryExpr:
		walkExpr(x.L, fn)
		walkExpr(x.R, fn)
	case *sqlparser.NotExpr:
		walkExpr(x.E, fn)
	case *sqlparser.Neg:
		walkExpr(x.E, fn)
	case *sqlparser.Between:
		walkExpr(x.E, fn)
		walkExpr(x.Lo, fn)
		walkExpr(x.Hi, fn)
	case *sqlparser.InList:
		walkExpr(x.E, fn)
		for _, i := range x.List {
			walkExpr(i, fn)
		}
	case *sqlparser.Like:
		walkExpr(x.E, fn)
		walkExpr(x.Pattern, fn)
	case *sqlparser.IsNull:
		walkExpr(x.E, fn)
	case *sqlparser.FuncCall:
		for _, a := range x.Args {
			walkExpr(a, fn)
		}
	}
}

// matches evaluates every condition on the current joined row.
func (q *query) matches() (bool, error) {
	for _, c := range q.all {
		v, err := eval(c, q.env)
		if err != nil {
			return false, err
		}
		if !truthy(v) {
			return false, nil
		}
	}
	return true, nil
}

// each calls fn for every joined row that satisfies the conditions, with q.env bound to it: a
// nested loop over the outer table, reading the inner one by its plan for each outer row (an
// index nested loop when the plan has an index on the join column, a scan of it otherwise).
func (s *Session) each(ctx context.Context, txn Txn, q *query, fn func() (bool, error)) error {
	outer := q.tables[0]
	if q.forWrite {
		return s.eachLocked(ctx, txn, q, fn)
	}
	return s.readTable(ctx, txn, outer, q.plans[0], q.env, func(row []Value, pk []byte) (bool, error) {
		outer.row = row
		if len(q.tables) == 1 {
			ok, err := q.matches()
			if err != nil || !ok {
				return err == nil, err
			}
			return fn()
		}
		inner := q.tables[1]
		more := true
		err := s.readTable(ctx, txn, inner, q.plans[1], q.env, func(irow []Value, _ []byte) (bool, error) {
			inner.row = irow
			ok, err := q.matches()
			if err != nil || !ok {
				return err == nil, err
			}
			more, err = fn()
			return more && err == nil, err
		})
		inner.row = nil
		return more && err == nil, err
	})
}

// eachLocked is each for SELECT ... FOR UPDATE: the candidates come from a non-locking read, then
// each is locked in the order the plan read it (key order) and read again, so no lock wait ever
// happens inside a scan.
func (s *Session) eachLocked(ctx context.Context, txn Txn, q *query, fn func() (bool, error)) error {
	b := q.tables[0]
	var pks [][]byte
	err := s.readTable(ctx, txn, b, q.plans[0], q.env, func(row []Value, pk []byte) (bool, error) {
		b.row = row
		ok, err := q.matches()
		if err == nil && ok {
			pks = append(pks, pk)
		}
		return err == nil, err
	})
	if err != nil {
		return err
	}
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
		if !ok {
			continue
		}
		if more, err := fn(); err != nil || !more {
			return err
		}
	}
	return nil
}

// lockAndReread takes the row's exclusive lock and reads it again: a locking read sees the
// latest committed version, not the one the scan saw before waiting (nil: deleted meanwhile).
func (s *Session) lockAndReread(ctx context.Context, txn Txn, t *Table, pk []byte) ([]Value, error) {
	if err := txn.LockExclusive(ctx, t.dataTree(), pk); err != nil {
		return nil, err
	}
	v, ok, err := txn.Get(ctx, t.dataTree(), pk)
	if err != nil || !ok {
		return nil, err
	}
	return decodeRow(v, len(t.Columns))
}

func intArg(e sqlparser.Expr, env *evalEnv) (int64, bool, error) {
	if e == nil {
		return 0, false, nil
	}
	v, err := eval(e, env)
	if err != nil {
		return 0, false, err
	}
	n, err := coerce(v, kindInt)
	if err != nil || n == nil {
		return 0, false, &Error{Code: ErParse, State: "42000", Msg: "LIMIT and OFFSET take integers"}
	}
	return n.(int64), true, nil
}

func (s *Session) selectRows(ctx context.Context, txn Txn, x *sqlparser.Select, args []Value) (*Result, error) {
	if x.ForUpdate && len(x.From) > 1 {
		return nil, notSupported("FOR UPDATE on a join")
	}
	q, err := s.prepare(ctx, txn, x, args)
	if err != nil {
		return nil, err
	}
	limit, hasLimit, err := intArg(x.Limit, q.env)
	if err != nil {
		return nil, err
	}
	offset, _, err := intArg(x.Offset, q.env)
	if err != nil {
		return nil, err
	}
	res := &Result{IsResultSet: true}
	for _, se := range q.items {
		res.Columns = append(res.Columns, s.resultColumn(q, se))
	}
	type outRow struct {
		vals []Value
		keys []Value
	}
	var out []outRow
	// Rows can stop early only when they arrive in the final order: no sort, group or DISTINCT.
	stream := !q.agg && !x.Distinct && (len(x.OrderBy) == 0 || (len(q.tables) == 1 && q.plans[0].ordered))
	var groups map[string]*group
	var order []string
	if q.agg {
		groups = map[string]*group{}
	}
	err = s.each(ctx, txn, q, func() (bool, error) {
		if q.agg {
			key, err := groupKey(x.GroupBy, q.env)
			if err != nil {
				return false, err
			}
			g, ok := groups[key]
			if !ok {
				g = newGroup(q)
				groups[key] = g
				order = append(order, key)
			}
			return true, g.add(q.env)
		}
		vals, err := project(q.items, q.env)
		if err != nil {
			return false, err
		}
		keys, err := orderKeys(x.OrderBy, q, vals)
		if err != nil {
			return false, err
		}
		out = append(out, outRow{vals, keys})
		return !stream || !hasLimit || int64(len(out)) < offset+limit, nil
	})
	if err != nil {
		return nil, err
	}
	if q.agg {
		if len(groups) == 0 && len(x.GroupBy) == 0 {
			groups[""] = newGroup(q)
			order = append(order, "")
		}
		for _, k := range order {
			g := groups[k]
			q.env.aggs = g.values()
			for i, b := range q.tables {
				b.row = nil
				if i < len(g.first) {
					b.row = g.first[i]
				}
			}
			vals, err := project(q.items, q.env)
			if err != nil {
				return nil, err
			}
			keys, err := orderKeys(x.OrderBy, q, vals)
			if err != nil {
				return nil, err
			}
			out = append(out, outRow{vals, keys})
		}
	}
	if len(x.OrderBy) > 0 && !stream {
		sort.SliceStable(out, func(i, j int) bool {
			for k, o := range x.OrderBy {
				c, ok := compare(out[i].keys[k], out[j].keys[k])
				if !ok { // NULLs first, as MySQL sorts them
					c = boolCompare(out[i].keys[k] == nil, out[j].keys[k] == nil)
				}
				if c != 0 {
					return (c < 0) != o.Desc
				}
			}
			return false
		})
	}
	seen := map[string]bool{}
	for _, r := range out {
		if x.Distinct {
			k := fmt.Sprint(r.vals...)
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		res.Rows = append(res.Rows, r.vals)
	}
	if offset > 0 {
		res.Rows = res.Rows[min(int(offset), len(res.Rows)):]
	}
	if hasLimit && int64(len(res.Rows)) > limit {
		res.Rows = res.Rows[:max(limit, 0)]
	}
	return res, nil
}

func boolCompare(aNull, bNull bool) int {
	switch {
	case aNull && !bNull:
		return -1
	case !aNull && bNull:
		return 1
	}
	return 0
}

func (s *Session) resultColumn(q *query, se sqlparser.SelectExpr) ResultColumn {
	rc := ResultColumn{Name: columnName(se), Type: "VARCHAR"}
	switch x := se.Expr.(type) {
	case *sqlparser.ColumnRef:
		for _, b := range q.tables {
			if x.Table != "" && !strings.EqualFold(x.Table, b.alias) {
				continue
			}
			if c := b.table.column(x.Name); c >= 0 {
				rc.Type, rc.Table = b.table.Columns[c].Type, b.table.Name
				break
			}
		}
	case *sqlparser.FuncCall:
		switch x.Name {
		case "COUNT", "LENGTH", "CHAR_LENGTH", "YEAR", "MONTH", "DAY":
			rc.Type = "BIGINT"
		case "SUM", "AVG":
			rc.Type = "DOUBLE"
		case "MIN", "MAX":
			if len(x.Args) == 1 {
				if ref, ok := x.Args[0].(*sqlparser.ColumnRef); ok {
					return ResultColumn{Name: rc.Name, Type: s.resultColumn(q, sqlparser.SelectExpr{Expr: ref}).Type}
				}
			}
		}
	case *sqlparser.Literal:
		rc.Type = typeOfValue(x.Value)
	}
	return rc
}

func project(items []sqlparser.SelectExpr, env *evalEnv) ([]Value, error) {
	vals := make([]Value, len(items))
	for i, se := range items {
		v, err := eval(se.Expr, env)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// orderKeys evaluates ORDER BY terms; a term may name a select alias or a position (ORDER BY 2).
func orderKeys(orderBy []sqlparser.OrderItem, q *query, vals []Value) ([]Value, error) {
	keys := make([]Value, len(orderBy))
	for i, o := range orderBy {
		if lit, ok := o.Expr.(*sqlparser.Literal); ok {
			if n, ok := lit.Value.(int64); ok && n >= 1 && int(n) <= len(vals) {
				keys[i] = vals[n-1]
				continue
			}
		}
		if ref, ok := o.Expr.(*sqlparser.ColumnRef); ok && ref.Table == "" {
			found := false
			for j, se := range q.items {
				if se.Alias != "" && strings.EqualFold(se.Alias, ref.Name) {
					keys[i], found = vals[j], true
					break
				}
			}
			if found {
				continue
			}
		}
		if hasAggregate(o.Expr) && q.env.aggs == nil {
			continue
		}
		v, err := eval(o.Expr, q.env)
		if err != nil {
			return nil, err
		}
		keys[i] = v
	}
	return keys, nil
}

func groupKey(groupBy []sqlparser.Expr, env *evalEnv) (string, error) {
	var b strings.Builder
	for _, e := range groupBy {
		v, err := eval(e, env)
		if err != nil {
			return "", err
		}
		b.Write(appendKey(nil, v, kindString))
	}
	return b.String(), nil
}

// group accumulates the aggregates of one GROUP BY group.
type group struct {
	funcs []*sqlparser.FuncCall
	acc   []aggState
	first [][]Value
	q     *query
}

type aggState struct {
	count int64
	sum   float64
	isInt bool
	isum  int64
	best  Value
	seen  map[string]bool
}

func newGroup(q *query) *group {
	g := &group{q: q}
	collect := func(e sqlparser.Expr) {
		walkExpr(e, func(e sqlparser.Expr) {
			if f, ok := e.(*sqlparser.FuncCall); ok && isAggregate(f.Name) {
				g.funcs = append(g.funcs, f)
			}
		})
	}
	for _, se := range q.items {
		collect(se.Expr)
	}
	for _, o := range q.sel.OrderBy {
		collect(o.Expr)
	}
	g.acc = make([]aggState, len(g.funcs))
	for i := range g.acc {
		g.acc[i].isInt = true
	}
	return g
}

func (g *group) add(env *evalEnv) error {
	if g.first == nil {
		for _, b := range g.q.tables {
			g.first = append(g.first, b.row)
		}
	}
	for i, f := range g.funcs {
		st := &g.acc[i]
		if f.Star {
			st.count++
			continue
		}
		if len(f.Args) != 1 {
			return &Error{Code: ErParse, State: "42000", Msg: f.Name + " takes one argument"}
		}
		v, err := eval(f.Args[0], env)
		if err != nil {
			return err
		}
		if v == nil {
			continue
		}
		if f.Distinct {
			if st.seen == nil {
				st.seen = map[string]bool{}
			}
			k := formatValue(v)
			if st.seen[k] {
				continue
			}
			st.seen[k] = true
		}
		st.count++
		if n, ok := v.(int64); ok && st.isInt {
			st.isum += n
		} else {
			st.isInt = false
		}
		st.sum += toFloat(v)
		if st.best == nil {
			st.best = v
		} else if c, _ := compare(v, st.best); (f.Name == "MIN" && c < 0) || (f.Name == "MAX" && c > 0) {
			st.best = v
		}
	}
	return nil
}

func (g *group) values() map[*sqlparser.FuncCall]Value {
	out := map[*sqlparser.FuncCall]Value{}
	for i, f := range g.funcs {
		st := g.acc[i]
		switch f.Name {
		case "COUNT":
			out[f] = st.count
		case "SUM":
			switch {
			case st.count == 0:
				out[f] = nil
			case st.isInt:
				out[f] = st.isum
			default:
				out[f] = st.sum
			}
		case "AVG":
			if st.count > 0 {
				out[f] = st.sum / float64(st.count)
			} else {
				out[f] = nil
			}
		default:
			out[f] = st.best
		}
	}
	return out
}
