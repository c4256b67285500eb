// Package service is the user service's business logic: registration, login, sessions, profiles
// and administration. It speaks domain types only; handlers call it, and it calls a repository
// and an authenticator through the small interfaces below, so the same code runs over SQLite,
// MariaDB or PostgreSQL, with the auth module in-process or behind gRPC.
package service

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// Repository is what the service needs from storage.
type Repository interface {
	Create(ctx context.Context, u user.User) (user.User, error)
	ByID(ctx context.Context, id user.ID) (user.User, error)
	ByEmail(ctx context.Context, email string) (user.User, error)
	UpdateProfile(ctx context.Context, id user.ID, upd user.ProfileUpdate) (user.User, error)
	SetRole(ctx context.Context, id user.ID, role rbac.Role) (user.User, error)
	SetPasswordHash(ctx context.Context, id user.ID, hash string) error
	List(ctx context.Context, q user.ListQuery) (user.Page, error)
	ListNPlusOne(ctx context.Context, q user.ListQuery) (user.Page, error)
	DepartmentReport(ctx context.Context) ([]user.DepartmentCount, error)
}

// Authenticator is the auth module, in-process (auth.Module) or remote (authrpc.Client).
type Authenticator interface {
	HashPassword(ctx context.Context, pw string) (string, error)
	CheckPassword(ctx context.Context, hash, pw string) error
	Issue(ctx context.Context, id user.ID, role rbac.Role, version int64, family string) (auth.TokenPair, error)
	Redeem(ctx context.Context, refresh string) (auth.Grant, error)
	Verify(ctx context.Context, access string) (auth.Identity, error)
	Revoke(ctx context.Context, access string) error
}

// Limiter counts login attempts.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Faults switches the lab's defects on; the zero value is the fixed service.
type Faults struct {
	SlowRequest bool // N+1 listing with an unindexable filter
	DBOverload  bool // the report runs without deadline or breaker (pool limits are set at Open)
}

// Config wires a Service.
type Config struct {
	Repo          Repository
	Auth          Authenticator
	IPLimiter     Limiter // per client IP
	AccountLimit  Limiter // per account (email)
	Log           *zap.Logger
	Faults        Faults
	ReportTimeout time.Duration // deadline for the department report on the fixed path
}

// Service is the user service.
type Service struct {
	cfg     Config
	breaker *gobreaker.CircuitBreaker[[]user.DepartmentCount]
	// dummyHash is verified when the email is unknown, so a login for a missing account costs
	// the same as one with a wrong password and timing does not reveal which emails exist.
	dummyHash string
}

// New returns a Service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.ReportTimeout == 0 {
		cfg.ReportTimeout = time.Second
	}
	h, err := cfg.Auth.HashPassword(ctx, "timing-equaliser")
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	// The breaker trips when nearly every report fails (the database is down or hung), not when
	// it is merely saturated: a saturated database still finishes what the pool admits, and an
	// open breaker would leave it idle. Counts reset every second; open lasts half a second; the
	// half-open probe admits as many requests as the pool has connections.
	br := gobreaker.NewCircuitBreaker[[]user.DepartmentCount](gobreaker.Settings{
		Name:        "department-report",
		Interval:    time.Second,
		Timeout:     500 * time.Millisecond,
		MaxRequests: 8,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= 20 && float64(c.TotalFailures) >= 0.9*float64(c.Requests)
		},
		IsSuccessful: func(err error) bool {
			// A cancelled client is not the database's fault.
			return err == nil || errors.Is(err, context.Canceled)
		},
	})
	return &Service{cfg: cfg, breaker: br, dummyHash: h}, nil
}

// RegisterInput is a validated registration.
type RegisterInput struct {
	Email, Password, Name, Department string
}

// NormalizeEmail lower-cases and checks an address; emails are stored normalised so lookups can
// use the unique index with a plain equality.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", fmt.Errorf("%w: email must be a bare address like name@example.com", user.ErrInvalidInput)
	}
	return s, nil
}

// NormalizeDepartment lower-cases a department, so the listing filter can compare the bare column.
func NormalizeDepartment(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Register creates a user with the default role, under the same per-IP and per-email limits as
// login: each call costs an argon2id hash. An email that already has an account is not an
// error: the caller gets the same answer as for a new one, after the same hash, so registration
// does not reveal which emails have accounts. The account's owner keeps their password.
func (s *Service) Register(ctx context.Context, ip string, in RegisterInput) error {
	if err := s.limit(ctx, s.cfg.IPLimiter, "register:ip:"+ip); err != nil {
		return err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	if err := s.limit(ctx, s.cfg.AccountLimit, "register:acct:"+email); err != nil {
		return err
	}
	if err := password.CheckPolicy(in.Password, email, in.Name); err != nil {
		return &user.FieldError{Field: "password", Reason: err.Error()}
	}
	hash, err := s.cfg.Auth.HashPassword(ctx, in.Password)
	if err != nil {
		return err
	}
	_, err = s.cfg.Repo.Create(ctx, user.User{
		Email: email, PasswordHash: hash, Name: strings.TrimSpace(in.Name),
		Department: NormalizeDepartment(in.Department), Role: rbac.RoleUser,
	})
	if errors.Is(err, user.ErrEmailTaken) {
		// A real service would mail the owner ("someone tried to register with your address");
		// this lab has no mailer, so it logs without the address.
		s.cfg.Log.Info("registration for an existing account ignored")
		return nil
	}
	return err
}

// limit counts one attempt against l under key.
func (s *Service) limit(ctx context.Context, l Limiter, key string) error {
	if l == nil {
		return nil
	}
	ok, retry, err := l.Allow(ctx, key)
	if err != nil {
		return fmt.Errorf("%w: rate limiter: %w", user.ErrUnavailable, err)
	}
	if !ok {
		return &RateLimitedError{RetryAfter: retry}
	}
	return nil
}

// Login checks credentials under the per-IP and per-account limits and starts a session.
func (s *Service) Login(ctx context.Context, ip, email, pw string) (auth.TokenPair, user.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if err := s.limit(ctx, s.cfg.IPLimiter, "login:ip:"+ip); err != nil {
		return auth.TokenPair{}, user.User{}, err
	}
	if err := s.limit(ctx, s.cfg.AccountLimit, "login:acct:"+email); err != nil {
		return auth.TokenPair{}, user.User{}, err
	}
	u, err := user.User{}, user.ErrNotFound
	if utf8.ValidString(email) && !strings.ContainsRune(email, 0) && len(email) <= 254 {
		u, err = s.cfg.Repo.ByEmail(ctx, email)
	}
	if errors.Is(err, user.ErrNotFound) {
		_ = s.cfg.Auth.CheckPassword(ctx, s.dummyHash, pw)
		return auth.TokenPair{}, user.User{}, user.ErrInvalidCredentials
	}
	if err != nil {
		return auth.TokenPair{}, user.User{}, err
	}
	if err := s.cfg.Auth.CheckPassword(ctx, u.PasswordHash, pw); err != nil {
		return auth.TokenPair{}, user.User{}, err
	}
	pair, err := s.cfg.Auth.Issue(ctx, u.ID, u.Role, u.TokenVersion, "")
	return pair, u, err
}

// RateLimitedError says when to retry.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many attempts; retry in %s", e.RetryAfter.Round(time.Second))
}

// Unwrap makes errors.Is(err, user.ErrRateLimited) true.
func (e *RateLimitedError) Unwrap() error { return user.ErrRateLimited }

// Refresh rotates a refresh token: the old one is spent, a new pair continues the session with
// the user's current role.
func (s *Service) Refresh(ctx context.Context, refresh string) (auth.TokenPair, error) {
	g, err := s.cfg.Auth.Redeem(ctx, refresh)
	if err != nil {
		return auth.TokenPair{}, err
	}
	u, err := s.cfg.Repo.ByID(ctx, g.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return auth.TokenPair{}, user.ErrUnauthenticated
	}
	if err != nil {
		return auth.TokenPair{}, err
	}
	if g.Version != u.TokenVersion {
		return auth.TokenPair{}, fmt.Errorf("%w: refresh token predates a role change", user.ErrUnauthenticated)
	}
	return s.cfg.Auth.Issue(ctx, u.ID, u.Role, u.TokenVersion, g.Family)
}

// Logout revokes the session of an access token.
func (s *Service) Logout(ctx context.Context, access string) error {
	return s.cfg.Auth.Revoke(ctx, access)
}

// Authenticate verifies an access token and returns the caller as the store knows them now: a
// token issued before the account's last role change is refused, and the role that the policy
// checks is the stored one, not the one written in the token. That costs one primary-key read
// per request; the alternative, trusting the token's role for its 15 minutes, let a demoted
// admin undo their demotion. The account it read is returned too, so a handler that needs the
// caller's own row (GET /v1/me) does not read it a second time.
func (s *Service) Authenticate(ctx context.Context, access string) (auth.Identity, user.User, error) {
	id, err := s.cfg.Auth.Verify(ctx, access)
	if err != nil {
		return auth.Identity{}, user.User{}, err
	}
	u, err := s.cfg.Repo.ByID(ctx, id.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return auth.Identity{}, user.User{}, fmt.Errorf("%w: account no longer exists", user.ErrUnauthenticated)
	}
	if err != nil {
		return auth.Identity{}, user.User{}, err
	}
	if id.Version != u.TokenVersion {
		return auth.Identity{}, user.User{}, fmt.Errorf("%w: token predates a role change", user.ErrUnauthenticated)
	}
	id.Role = u.Role
	return id, u, nil
}

// Profile loads a user.
func (s *Service) Profile(ctx context.Context, id user.ID) (user.User, error) {
	return s.cfg.Repo.ByID(ctx, id)
}

// UpdateProfile changes the caller's own profile.
func (s *Service) UpdateProfile(ctx context.Context, id user.ID, upd user.ProfileUpdate) (user.User, error) {
	if upd.Name != nil {
		n := strings.TrimSpace(*upd.Name)
		upd.Name = &n
	}
	if upd.Department != nil {
		d := NormalizeDepartment(*upd.Department)
		upd.Department = &d
	}
	return s.cfg.Repo.UpdateProfile(ctx, id, upd)
}

// List returns a page of users.
func (s *Service) List(ctx context.Context, q user.ListQuery) (user.Page, error) {
	if s.cfg.Faults.SlowRequest {
		return s.cfg.Repo.ListNPlusOne(ctx, q)
	}
	// exercise:begin slow-request
	q.Department = NormalizeDepartment(q.Department)
	return s.cfg.Repo.List(ctx, q)
	// exercise:stub
	// return s.cfg.Repo.ListNPlusOne(ctx, q)
	// exercise:end
}

// SetRole changes another user's role. Admins cannot demote themselves, so the last admin cannot
// lock everybody out by accident.
func (s *Service) SetRole(ctx context.Context, actor auth.Identity, target user.ID, role rbac.Role) (user.User, error) {
	if actor.UserID == target && role != rbac.RoleAdmin {
		return user.User{}, fmt.Errorf("%w: admins cannot change their own role", user.ErrForbidden)
	}
	return s.cfg.Repo.SetRole(ctx, target, role)
}

// DepartmentReport runs the expensive aggregate. On the fixed path it has a deadline and a
// breaker: when the database is overloaded, callers fail fast with ErrUnavailable instead of
// queueing behind it, which gives the database room to recover.
func (s *Service) DepartmentReport(ctx context.Context) ([]user.DepartmentCount, error) {
	if s.cfg.Faults.DBOverload {
		return s.cfg.Repo.DepartmentReport(ctx)
	}
	rep, err := s.breaker.Execute(func() ([]user.DepartmentCount, error) {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.ReportTimeout)
		defer cancel()
		rep, err := s.cfg.Repo.DepartmentReport(ctx)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Drivers report an interrupted statement in their own words; name the real cause.
			return nil, fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return rep, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) || errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: department report: %w", user.ErrUnavailable, err)
	}
	return rep, err
}
