package executor

import (
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

// Describe returns the result columns a statement will produce, without running it: what
// COM_STMT_PREPARE reports. nil means the statement returns no result set (or one the lab only
// knows when it runs, such as SHOW).
func (s *Session) Describe(st sqlparser.Statement) []ResultColumn {
	switch x := st.(type) {
	case *sqlparser.Select:
		q := &query{sel: x}
		for _, ref := range x.From {
			t, err := s.ex.cat.get(ref.Name)
			if err != nil {
				return nil
			}
			alias := ref.Alias
			if alias == "" {
				alias = t.Name
			}
			q.tables = append(q.tables, &binding{table: t, alias: alias})
		}
		var cols []ResultColumn
		for _, se := range x.Exprs {
			if !se.Star {
				cols = append(cols, s.resultColumn(q, se))
				continue
			}
			for _, b := range q.tables {
				for _, c := range b.table.Columns {
					cols = append(cols, ResultColumn{Name: c.Name, Table: b.table.Name, Type: c.Type})
				}
			}
		}
		return cols
	case *sqlparser.Explain:
		var cols []ResultColumn
		for _, c := range explainColumns {
			typ := "VARCHAR"
			if c == "id" || c == "rows" {
				typ = "BIGINT"
			}
			cols = append(cols, ResultColumn{Name: c, Type: typ})
		}
		return cols
	}
	return nil
}
