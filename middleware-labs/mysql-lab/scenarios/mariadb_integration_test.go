//go:build integration

package scenarios

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

// The same faults on the real MariaDB (MYSQL_DSN), with MariaDB's own evidence: its EXPLAIN, its
// handler counters (rows read by the storage engine), and SHOW ENGINE INNODB STATUS after a 1213.
func mariaDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", servicetest.Require(t, "MYSQL_DSN"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Ping(), "MYSQL_DSN does not answer")
	return db
}

func loadMariaDB(t *testing.T, db *sql.DB, table, ddl string, n int, row func(int) string) {
	t.Helper()
	_, err := db.Exec("DROP TABLE IF EXISTS " + table)
	require.NoError(t, err)
	_, err = db.Exec(strings.Replace(ddl, "CREATE TABLE "+strings.TrimPrefix(table, "lab4_"), "CREATE TABLE "+table, 1))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS " + table) })
	for i := 0; i < n; i += 1000 {
		var vals []string
		for j := i; j < min(n, i+1000); j++ {
			vals = append(vals, row(j))
		}
		_, err := db.Exec("INSERT INTO " + table + " VALUES " + strings.Join(vals, ","))
		require.NoError(t, err)
	}
	_, err = db.Exec("ANALYZE TABLE " + table)
	require.NoError(t, err)
}

func explainMariaDB(t *testing.T, db *sql.DB, query string, args ...any) map[string]string {
	t.Helper()
	_, first, err := explain(context.Background(), db, query, args...)
	require.NoError(t, err)
	t.Logf("MariaDB: EXPLAIN %s: type=%s key=%s rows=%s Extra=%s", query, first["type"], first["key"], first["rows"], first["Extra"])
	return first
}

// rowsRead is what MariaDB's storage engine handed back to one statement on conn: the sum of the
// Handler_read_* counters it moved.
func rowsRead(t *testing.T, conn *sql.Conn, query string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	read := func() int64 {
		rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'Handler_read%'")
		require.NoError(t, err)
		defer rows.Close()
		var total int64
		for rows.Next() {
			var name string
			var v int64
			require.NoError(t, rows.Scan(&name, &v))
			total += v
		}
		return total
	}
	before := read()
	rows, err := conn.QueryContext(ctx, query, args...)
	require.NoError(t, err)
	for rows.Next() {
	}
	require.NoError(t, rows.Close())
	return read() - before
}

func TestMariaDBSlowSQL(t *testing.T) {
	db := mariaDB(t)
	loadMariaDB(t, db, "lab4_orders", strings.Replace(ordersDDL, "orders", "lab4_orders", 1), ordersRows, orderRow)
	query := "SELECT id, amount FROM lab4_orders WHERE user_id = ?"
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()

	broken := explainMariaDB(t, db, query, 42)
	assert.Equal(t, "ALL", broken["type"])
	scanned := rowsRead(t, conn, query, 42)

	_, err = db.Exec("CREATE INDEX idx_user_id ON lab4_orders (user_id)")
	require.NoError(t, err)
	fixed := explainMariaDB(t, db, query, 42)
	assert.Equal(t, "ref", fixed["type"])
	assert.Equal(t, "idx_user_id", fixed["key"])
	indexed := rowsRead(t, conn, query, 42)
	t.Logf("MariaDB handler reads: %d without the index, %d with it", scanned, indexed)
	assert.GreaterOrEqual(t, scanned, int64(ordersRows))
	assert.Less(t, indexed*10, scanned, "the index reads 10x fewer rows")
}

func TestMariaDBIndexNotUsed(t *testing.T) {
	db := mariaDB(t)
	ddl := strings.Replace(usersDDL, "CREATE TABLE users", "CREATE TABLE lab4_users", 1)
	loadMariaDB(t, db, "lab4_users", ddl, usersRows, userRow)
	_, err := db.Exec("CREATE INDEX idx_nickname ON lab4_users (nickname)")
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(42, 4))
	fullScan := map[string]bool{"ALL": true, "index": true} // "index": every entry of an index, in order
	for _, c := range indexCases {
		t.Run(c.name, func(t *testing.T) {
			for _, qq := range c.broken(r) {
				sqlText := strings.Replace(qq.sql, "FROM users", "FROM lab4_users", 1)
				got := explainMariaDB(t, db, sqlText, qq.args...)
				if c.name == "or-unindexed-column" {
					// With nickname indexed MariaDB can merge both indexes; the OR is only a full
					// scan while one side is unindexed, which the fixed path's index removes.
					continue
				}
				assert.True(t, fullScan[got["type"]], "%s: type %s", sqlText, got["type"])
			}
			for _, qq := range c.fixed(r) {
				sqlText := strings.Replace(qq.sql, "FROM users", "FROM lab4_users", 1)
				got := explainMariaDB(t, db, sqlText, qq.args...)
				assert.Contains(t, []string{"ref", "range", "const", "eq_ref"}, got["type"], sqlText)
			}
		})
	}
	t.Run("or-unindexed-column/without-the-index", func(t *testing.T) {
		_, err := db.Exec("DROP INDEX idx_nickname ON lab4_users")
		require.NoError(t, err)
		got := explainMariaDB(t, db, "SELECT id FROM lab4_users WHERE name = ? OR nickname = ?", "user00042", "nick00042")
		assert.Equal(t, "ALL", got["type"])
	})
}

func TestMariaDBDeadlock(t *testing.T) {
	db := mariaDB(t)
	loadMariaDB(t, db, "lab4_accounts", "CREATE TABLE lab4_accounts (id INT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)", 2,
		func(i int) string { return fmt.Sprintf("(%d, 100)", i+1) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	transfer := func(keyOrder bool, from, to int, step chan struct{}) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if keyOrder {
			if _, err := tx.ExecContext(ctx, "SELECT id FROM lab4_accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE lab4_accounts SET balance = balance - 1 WHERE id = ?", from); err != nil {
			return err
		}
		step <- struct{}{} // both transactions hold their first lock before either takes its second
		<-step
		if _, err := tx.ExecContext(ctx, "UPDATE lab4_accounts SET balance = balance + 1 WHERE id = ?", to); err != nil {
			return err
		}
		return tx.Commit()
	}
	run := func(keyOrder bool) []error {
		a, b := make(chan struct{}), make(chan struct{})
		errs := make(chan error, 2)
		go func() { errs <- transfer(keyOrder, 1, 2, a) }()
		go func() { errs <- transfer(keyOrder, 2, 1, b) }()
		// Release each transaction's second step once both have taken (or queued for) the first.
		for _, ch := range []chan struct{}{a, b} {
			select {
			case <-ch:
			case <-time.After(2 * time.Second): // key order: the second transaction waits in FOR UPDATE
			}
		}
		go func() { a <- struct{}{} }()
		go func() { b <- struct{}{} }()
		out := []error{<-errs, <-errs}
		return out
	}
	var deadlocks int
	for _, err := range run(false) {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1213 {
			deadlocks++
		}
	}
	assert.Equal(t, 1, deadlocks, "opposite lock orders: MariaDB kills one transaction with 1213")
	var typ, name, status string
	require.NoError(t, db.QueryRow("SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &status))
	assert.Contains(t, status, "LATEST DETECTED DEADLOCK")
	t.Logf("MariaDB SHOW ENGINE INNODB STATUS:\n%s", status[strings.Index(status, "LATEST DETECTED DEADLOCK"):][:min(1500, len(status)-strings.Index(status, "LATEST DETECTED DEADLOCK"))])
}
