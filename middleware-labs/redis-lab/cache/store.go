// Package cache is the cache-aside pattern in front of a SQL store, with the defenses against
// the classic cache faults: a Bloom filter and null caching (penetration), TTL jitter
// (avalanche), singleflight (breakdown) and a near cache (hot key).
package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // embedded SQLite driver "sqlite"
)

// Store is the system of record: products and their orders, in SQLite (embedded) or PostgreSQL.
type Store struct {
	db       *sql.DB
	postgres bool
	queries  atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
}

// OpenSQLite opens a private in-memory SQLite database named name.
func OpenSQLite(name string) (*Store, error) {
	db, err := sql.Open("sqlite", "file:"+name+"?mode=memory&cache=shared")
	if err != nil {
		return nil, fmt.Errorf("cache: open sqlite: %w", err)
	}
	// SQLite in memory serialises writers; a small pool is what a real service would use.
	db.SetMaxOpenConns(4)
	return &Store{db: db}, nil
}

// OpenPostgres connects to dsn (POSTGRES_DSN).
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("cache: open postgres: %w", err)
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cache: postgres at %s unreachable: %w", dsn, err)
	}
	return &Store{db: db, postgres: true}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// q rewrites ? placeholders to $n for PostgreSQL.
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Seed (re)creates lab5_products with ids 1..products and lab5_orders with orders rows.
func (s *Store) Seed(ctx context.Context, products, orders int) error {
	stmts := []string{
		"DROP TABLE IF EXISTS lab5_orders",
		"DROP TABLE IF EXISTS lab5_products",
		"CREATE TABLE lab5_products (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price BIGINT NOT NULL)",
		"CREATE TABLE lab5_orders (id BIGINT PRIMARY KEY, product_id BIGINT NOT NULL, qty BIGINT NOT NULL)",
	}
	if s.postgres {
		stmts = append(stmts,
			fmt.Sprintf("INSERT INTO lab5_products SELECT g, 'product-' || g, 100 + g %% 900 FROM generate_series(1, %d) g", products),
			fmt.Sprintf("INSERT INTO lab5_orders SELECT g, 1 + g %% %d, 1 + g %% 7 FROM generate_series(1, %d) g", products, orders))
	} else {
		stmts = append(stmts,
			fmt.Sprintf("INSERT INTO lab5_products WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) SELECT x, 'product-' || x, 100 + x %% 900 FROM c", products),
			fmt.Sprintf("INSERT INTO lab5_orders WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) SELECT x, 1 + x %% %d, 1 + x %% 7 FROM c", orders, products))
	}
	stmts = append(stmts, "CREATE INDEX lab5_orders_product ON lab5_orders (product_id)")
	for _, st := range stmts {
		if _, err := s.db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("cache: seed: %s: %w", st, err)
		}
	}
	return nil
}

// Product is one catalog row with its sales.
type Product struct {
	ID    int64
	Name  string
	Price int64
	Sold  int64
}

func (s *Store) enter() func() {
	s.queries.Add(1)
	n := s.inflight.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { s.inflight.Add(-1) }
}

// Product loads one product and its units sold; found is false when the id does not exist.
func (s *Store) Product(ctx context.Context, id int64) (Product, bool, error) {
	defer s.enter()()
	var p Product
	err := s.db.QueryRowContext(ctx, s.q(`SELECT p.id, p.name, p.price, COALESCE(SUM(o.qty), 0)
		FROM lab5_products p LEFT JOIN lab5_orders o ON o.product_id = p.id
		WHERE p.id = ? GROUP BY p.id, p.name, p.price`), id).Scan(&p.ID, &p.Name, &p.Price, &p.Sold)
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, false, nil
	}
	if err != nil {
		return Product{}, false, fmt.Errorf("cache: load product %d: %w", id, err)
	}
	return p, true, nil
}

// Products loads many products and their units sold, in chunks of 500 ids per query (a warm-up
// reads the catalogue this way rather than one row per query). Ids that do not exist are
// skipped.
func (s *Store) Products(ctx context.Context, ids []int64) ([]Product, error) {
	var out []Product
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		ps, err := s.productChunk(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

func (s *Store) productChunk(ctx context.Context, ids []int64) ([]Product, error) {
	defer s.enter()()
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT p.id, p.name, p.price, COALESCE(SUM(o.qty), 0)
		FROM lab5_products p LEFT JOIN lab5_orders o ON o.product_id = p.id
		WHERE p.id IN (`+in+`) GROUP BY p.id, p.name, p.price ORDER BY p.id`), args...)
	if err != nil {
		return nil, fmt.Errorf("cache: load %d products: %w", len(ids), err)
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.ID, &p.Name, &p.Price, &p.Sold); err != nil {
			return nil, fmt.Errorf("cache: load products: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TopSellers is the expensive query behind the home page: a full aggregation over every order.
func (s *Store) TopSellers(ctx context.Context, limit int) ([]int64, error) {
	defer s.enter()()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT product_id, SUM(qty * (product_id % 13 + 1)) AS revenue
		FROM lab5_orders GROUP BY product_id ORDER BY revenue DESC, product_id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("cache: top sellers: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id, rev int64
		if err := rows.Scan(&id, &rev); err != nil {
			return nil, fmt.Errorf("cache: top sellers: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// IDs returns every product id (to build the Bloom filter).
func (s *Store) IDs(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM lab5_products")
	if err != nil {
		return nil, fmt.Errorf("cache: list ids: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Queries is the number of store queries so far.
func (s *Store) Queries() int64 { return s.queries.Load() }

// PeakInflight is the largest number of concurrent store queries seen; ResetPeak restarts it.
func (s *Store) PeakInflight() int64 { return s.peak.Load() }

// ResetPeak restarts the peak.
func (s *Store) ResetPeak() { s.peak.Store(s.inflight.Load()) }
