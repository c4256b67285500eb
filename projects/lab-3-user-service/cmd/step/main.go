// Command step runs the user service at one step of its evolution, on one address, with the
// same HTTP API at every step:
//
//	go run ./cmd/step -step=monolith   # one package, handlers talking SQL
//	go run ./cmd/step -step=modular    # httpapi -> service -> sqlstore (what cmd/server runs)
//	go run ./cmd/step -step=split      # the same, auth in its own process over gRPC
//	go run ./cmd/step -step=seedling   # gateway -> 2 user services -> authd, via a registry
//
// or `make serve lab=3 step=NAME`. The API listens on -addr (127.0.0.1:8300); the child
// processes (split, seedling) log to -dir/<component>/node<i>/node.log.
//
//	go run ./cmd/step -measure [-c 16] [-d 5s]
//
// measures every step under the same closed-loop load on GET /v1/me, then takes processes
// away (authd frozen, then killed; the registry; a user service) and measures what callers see: the figures of the
// README's evolution table.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/steps"
)

func main() {
	if node.IsChild() { // this binary is also the registry, authd and user-service program
		steps.NodeMain()
	}
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "step:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("step", flag.ContinueOnError)
	name := fs.String("step", "modular", "monolith, modular, split or seedling")
	addr := fs.String("addr", "127.0.0.1:8300", "the API's address")
	dir := fs.String("dir", "", "folder for the database and the children's logs (default: a new temp folder)")
	users := fs.Int("users", 2, "seedling: user-service instances behind the gateway")
	measure := fs.Bool("measure", false, "measure every step (latency under load, then with processes down) and print the table")
	conc := fs.Int("c", 16, "measure: concurrent closed-loop clients")
	dur := fs.Duration("d", 5*time.Second, "measure: load window per step")
	outage := fs.Duration("outage", 2*time.Second, "measure: load window with a process down")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: expected flags only (-step=NAME)", fs.Arg(0))
	}
	if *users < 1 || *conc < 1 || *dur <= 0 || *outage <= 0 {
		return errors.New("-users, -c, -d and -outage must be positive")
	}
	program, err := os.Executable()
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "lab-3-step-"); err != nil {
			return err
		}
	}
	if *measure {
		return measureAll(ctx, program, *dir, *conc, *dur, *outage, *users)
	}
	step, err := steps.Parse(*name)
	if err != nil {
		return err
	}
	log := telemetry.NewLogger(os.Stderr, telemetry.LoggerOptions{Console: telemetry.IsTerminal(os.Stderr), Level: zapcore.InfoLevel})
	defer func() { _ = log.Sync() }()
	d, err := steps.Start(ctx, step, steps.Options{Program: program, Dir: *dir, Addr: *addr, Users: *users, Log: log})
	if err != nil {
		return err
	}
	log.Info("user service listening", zap.String("step", string(step)), zap.String("url", d.URL), zap.String("database", d.DBPath), zap.String("logs", *dir))
	for _, c := range []string{steps.Registry, steps.Authd, steps.Users} {
		if cl := d.Cluster(c); cl != nil {
			for _, n := range cl.Nodes() {
				log.Info("child process", zap.String("component", c), zap.String("node", n.Name()), zap.Int("pid", n.Pid()),
					zap.String("addr", n.Addr()), zap.String("pprof", "http://"+n.DebugAddr()+"/debug/pprof/"), zap.String("log", n.LogPath()))
			}
		}
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return d.Close(sctx)
}

// row is one line of the table.
type row struct {
	step, condition string
	res             loadgen.Result
}

func (r row) String() string {
	rate := 0.0
	if r.res.Requests > 0 {
		rate = 100 * float64(r.res.Errors) / float64(r.res.Requests)
	}
	kinds := ""
	if len(r.res.ErrorKinds) > 0 {
		kinds = " (" + strings.Join(r.res.KindsByCount(), ", ") + ")"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	return fmt.Sprintf("| %s | %s | %d | %.1f%%%s | %s | %s | %s | %.0f |", r.step, r.condition, r.res.Requests, rate, kinds,
		ms(r.res.Latency.P50), ms(r.res.Latency.P99), ms(r.res.Latency.Max), r.res.Throughput)
}

func measureAll(ctx context.Context, program, dir string, conc int, dur, outage time.Duration, users int) error {
	fmt.Printf("GET /v1/me, %d closed-loop clients, %s per step (%s with a process down), argon2id at production cost, SQLite\n\n", conc, dur, outage)
	fmt.Println("| step | condition | requests | errors | p50 | p99 | max | req/s |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, step := range steps.All() {
		if err := measureStep(ctx, program, filepath.Join(dir, string(step)), step, conc, dur, outage, users); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}
	return nil
}

func measureStep(ctx context.Context, program, dir string, step steps.Step, conc int, dur, outage time.Duration, users int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The load is one account's profile reads: the login limiter is not what is measured.
	d, err := steps.Start(ctx, step, steps.Options{Program: program, Dir: dir, Addr: "127.0.0.1:0", Users: users})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = d.Close(sctx)
	}()
	token, err := session(ctx, d.URL)
	if err != nil {
		return err
	}
	client := loadgen.NewHTTPClient(conc)
	defer client.CloseIdleConnections()
	target := loadgen.HTTP(client, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/v1/me", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	})
	load := func(condition string, window time.Duration) error {
		res, err := loadgen.Run(ctx, loadgen.Config{Workers: conc, Duration: window}, target)
		if err != nil {
			return err
		}
		fmt.Println(row{step: string(step), condition: condition, res: res})
		return nil
	}
	if _, err := loadgen.Run(ctx, loadgen.Config{Workers: conc, Duration: 500 * time.Millisecond}, target); err != nil { // warm-up
		return err
	}
	if err := load("all up", dur); err != nil {
		return err
	}
	switch step {
	case steps.Split:
		authd := d.Cluster(steps.Authd).Node(1)
		// Frozen first (SIGSTOP: its socket accepts, nothing answers, as in a long GC pause or a
		// suspended VM), then dead (connections refused).
		if err := authd.Pause(); err != nil {
			return err
		}
		if err := load("authd frozen", outage); err != nil {
			return err
		}
		if err := authd.Kill(); err != nil {
			return err
		}
		return load("authd killed", outage)
	case steps.Seedling:
		if err := d.Cluster(steps.Registry).Node(1).Kill(); err != nil {
			return err
		}
		if err := load("registry killed", outage); err != nil {
			return err
		}
		if err := d.Cluster(steps.Users).Node(1).Kill(); err != nil {
			return err
		}
		if err := load("registry down, one user service killed", outage); err != nil {
			return err
		}
		if err := d.Cluster(steps.Authd).Node(1).Kill(); err != nil {
			return err
		}
		return load("registry down, authd killed too", outage)
	}
	return nil
}

// session registers and logs in one account and returns its access token.
func session(ctx context.Context, base string) (string, error) {
	post := func(path, body string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}
	r, err := post("/v1/auth/register", `{"email":"load@example.com","password":"correct-horse-battery","name":"Load"}`)
	if err != nil {
		return "", err
	}
	_ = r.Body.Close()
	r, err = post("/v1/auth/login", `{"email":"load@example.com","password":"correct-horse-battery"}`)
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeJSON(r, &tok); err != nil {
		return "", fmt.Errorf("login for the load run: status %d: %w", r.StatusCode, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("login for the load run: status %d and no access token", r.StatusCode)
	}
	return tok.AccessToken, nil
}

func decodeJSON(r *http.Response, v any) error { return json.NewDecoder(r.Body).Decode(v) }
