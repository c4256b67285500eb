package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// hotNodeEnv names the node whose program burns CPU in burnCPU.
const hotNodeEnv = "LABKIT_TEST_HOT_NODE"

// burnCPU is the defect these tests look for in one node's profile.
//
//go:noinline
func burnCPU(ctx context.Context) {
	x := uint64(1)
	for ctx.Err() == nil {
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	_ = x
}

// pids remembers every process a scenario's cluster ran.
type pids struct {
	mu   sync.Mutex
	seen []int
}

func (p *pids) add(c *node.Cluster) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range c.Nodes() {
		if pid := n.Pid(); pid != 0 && !slices.Contains(p.seen, pid) {
			p.seen = append(p.seen, pid)
		}
	}
}

// wait returns after d or when ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// outage starts three nodes (node2 burning CPU), then freezes, kills and
// restarts node3, and holds the rest of the window.
func outage(seen *pids, afterStart func() error) func(ctx context.Context, env *runner.Env) error {
	return func(ctx context.Context, env *runner.Env) error {
		started := time.Now()
		c, err := node.Start(ctx, node.Config{Program: os.Args[0], N: 3, Dir: env.Dir, Env: env,
			Environ: []string{hotNodeEnv + "=node2"}, StopGrace: time.Second})
		if err != nil {
			return err
		}
		seen.add(c)
		if afterStart != nil {
			if err := afterStart(); err != nil {
				return err
			}
		}
		n3 := c.Node(3)
		steps := []func() error{
			n3.Pause, n3.Resume, n3.Kill,
			func() error { return n3.Restart(ctx) },
		}
		for _, step := range steps {
			if err := wait(ctx, env.Duration/8); err != nil {
				return nil // cancelled: the run ends, the cleanup reaps the nodes
			}
			if err := step(); err != nil {
				return err
			}
			seen.add(c)
		}
		up := 0
		for _, n := range c.Nodes() {
			if n.Running() {
				up++
			}
		}
		env.Record("nodes_up", float64(up))
		_ = wait(ctx, env.Duration-time.Since(started))
		return nil
	}
}

func outageScenario(seen *pids, afterStart func() error) runner.Scenario {
	return runner.Scenario{Fault: "hot-node", Description: "node2 spins", Symptom: "node2 is slow",
		Culprit: runner.Culprit{Func: "node_test.burnCPU", Evidence: evidence.CPU, Node: "node2"},
		Checks:  []runner.Check{{Metric: "nodes_up", Op: runner.Below, Threshold: 3}},
		Run:     outage(seen, afterStart)}
}

var testLab = runner.Lab{Number: 9, Title: "node test"}

func TestThreeNodesProfilesEventsAndCulprit(t *testing.T) {
	seen := &pids{}
	dir := t.TempDir()
	sc := outageScenario(seen, nil)
	res := runner.RunScenario(t.Context(), testLab, sc,
		runner.ScenarioConfig{FaultOn: true, Duration: 2 * time.Second, Dir: dir})
	require.Empty(t, res.Error)
	assert.Equal(t, report.VerdictHealthy, res.Verdict, "all three nodes are up after the restart")

	for _, name := range []string{"node1", "node2", "node3"} {
		for _, f := range []string{"cpu.pprof", "heap.pprof", "goroutine.pprof", "goroutine.txt", "mutex.pprof",
			"block.pprof", "trace.out", "node.log"} {
			assert.Contains(t, res.Evidence, name+"/"+f)
			assert.FileExists(t, filepath.Join(dir, name, f))
		}
	}
	assert.True(t, res.Culprit.Found, "burnCPU carries %.0f%% of node2's CPU profile", 100*res.Culprit.Share)
	assert.Equal(t, "node2", res.Culprit.Node)
	assert.Equal(t, "go tool pprof -top "+filepath.Join(dir, "node2", "cpu.pprof"), res.Next)

	// The contrast: the same frame is absent from a node that does not spin.
	for _, other := range []string{"node1", "node3"} {
		c := sc.Culprit
		c.Node = other
		got := runner.JudgeCulprit(c, dir)
		require.Empty(t, got.Error)
		assert.Less(t, got.Share, 0.5*res.Culprit.Share, "burnCPU in %s", other)
	}
	any := sc.Culprit
	any.Node = runner.AnyNode
	got := runner.JudgeCulprit(any, dir)
	assert.Equal(t, "node2", got.Node, "any node: the one whose profile shows the frame")

	var kinds []string
	for _, e := range res.Events {
		kinds = append(kinds, e.Kind+" "+strings.Fields(e.Detail)[0])
		assert.Positive(t, e.At)
		assert.Less(t, e.At, 20*time.Second, "an offset from the window's start, not a clock time")
	}
	assert.Equal(t, []string{"start node1", "start node2", "start node3",
		"pause node3", "resume node3", "kill node3", "restart node3"}, kinds)

	rep := report.Report{Schema: report.SchemaVersion, Lab: 9, Title: "node test", Faults: "on", Dir: dir,
		Started: time.Now(), Finished: time.Now(), Scenarios: []report.Scenario{res}}
	require.NoError(t, rep.WriteAll(dir))
	js, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	md, err := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
	require.NoError(t, err)
	pm, err := os.ReadFile(filepath.Join(dir, report.PostmortemFile))
	require.NoError(t, err)
	for _, kind := range []string{timeline.Kill, timeline.Pause, timeline.Restart} {
		assert.Contains(t, string(js), `"kind": "`+kind+`"`)
		assert.Contains(t, string(md), "| "+kind+" | node3")
		assert.Contains(t, string(pm), "hot-node: "+kind+" node3")
	}

	assert.Len(t, seen.seen, 4, "three nodes and node3's second process")
	for _, pid := range seen.seen {
		assert.True(t, gone(pid), "pid %d survived the scenario", pid)
	}
}

func TestNoNodeSurvivesACancelledOrFailedScenario(t *testing.T) {
	tests := []struct {
		name string
		// afterStart runs once the nodes are up; cancel is the run's parent
		// context's (Ctrl-C in runner.Main).
		afterStart func(cancel context.CancelFunc) error
		verdict    string
	}{
		{"context cancelled mid-run", func(cancel context.CancelFunc) error { cancel(); return nil }, report.VerdictError},
		{"scenario returned an error", func(context.CancelFunc) error { return errors.New("failed with its nodes up") },
			report.VerdictError},
		{"scenario panicked", func(context.CancelFunc) error { panic("with its nodes up") }, report.VerdictError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := &pids{}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			res := runner.RunScenario(ctx, testLab, outageScenario(seen, func() error { return tt.afterStart(cancel) }),
				runner.ScenarioConfig{FaultOn: true, Duration: 2 * time.Second, Dir: t.TempDir()})
			assert.Equal(t, tt.verdict, res.Verdict, res.Error)
			require.NotEmpty(t, seen.seen, "the scenario started its nodes")
			for _, pid := range seen.seen {
				assert.True(t, gone(pid), "pid %d survived", pid)
			}
		})
	}
}

// TestInProcessNodesSplitByLabel: three "nodes" sharing the runner's
// process, node2 spinning; its label carries the frame, the others' not.
func TestInProcessNodesSplitByLabel(t *testing.T) {
	dir := t.TempDir()
	sc := runner.Scenario{Fault: "hot-node", Culprit: runner.Culprit{Func: "node_test.burnCPU", Evidence: evidence.CPU, Node: "node2"},
		Checks: []runner.Check{{Metric: "x", Threshold: 1}},
		Run: func(ctx context.Context, env *runner.Env) error {
			ctx, cancel := context.WithTimeout(ctx, env.Duration)
			defer cancel()
			var wg sync.WaitGroup
			for _, name := range []string{"node1", "node2", "node3"} {
				wg.Go(func() {
					node.Label(ctx, name, func(ctx context.Context) {
						if name == "node2" {
							burnCPU(ctx)
							return
						}
						idle(ctx)
					})
				})
			}
			wg.Wait()
			env.Record("x", 0)
			return nil
		}}
	res := runner.RunScenario(t.Context(), testLab, sc, runner.ScenarioConfig{FaultOn: true, Duration: time.Second, Dir: dir})
	require.Empty(t, res.Error)
	assert.True(t, res.Culprit.Found, "burnCPU is %.0f%% of node2's samples", 100*res.Culprit.Share)
	assert.Contains(t, res.Next, "-tagfocus=node=node2")
	c := sc.Culprit
	c.Node = "node1"
	assert.Zero(t, runner.JudgeCulprit(c, dir).Share, "node1 never ran burnCPU")
}

// idle does a little work now and then, so its node has samples of its own.
//
//go:noinline
func idle(ctx context.Context) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			x := 0
			for i := range 200000 {
				x += i
			}
			_ = x
		}
	}
}

// TestANodeFrozenAtTheWindowsCloseCostsOneTimeout: its profiles cannot be
// fetched, which is noted beside them rather than failing the scenario, and
// the window does not wait a timeout per profile.
func TestANodeFrozenAtTheWindowsCloseCostsOneTimeout(t *testing.T) {
	seen := &pids{}
	dir := t.TempDir()
	sc := runner.Scenario{Fault: "frozen", Checks: []runner.Check{{Metric: "x", Threshold: 1}},
		Culprit: runner.Culprit{Func: "node_test.burnCPU", Evidence: evidence.CPU, Node: "node2"},
		Run: func(ctx context.Context, env *runner.Env) error {
			c, err := node.Start(ctx, node.Config{Program: os.Args[0], N: 2, Dir: env.Dir, Env: env,
				Environ: []string{hotNodeEnv + "=node2"}})
			if err != nil {
				return err
			}
			seen.add(c)
			_ = wait(ctx, env.Duration/2)
			env.Record("x", 0)
			return c.Node(1).Pause()
		}}
	start := time.Now()
	res := runner.RunScenario(t.Context(), testLab, sc, runner.ScenarioConfig{Duration: time.Second, Dir: dir})
	elapsed := time.Since(start)
	require.Empty(t, res.Error)
	assert.True(t, res.Culprit.Found, "the running node's evidence is complete")
	assert.Contains(t, res.Evidence, "node1/capture-errors.txt")
	assert.NotContains(t, res.Evidence, "node1/heap.pprof")
	// A second of window, the nodes' start, the frozen trace cut off a
	// second after the window's end, and one shared deadline (3s) for the
	// final fetches, rather than one per profile (6 x 3s).
	// (6.6s in `go test -race -count=1 -run Frozen -v ./node`; a timeout per
	// profile would add 5 x 3s.)
	assert.Less(t, elapsed, 14*time.Second)
	for _, pid := range seen.seen {
		assert.True(t, gone(pid), "pid %d survived", pid)
	}
}
