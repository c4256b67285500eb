package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// leakyWorker blocks on an unbuffered send nobody receives when the caller
// has given up: the goroutine-leak defect in its smallest form.
//
//go:noinline
func leakyWorker(results chan<- int, quit <-chan struct{}) {
	select {
	case results <- 42:
	case <-quit: // only the test's cleanup closes quit
	}
}

// toyLab is a one-fault lab whose defect is real: with the fault on the
// handler returns before reading its worker's result.
func toyLab() runner.Lab {
	return runner.Lab{Number: 0, Title: "Toy", Window: 200 * time.Millisecond, Scenarios: []runner.Scenario{{
		Fault:       "toy-leak",
		Description: "a handler abandons its worker's unbuffered result channel",
		Symptom:     "goroutines grow with requests",
		Culprit:     runner.Culprit{Func: "runner_test.leakyWorker", Evidence: evidence.Goroutine},
		Checks:      []runner.Check{{Metric: "leaked_goroutines", Op: runner.Above, Threshold: 50}},
		Run: func(ctx context.Context, env *runner.Env) error {
			quit := make(chan struct{})
			env.Cleanup(func() { close(quit) })
			before := runtime.NumGoroutine()
			for range 500 {
				results := make(chan int)
				if !env.FaultOn {
					results = make(chan int, 1) // the fix: the worker can always finish
				}
				go leakyWorker(results, quit)
			}
			time.Sleep(50 * time.Millisecond) // let the fixed workers finish
			env.Record("leaked_goroutines", float64(runtime.NumGoroutine()-before))
			return nil
		},
	}}}
}

func TestLabtestProvesTheToyLab(t *testing.T) {
	labtest.Run(t, toyLab(), labtest.Seed(1), labtest.NotInCatalog())
}

func TestRunScenarioWritesEvidence(t *testing.T) {
	lab := toyLab()
	dir := filepath.Join(t.TempDir(), "toy-leak")
	res := runner.RunScenario(context.Background(), lab, lab.Scenarios[0], runner.ScenarioConfig{FaultOn: true, Seed: 1, Dir: dir})
	require.Empty(t, res.Error)
	assert.Equal(t, report.VerdictSymptom, res.Verdict)
	for _, f := range []string{"cpu.pprof", "heap.pprof", "goroutine.pprof", "goroutine.txt", "mutex.pprof",
		"block.pprof", "trace.out", "metrics.csv", "metrics.svg", "lab.log"} {
		assert.FileExists(t, filepath.Join(dir, f))
		assert.Contains(t, res.Evidence, f)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(csv), "t_seconds,goroutines,heap_live_bytes"), string(csv))
	dump, err := os.ReadFile(filepath.Join(dir, "goroutine.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(dump), "leakyWorker", "the debug=2 dump shows the stuck goroutines")
	assert.True(t, res.Culprit.Found)
}

func TestACaptureOnAFullDiskIsAReportedError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs /dev/full (Linux): %v", err)
	}
	lab := toyLab()
	dir := filepath.Join(t.TempDir(), "full")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// Every write to /dev/full fails with ENOSPC, exactly like a full disk.
	require.NoError(t, os.Symlink("/dev/full", filepath.Join(dir, "heap.pprof")))
	res := runner.RunScenario(context.Background(), lab, lab.Scenarios[0], runner.ScenarioConfig{FaultOn: true, Seed: 1, Dir: dir})
	assert.Equal(t, report.VerdictError, res.Verdict)
	assert.Contains(t, res.Error, "no space left on device")

	// A folder that cannot be created is reported too.
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	res = runner.RunScenario(context.Background(), lab, lab.Scenarios[0], runner.ScenarioConfig{Dir: filepath.Join(file, "x")})
	assert.Equal(t, report.VerdictError, res.Verdict)
	assert.Contains(t, res.Error, "not a directory")
}

func TestAPanickingScenarioIsAnError(t *testing.T) {
	lab := toyLab()
	sc := lab.Scenarios[0]
	sc.Run = func(context.Context, *runner.Env) error { panic("scenario bug") }
	res := runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{Dir: t.TempDir()})
	assert.Equal(t, report.VerdictError, res.Verdict)
	assert.Contains(t, res.Error, "panicked: scenario bug")
	// The stack is kept so the error points at the line that panicked.
	assert.Contains(t, res.Error, "TestAPanickingScenarioIsAnError")
}

func exec(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runner.Exec(context.Background(), toyLab(), append([]string{"-out", t.TempDir()}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExecBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown fault", []string{"-fault=bogus"}, `unknown fault "bogus"; valid: off, on, list, mystery, toy-leak, or compare`},
		{"bad duration", []string{"-duration=abc"}, "expected a positive Go duration such as 3s"},
		{"negative duration", []string{"-duration=-1s"}, "expected a positive Go duration"},
		{"unknown flag", []string{"-nope"}, "valid flags: -fault, -duration, -out, -seed, -answer"},
		{"bad seed", []string{"-seed=x"}, "invalid seed"},
		{"stray argument", []string{"fault=on"}, `unexpected argument "fault=on"`},
		{"answer without seed", []string{"-answer=toy-leak"}, "answer= needs the seed="},
		{"answer unknown", []string{"-answer=bogus", "-seed=1"}, `unknown fault "bogus" in answer=`},
		{"check unknown fault", []string{"-check", "-fault=bogus"}, `unknown fault "bogus"`},
		{"check bad duration", []string{"-check", "-duration=abc"}, "expected a positive Go duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := exec(t, tt.args...)
			assert.Equal(t, runner.ExitUsage, code)
			assert.Contains(t, stderr, tt.want)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

func TestPreflight(t *testing.T) {
	lab := toyLab()
	lab.Preflight = func(context.Context) (string, error) {
		return "", errors.New("store: cannot reach PostgreSQL at 127.0.0.1:1 (POSTGRES_DSN): connection refused")
	}
	var out, errOut bytes.Buffer
	code := runner.Exec(context.Background(), lab, []string{"-out", t.TempDir()}, &out, &errOut)
	assert.Equal(t, runner.ExitUsage, code)
	assert.Equal(t, "lab-0: store: cannot reach PostgreSQL at 127.0.0.1:1 (POSTGRES_DSN): connection refused\n", errOut.String())

	lab.Preflight = func(context.Context) (string, error) { return "store: embedded model", nil }
	out.Reset()
	code = runner.Exec(context.Background(), lab, []string{"-out", t.TempDir(), "-seed=1"}, &out, &errOut)
	assert.Equal(t, runner.ExitOK, code)
	assert.Contains(t, out.String(), "services: store: embedded model")
}

func TestCheckValidatesWithoutRunning(t *testing.T) {
	code, out, stderr := exec(t, "-check", "-fault=on", "-duration=1s", "-seed=4")
	assert.Equal(t, runner.ExitOK, code)
	assert.Empty(t, out)
	assert.Empty(t, stderr)
}

func TestExecListRunAndMystery(t *testing.T) {
	code, out, _ := exec(t, "-fault=list")
	assert.Equal(t, runner.ExitOK, code)
	assert.Contains(t, out, "toy-leak")

	code, out, stderr := exec(t, "-fault=on", "-seed=5")
	assert.Equal(t, runner.ExitOK, code, stderr)
	assert.Contains(t, out, "seed=5")
	assert.Contains(t, out, "/debug/pprof/")
	assert.Contains(t, out, "/metrics")
	assert.Contains(t, out, "SYMPTOM")
	assert.Contains(t, out, "next:")

	code, out, _ = exec(t, "-seed=5")
	assert.Equal(t, runner.ExitOK, code)
	assert.Contains(t, out, "healthy")

	code, out, _ = exec(t, "-fault=mystery", "-seed=9")
	assert.Equal(t, runner.ExitOK, code)
	assert.NotContains(t, out, "toy-leak", "a mystery run must not name its fault")
	dir := strings.TrimSpace(strings.SplitN(strings.SplitN(out, "evidence: ", 2)[1], "\n", 2)[0])
	for _, f := range []string{"report.json", "report.md", "postmortem-draft.md", "incident/lab.log", "baseline/lab.log"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.NotContains(t, string(b), "toy-leak", "%s must not name the mystery fault", f)
	}
	assert.Contains(t, out, "answer=<fault> seed=9")

	code, out, _ = exec(t, "-answer=toy-leak", "-seed=9")
	assert.Equal(t, runner.ExitOK, code)
	assert.Contains(t, out, "RIGHT")
	assert.Contains(t, out, "leakyWorker")
}

func TestExecWritesAReportThatRoundTrips(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := runner.Exec(context.Background(), toyLab(), []string{"-out", out, "-fault=on", "-seed=3"}, &stdout, &stderr)
	require.Equal(t, runner.ExitOK, code, stderr.String())
	matches, err := filepath.Glob(filepath.Join(out, "lab-0", "*-on", report.JSONFile))
	require.NoError(t, err)
	require.Len(t, matches, 1)
	rep, err := report.ReadJSON(matches[0])
	require.NoError(t, err)
	assert.Equal(t, uint64(3), rep.Seed)
	require.Len(t, rep.Scenarios, 1)
	assert.Equal(t, report.VerdictSymptom, rep.Scenarios[0].Verdict)
	assert.Equal(t, runtime.NumCPU(), rep.NumCPU)
	lr, err := runner.ReadLastRun(out, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, lr.Symptoms)
}

// spans.json carries attributes as the strings an engineer would type into a
// trace search, so their format is part of the evidence's contract.
func TestSpanAttributesLandInSpansJSON(t *testing.T) {
	lab := toyLab()
	sc := lab.Scenarios[0]
	sc.Run = func(ctx context.Context, env *runner.Env) error {
		_, span := env.Tracer.Tracer("runner_test").Start(ctx, "GET /users/{id}")
		span.SetAttributes(attribute.String("http.route", "/users/{id}"), attribute.Int("http.response.status_code", 503),
			attribute.Float64("retry.backoff_s", 0.25), attribute.Bool("cache.hit", false),
			attribute.StringSlice("db.tables", []string{"users", "orders"}))
		span.End()
		return nil
	}
	dir := t.TempDir()
	runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{Dir: dir})

	b, err := os.ReadFile(filepath.Join(dir, "spans.json"))
	require.NoError(t, err)
	var spans []struct {
		Name       string            `json:"name"`
		Attributes map[string]string `json:"attributes"`
	}
	require.NoError(t, json.Unmarshal(b, &spans))
	require.Len(t, spans, 1)
	assert.Equal(t, "GET /users/{id}", spans[0].Name)
	assert.Equal(t, map[string]string{
		"http.route": "/users/{id}", "http.response.status_code": "503",
		"retry.backoff_s": "0.25", "cache.hit": "false", "db.tables": `["users","orders"]`,
	}, spans[0].Attributes)
}
