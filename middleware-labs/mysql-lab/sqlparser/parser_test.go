package sqlparser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAcceptsTheGrammar(t *testing.T) {
	cases := []struct {
		sql  string
		want string // %T of the statement
	}{
		{"CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), created DATETIME, KEY idx_name (name))", "*sqlparser.CreateTable"},
		{"CREATE TABLE sbtest1(id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, c CHAR(120) DEFAULT '' NOT NULL, pad CHAR(60) DEFAULT '' NOT NULL, PRIMARY KEY (id)) /*! ENGINE = innodb */", "*sqlparser.CreateTable"},
		{"CREATE INDEX idx_ab ON t (a, b)", "*sqlparser.CreateIndex"},
		{"DROP TABLE IF EXISTS t", "*sqlparser.DropTable"},
		{"DROP INDEX i ON t", "*sqlparser.DropIndex"},
		{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "*sqlparser.Insert"},
		{"SELECT * FROM t WHERE a = 1 AND b < 2 OR c > 3", "*sqlparser.Select"},
		{"SELECT a FROM t WHERE a BETWEEN 1 AND 5 AND b IN (1,2,3) AND c LIKE 'x%' AND NOT d IS NULL", "*sqlparser.Select"},
		{"SELECT a, COUNT(*), SUM(b), MIN(b), MAX(b) FROM t GROUP BY a ORDER BY a DESC LIMIT 10 OFFSET 5", "*sqlparser.Select"},
		{"SELECT o.id, u.name FROM orders o JOIN users u ON o.user_id = u.id WHERE u.id = 3", "*sqlparser.Select"},
		{"UPDATE t SET a = a + 1, b = 'z' WHERE id = 4", "*sqlparser.Update"},
		{"DELETE FROM t WHERE id = ?", "*sqlparser.Delete"},
		{"BEGIN", "*sqlparser.Begin"},
		{"START TRANSACTION", "*sqlparser.Begin"},
		{"COMMIT", "*sqlparser.Commit"},
		{"ROLLBACK;", "*sqlparser.Rollback"},
		{"SELECT * FROM t WHERE id = 1 FOR UPDATE", "*sqlparser.Select"},
		{"EXPLAIN SELECT * FROM t WHERE id = 1", "*sqlparser.Explain"},
		{"SHOW ENGINE INNODB STATUS", "*sqlparser.Show"},
		{"SET NAMES utf8mb4", "*sqlparser.Set"},
		{"SET autocommit = 1, @@session.sql_mode = 'x'", "*sqlparser.Set"},
		{"SELECT @@version_comment LIMIT 1", "*sqlparser.Select"},
		{"SELECT DATABASE()", "*sqlparser.Select"},
		{"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", "*sqlparser.Select"},
		{"select `c` from `sbtest1` where `id` = -5", "*sqlparser.Select"},
	}
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			st, err := Parse(tc.sql)
			require.NoError(t, err)
			assert.Equal(t, tc.want, typeName(st))
		})
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestParseBuildsTheTree(t *testing.T) {
	st, err := Parse("SELECT a FROM t WHERE a = 1 OR b = 2 AND NOT c LIKE '%x' LIMIT 5, 10")
	require.NoError(t, err)
	s := st.(*Select)
	or, ok := s.Where.(*BinaryExpr)
	require.True(t, ok)
	assert.Equal(t, "OR", or.Op, "AND binds tighter than OR")
	and := or.R.(*BinaryExpr)
	assert.Equal(t, "AND", and.Op)
	_, isNot := and.R.(*NotExpr)
	assert.True(t, isNot)
	assert.Equal(t, &Literal{Value: int64(5)}, s.Offset, "LIMIT offset, count")
	assert.Equal(t, &Literal{Value: int64(10)}, s.Limit)

	_, n, err := ParseWithParams("SELECT c FROM t WHERE id BETWEEN ? AND ?")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestParseRejectsBadSQLTheMySQLWay(t *testing.T) {
	cases := []struct{ sql, near string }{
		{"SELEKT * FROM t", "SELEKT * FROM t"},
		{"SELECT * FROM", ""},
		{"SELECT * FROM t WHERE", ""},
		{"INSERT INTO t VALUES (1,", ""},
		{"CREATE TABLE t (a BLOBBY)", "BLOBBY)"},
		{"SELECT 'unterminated", "'unterminated"},
		{"SELECT * FROM t LIMIT", ""},
		{"SELECT * FROM t extra garbage", "garbage"},
		{strings.Repeat("(", 10000), "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("},
	}
	for _, tc := range cases {
		t.Run(tc.sql[:min(len(tc.sql), 30)], func(t *testing.T) {
			_, err := Parse(tc.sql)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "got %v", err)
			assert.Equal(t, tc.near, se.Near)
			assert.Contains(t, err.Error(), "You have an error in your SQL syntax")
			assert.Contains(t, err.Error(), "at line 1")
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE a = 1",
		"SELECT a, COUNT(*) FROM t GROUP BY a ORDER BY a LIMIT 1 OFFSET 2",
		"INSERT INTO t (a) VALUES (1), ('x'), (NULL)",
		"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), KEY k (v))",
		"UPDATE t SET a = a + 1 WHERE b IN (1, 2) AND c NOT LIKE '%x'",
		"EXPLAIN SELECT * FROM a JOIN b ON a.id = b.aid WHERE a.x BETWEEN 1 AND 2 FOR UPDATE",
		"SET NAMES utf8mb4", "SHOW ENGINE INNODB STATUS", "/* c */ SELECT @@version_comment LIMIT 1",
		"SELECT 'a''b\\n' -- x", "((((", "NOT NOT NOT", "`", "@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := Parse(sql)
		if err == nil && st == nil {
			t.Fatalf("Parse(%q) returned neither a statement nor an error", sql)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %v is not a SyntaxError", sql, err)
			}
		}
	})
}
