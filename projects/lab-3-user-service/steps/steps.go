// Package steps starts the user service at each step of its evolution, each serving the same
// HTTP API on one address:
//
//	monolith  one package, handlers talking SQL            (package monolith, in this process)
//	modular   httpapi -> service -> sqlstore, auth module  (package app, in this process)
//	split     the same, with auth in its own process        (authd over gRPC: a child process)
//	seedling  gateway -> N user services -> authd, found    (registry, authd and users: child
//	          through a registry with TTL heartbeats          processes; the gateway in this one)
//
// cmd/step runs one of them for a learner; the API suite in this package's tests runs against
// all four. The child processes are labkit/node clusters of one program (Options.Program),
// which becomes a registry, an auth service or a user service according to its environment:
// a test binary whose TestMain calls NodeMain, or cmd/step itself.
package steps

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/app"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/gateway"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/monolith"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/registry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
)

// Step is one stage of the evolution.
type Step string

// The four steps, in order.
const (
	Monolith Step = "monolith"
	Modular  Step = "modular"
	Split    Step = "split"
	Seedling Step = "seedling"
)

// All returns the steps in order.
func All() []Step { return []Step{Monolith, Modular, Split, Seedling} }

// Parse checks a step name.
func Parse(s string) (Step, error) {
	for _, st := range All() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown step %q: expected monolith, modular, split or seedling", s)
}

// Options configure a deployment.
type Options struct {
	// Program runs the child processes of split and seedling (it must call NodeMain when
	// node.IsChild reports true): os.Args[0] in a test, the cmd/step binary otherwise.
	Program string
	// Dir holds the users database and each child's log (Dir/<component>/node1/node.log).
	Dir string
	// Addr is the API's address (default 127.0.0.1:0).
	Addr string
	// FastHash uses password.TestParams instead of argon2id's production cost: tests only.
	FastHash bool
	// Login and registration limits per minute, per client IP and per account (defaults 30 and 10).
	IPLimit, AccountLimit int
	// Users is the seedling's number of user-service instances (default 2).
	Users int
	// TTL is the seedling's registration TTL (default 1.5 s; heartbeats every TTL/3).
	TTL time.Duration
	// Env, when set, records node events and owns the children's lifetime (a *runner.Env).
	Env node.Env
	Log *zap.Logger
}

// Component names of the child clusters.
const (
	Registry = "registry"
	Authd    = "authd"
	Users    = "users"
)

// Deployment is one running step.
type Deployment struct {
	Step Step
	// URL is the API's base URL, http://host:port.
	URL string
	// DBPath is the users database (SQLite).
	DBPath   string
	clusters map[string]*node.Cluster
	closers  []func(context.Context) error
}

// Cluster returns a component's child processes (nil for one that runs in this process).
func (d *Deployment) Cluster(component string) *node.Cluster { return d.clusters[component] }

// Close stops the API and every child, newest first.
func (d *Deployment) Close(ctx context.Context) error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i](ctx))
	}
	d.closers = nil
	return errors.Join(errs...)
}

// SetRole changes a user's role straight in the database, as an operator's UPDATE would: it is
// how the API suite makes its first admin, the same way on every step. The token version is
// left alone, so the user's tokens stay valid and the new role applies to their next request.
func (d *Deployment) SetRole(ctx context.Context, email, role string) error {
	db, err := sql.Open("sqlite", "file:"+d.DBPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, `UPDATE users SET role = ? WHERE email = ?`, role, strings.ToLower(email))
	if err != nil {
		return fmt.Errorf("set role of %s: %w", email, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("set role of %s: no such user", email)
	}
	return nil
}

// child environment variables
const (
	envRole         = "LAB3_STEP_ROLE"
	envDB           = "LAB3_STEP_DB"
	envAuth         = "LAB3_STEP_AUTH"
	envRegistry     = "LAB3_STEP_REGISTRY"
	envFastHash     = "LAB3_STEP_FAST_HASH"
	envIPLimit      = "LAB3_STEP_IP_LIMIT"
	envAccountLimit = "LAB3_STEP_ACCOUNT_LIMIT"
	envTTL          = "LAB3_STEP_TTL"
	envKeys         = "JWT_KEYS"
)

// Start runs step and returns once its API answers.
func Start(ctx context.Context, step Step, o Options) (_ *Deployment, err error) {
	if o.Dir == "" {
		return nil, errors.New("steps: Options.Dir is empty (want a folder for the database and logs)")
	}
	if (step == Split || step == Seedling) && o.Program == "" {
		return nil, fmt.Errorf("steps: %s runs child processes: Options.Program is empty", step)
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.IPLimit == 0 {
		o.IPLimit = 30
	}
	if o.AccountLimit == 0 {
		o.AccountLimit = 10
	}
	if o.Users == 0 {
		o.Users = 2
	}
	if o.TTL == 0 {
		o.TTL = 1500 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	params := password.DefaultParams()
	if o.FastHash {
		params = password.TestParams()
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	d := &Deployment{Step: step, DBPath: filepath.Join(o.Dir, "users.db"), clusters: map[string]*node.Cluster{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Close(context.WithoutCancel(ctx)))
		}
	}()
	if step != Monolith {
		st, err := sqlstore.Open(ctx, sqlstore.Config{Dialect: sqlstore.SQLite, DSN: d.DBPath, Pool: sqlstore.DefaultPool()})
		if err != nil {
			return nil, err
		}
		err = st.Migrate(ctx)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	environ := []string{
		envDB + "=" + d.DBPath, envKeys + "=" + token.EncodeSeed("evo-1", key),
		envIPLimit + "=" + strconv.Itoa(o.IPLimit), envAccountLimit + "=" + strconv.Itoa(o.AccountLimit),
		envTTL + "=" + strconv.FormatInt(o.TTL.Milliseconds(), 10), envFastHash + "=" + strconv.FormatBool(o.FastHash),
	}

	var handler http.Handler
	switch step {
	case Monolith:
		m, err := monolith.New(ctx, monolith.Config{Path: d.DBPath, Password: params, Key: key, IPLimit: o.IPLimit, AccountLimit: o.AccountLimit})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func(context.Context) error { return m.Close() })
		handler = m.Handler()
	case Modular, Split:
		cfg := app.Config{Dialect: sqlstore.SQLite, DSN: d.DBPath, Password: params, IPLimit: int64(o.IPLimit), AccountLimit: int64(o.AccountLimit),
			AuditPath: filepath.Join(o.Dir, "audit.log"), Log: o.Log}
		if step == Modular {
			if cfg.Keys, err = token.NewKeySet("evo-1", key); err != nil {
				return nil, err
			}
		} else {
			c, err := d.startCluster(ctx, o, Authd, 1, append(environ, envRole+"="+Authd))
			if err != nil {
				return nil, err
			}
			client, err := authrpc.Dial(c.Node(1).Addr(), authrpc.DefaultClientConfig())
			if err != nil {
				return nil, err
			}
			d.closers = append(d.closers, func(context.Context) error { return client.Close() })
			cfg.Auth = client
		}
		a, err := app.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, a.Close)
		handler = a.API.Handler()
	case Seedling:
		if handler, err = d.startSeedling(ctx, o, environ); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("steps: unknown step %q", step)
	}

	lis, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	d.closers = append(d.closers, func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	d.URL = "http://" + lis.Addr().String()
	if step == Seedling {
		// The instances find authd through their own registry watchers: wait until every one
		// can reach it, or the first requests would meet an empty address list.
		if err := waitAuthReachable(ctx, d.URL, o.Users); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Deployment) startCluster(ctx context.Context, o Options, component string, n int, environ []string) (*node.Cluster, error) {
	c, err := node.Start(ctx, node.Config{Program: o.Program, N: n, Dir: filepath.Join(o.Dir, component), Env: o.Env, Environ: environ, StopGrace: 3 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", component, err)
	}
	d.clusters[component] = c
	d.closers = append(d.closers, func(ctx context.Context) error {
		for _, n := range c.Nodes() {
			if n.Running() {
				_ = n.Stop(ctx) // SIGTERM: the instances deregister
			}
		}
		return c.Close()
	})
	return c, nil
}

// startSeedling starts the registry, authd and the user services as children, and returns the
// gateway in front of them.
func (d *Deployment) startSeedling(ctx context.Context, o Options, environ []string) (http.Handler, error) {
	reg, err := d.startCluster(ctx, o, Registry, 1, append(environ, envRole+"="+Registry))
	if err != nil {
		return nil, err
	}
	environ = append(environ, envRegistry+"="+reg.Node(1).Addr(), envAuth+"="+registry.Scheme+":///"+Authd)
	rc := registry.NewClient(reg.Node(1).Addr())
	if _, err := d.startCluster(ctx, o, Authd, 1, append(environ, envRole+"="+Authd)); err != nil {
		return nil, err
	}
	// A user service needs authd at startup (it hashes its dummy password there): start them
	// once authd is listed, as a deployment's readiness ordering would.
	if err := d.waitListed(ctx, rc, o, Authd, 1); err != nil {
		return nil, err
	}
	if _, err := d.startCluster(ctx, o, Users, o.Users, append(environ, envRole+"="+Users)); err != nil {
		return nil, err
	}
	if err := d.waitListed(ctx, rc, o, Users, o.Users); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := rc.Watch(wctx, Users, 250*time.Millisecond)
	d.closers = append(d.closers, func(context.Context) error { cancel(); w.Close(); return nil })
	return gateway.New(gateway.Config{Upstream: w})
}

// waitListed waits up to 15 s until the registry lists n instances of service.
func (d *Deployment) waitListed(ctx context.Context, rc *registry.Client, o Options, service string, n int) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, err := rc.Lookup(ctx, service)
		if len(list) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("the registry answered with too few")
			}
			return fmt.Errorf("seedling: %d of %d %s instances registered within 15 s (logs in %s): %w", len(list), n, service, filepath.Join(o.Dir, service), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitAuthReachable sends refresh requests with a malformed token until n in a row get the
// auth service's refusal (401), not a 503: every instance behind the gateway then reaches authd.
func waitAuthReachable(ctx context.Context, base string, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	ok, last := 0, 0
	for ok < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("seedling: the user services did not reach authd within 10 s (last status %d)", last)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/auth/refresh", strings.NewReader(`{"refresh_token":"probe"}`))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		last = resp.StatusCode
		if last == http.StatusUnauthorized {
			ok++
			continue
		}
		ok = 0
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return n
	}
	return def
}
