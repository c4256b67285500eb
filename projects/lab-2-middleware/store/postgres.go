package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the same dependency on a real PostgreSQL: at most conns connections, each query
// spending the service time in the server (pg_sleep), so the pool, not the lab, does the queueing.
type Postgres struct {
	pool    *pgxpool.Pool
	service float64 // seconds
	down    atomic.Bool
}

// NewPostgres connects to dsn with a pool of conns connections and checks the server answers.
func NewPostgres(ctx context.Context, dsn string, conns int, service time.Duration) (*Postgres, error) {
	if conns < 1 {
		return nil, fmt.Errorf("store: conns must be at least 1, got %d", conns)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: POSTGRES_DSN %q: %w", dsn, err)
	}
	cfg.MaxConns = int32(conns)
	cfg.MinConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres at %s: %w", cfg.ConnConfig.Host, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres at %s:%d unreachable: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &Postgres{pool: pool, service: service.Seconds()}, nil
}

// SetDown makes queries fail in the server (division by zero after the service time).
func (p *Postgres) SetDown(down bool) { p.down.Store(down) }

// Get runs one query that takes the service time in the server and returns "value-of-<key>".
func (p *Postgres) Get(ctx context.Context, key string) (string, error) {
	q := `SELECT 'value-of-' || $1::text FROM pg_sleep($2::float8)`
	if p.down.Load() {
		q = `SELECT 'value-of-' || $1::text || (1/0)::text FROM pg_sleep($2::float8)`
	}
	var v string
	if err := p.pool.QueryRow(ctx, q, key, p.service).Scan(&v); err != nil {
		if p.down.Load() {
			return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return "", fmt.Errorf("store: postgres query: %w", err)
	}
	return v, nil
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }
