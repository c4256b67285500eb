package runner_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// orphanWorker waits for a reply its caller stopped waiting for.
//
//go:noinline
func orphanWorker(reply chan<- int, quit <-chan struct{}) {
	select {
	case reply <- 1:
	case <-quit:
	}
}

// scanPairs compares every pair of ids when the fault is on, where a set
// would do one lookup each: quadratic work on the CPU.
//
//go:noinline
func scanPairs(ids []int, quadratic bool) int {
	dup := 0
	if quadratic {
		for i := range ids {
			for j := range i {
				if ids[i] == ids[j] {
					dup++
				}
			}
		}
		return dup
	}
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			dup++
		}
		seen[id] = true
	}
	return dup
}

// twoFaultLab has two real defects, each with metrics and a series named for
// what it breaks, and one common signal both scenarios record.
func twoFaultLab() runner.Lab {
	return runner.Lab{Number: 0, Title: "Two faults", Window: 300 * time.Millisecond, Signals: []string{"requests_served"},
		Scenarios: []runner.Scenario{{
			Fault:       "orphaned-workers",
			Description: "a caller abandons its worker",
			Culprit:     runner.Culprit{Func: "runner_test.orphanWorker", Evidence: evidence.Goroutine},
			Checks:      []runner.Check{{Metric: "abandoned_worker_count", Op: runner.Above, Threshold: 50}},
			Run: func(ctx context.Context, env *runner.Env) error {
				quit := make(chan struct{})
				env.Cleanup(func() { close(quit) })
				before := runtime.NumGoroutine()
				env.Series("workers_left_behind", func() float64 { return float64(runtime.NumGoroutine() - before) })
				// The event names what the fault does: a mystery must drop it.
				env.Event("sweep", "workers_left_behind are never collected")
				for range 300 {
					env.Traffic().Observe(time.Millisecond, nil)
					reply := make(chan int)
					if !env.FaultOn {
						reply = make(chan int, 1)
					}
					go orphanWorker(reply, quit)
				}
				select {
				case <-ctx.Done():
				case <-time.After(env.Duration):
				}
				env.Record("abandoned_worker_count", float64(runtime.NumGoroutine()-before))
				env.Record("requests_served", 300)
				return nil
			},
		}, {
			Fault:       "quadratic-dedup",
			Description: "duplicates are found by comparing every pair",
			Culprit:     runner.Culprit{Func: "runner_test.scanPairs", Evidence: evidence.CPU},
			// 72M comparisons a scan against 12000 map inserts: the pairs
			// are tens of times slower with or without -race, and the
			// threshold sits between the two paths in both builds.
			Checks: []runner.Check{{Metric: "dedup_scan_ms", Op: runner.Above, Threshold: 15}},
			Run: func(ctx context.Context, env *runner.Env) error {
				ids := make([]int, 12000)
				for i := range ids {
					ids[i] = env.Rand.IntN(1 << 30)
				}
				var took time.Duration
				served := 0
				for end := time.Now().Add(env.Duration); served == 0 || time.Now().Before(end) && ctx.Err() == nil; served++ {
					start := time.Now()
					scanPairs(ids, env.FaultOn)
					took += time.Since(start)
					env.Traffic().Observe(time.Since(start), nil)
				}
				env.Record("dedup_scan_ms", float64(took.Microseconds())/1000/float64(served))
				env.Record("requests_served", float64(served))
				return nil
			},
		}}}
}

// secrets are the words a mystery run must not show: every fault's name and
// every metric or series a scenario owns.
func secrets(lab runner.Lab) []string {
	out := []string{"workers_left_behind"}
	for _, sc := range lab.Scenarios {
		out = append(out, sc.Fault, sc.Description)
		for _, c := range sc.Checks {
			out = append(out, c.Metric)
		}
	}
	return out
}

func TestAMysteryRunNamesNoFaultAndNoFaultMetric(t *testing.T) {
	lab := twoFaultLab()
	reg, err := lab.Registry()
	require.NoError(t, err)
	for i, sc := range lab.Scenarios {
		// Not t.Run(sc.Fault): the test's name is in its temporary folder.
		t.Run(fmt.Sprintf("fault %d", i), func(t *testing.T) {
			seed := seedHiding(t, reg.Mystery, sc.Fault)
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := runner.Exec(context.Background(), lab, []string{"-out", out, "-fault=mystery",
				"-seed=" + strconv.FormatUint(seed, 10)}, &stdout, &stderr)
			require.Equal(t, runner.ExitOK, code, stderr.String())

			texts := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
			files := 0
			require.NoError(t, filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				texts["path "+path] = path
				if d.IsDir() {
					return nil
				}
				files++
				texts[path] = readText(t, path)
				return nil
			}))
			assert.Greater(t, files, 20, "baseline and incident each write their evidence")
			for where, text := range texts {
				for _, secret := range secrets(lab) {
					assert.NotContains(t, text, secret, "%s gives the mystery away", where)
				}
			}

			// What it does show: the common signals beside the baseline.
			assert.Contains(t, stdout.String(), "BASELINE")
			for _, signal := range []string{"goroutines (max)", "heap_live_bytes (max)", "cpu_cores_used (mean)", "requests_served", runner.SignalP99} {
				assert.Contains(t, stdout.String(), signal)
			}
			matches, err := filepath.Glob(filepath.Join(out, "lab-0", "*-mystery", report.JSONFile))
			require.NoError(t, err)
			require.Len(t, matches, 1)
			rep, err := report.ReadJSON(matches[0])
			require.NoError(t, err)
			require.Len(t, rep.Scenarios, 2)
			base, inc := rep.Scenarios[0], rep.Scenarios[1]
			assert.False(t, base.FaultOn)
			assert.True(t, inc.FaultOn)
			assert.Equal(t, report.VerdictHealthy, base.Verdict, "the baseline runs the fixed path")
			assert.Equal(t, report.VerdictSymptom, inc.Verdict, "the incident runs the fault")
			kept := []string{"requests_served", runner.SignalRate, runner.SignalErrorRatio, runner.SignalP99}
			assert.ElementsMatch(t, kept, slices.Collect(maps.Keys(inc.Metrics)), "only the common signals are kept")
			assert.Empty(t, inc.Events, "a mystery drops the scenario's events")
			names := map[string]report.Signal{}
			for _, sg := range inc.Signals {
				names[sg.Name] = sg
			}
			require.Contains(t, names, "goroutines")
			if sc.Fault == "orphaned-workers" {
				assert.Greater(t, names["goroutines"].Value, names["goroutines"].Baseline+200,
					"the leak shows on the goroutines signal, not under its own name")
			}

			// answer= is where the name comes out.
			stdout.Reset()
			code = runner.Exec(context.Background(), lab, []string{"-answer=" + sc.Fault, "-seed=" + strconv.FormatUint(seed, 10)}, &stdout, &stderr)
			assert.Equal(t, runner.ExitOK, code)
			assert.Contains(t, stdout.String(), "RIGHT")
		})
	}
}

// seedHiding finds a seed whose mystery is the named fault.
func seedHiding(t *testing.T, mystery func(uint64) (string, error), name string) uint64 {
	t.Helper()
	for seed := range uint64(1000) {
		if got, err := mystery(seed); err == nil && got == name {
			return seed
		}
	}
	t.Fatalf("no seed below 1000 hides %s", name)
	return 0
}

// readText is a file as a learner's grep would see it, with gzipped
// profiles decompressed so their string tables (function names, labels) are
// searched too.
func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
		if plain, err := io.ReadAll(zr); err == nil {
			return strings.ToValidUTF8(string(plain), "?")
		}
	}
	return strings.ToValidUTF8(string(b), "?")
}
