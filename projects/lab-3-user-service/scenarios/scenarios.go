// Package scenarios is lab 3's faults as labkit scenarios: each starts the real user service on
// a loopback port over a private scratch database (embedded SQLite, or MariaDB/PostgreSQL with
// LAB3_DB=mysql|postgres), drives it with labkit's load generator, and records the symptom.
package scenarios

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/app"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/audit"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// Lab is lab 3 on the backend LAB3_DB names (embedded SQLite by default). A bad LAB3_DB makes
// every scenario fail with the one-line reason.
func Lab() runner.Lab {
	b, err := BackendFromEnv()
	if err != nil {
		lab := LabOn(Backend{Dialect: sqlstore.SQLite})
		for i := range lab.Scenarios {
			lab.Scenarios[i].Run = func(context.Context, *runner.Env) error { return err }
		}
		// The runner stops here, before any scenario: one line, exit 2.
		lab.Preflight = func(context.Context) (string, error) { return "", err }
		return lab
	}
	lab := LabOn(b)
	lab.Preflight = b.preflight
	return lab
}

// LabOn is lab 3 on a given backend; the integration tests run it on each real database.
func LabOn(b Backend) runner.Lab {
	return runner.Lab{
		Number: 3,
		Title:  "User service",
		Window: 3 * time.Second,
		Scenarios: []runner.Scenario{
			{
				Fault:       "slow-request",
				Description: "the admin user list runs N+1 queries and filters on LOWER(department), which no index serves",
				Symptom:     "every list request runs ~51 SQL statements and its latency grows with the number of users",
				Tool:        "cat {dir}/explain.txt; go tool pprof -top -cum {dir}/cpu.pprof",
				Culprit:     runner.Culprit{Func: "sqlstore.(*Store).ListNPlusOne", Evidence: evidence.CPU},
				Checks: []runner.Check{
					{Metric: "sql_queries_per_request", Op: runner.Above, Threshold: 10, Unit: "statements"},
					{Metric: "list_p50_ms", Op: runner.Above, Threshold: slowP50Threshold(b), Unit: "ms"},
				},
				Run: func(ctx context.Context, env *runner.Env) error { return runSlowRequest(ctx, env, b) },
			},
			{
				Fault:       "db-overload",
				Description: "the department report runs on a pool without limits, without a bulkhead, a statement deadline or a breaker",
				Symptom:     "64 reports run in the database at once and everyone sharing it waits: profile reads go from milliseconds to about a second",
				Tool:        "go tool pprof -top -cum {dir}/goroutine.pprof; grep -E 'db_sessions|db_running' {dir}/metrics.csv",
				// The defect is in DepartmentReport (and the pool it is given); what the goroutine
				// profile shows is its effect: dozens of requests inside database calls at once,
				// running, or on PostgreSQL still opening a connection each. With the bulkhead
				// the reports wait outside the store, so its share drops to a few goroutines.
				Culprit: runner.Culprit{Func: "service.(*Service).DepartmentReport", Frame: "sqlstore.(*Store).", Evidence: evidence.Goroutine, MinShare: 0.05},
				Checks: []runner.Check{
					{Metric: "profile_p50_ms", Op: runner.Above, Threshold: overloadP50Threshold, Unit: "ms"},
				},
				Run: func(ctx context.Context, env *runner.Env) error { return runDBOverload(ctx, env, b) },
			},
			{
				Fault:       "thread-exhaustion",
				Description: "every request appends its audit record in a new goroutine that blocks in flock(2), pinning an OS thread",
				Symptom:     "while the audit file's lock is held, OS threads climb with every request toward the 10000-thread limit",
				Tool:        "go tool pprof -top {dir}/goroutine.pprof; grep -c flockExclusive {dir}/goroutine.txt",
				Culprit:     runner.Culprit{Func: "audit.(*Writer).Record", Evidence: evidence.Goroutine},
				Checks: []runner.Check{
					// Each goroutine blocked in a system call holds its own OS thread. The thread count
					// itself (os_threads_peak, recorded below) is not a check: the Go runtime never
					// returns threads to the OS, so a second run in one process reuses them.
					{Metric: "goroutines_in_syscall_max", Op: runner.Above, Threshold: 60, Unit: "goroutines"},
				},
				Run: func(ctx context.Context, env *runner.Env) error { return runThreadExhaustion(ctx, env, b) },
			},
		},
	}
}

// Data sizes: big enough that a full scan dominates a request, small enough to seed in about a
// second on two cores.
const (
	slowSeedUsers     = 30000
	overloadSeedUsers = 10000
)

func slowP50Threshold(b Backend) float64 {
	// Near the geometric mean of the two paths' medians. `make lab-3 fault=on seed=42` and
	// `make lab-3 seed=42` on 2026-12-01 (2 shared cores; runs listed in the README) gave list
	// medians, fault on / off: SQLite 32.08 / 1.74 ms, MariaDB 62.62 / 3.74 ms, PostgreSQL
	// 46.23 / 12.43 ms (pgx prepares every statement: more round trips per query). On
	// PostgreSQL that leaves 1.85x above and 2.0x below its threshold; sql_queries_per_request
	// (55 vs 4 in all three) is the robust check there.
	switch b.Dialect {
	case sqlstore.MySQL:
		return 12
	case sqlstore.Postgres:
		return 25
	default:
		return 8
	}
}

// runSlowRequest lists the 76 users of a rare department, page by page of 50, with 4 workers.
func runSlowRequest(ctx context.Context, env *runner.Env, b Backend) error {
	r, err := newRig(ctx, env, b, rigOptions{workers: 4, seed: slowSeedUsers, faults: app.Faults{SlowRequest: env.FaultOn}})
	if err != nil {
		return err
	}
	q := user.ListQuery{Department: "security", Limit: 50}
	var plans []byte
	for _, fault := range []bool{true, false} {
		plan, err := r.app.Store.ExplainList(ctx, fault, q)
		if err != nil {
			return err
		}
		label := "FIXED path (runs when the fault is off)"
		if fault {
			label = "FAULT path (runs when the fault is on)"
		}
		plans = append(plans, fmt.Sprintf("== %s\n%s\n", label, plan)...)
	}
	if err := env.WriteFile("explain.txt", plans); err != nil {
		return err
	}
	before := r.app.Store.Queries()
	env.Series("sql_statements_total", func() float64 { return float64(r.app.Store.Queries() - before) })
	res, err := loadgen.Run(ctx, loadgen.Config{Workers: 4, Duration: env.Duration},
		r.get("/v1/admin/users?department=security&limit=50", r.admin))
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	env.Log.Info("load: " + summary(res))
	if res.Requests == 0 {
		return errNoRequests
	}
	env.Record("sql_queries_per_request", float64(r.app.Store.Queries()-before)/float64(res.Requests))
	env.Record("list_p50_ms", ms(res.Latency.P50))
	env.Record("list_p99_ms", ms(res.Latency.P99))
	env.Record("list_rps", res.Throughput)
	return nil
}

// Offered load of the db-overload scenario, the same on both paths: 64 people refreshing the
// department report (closed loop: each sends the next as soon as the last is answered) while
// other users read their profiles at a steady 20 per second (open loop, so a slow answer does
// not lower the offered rate). The harm is what the profile readers feel.
const (
	overloadReportClients = 64
	overloadProfileRate   = 20
)

// runDBOverload runs the reports and the profile reads side by side and records what the users
// and the database feel: profile latency and errors, report outcomes, and the database's own
// count of sessions and running statements.
func runDBOverload(ctx context.Context, env *runner.Env, b Backend) error {
	r, err := newRig(ctx, env, b, rigOptions{workers: overloadReportClients + 32, seed: overloadSeedUsers, faults: app.Faults{DBOverload: env.FaultOn},
		tune: func(c *app.Config) { c.ReportTimeout = time.Second }})
	if err != nil {
		return err
	}
	mon, err := r.app.Store.OpenMonitor(ctx)
	if err != nil {
		return err
	}
	env.Cleanup(func() { _ = mon.Close() })
	db := r.app.Store.DB()
	var mu sync.Mutex
	var peak sqlstore.Activity
	maxOpen := 0
	var monErr error
	sample := func() sqlstore.Activity {
		a, err := mon.Activity(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			monErr = err
			return a
		}
		peak.Connected, peak.Running = max(peak.Connected, a.Connected), max(peak.Running, a.Running)
		peak.ServerConnected, peak.ServerRunning = max(peak.ServerConnected, a.ServerConnected), max(peak.ServerRunning, a.ServerRunning)
		maxOpen = max(maxOpen, db.Stats().OpenConnections)
		return a
	}
	env.Series("db_sessions", func() float64 { return float64(sample().Connected) })
	env.Series("db_running_statements", func() float64 { return float64(sample().Running) })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample faster than the series so the peak is not missed
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	snap := snapshotMidway(ctx, env, func() error { return env.Snapshot(evidence.Goroutine) })
	var profile loadgen.Result
	var profileErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		profile, profileErr = loadgen.Run(ctx, loadgen.Config{Rate: overloadProfileRate, Workers: 32, Duration: env.Duration},
			r.get("/v1/me", r.user))
	}()
	reports, err := loadgen.Run(ctx, loadgen.Config{Workers: overloadReportClients, Duration: env.Duration},
		r.get("/v1/admin/reports/departments", r.admin))
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	if profileErr != nil {
		return profileErr
	}
	env.Traffic().Add(profile)
	env.Traffic().Add(reports)
	if err := <-snap; err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if monErr != nil {
		return monErr
	}
	env.Log.Info("load (reports): " + summary(reports))
	env.Log.Info("load (profile reads): " + summary(profile))
	if profile.Requests == 0 || reports.Requests == 0 {
		return errNoRequests
	}
	env.Record("profile_p99_ms", ms(profile.Latency.P99))
	env.Record("profile_p50_ms", ms(profile.Latency.P50))
	env.Record("profile_errors", float64(profile.Errors))
	env.Record("profile_missed", float64(profile.Missed))
	env.Record("report_p50_ms", ms(reports.Latency.P50))
	env.Record("report_p99_ms", ms(reports.Latency.P99))
	env.Record("report_ok_rps", float64(reports.Requests-reports.Errors)/reports.Elapsed.Seconds())
	env.Record("report_shed", float64(reports.Errors))
	env.Record("db_sessions_max", float64(peak.Connected))
	env.Record("db_running_statements_max", float64(peak.Running))
	if b.Dialect == sqlstore.MySQL {
		env.Record("mysql_threads_connected_max", float64(peak.ServerConnected))
		env.Record("mysql_threads_running_max", float64(peak.ServerRunning))
	}
	env.Record("db_open_connections_max", float64(maxOpen))
	return nil
}

func goroutinesInSyscall() float64 {
	s := []metrics.Sample{{Name: "/sched/goroutines/not-in-go:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64())
}

// runThreadExhaustion reads profiles (each read is audited) while another holder keeps the audit
// file's lock, as a log rotation or shipper would. The lock holder is the slow dependency; the
// defect is how the service waits for it.
func runThreadExhaustion(ctx context.Context, env *runner.Env, b Backend) error {
	r, err := newRig(ctx, env, b, rigOptions{workers: 8, faults: app.Faults{ThreadExhaustion: env.FaultOn}})
	if err != nil {
		return err
	}
	path := r.app.AuditPath()
	release, err := audit.Lock(path)
	if err != nil {
		return err
	}
	var once sync.Once
	unlock := func() { once.Do(func() { _ = release() }) }
	env.Cleanup(unlock) // registered last, runs first: the blocked appends finish before Close
	threadsBefore := app.OSThreads()
	var mu sync.Mutex
	peakSys, peakThreads := 0.0, threadsBefore
	sample := func() {
		mu.Lock()
		defer mu.Unlock()
		peakSys = max(peakSys, goroutinesInSyscall())
		peakThreads = max(peakThreads, app.OSThreads())
	}
	// The runner already samples os_threads; this series samples the peaks on the way.
	env.Series("goroutines_in_syscall", func() float64 { sample(); return goroutinesInSyscall() })
	env.Series("audit_blocked_appends", func() float64 { return float64(r.app.Audit.Stats().Waiting) })
	res, err := loadgen.Run(ctx, loadgen.Config{Workers: 8, Duration: env.Duration, MaxRequests: 400,
		OnInterval: func(loadgen.Interval) { sample() }}, r.get("/v1/me", r.user))
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	// Appends start after the response is written; give the last ones a moment to reach flock.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		sample()
		time.Sleep(20 * time.Millisecond)
	}
	env.Log.Info("load: " + summary(res))
	st := r.app.Audit.Stats()
	mu.Lock()
	defer mu.Unlock()
	env.Record("goroutines_in_syscall_max", peakSys)
	env.Record("os_threads_growth", peakThreads-threadsBefore)
	env.Record("os_threads_peak", peakThreads)
	env.Record("audit_blocked_appends", float64(st.Waiting))
	env.Record("audit_dropped", float64(st.Dropped))
	env.Record("profile_p99_ms", ms(res.Latency.P99))
	return nil
}

// overloadP50Threshold separates the profile reads' median with the fault on and off. The median,
// not the p99: a 3 s window at 20 reads a second gives 60 samples, so the p99 is the slowest one
// or two and swings with the machine's other load. Runs of `make lab-3 fault=on seed=42` and
// `make lab-3 seed=42` (LAB3_DB=sqlite, mysql, postgres) on 2026-12-01 gave medians of
// 125.30 / 1.50 ms (SQLite), 199.36 / 3.04 ms (MariaDB) and 1691.35 / 1.99 ms (PostgreSQL), fault on /
// off; the README lists the runs. 20 ms was too close to the fixed path on a busy machine:
// `flock /tmp/arch-heavy.lock go test -count=1 -p 1 ./scenarios` at load average 3–3.5 gave
// fixed-path medians of 20.4, 29.3, 29.8 and 31.2 ms in 3 of 10 runs, while the lowest fault-on
// median seen was 97.8 ms. 50 ms leaves about 2x on each side.
const overloadP50Threshold = 50
