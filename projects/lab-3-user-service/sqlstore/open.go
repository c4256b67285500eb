// Package sqlstore is the user repository on database/sql: the same queries on embedded SQLite
// (modernc.org/sqlite, pure Go), MariaDB/MySQL (go-sql-driver/mysql) and PostgreSQL (pgx), with
// versioned migrations and one OpenTelemetry span per statement.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// Dialect is the SQL flavour.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	MySQL    Dialect = "mysql"
	Postgres Dialect = "postgres"
)

// Pool bounds the connection pool. Zero MaxOpen means unlimited, which is database/sql's default
// and the defect behind the db-overload fault.
type Pool struct {
	MaxOpen      int
	MaxIdle      int
	MaxLifetime  time.Duration
	QueryTimeout time.Duration // per statement; 0 means none (only the caller's context)
}

// DefaultPool is a bounded pool sized for a 2-core box: more connections than that only queue
// inside the database instead of in the pool, where a deadline can still reject them cheaply.
func DefaultPool() Pool {
	return Pool{MaxOpen: 8, MaxIdle: 8, MaxLifetime: 30 * time.Minute, QueryTimeout: 2 * time.Second}
}

// Config says which database to open.
type Config struct {
	Dialect Dialect
	DSN     string // sqlite: a file path (or a modernc DSN starting with "file:")
	Pool    Pool
	Tracer  trace.TracerProvider
}

// Store is the user repository.
type Store struct {
	db      *sql.DB
	dialect Dialect
	pool    Pool
	tracer  trace.Tracer
	queries atomic.Int64
	// revWrites counts revocation writes, to sweep expired rows every sweepEvery of them.
	revWrites atomic.Int64
	// driver and dsn open the monitor connection (OpenMonitor) on the same database.
	driver, dsn string
}

// Open connects, pings, and applies the pool limits. It does not migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	driver, dsn, err := driverDSN(cfg.Dialect, cfg.DSN)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Dialect, err)
	}
	db.SetMaxOpenConns(cfg.Pool.MaxOpen)
	db.SetMaxIdleConns(cfg.Pool.MaxIdle)
	db.SetConnMaxLifetime(cfg.Pool.MaxLifetime)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s (%s): %w", cfg.Dialect, redact(cfg.Dialect, cfg.DSN), err)
	}
	tp := cfg.Tracer
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &Store{db: db, dialect: cfg.Dialect, pool: cfg.Pool, tracer: tp.Tracer("lab-3/sqlstore"), driver: driver, dsn: dsn}, nil
}

func driverDSN(d Dialect, dsn string) (driver, out string, err error) {
	switch d {
	case SQLite:
		if dsn == "" {
			return "", "", errors.New("sqlite: expected a file path")
		}
		if !strings.HasPrefix(dsn, "file:") {
			dsn = "file:" + dsn
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		// WAL lets readers run beside the writer; busy_timeout turns lock contention into a wait
		// instead of an immediate SQLITE_BUSY.
		return "sqlite", dsn + sep + "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_time_format=sqlite", nil
	case MySQL:
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			return "", "", fmt.Errorf("MYSQL_DSN: expected user:pass@tcp(host:port)/db: %w", err)
		}
		c.ParseTime = true
		c.Loc = time.UTC
		return "mysql", c.FormatDSN(), nil
	case Postgres:
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			return "", "", errors.New("POSTGRES_DSN: expected postgres://user@host:port/db?sslmode=disable")
		}
		return "pgx", dsn, nil
	default:
		return "", "", fmt.Errorf("unknown dialect %q: expected sqlite, mysql or postgres", d)
	}
}

func redact(d Dialect, dsn string) string {
	if d == MySQL {
		if c, err := mysql.ParseDSN(dsn); err == nil {
			c.Passwd = ""
			return c.Addr + "/" + c.DBName
		}
	}
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		return dsn[at+1:]
	}
	return dsn
}

// DB exposes the pool, for stats and for tests.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Queries is the number of statements the store has run.
func (s *Store) Queries() int64 { return s.queries.Load() }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

//go:embed migrations
var migrationFS embed.FS

// Migrate applies, in order, every migration not yet recorded in schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	return s.MigrateTo(ctx, 0)
}

// MigrateTo applies migrations up to and including version (0 means all).
func (s *Store) MigrateTo(ctx context.Context, version int) error {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at VARCHAR(40) NOT NULL)`
	if _, err := s.db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return fmt.Errorf("migrations for %s: %w", s.dialect, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: expected NNNN_name.sql", e.Name())
		}
		if applied[v] || (version > 0 && v > version) {
			continue
		}
		body, err := migrationFS.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return err
		}
		if err := s.apply(ctx, v, e.Name(), string(body)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, v int, name, body string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, stmt := range strings.Split(body, ";") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	ins := s.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
	if _, err := tx.ExecContext(ctx, ins, v, name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("record migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %s: %w", name, err)
	}
	return nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// rebind turns ? placeholders into $1, $2 ... for PostgreSQL. Queries in this package never
// contain a literal question mark.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
