package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// listSQL is the one statement behind a page of users: the department filter is on the bare
// column, which the service stores lower-cased, so idx_users_department_id serves both the filter
// and the id order, and the keyset cursor (id > ?) makes page 1000 as cheap as page 1.
func listSQL(q user.ListQuery) (string, []any) {
	var where []string
	var args []any
	if q.Department != "" {
		where = append(where, "department = ?")
		args = append(args, q.Department)
	}
	if q.After > 0 {
		where = append(where, "id > ?")
		args = append(args, q.After)
	}
	sqlText := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, " AND ")
	}
	sqlText += ` ORDER BY id LIMIT ?`
	return sqlText, append(args, q.Limit+1)
}

// List returns one page of users in one statement.
func (s *Store) List(ctx context.Context, q user.ListQuery) (user.Page, error) {
	text, args := listSQL(q)
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, "users.list", text)
	rows, err := s.db.QueryContext(ctx, s.rebind(text), args...)
	if err != nil {
		end(span, err)
		return user.Page{}, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var page user.Page
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			end(span, err)
			return user.Page{}, fmt.Errorf("list users: %w", err)
		}
		page.Users = append(page.Users, u)
	}
	err = rows.Err()
	end(span, err)
	if err != nil {
		return user.Page{}, fmt.Errorf("list users: %w", err)
	}
	return trimPage(page, q.Limit), nil
}

func trimPage(p user.Page, limit int) user.Page {
	if len(p.Users) > limit {
		p.Users = p.Users[:limit]
		p.Next = p.Users[limit-1].ID
	}
	return p
}

// listNPlusOneSQL is the faulty listing's first statement. LOWER(department) looks like harmless
// case-insensitivity, but an index on department cannot serve an expression over it, so every
// request reads the whole table: the cost grows with the number of users, not with the page.
func listNPlusOneSQL(q user.ListQuery) (string, []any) {
	var where []string
	var args []any
	if q.Department != "" {
		where = append(where, "LOWER(department) = LOWER(?)")
		args = append(args, q.Department)
	}
	if q.After > 0 {
		where = append(where, "id > ?")
		args = append(args, q.After)
	}
	text := `SELECT id FROM users`
	if len(where) > 0 {
		text += ` WHERE ` + strings.Join(where, " AND ")
	}
	text += ` ORDER BY id LIMIT ?`
	return text, append(args, q.Limit+1)
}

// ListNPlusOne is the slow-request fault: it selects matching ids with a filter no index can
// serve, then loads every user with its own statement (N+1 round trips, N+1 spans in the trace).
func (s *Store) ListNPlusOne(ctx context.Context, q user.ListQuery) (user.Page, error) {
	text, args := listNPlusOneSQL(q)
	ctx, span := s.span(ctx, "users.list_ids", text)
	rows, err := s.db.QueryContext(ctx, s.rebind(text), args...)
	if err != nil {
		end(span, err)
		return user.Page{}, fmt.Errorf("list user ids: %w", err)
	}
	var ids []user.ID
	for rows.Next() {
		var id user.ID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			end(span, err)
			return user.Page{}, fmt.Errorf("list user ids: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	end(span, rows.Err())
	var page user.Page
	for _, id := range ids {
		u, err := s.ByID(ctx, id)
		if err != nil {
			return user.Page{}, err
		}
		page.Users = append(page.Users, u)
	}
	return trimPage(page, q.Limit), nil
}

// reportSQL aggregates the whole table; on a large table it is the service's slowest statement,
// the one that holds connections long enough for a pool without limits to pile up.
const reportSQL = `SELECT LOWER(department) AS d, COUNT(*), SUM(CASE WHEN role = 'admin' THEN 1 ELSE 0 END) FROM users GROUP BY LOWER(department) ORDER BY d`

// DepartmentReport counts users per department.
func (s *Store) DepartmentReport(ctx context.Context) ([]user.DepartmentCount, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, "users.department_report", reportSQL)
	rows, err := s.db.QueryContext(ctx, reportSQL)
	if err != nil {
		end(span, err)
		return nil, fmt.Errorf("department report: %w", err)
	}
	defer rows.Close()
	var out []user.DepartmentCount
	for rows.Next() {
		var d user.DepartmentCount
		if err := rows.Scan(&d.Department, &d.Users, &d.Admins); err != nil {
			end(span, err)
			return nil, fmt.Errorf("department report: %w", err)
		}
		out = append(out, d)
	}
	err = rows.Err()
	end(span, err)
	if err != nil {
		return nil, fmt.Errorf("department report: %w", err)
	}
	return out, nil
}

// ExplainList returns the database's plan for the listing statement: the faulty one (nPlusOne) or
// the fixed one. SQLite answers EXPLAIN QUERY PLAN, MariaDB and PostgreSQL answer EXPLAIN.
func (s *Store) ExplainList(ctx context.Context, nPlusOne bool, q user.ListQuery) (string, error) {
	text, args := listSQL(q)
	if nPlusOne {
		text, args = listNPlusOneSQL(q)
	}
	prefix := "EXPLAIN "
	if s.dialect == SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(prefix+text), args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s\n-- %s\n-- args %v\n%s\n", s.dialect, prefix+text, args, strings.Join(cols, " | "))
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", fmt.Errorf("explain: %w", err)
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				cells[i] = "NULL"
			case []byte:
				cells[i] = string(x)
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		b.WriteString(strings.Join(cells, " | ") + "\n")
	}
	return b.String(), rows.Err()
}

// Seed inserts n synthetic users in one transaction (fast enough for tens of thousands on
// SQLite). Every rareEvery-th user is in department "security"; the rest spread over a few big
// departments, so a filter on "security" must scan nearly the whole table unless indexed.
func (s *Store) Seed(ctx context.Context, n, rareEvery int, passwordHash string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	const batch = 100
	depts := []string{"engineering", "sales", "support", "finance", "marketing"}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for start := 0; start < n; start += batch {
		var b strings.Builder
		b.WriteString(`INSERT INTO users (email, password_hash, name, department, role, created_at, updated_at) VALUES `)
		var args []any
		for i := start; i < n && i < start+batch; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			d := depts[i%len(depts)]
			if rareEvery > 0 && i%rareEvery == rareEvery-1 {
				d = "security"
			}
			args = append(args, fmt.Sprintf("seed-%d-%d@example.com", now.UnixNano(), i), passwordHash, fmt.Sprintf("Seed User %d", i), d, "user", now, now)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(b.String()), args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// Fresh statistics, so the planner's choice is the one a long-lived database would make.
	analyze := "ANALYZE"
	if s.dialect == MySQL {
		analyze = "ANALYZE TABLE users"
	}
	if _, err := s.db.ExecContext(ctx, analyze); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
