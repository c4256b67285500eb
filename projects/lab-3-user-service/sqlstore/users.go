package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/reqstats"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

const userColumns = `id, email, password_hash, name, department, role, created_at, updated_at, token_version`

// span starts a client span for one statement and counts it.
func (s *Store) span(ctx context.Context, name, q string) (context.Context, trace.Span) {
	s.queries.Add(1)
	reqstats.AddQuery(ctx)
	return s.tracer.Start(ctx, "sql "+name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", string(s.dialect)), attribute.String("db.query.text", q)))
}

// timeout applies the pool's per-statement deadline, when there is one.
func (s *Store) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.pool.QueryTimeout > 0 {
		return context.WithTimeout(ctx, s.pool.QueryTimeout)
	}
	return ctx, func() {}
}

func end(span trace.Span, err error) {
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func scanUser(sc interface{ Scan(...any) error }) (user.User, error) {
	var u user.User
	var role string
	err := sc.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Name, &u.Department, &role, &u.CreatedAt, &u.UpdatedAt, &u.TokenVersion)
	u.Role = rbac.Role(role)
	return u, err
}

func (s *Store) isUniqueViolation(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Create inserts u and returns it with its ID and timestamps set.
func (s *Store) Create(ctx context.Context, u user.User) (user.User, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	u.CreatedAt, u.UpdatedAt = now, now
	q := `INSERT INTO users (email, password_hash, name, department, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, "users.create", q)
	args := []any{u.Email, u.PasswordHash, u.Name, u.Department, string(u.Role), now, now}
	var err error
	if s.dialect == Postgres {
		err = s.db.QueryRowContext(ctx, s.rebind(q+` RETURNING id`), args...).Scan(&u.ID)
	} else {
		var res sql.Result
		res, err = s.db.ExecContext(ctx, q, args...)
		if err == nil {
			var id int64
			id, err = res.LastInsertId()
			u.ID = user.ID(id)
		}
	}
	end(span, err)
	if err != nil {
		if s.isUniqueViolation(err) {
			return user.User{}, user.ErrEmailTaken
		}
		return user.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (s *Store) getOne(ctx context.Context, name, where string, arg any) (user.User, error) {
	q := `SELECT ` + userColumns + ` FROM users WHERE ` + where
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, name, q)
	u, err := scanUser(s.db.QueryRowContext(ctx, s.rebind(q), arg))
	end(span, err)
	if errors.Is(err, sql.ErrNoRows) {
		return user.User{}, user.ErrNotFound
	}
	if err != nil {
		return user.User{}, fmt.Errorf("%s: %w", name, err)
	}
	return u, nil
}

// ByID loads one user.
func (s *Store) ByID(ctx context.Context, id user.ID) (user.User, error) {
	return s.getOne(ctx, "users.by_id", `id = ?`, id)
}

// ByEmail loads one user by (normalised) email.
func (s *Store) ByEmail(ctx context.Context, email string) (user.User, error) {
	return s.getOne(ctx, "users.by_email", `email = ?`, email)
}

// UpdateProfile changes name and/or department.
func (s *Store) UpdateProfile(ctx context.Context, id user.ID, upd user.ProfileUpdate) (user.User, error) {
	sets := []string{"updated_at = ?"}
	args := []any{time.Now().UTC().Truncate(time.Microsecond)}
	if upd.Name != nil {
		sets = append(sets, "name = ?")
		args = append(args, *upd.Name)
	}
	if upd.Department != nil {
		sets = append(sets, "department = ?")
		args = append(args, *upd.Department)
	}
	args = append(args, id)
	if err := s.exec(ctx, "users.update_profile", `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...); err != nil {
		return user.User{}, err
	}
	return s.ByID(ctx, id)
}

// SetRole changes a user's role. A change bumps the token version, which revokes every token
// issued before it; setting the role a user already has changes nothing.
func (s *Store) SetRole(ctx context.Context, id user.ID, role rbac.Role) (user.User, error) {
	q := `UPDATE users SET token_version = token_version + 1, role = ?, updated_at = ? WHERE id = ? AND role <> ?`
	ctx2, cancel := s.timeout(ctx)
	defer cancel()
	ctx2, span := s.span(ctx2, "users.set_role", q)
	_, err := s.db.ExecContext(ctx2, s.rebind(q), string(role), time.Now().UTC().Truncate(time.Microsecond), id, string(role))
	end(span, err)
	if err != nil {
		return user.User{}, fmt.Errorf("users.set_role: %w", err)
	}
	return s.ByID(ctx, id)
}

// SetPasswordHash replaces a hash, used to upgrade hashes made with older parameters.
func (s *Store) SetPasswordHash(ctx context.Context, id user.ID, hash string) error {
	return s.exec(ctx, "users.set_password_hash", `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
}

func (s *Store) exec(ctx context.Context, name, q string, args ...any) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	ctx, span := s.span(ctx, name, q)
	res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	end(span, err)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// MySQL reports 0 affected rows when nothing changed, so only trust the count elsewhere.
	if n, err := res.RowsAffected(); err == nil && n == 0 && s.dialect != MySQL {
		return user.ErrNotFound
	}
	return nil
}
