package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSession(t *testing.T, opts Options) *Session {
	t.Helper()
	ex, err := New(context.Background(), newMemStore(), opts)
	require.NoError(t, err)
	return ex.NewSession()
}

func mustExec(t *testing.T, s *Session, sql string, args ...Value) *Result {
	t.Helper()
	res, err := s.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
	return res
}

// seed creates users(id PK, name VARCHAR indexed, phone VARCHAR indexed, age INT, city, created)
// with a composite index (city, age) and n rows.
func seed(t *testing.T, s *Session, n int) {
	mustExec(t, s, "CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64), phone VARCHAR(20), age INT, city VARCHAR(32), created DATETIME, KEY idx_name (name), KEY idx_phone (phone), KEY idx_city_age (city, age))")
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if b.Len() > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "('user%05d', '138%08d', %d, 'city%d', '2024-%02d-01 10:00:00')", i, i, 20+i%50, i%10, 1+i%12)
	}
	mustExec(t, s, "INSERT INTO users (name, phone, age, city, created) VALUES "+b.String())
}

func explainRow(t *testing.T, s *Session, sql string) map[string]Value {
	t.Helper()
	res := mustExec(t, s, "EXPLAIN "+sql)
	require.NotEmpty(t, res.Rows)
	out := map[string]Value{}
	for i, c := range res.Columns {
		out[c.Name] = res.Rows[0][i]
	}
	return out
}

func TestSelectWhereOrderLimitAggregates(t *testing.T) {
	s := newSession(t, Options{})
	seed(t, s, 200)
	cases := []struct {
		sql  string
		want [][]Value
	}{
		{"SELECT id, name FROM users WHERE id = 3", [][]Value{{int64(3), "user00003"}}},
		{"SELECT id FROM users WHERE id BETWEEN 5 AND 7", [][]Value{{int64(5)}, {int64(6)}, {int64(7)}}},
		{"SELECT id FROM users WHERE id IN (9, 2, 400)", [][]Value{{int64(2)}, {int64(9)}}},
		{"SELECT id FROM users WHERE name LIKE 'user0001%' ORDER BY id DESC LIMIT 2", [][]Value{{int64(19)}, {int64(18)}}},
		{"SELECT id FROM users WHERE id > 195 AND NOT age IS NULL ORDER BY id LIMIT 2 OFFSET 1", [][]Value{{int64(197)}, {int64(198)}}},
		{"SELECT COUNT(*), MIN(age), MAX(age), SUM(id) FROM users", [][]Value{{int64(200), int64(20), int64(69), int64(20100)}}},
		{"SELECT city, COUNT(*) AS n FROM users WHERE city IN ('city1', 'city2') GROUP BY city ORDER BY city", [][]Value{{"city1", int64(20)}, {"city2", int64(20)}}},
		{"SELECT id FROM users WHERE id < 3 OR name = 'user00100'", [][]Value{{int64(1)}, {int64(2)}, {int64(100)}}},
		{"SELECT COUNT(*) FROM users WHERE phone IS NULL", [][]Value{{int64(0)}}},
	}
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			assert.Equal(t, tc.want, mustExec(t, s, tc.sql).Rows)
		})
	}
}

func TestDMLAndTransactions(t *testing.T) {
	s := newSession(t, Options{})
	mustExec(t, s, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL, owner VARCHAR(10), UNIQUE KEY u_owner (owner))")
	res := mustExec(t, s, "INSERT INTO acct VALUES (1, 100, 'a'), (2, 50, 'b')")
	assert.Equal(t, uint64(2), res.Affected)

	_, err := s.Exec(context.Background(), "INSERT INTO acct VALUES (1, 1, 'c')")
	var me *Error
	require.True(t, errors.As(err, &me))
	assert.Equal(t, uint16(ErDupEntry), me.Code)
	_, err = s.Exec(context.Background(), "INSERT INTO acct VALUES (3, 1, 'a')")
	require.True(t, errors.As(err, &me))
	assert.Equal(t, uint16(ErDupEntry), me.Code, "unique secondary index")

	mustExec(t, s, "BEGIN")
	mustExec(t, s, "UPDATE acct SET bal = bal - 10 WHERE id = 1")
	mustExec(t, s, "UPDATE acct SET bal = bal + 10 WHERE id = ?", int64(2))
	mustExec(t, s, "ROLLBACK")
	assert.Equal(t, [][]Value{{int64(100)}, {int64(50)}}, mustExec(t, s, "SELECT bal FROM acct ORDER BY id").Rows)

	mustExec(t, s, "BEGIN")
	mustExec(t, s, "SELECT * FROM acct WHERE id = 1 FOR UPDATE")
	res = mustExec(t, s, "UPDATE acct SET bal = bal - 10, owner = 'z' WHERE id = 1")
	assert.Equal(t, uint64(1), res.Affected)
	mustExec(t, s, "COMMIT")
	assert.Equal(t, [][]Value{{int64(1), int64(90)}}, mustExec(t, s, "SELECT id, bal FROM acct WHERE owner = 'z'").Rows, "index entry moved with the update")
	assert.Empty(t, mustExec(t, s, "SELECT id FROM acct WHERE owner = 'a'").Rows)

	res = mustExec(t, s, "DELETE FROM acct WHERE bal < 60")
	assert.Equal(t, uint64(1), res.Affected)
	assert.Equal(t, [][]Value{{int64(1)}}, mustExec(t, s, "SELECT COUNT(*) FROM acct").Rows)
}

func TestJoinNestedLoopAndIndexNestedLoop(t *testing.T) {
	s := newSession(t, Options{})
	mustExec(t, s, "CREATE TABLE u (id INT PRIMARY KEY, name VARCHAR(10))")
	mustExec(t, s, "CREATE TABLE o (id INT PRIMARY KEY, uid INT, amount INT)")
	mustExec(t, s, "INSERT INTO u VALUES (1, 'ann'), (2, 'bob')")
	mustExec(t, s, "INSERT INTO o VALUES (10, 1, 5), (11, 2, 7), (12, 1, 9)")
	q := "SELECT u.name, o.amount FROM o JOIN u ON o.uid = u.id ORDER BY o.amount"
	want := [][]Value{{"ann", int64(5)}, {"bob", int64(7)}, {"ann", int64(9)}}
	assert.Equal(t, want, mustExec(t, s, q).Rows)
	inner := mustExec(t, s, "EXPLAIN "+q).Rows[1]
	assert.Equal(t, "eq_ref", inner[3], "the inner table is read by its primary key")
	assert.Equal(t, "test.o.uid", inner[7])

	q2 := "SELECT u.name, o.amount FROM u JOIN o ON o.uid = u.id ORDER BY o.amount"
	assert.Equal(t, want, mustExec(t, s, q2).Rows)
	assert.Equal(t, "ALL", mustExec(t, s, "EXPLAIN "+q2).Rows[1][3], "no index on o.uid: a nested loop scan")
	mustExec(t, s, "CREATE INDEX idx_uid ON o (uid)")
	assert.Equal(t, "ref", mustExec(t, s, "EXPLAIN "+q2).Rows[1][3])
	assert.Equal(t, want, mustExec(t, s, q2).Rows)
}

// The five classic causes of 索引失效, each with its sargable rewrite, as EXPLAIN shows them.
func TestExplainIndexNotUsed(t *testing.T) {
	s := newSession(t, Options{})
	seed(t, s, 500)
	cases := []struct {
		name, broken, fixed string
		fixedType           string
	}{
		{"function on the indexed column", "SELECT id FROM users WHERE LOWER(name) = 'user00042'", "SELECT id FROM users WHERE name = 'user00042'", "ref"},
		{"implicit conversion: VARCHAR compared with a number", "SELECT id FROM users WHERE phone = 13800000042", "SELECT id FROM users WHERE phone = '13800000042'", "ref"},
		{"leading wildcard LIKE", "SELECT id FROM users WHERE name LIKE '%00042'", "SELECT id FROM users WHERE name LIKE 'user00042%'", "range"},
		{"OR with an unindexed column", "SELECT id FROM users WHERE name = 'user00042' OR age = 21", "SELECT id FROM users WHERE name = 'user00042' UNION_REWRITE", "ref"},
		{"composite index without its leftmost prefix", "SELECT id FROM users WHERE age = 30", "SELECT id FROM users WHERE city = 'city0' AND age = 30", "ref"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			broken := explainRow(t, s, tc.broken)
			assert.Equal(t, "ALL", broken["type"])
			assert.Nil(t, broken["key"])
			assert.Equal(t, int64(500), broken["rows"])
			fixed := strings.TrimSuffix(tc.fixed, " UNION_REWRITE")
			got := explainRow(t, s, fixed)
			assert.Equal(t, tc.fixedType, got["type"])
			assert.NotNil(t, got["key"])
			assert.Less(t, got["rows"].(int64), int64(50))

			b := mustExec(t, s, tc.broken)
			f := mustExec(t, s, fixed)
			assert.Equal(t, int64(500), b.RowsExamined)
			assert.Less(t, f.RowsExamined*10, b.RowsExamined, "the fix examines 10x fewer rows")
		})
	}
	// The implicit conversion is also a correctness trap: ' 42' and '42abc' equal 42 as numbers.
	mustExec(t, s, "INSERT INTO users (name, phone) VALUES ('x', '42abc')")
	assert.Len(t, mustExec(t, s, "SELECT id FROM users WHERE phone = 42").Rows, 1)
	assert.Empty(t, mustExec(t, s, "SELECT id FROM users WHERE phone = '42'").Rows)
}

func TestExplainColumnsAndCoveringIndex(t *testing.T) {
	s := newSession(t, Options{})
	seed(t, s, 100)
	res := mustExec(t, s, "EXPLAIN SELECT * FROM users WHERE id = 5")
	require.Len(t, res.Columns, 10)
	assert.Equal(t, "id", res.Columns[0].Name)
	assert.Equal(t, "Extra", res.Columns[9].Name)
	assert.Equal(t, []Value{int64(1), "SIMPLE", "users", "const", "PRIMARY", "PRIMARY", "8", "const", int64(1), nil}, res.Rows[0])

	r := explainRow(t, s, "SELECT city, age FROM users WHERE city = 'city3' AND age > 40")
	assert.Equal(t, "range", r["type"])
	assert.Equal(t, "idx_city_age", r["key"])
	assert.Equal(t, "136", r["key_len"], "VARCHAR(32) nullable 32*4+2+1, INT nullable 4+1")
	assert.Equal(t, "Using where; Using index", r["Extra"])
	covered := mustExec(t, s, "SELECT city, age FROM users WHERE city = 'city3' AND age > 40 ORDER BY age")
	assert.NotEmpty(t, covered.Rows)

	r = explainRow(t, s, "SELECT * FROM users ORDER BY age")
	assert.Equal(t, "Using filesort", r["Extra"])
}

func TestSlowLogRecordsRowsExamined(t *testing.T) {
	var log bytes.Buffer
	s := newSession(t, Options{LongQueryTime: time.Nanosecond, SlowLog: &log})
	seed(t, s, 50)
	mustExec(t, s, "SELECT * FROM users WHERE age = 30")
	assert.Contains(t, log.String(), "Rows_examined: 50")
	assert.Contains(t, log.String(), "SELECT * FROM users WHERE age = 30;")
	assert.Contains(t, log.String(), "# Query_time: ")
}

func TestErrorsAreMySQLShaped(t *testing.T) {
	s := newSession(t, Options{})
	cases := []struct {
		sql  string
		code uint16
	}{
		{"SELEKT 1", ErParse},
		{"SELECT * FROM nope", ErNoSuchTable},
		{"SELECT @@no_such_variable", ErUnknownSysVar},
	}
	for _, tc := range cases {
		_, err := s.Exec(context.Background(), tc.sql)
		var me *Error
		require.True(t, errors.As(err, &me), tc.sql)
		assert.Equal(t, tc.code, me.Code, tc.sql)
	}
	mustExec(t, s, "CREATE TABLE t (a INT)")
	_, err := s.Exec(context.Background(), "SELECT b FROM t")
	var me *Error
	require.True(t, errors.As(err, &me))
	assert.Equal(t, uint16(ErBadField), me.Code)
}

func TestSessionQueries(t *testing.T) {
	s := newSession(t, Options{})
	assert.Equal(t, [][]Value{{"architect-roadmap lab 4 mini MySQL"}}, mustExec(t, s, "SELECT @@version_comment LIMIT 1").Rows)
	assert.Equal(t, [][]Value{{"test"}}, mustExec(t, s, "SELECT DATABASE()").Rows)
	mustExec(t, s, "SET NAMES utf8mb4")
	mustExec(t, s, "SET autocommit = 0")
	assert.Equal(t, [][]Value{{int64(0)}}, mustExec(t, s, "SELECT @@autocommit").Rows)
}

func TestKeyEncodingPreservesOrder(t *testing.T) {
	ints := []int64{-1 << 62, -5, -1, 0, 1, 7, 1 << 40}
	for i := 1; i < len(ints); i++ {
		assert.Less(t, string(appendKey(nil, ints[i-1], kindInt)), string(appendKey(nil, ints[i], kindInt)))
	}
	strs := []string{"", "a", "a\x00", "a\x00b", "ab", "b"}
	for i := 1; i < len(strs); i++ {
		assert.Less(t, string(appendKey(nil, strs[i-1], kindString)), string(appendKey(nil, strs[i], kindString)), strs[i])
	}
	k := appendKey(appendKey(nil, "ab", kindString), int64(3), kindInt)
	v, n, err := decodeKey(k, kindString)
	require.NoError(t, err)
	assert.Equal(t, "ab", v)
	v, _, err = decodeKey(k[n:], kindInt)
	require.NoError(t, err)
	assert.Equal(t, int64(3), v)
}
