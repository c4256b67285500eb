package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

// explainColumns are MySQL's EXPLAIN columns, in MySQL's order.
var explainColumns = []string{"id", "select_type", "table", "type", "possible_keys", "key", "key_len", "ref", "rows", "Extra"}

func (s *Session) explain(ctx context.Context, txn Txn, x *sqlparser.Explain, args []Value) (*Result, error) {
	var sel *sqlparser.Select
	switch st := x.Stmt.(type) {
	case *sqlparser.Select:
		sel = st
	case *sqlparser.Update:
		sel = &sqlparser.Select{Exprs: []sqlparser.SelectExpr{{Star: true}}, From: []sqlparser.TableRef{{Name: st.Table}}, Where: st.Where, ForUpdate: true}
	case *sqlparser.Delete:
		sel = &sqlparser.Select{Exprs: []sqlparser.SelectExpr{{Star: true}}, From: []sqlparser.TableRef{{Name: st.Table}}, Where: st.Where, ForUpdate: true}
	default:
		return nil, notSupported("EXPLAIN of this statement")
	}
	res := &Result{IsResultSet: true}
	for _, c := range explainColumns {
		typ := "VARCHAR"
		if c == "id" || c == "rows" {
			typ = "BIGINT"
		}
		res.Columns = append(res.Columns, ResultColumn{Name: c, Type: typ})
	}
	if len(sel.From) == 0 {
		res.Rows = [][]Value{{int64(1), "SIMPLE", nil, nil, nil, nil, nil, nil, nil, "No tables used"}}
		return res, nil
	}
	q, err := s.prepare(ctx, txn, sel, args)
	if err != nil {
		return nil, err
	}
	s.examined = 0 // the planner's index dives are not the statement's rows
	for i, b := range q.tables {
		a := q.plans[i]
		row := []Value{int64(1), "SIMPLE", b.alias, a.typ, nil, nil, nil, nil, a.rows, nil}
		if len(a.possible) > 0 {
			row[4] = strings.Join(a.possible, ",")
		}
		if a.typ != "ALL" {
			row[5] = a.keyName
			row[6] = fmt.Sprint(keyLen(b.table, a))
			row[7] = refText(a, q.tables)
		}
		var extra []string
		if len(q.all) > 0 && (a.typ != "const" || len(conjuncts(sel.Where)) != len(a.eq)) {
			extra = append(extra, "Using where")
		}
		if a.covering {
			extra = append(extra, "Using index")
		}
		if i == 1 && a.typ == "ALL" {
			extra = append(extra, "Using join buffer (flat, BNL join)")
		}
		if i == 0 && len(sel.OrderBy) > 0 && (q.agg || !a.ordered) {
			extra = append(extra, "Using filesort")
		}
		if len(extra) > 0 {
			row[9] = strings.Join(extra, "; ")
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// refText is EXPLAIN's ref: what the index is compared with, per used key part.
func refText(a access, tables []*binding) Value {
	if len(a.eq) == 0 || a.typ == "range" {
		return nil // MySQL shows no ref for a range
	}
	var parts []string
	for _, p := range a.eq {
		if ref, ok := p.vals[0].(*sqlparser.ColumnRef); ok && p.outer {
			parts = append(parts, "test."+tables[0].table.Name+"."+ref.Name)
		} else {
			parts = append(parts, "const")
		}
	}
	return strings.Join(parts, ",")
}

func (s *Session) show(ctx context.Context, x *sqlparser.Show) (*Result, error) {
	res := &Result{IsResultSet: true}
	cols := func(names ...string) {
		for _, n := range names {
			res.Columns = append(res.Columns, ResultColumn{Name: n, Type: "VARCHAR"})
		}
	}
	switch x.What {
	case "ENGINE INNODB STATUS":
		cols("Type", "Name", "Status")
		res.Rows = [][]Value{{"InnoDB", "", s.ex.innodbStatus()}}
	case "TABLES":
		cols("Tables_in_" + s.db)
		names := s.ex.cat.names()
		sort.Strings(names)
		for _, n := range names {
			res.Rows = append(res.Rows, []Value{n})
		}
	case "DATABASES":
		cols("Database")
		res.Rows = [][]Value{{"information_schema"}, {"test"}}
	case "WARNINGS":
		cols("Level", "Code", "Message")
	case "INDEX":
		t, err := s.ex.cat.get(x.Table)
		if err != nil {
			return nil, err
		}
		cols("Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name")
		for i, c := range t.PK {
			res.Rows = append(res.Rows, []Value{t.Name, int64(0), "PRIMARY", int64(i + 1), t.Columns[c].Name})
		}
		for _, ix := range t.Indexes {
			for i, c := range ix.Columns {
				res.Rows = append(res.Rows, []Value{t.Name, boolValue(!ix.Unique), ix.Name, int64(i + 1), t.Columns[c].Name})
			}
		}
	case "VARIABLES", "STATUS":
		cols("Variable_name", "Value")
		var names []string
		for n := range sysVars {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if x.Like == "" || likeMatch(n, x.Like) {
				v, _ := s.variable(&sqlparser.Variable{Name: n, System: true})
				res.Rows = append(res.Rows, []Value{n, formatValue(v)})
			}
		}
	default:
		return nil, notSupported("SHOW " + x.What)
	}
	_ = ctx
	return res, nil
}

// innodbStatus is SHOW ENGINE INNODB STATUS, with the section a learner reads after a 1213.
func (ex *Executor) innodbStatus() string {
	var b strings.Builder
	now := ex.now().UTC().Format("2006-01-02 15:04:05")
	fmt.Fprintf(&b, "\n=====================================\n%s 0x0 INNODB MONITOR OUTPUT\n=====================================\n", now)
	if d := ex.store.LatestDeadlock(); d != "" {
		if !strings.Contains(d, "LATEST DETECTED DEADLOCK") {
			b.WriteString("------------------------\nLATEST DETECTED DEADLOCK\n------------------------\n")
		}
		b.WriteString(d)
		if !strings.HasSuffix(d, "\n") {
			b.WriteString("\n")
		}
	}
	st := ex.Stats()
	fmt.Fprintf(&b, "------------\nTRANSACTIONS\n------------\n--------------\nROW OPERATIONS\n--------------\nNumber of queries %d, rows examined %d, full scans %d, slow queries %d\n", st.Queries, st.RowsExamined, st.FullScans, st.SlowQueries)
	b.WriteString("----------------------------\nEND OF INNODB MONITOR OUTPUT\n============================\n")
	return b.String()
}
