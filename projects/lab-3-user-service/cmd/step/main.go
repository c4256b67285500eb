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
//	go run ./cmd/step -measure [-c 16] [-d 3s] [-rounds 5]
//
// measures every step under the same closed-loop load on GET /v1/me, in interleaved rounds
// (the four steps run side by side, so a busy machine slows each of them alike), then takes processes
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
	"slices"
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
	dur := fs.Duration("d", 3*time.Second, "measure: load window per step and round")
	outage := fs.Duration("outage", 2*time.Second, "measure: load window with a process down")
	rounds := fs.Int("rounds", 5, "measure: interleaved rounds per step")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: expected flags only (-step=NAME)", fs.Arg(0))
	}
	if *users < 1 || *conc < 1 || *dur <= 0 || *outage <= 0 || *rounds < 1 {
		return errors.New("-users, -c, -d, -outage and -rounds must be positive")
	}
	step, err := steps.Parse(*name)
	if err != nil && !*measure {
		return err
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
		return measureAll(ctx, program, *dir, *conc, *dur, *outage, *users, *rounds)
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

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func errorRate(r loadgen.Result) string {
	rate := 0.0
	if r.Requests > 0 {
		rate = 100 * float64(r.Errors) / float64(r.Requests)
	}
	kinds := ""
	if len(r.ErrorKinds) > 0 {
		kinds = " (" + strings.Join(r.KindsByCount(), ", ") + ")"
	}
	return fmt.Sprintf("%.1f%%%s", rate, kinds)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// deployment is a running step with a load target on one account's profile reads.
type deployment struct {
	step   steps.Step
	d      *steps.Deployment
	target loadgen.Target
	client *http.Client
}

// measureAll starts the four steps side by side and measures them in interleaved rounds, so
// that whatever else the machine is doing falls on every step alike; then it takes the split's
// and the seedling's processes away and measures what callers see.
func measureAll(ctx context.Context, program, dir string, conc int, dur, outage time.Duration, users, rounds int) error {
	var deps []*deployment
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for _, dp := range deps {
			_ = dp.d.Close(sctx)
			dp.client.CloseIdleConnections()
		}
	}()
	for _, step := range steps.All() {
		sub := filepath.Join(dir, string(step))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		d, err := steps.Start(ctx, step, steps.Options{Program: program, Dir: sub, Addr: "127.0.0.1:0", Users: users})
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		dp := &deployment{step: step, d: d, client: loadgen.NewHTTPClient(conc)}
		deps = append(deps, dp)
		token, err := session(ctx, d.URL)
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		dp.target = loadgen.HTTP(dp.client, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/v1/me", nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return req, err
		})
		if _, err := loadgen.Run(ctx, loadgen.Config{Workers: conc, Duration: 500 * time.Millisecond}, dp.target); err != nil { // warm-up
			return err
		}
	}

	fmt.Printf("GET /v1/me, %d closed-loop clients, %d interleaved rounds of %s per step; argon2id at production cost, SQLite\n\n", conc, rounds, dur)
	fmt.Println("| step | requests | errors | p50 (median of rounds, range) | p99 (median, range) | req/s (median) |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	results := make([][]loadgen.Result, len(deps))
	for range rounds {
		for i, dp := range deps {
			res, err := loadgen.Run(ctx, loadgen.Config{Workers: conc, Duration: dur}, dp.target)
			if err != nil {
				return err
			}
			results[i] = append(results[i], res)
		}
	}
	for i, dp := range deps {
		var p50, p99, rps []float64
		var total loadgen.Result
		total.ErrorKinds = map[string]int64{}
		for _, r := range results[i] {
			p50, p99, rps = append(p50, float64(r.Latency.P50)), append(p99, float64(r.Latency.P99)), append(rps, r.Throughput)
			total.Requests += r.Requests
			total.Errors += r.Errors
			for k, n := range r.ErrorKinds {
				total.ErrorKinds[k] += n
			}
		}
		span := func(xs []float64) string {
			return fmt.Sprintf("%s (%s to %s)", ms(time.Duration(median(xs))), ms(time.Duration(slices.Min(xs))), ms(time.Duration(slices.Max(xs))))
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %.0f |\n", dp.step, total.Requests, errorRate(total), span(p50), span(p99), median(rps))
	}

	fmt.Printf("\nWith processes taken away, in this order, %s of the same load each:\n\n", outage)
	fmt.Println("| step | condition | requests | errors | p50 | p99 | max | req/s |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, dp := range deps {
		load := func(condition string) error {
			r, err := loadgen.Run(ctx, loadgen.Config{Workers: conc, Duration: outage}, dp.target)
			if err != nil {
				return err
			}
			fmt.Printf("| %s | %s | %d | %s | %s | %s | %s | %.0f |\n", dp.step, condition, r.Requests, errorRate(r),
				ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max), r.Throughput)
			return nil
		}
		var plan []struct {
			condition string
			act       func() error
		}
		add := func(condition string, act func() error) {
			plan = append(plan, struct {
				condition string
				act       func() error
			}{condition, act})
		}
		switch dp.step {
		case steps.Split:
			authd := dp.d.Cluster(steps.Authd).Node(1)
			// Frozen first (SIGSTOP: its socket accepts, nothing answers, as in a long GC
			// pause or a suspended VM), then dead (connections refused).
			add("authd frozen", authd.Pause)
			add("authd killed", authd.Kill)
		case steps.Seedling:
			add("registry killed", dp.d.Cluster(steps.Registry).Node(1).Kill)
			add("registry down, one user service killed", dp.d.Cluster(steps.Users).Node(1).Kill)
			add("registry down, authd killed too", dp.d.Cluster(steps.Authd).Node(1).Kill)
		}
		for _, p := range plan {
			if err := p.act(); err != nil {
				return fmt.Errorf("%s: %s: %w", dp.step, p.condition, err)
			}
			if err := load(p.condition); err != nil {
				return err
			}
		}
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
