package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// The Store is also a revocation.Store: without Redis, spent refresh tokens, revoked sessions and
// logged-out access tokens live in the revocations table, so a restart does not bring them back
// to life. Expiry is a column the queries compare, and expired rows are swept every
// sweepEvery writes, so the table holds only tokens that could still be presented.

const sweepEvery = 1024

func micros(t time.Time) int64 { return t.UnixMicro() }

// Claim marks key used and reports whether this call was the first: the primary key makes it
// atomic across connections and replicas.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	now := time.Now()
	// An expired row of the same key no longer counts; clear it so the key can be claimed again.
	if err := s.revExec(ctx, "revocations.clear_expired", `DELETE FROM revocations WHERE token_key = ? AND expires_at <= ?`, key, micros(now)); err != nil {
		return false, err
	}
	var q string
	switch s.dialect {
	case MySQL:
		q = `INSERT IGNORE INTO revocations (token_key, expires_at) VALUES (?, ?)`
	case Postgres:
		q = `INSERT INTO revocations (token_key, expires_at) VALUES (?, ?) ON CONFLICT (token_key) DO NOTHING`
	default:
		q = `INSERT OR IGNORE INTO revocations (token_key, expires_at) VALUES (?, ?)`
	}
	n, err := s.revExecCount(ctx, "revocations.claim", q, key, micros(now.Add(ttl)))
	if err != nil {
		return false, err
	}
	s.maybeSweep(ctx)
	return n == 1, nil
}

// Revoke marks key revoked until now+ttl, never shortening an existing revocation.
func (s *Store) Revoke(ctx context.Context, key string, ttl time.Duration) error {
	var q string
	switch s.dialect {
	case MySQL:
		q = `INSERT INTO revocations (token_key, expires_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE expires_at = GREATEST(expires_at, VALUES(expires_at))`
	case Postgres:
		q = `INSERT INTO revocations (token_key, expires_at) VALUES (?, ?) ON CONFLICT (token_key) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, excluded.expires_at)`
	default:
		q = `INSERT INTO revocations (token_key, expires_at) VALUES (?, ?) ON CONFLICT (token_key) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)`
	}
	if err := s.revExec(ctx, "revocations.revoke", q, key, micros(time.Now().Add(ttl))); err != nil {
		return err
	}
	s.maybeSweep(ctx)
	return nil
}

// Revoked reports whether key is revoked or claimed and not yet expired.
func (s *Store) Revoked(ctx context.Context, key string) (bool, error) {
	q := `SELECT COUNT(*) FROM revocations WHERE token_key = ? AND expires_at > ?`
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, "revocations.revoked", q)
	var n int
	err := s.db.QueryRowContext(ctx, s.rebind(q), key, micros(time.Now())).Scan(&n)
	end(span, err)
	if err != nil {
		return false, fmt.Errorf("revocations.revoked: %w", err)
	}
	return n > 0, nil
}

func (s *Store) maybeSweep(ctx context.Context) {
	if s.revWrites.Add(1)%sweepEvery != 0 {
		return
	}
	// Best effort: a failed sweep only leaves dead rows for the next one.
	_ = s.revExec(ctx, "revocations.sweep", `DELETE FROM revocations WHERE expires_at <= ?`, micros(time.Now()))
}

func (s *Store) revExec(ctx context.Context, name, q string, args ...any) error {
	_, err := s.revExecCount(ctx, name, q, args...)
	return err
}

func (s *Store) revExecCount(ctx context.Context, name, q string, args ...any) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, name, q)
	res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	end(span, err)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}
