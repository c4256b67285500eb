package server

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/executor"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the lab's whole stack (storage engine, executor, server) on a free port.
func start(t *testing.T, cfg Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := storage.Open(ctx, storage.Options{Dir: t.TempDir(), PoolFrames: 256, LockWaitTimeout: 2 * time.Second})
	require.NoError(t, err)
	ex, err := executor.New(ctx, executor.FromStorage(eng), executor.Options{})
	require.NoError(t, err)
	srv := New(ex, cfg)
	addr, err := loopback.Serve(t, func(ln net.Listener) error { return srv.Serve(ctx, ln) }, cancel)
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	return addr
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestGoSQLDriverTextAndPreparedStatements(t *testing.T) {
	addr := start(t, Config{})
	db := open(t, "root@tcp("+addr+")/test")
	ctx := context.Background()
	require.NoError(t, db.PingContext(ctx))

	_, err := db.ExecContext(ctx, "CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32), score DOUBLE, born DATETIME, KEY idx_name (name))")
	require.NoError(t, err)
	res, err := db.ExecContext(ctx, "INSERT INTO users (name, score, born) VALUES (?, ?, ?), (?, ?, ?)", "ann", 1.5, time.Date(2000, 1, 2, 3, 4, 5, 0, time.UTC), "bob", nil, nil)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	id, err := res.LastInsertId()
	require.NoError(t, err)
	assert.Equal(t, int64(1), id)

	var (
		name  string
		score sql.NullFloat64
		born  sql.NullString
	)
	require.NoError(t, db.QueryRowContext(ctx, "SELECT name, score, born FROM users WHERE id = ?", 1).Scan(&name, &score, &born), "prepared: binary protocol")
	assert.Equal(t, "ann", name)
	assert.Equal(t, 1.5, score.Float64)
	assert.Equal(t, "2000-01-02 03:04:05", born.String)
	require.NoError(t, db.QueryRowContext(ctx, "SELECT name, score FROM users WHERE id = 2").Scan(&name, &score), "text protocol")
	assert.Equal(t, "bob", name)
	assert.False(t, score.Valid)

	var count int64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE name LIKE ?", "a%").Scan(&count))
	assert.Equal(t, int64(1), count)

	var version string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT @@version_comment LIMIT 1").Scan(&version))
	assert.Contains(t, version, "lab 4")

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "UPDATE users SET score = ? WHERE id = ?", 9.0, 2)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	require.NoError(t, db.QueryRowContext(ctx, "SELECT score FROM users WHERE id = 2").Scan(&score))
	assert.False(t, score.Valid, "rolled back")

	rows, err := db.QueryContext(ctx, "EXPLAIN SELECT * FROM users WHERE name = 'ann'")
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "select_type", "table", "type", "possible_keys", "key", "key_len", "ref", "rows", "Extra"}, cols)
	require.NoError(t, rows.Close())
}

func TestErrorsCarryCodeAndSQLState(t *testing.T) {
	addr := start(t, Config{})
	db := open(t, "root@tcp("+addr+")/test")
	cases := []struct {
		sql   string
		code  uint16
		state string
	}{
		{"SELEKT 1", 1064, "42000"},
		{"SELECT * FROM missing", 1146, "42S02"},
		{"SELECT * FROM missing WHERE id = ?", 1146, "42S02"},
	}
	for _, tc := range cases {
		var err error
		if tc.sql[len(tc.sql)-1] == '?' {
			_, err = db.Exec(tc.sql, 1)
		} else {
			_, err = db.Exec(tc.sql)
		}
		var me *mysql.MySQLError
		require.True(t, errors.As(err, &me), "%s: %v", tc.sql, err)
		assert.Equal(t, tc.code, me.Number, tc.sql)
		assert.Equal(t, tc.state, string(me.SQLState[:]), tc.sql)
	}
	assert.NoError(t, db.Ping(), "the connection survives SQL errors")
}

func TestAuthentication(t *testing.T) {
	addr := start(t, Config{Password: "s3cret"})
	assert.NoError(t, open(t, "root:s3cret@tcp("+addr+")/test").Ping())
	err := open(t, "root:wrong@tcp("+addr+")/test").Ping()
	var me *mysql.MySQLError
	require.True(t, errors.As(err, &me), "%v", err)
	assert.Equal(t, uint16(1045), me.Number)
}
