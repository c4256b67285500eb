// Package app assembles the user service from its parts: storage, the auth module (in-process or
// remote over gRPC), Redis or in-process state, the service layer and the HTTP API. cmd/server,
// the attack suite and the lab scenarios all build the service through it, so they test the
// same wiring that runs in production.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/audit"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/httpapi"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/ratelimit"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/service"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
)

// Faults are the lab's defects; the zero value is the fixed service.
type Faults struct {
	SlowRequest      bool
	DBOverload       bool
	ThreadExhaustion bool
}

// Config describes one service instance.
type Config struct {
	Store     *sqlstore.Store // if set, used as is (and not closed by App.Close)
	Dialect   sqlstore.Dialect
	DSN       string
	Pool      *sqlstore.Pool // nil: DefaultPool, or unlimited with the db-overload fault
	RedisAddr string         // empty: in-process revocation and rate-limit state
	// RedisPrefix namespaces the keys (default "lab3:"); tests use a fresh one per run.
	RedisPrefix string
	Auth        service.Authenticator
	Keys        *token.KeySet // nil: generated, with a warning
	Password    password.Params
	Faults      Faults
	AuditPath   string // empty: a file in the temp dir
	// Login limits: attempts per window per client IP and per account.
	IPLimit, AccountLimit int64
	LimitWindow           time.Duration
	ReportTimeout         time.Duration
	// ReportConcurrency is the report's bulkhead (0: DefaultReportConcurrency); the
	// db-overload fault removes it.
	ReportConcurrency int
	Log               *zap.Logger
	Metrics           *prometheus.Registry
	Tracer            trace.TracerProvider
}

// DefaultReportConcurrency is how many department reports run at once on the fixed path: about
// one per core of the database, which leaves six of the eight pooled connections, and the cores,
// to the interactive routes.
const DefaultReportConcurrency = 2

// App is a wired service.
type App struct {
	Store   *sqlstore.Store
	Service *service.Service
	API     *httpapi.API
	Audit   *audit.Writer
	Auth    service.Authenticator

	auditPath string
	closers   []func(context.Context) error
}

// AuditPath is the audit file the service appends to.
func (a *App) AuditPath() string { return a.auditPath }

// New builds the service.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider()
	}
	if cfg.Password == (password.Params{}) {
		cfg.Password = password.DefaultParams()
	}
	if cfg.IPLimit == 0 {
		cfg.IPLimit = 30
	}
	if cfg.AccountLimit == 0 {
		cfg.AccountLimit = 10
	}
	if cfg.LimitWindow == 0 {
		cfg.LimitWindow = time.Minute
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = "lab3:"
	}
	a := &App{}
	defer func() {
		if err != nil {
			_ = a.Close(context.Background())
		}
	}()

	a.Store = cfg.Store
	if a.Store == nil {
		pool := sqlstore.DefaultPool()
		if cfg.Faults.DBOverload {
			pool = sqlstore.Pool{} // the defect: no limits, no statement deadline
		}
		if cfg.Pool != nil {
			pool = *cfg.Pool
		}
		dsn := cfg.DSN
		if cfg.Dialect == sqlstore.SQLite && dsn == "" {
			dsn = filepath.Join(os.TempDir(), "lab-3-users.db")
		}
		a.Store, err = sqlstore.Open(ctx, sqlstore.Config{Dialect: cfg.Dialect, DSN: dsn, Pool: pool, Tracer: cfg.Tracer})
		if err != nil {
			return nil, err
		}
		st := a.Store
		a.closers = append(a.closers, func(context.Context) error { return st.Close() })
		if err := a.Store.Migrate(ctx); err != nil {
			return nil, err
		}
	}

	// Without Redis the revocations live in the SQL store, so they survive a restart.
	var revStore revocation.Store = a.Store
	var counter ratelimit.Counter = ratelimit.NewMemory()
	if cfg.RedisAddr != "" {
		rc := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, DialTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
		a.closers = append(a.closers, func(context.Context) error { return rc.Close() })
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		perr := rc.Ping(pctx).Err()
		cancel()
		if perr != nil {
			return nil, fmt.Errorf("redis at %s: %w", cfg.RedisAddr, perr)
		}
		revStore = revocation.NewRedis(rc, cfg.RedisPrefix+"rev:")
		counter = ratelimit.Fallback{Primary: ratelimit.NewRedis(rc, cfg.RedisPrefix+"rl:"), Secondary: ratelimit.NewMemory(),
			OnError: func(err error) {
				cfg.Log.Warn("redis rate limiter failed; using the in-process fallback", zap.Error(err))
			}}
	}

	a.Auth = cfg.Auth
	if a.Auth == nil {
		keys := cfg.Keys
		if keys == nil {
			keys, err = token.GenerateKeySet("dev")
			if err != nil {
				return nil, err
			}
			cfg.Log.Warn("no JWT_KEYS or JWT_KEYS_FILE: generated a development signing key; tokens die with this process")
		}
		a.Auth = auth.New(password.New(cfg.Password), token.NewIssuer(keys, token.DefaultConfig()), revStore)
	}

	auditPath := cfg.AuditPath
	if auditPath == "" {
		auditPath = filepath.Join(os.TempDir(), "lab-3-audit.log")
	}
	a.auditPath = auditPath
	a.Audit = audit.New(audit.Config{Path: auditPath, Unbounded: cfg.Faults.ThreadExhaustion, Workers: 4, Queue: 1024})
	a.closers = append(a.closers, a.Audit.Close)

	a.Service, err = service.New(ctx, service.Config{
		Repo: a.Store, Auth: a.Auth,
		IPLimiter:     ratelimit.New(counter, cfg.IPLimit, cfg.LimitWindow),
		AccountLimit:  ratelimit.New(counter, cfg.AccountLimit, cfg.LimitWindow),
		Log:           cfg.Log,
		Faults:        service.Faults{SlowRequest: cfg.Faults.SlowRequest, DBOverload: cfg.Faults.DBOverload},
		ReportTimeout: cfg.ReportTimeout,
	})
	if err != nil {
		return nil, err
	}
	if err := registerCollectors(cfg.Metrics, a); err != nil {
		return nil, err
	}
	reportSlots := cfg.ReportConcurrency
	if reportSlots == 0 {
		reportSlots = DefaultReportConcurrency
	}
	if cfg.Faults.DBOverload {
		reportSlots = 0 // the defect: every report runs at once
	}
	reportWait := cfg.ReportTimeout
	if reportWait == 0 {
		reportWait = time.Second
	}
	a.API, err = httpapi.New(httpapi.Config{Service: a.Service, Log: cfg.Log, Metrics: cfg.Metrics, Tracer: cfg.Tracer, Audit: a.Audit,
		ReportConcurrency: reportSlots, ReportQueueWait: reportWait})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Close releases everything New opened, in reverse order.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers = nil
	return errors.Join(errs...)
}

// OSThreads is the number of OS threads the Go runtime owns right now.
func OSThreads() float64 {
	s := []metrics.Sample{{Name: "/sched/threads/total:threads"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}

// registerCollectors exports the symptom metrics of the three faults.
func registerCollectors(reg prometheus.Registerer, a *App) error {
	db := a.Store.DB()
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab3_db_open_connections", Help: "Open connections in the pool (db-overload: climbs without limit)."},
			func() float64 { return float64(db.Stats().OpenConnections) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab3_db_in_use_connections", Help: "Connections running a statement."},
			func() float64 { return float64(db.Stats().InUse) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab3_db_max_open_connections", Help: "Configured pool limit; 0 means unlimited."},
			func() float64 { return float64(db.Stats().MaxOpenConnections) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lab3_db_wait_count_total", Help: "Requests that waited for a pooled connection."},
			func() float64 { return float64(db.Stats().WaitCount) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lab3_db_wait_duration_seconds_total", Help: "Time spent waiting for a pooled connection."},
			func() float64 { return db.Stats().WaitDuration.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab3_os_threads", Help: "OS threads owned by the Go runtime (thread-exhaustion: climbs toward the limit)."}, OSThreads),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab3_audit_blocked_appends", Help: "Audit appends blocked in flock(2), each pinning an OS thread."},
			func() float64 { return float64(a.Audit.Stats().Waiting) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lab3_audit_dropped_total", Help: "Audit records shed because the bounded queue was full."},
			func() float64 { return float64(a.Audit.Stats().Dropped) }),
	}
	return telemetry.Register(reg, cs...)
}
