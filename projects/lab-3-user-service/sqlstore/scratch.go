package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/go-sql-driver/mysql"
)

// OpenScratch opens a migrated store in a fresh, private place and returns a cleanup that removes
// it: a temporary file for SQLite (cfg.DSN is ignored), a new database on the MariaDB/MySQL server,
// or a new schema on the PostgreSQL server. Tests and lab runs use it so they never touch tables
// someone else owns on a shared server.
func OpenScratch(ctx context.Context, cfg Config) (*Store, func(), error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "lab3_" + hex.EncodeToString(b)
	var drop func()
	switch cfg.Dialect {
	case SQLite:
		dir, err := os.MkdirTemp("", "lab-3-sqlite-")
		if err != nil {
			return nil, nil, fmt.Errorf("scratch sqlite: %w", err)
		}
		cfg.DSN = filepath.Join(dir, "users.db")
		drop = func() { _ = os.RemoveAll(dir) }
	case MySQL:
		c, err := mysql.ParseDSN(cfg.DSN)
		if err != nil {
			return nil, nil, fmt.Errorf("MYSQL_DSN: expected user:pass@tcp(host:port)/db: %w", err)
		}
		admin, err := sql.Open("mysql", c.FormatDSN())
		if err != nil {
			return nil, nil, err
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, nil, fmt.Errorf("create scratch database on %s: %w", c.Addr, err)
		}
		base := c.FormatDSN()
		c.DBName = name
		cfg.DSN = c.FormatDSN()
		drop = func() {
			if db, err := sql.Open("mysql", base); err == nil {
				_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
				_ = db.Close()
			}
		}
	case Postgres:
		admin, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			return nil, nil, err
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
			return nil, nil, fmt.Errorf("create scratch schema: %w", err)
		}
		u, err := url.Parse(cfg.DSN)
		if err != nil {
			return nil, nil, fmt.Errorf("POSTGRES_DSN: %w", err)
		}
		base := cfg.DSN
		qv := u.Query()
		qv.Set("search_path", name)
		u.RawQuery = qv.Encode()
		cfg.DSN = u.String()
		drop = func() {
			if db, err := sql.Open("pgx", base); err == nil {
				_, _ = db.Exec("DROP SCHEMA IF EXISTS " + name + " CASCADE")
				_ = db.Close()
			}
		}
	default:
		return nil, nil, fmt.Errorf("unknown dialect %q: expected sqlite, mysql or postgres", cfg.Dialect)
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		drop()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); drop() }, nil
}
