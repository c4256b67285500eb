package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/app"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// Backend is the database a lab run uses.
type Backend struct {
	Dialect sqlstore.Dialect
	DSN     string
}

// BackendFromEnv picks the database from LAB3_DB: "sqlite" (the default, embedded, so
// `make lab-3` runs anywhere), "mysql" (MYSQL_DSN) or "postgres" (POSTGRES_DSN). The choice is a
// lab variable of its own, not the mere presence of a DSN, because a machine (and
// `make test-integration`) often has both DSNs set.
func BackendFromEnv() (Backend, error) {
	switch db := os.Getenv("LAB3_DB"); db {
	case "", "sqlite":
		return Backend{Dialect: sqlstore.SQLite}, nil
	case "mysql", "mariadb":
		if v := os.Getenv("MYSQL_DSN"); v != "" {
			return Backend{Dialect: sqlstore.MySQL, DSN: v}, nil
		}
		return Backend{}, errors.New("LAB3_DB=mysql needs MYSQL_DSN, e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true")
	case "postgres":
		if v := os.Getenv("POSTGRES_DSN"); v != "" {
			return Backend{Dialect: sqlstore.Postgres, DSN: v}, nil
		}
		return Backend{}, errors.New("LAB3_DB=postgres needs POSTGRES_DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	default:
		return Backend{}, fmt.Errorf("unknown LAB3_DB %q: expected sqlite, mysql or postgres", db)
	}
}

// preflight connects to the chosen database once before any scenario, so an
// unreachable server is one line naming it (exit 2), not three failed scenarios.
func (b Backend) preflight(ctx context.Context) (string, error) {
	if b.Dialect == sqlstore.SQLite {
		return "database: " + b.String(), nil
	}
	st, err := sqlstore.Open(ctx, sqlstore.Config{Dialect: b.Dialect, DSN: b.DSN})
	if err != nil {
		return "", fmt.Errorf("database: LAB3_DB=%s unreachable: %w", b.Dialect, err)
	}
	st.Close()
	return "database: " + b.String(), nil
}

func (b Backend) String() string {
	if b.Dialect == sqlstore.SQLite {
		return "embedded SQLite (LAB3_DB=mysql or LAB3_DB=postgres for a real server)"
	}
	return string(b.Dialect)
}

// rig is the user service running on a loopback port over a private scratch database.
type rig struct {
	app    *app.App
	base   string
	client *http.Client
	admin  string // an admin's access token
	user   string // a plain user's access token
}

type rigOptions struct {
	workers int
	seed    int // synthetic users
	pool    *sqlstore.Pool
	faults  app.Faults
	tune    func(*app.Config)
}

// newRig starts the service. Everything it opens is released through env.Cleanup, after the
// evidence is captured.
func newRig(ctx context.Context, env *runner.Env, b Backend, o rigOptions) (*rig, error) {
	pool := sqlstore.DefaultPool()
	if o.faults.DBOverload {
		pool = sqlstore.Pool{}
	}
	if o.pool != nil {
		pool = *o.pool
	}
	st, drop, err := sqlstore.OpenScratch(ctx, sqlstore.Config{Dialect: b.Dialect, DSN: b.DSN, Pool: pool, Tracer: env.Tracer})
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", b, err)
	}
	env.Cleanup(drop)
	env.Log.Info("lab-3 storage: " + b.String())
	hasher := password.New(password.TestParams())
	hash, err := hasher.Hash("correct-horse-battery")
	if err != nil {
		return nil, err
	}
	if o.seed > 0 {
		if err := st.Seed(ctx, o.seed, 400, hash); err != nil {
			return nil, err
		}
	}
	keys, err := token.GenerateKeySet("lab")
	if err != nil {
		return nil, err
	}
	auditDir, err := os.MkdirTemp("", "lab-3-audit-")
	if err != nil {
		return nil, err
	}
	env.Cleanup(func() { _ = os.RemoveAll(auditDir) })
	cfg := app.Config{Store: st, Keys: keys, Password: password.TestParams(), Faults: o.faults,
		AuditPath: filepath.Join(auditDir, "audit.log"), Log: env.Log, Metrics: env.Metrics, Tracer: env.Tracer,
		IPLimit: 1 << 30, AccountLimit: 1 << 30}
	if o.tune != nil {
		o.tune(&cfg)
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Cleanups run last first: the client's idle connections, the server,
	// then the app.
	env.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(sctx)
	})
	base, err := loopback.HTTP(env, a.API.Handler())
	if err != nil {
		return nil, err
	}
	r := &rig{app: a, base: base, client: loadgen.NewHTTPClient(o.workers)}
	env.Cleanup(r.client.CloseIdleConnections)
	for _, u := range []struct {
		email string
		role  rbac.Role
		tok   *string
	}{{"lab-admin@example.com", rbac.RoleAdmin, &r.admin}, {"lab-user@example.com", rbac.RoleUser, &r.user}} {
		created, err := st.Create(ctx, user.User{Email: u.email, PasswordHash: hash, Name: "Lab", Department: "security", Role: u.role})
		if err != nil {
			return nil, err
		}
		pair, err := a.Auth.Issue(ctx, created.ID, u.role, created.TokenVersion, "")
		if err != nil {
			return nil, err
		}
		*u.tok = pair.Access
	}
	return r, nil
}

// get returns a load target for GET path with the token.
func (r *rig) get(path, tok string) loadgen.Target {
	return loadgen.HTTP(r.client, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return req, nil
	})
}

// snapshotMidway captures kind halfway through the window, while the load is at its height.
func snapshotMidway(ctx context.Context, env *runner.Env, snap func() error) <-chan error {
	done := make(chan error, 1)
	go func() {
		select {
		case <-time.After(env.Duration / 2):
			done <- snap()
		case <-ctx.Done():
			done <- ctx.Err()
		}
	}()
	return done
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summary(res loadgen.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests=%d errors=%d rps=%.1f p50=%.2fms p99=%.2fms max=%.2fms", res.Requests, res.Errors, res.Throughput, ms(res.Latency.P50), ms(res.Latency.P99), ms(res.Latency.Max))
	for _, k := range res.KindsByCount() {
		fmt.Fprintf(&b, " %s=%d", k, res.ErrorKinds[k])
	}
	return b.String()
}

var errNoRequests = errors.New("the load generator completed no request")
