package register_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/example/register"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// TestMain makes this test binary the node program too: a node.Cluster
// re-executes it with the node's identity in the environment.
func TestMain(m *testing.M) {
	if node.IsChild() {
		register.NodeMain(os.Args[1:])
	}
	goleak.VerifyTestMain(m)
}

// TestAPartitionMakesLocalReadsNonLinearizable is the proof of the example
// cluster: under one seed, the same kill, restart, partition and heal, the
// local read path yields a history porcupine rejects and the quorum path
// one it accepts, with every node's profiles and the events as evidence.
func TestAPartitionMakesLocalReadsNonLinearizable(t *testing.T) {
	lab := register.Lab(os.Args[0])
	require.NoError(t, lab.Validate())
	sc := lab.Scenarios[0]
	for _, on := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), sc.Fault)
		res := runner.RunScenario(context.Background(), lab, sc, runner.ScenarioConfig{FaultOn: on, Seed: 7, Dir: dir})
		side := map[bool]string{true: "local reads", false: "quorum reads"}[on]
		require.Empty(t, res.Error, "%s: the scenario failed to run; evidence: %s", side, dir)

		labtest.AssertProperties(t, sc, res) // on: violated; off: holds
		require.Len(t, res.Properties, 1)
		p := res.Properties[0]
		t.Logf("%s: %s, %s; counts %v", side, res.Verdict, p.Detail, p.Counts)
		assert.Positive(t, p.Counts["checked"])
		assert.FileExists(t, filepath.Join(dir, history.LinearizabilityFile))
		assert.Contains(t, res.Next, filepath.Join(dir, history.LinearizabilityFile), "the next thing to open")
		html, err := os.ReadFile(filepath.Join(dir, history.LinearizabilityFile))
		require.NoError(t, err)
		assert.Contains(t, string(html), "partition", "the partition is annotated on porcupine's timeline")

		for _, name := range []string{"node1", "node2", "node3"} {
			for _, kind := range []evidence.Kind{evidence.CPU, evidence.Heap, evidence.Goroutine} {
				path := filepath.Join(dir, name, kind.File())
				f, err := os.Open(path)
				if !assert.NoError(t, err, "%s: %s's %s profile", side, name, kind) {
					continue
				}
				_, err = profile.Parse(f)
				_ = f.Close()
				assert.NoError(t, err, "%s is a profile", path)
			}
		}

		kinds := eventKinds(res.Events)
		assert.True(t, inOrder(kinds, "kill node2", "restart node2", "partition node3", "heal"), "%s: events %v", side, kinds)
		md := (&report.Report{Scenarios: []report.Scenario{res}}).Markdown()
		assert.Contains(t, md, "| linearizable | ")
		assert.Regexp(t, `\| kill \| node2`, md)

		for _, pid := range pids(res.Events) {
			assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "node process %d is gone", pid)
		}
	}
}

// eventKinds is each event as "kind node" (or just the kind).
func eventKinds(events []timeline.Event) []string {
	var out []string
	for _, e := range events {
		s := e.Kind
		if m := regexp.MustCompile(`^node\d+`).FindString(e.Detail); m != "" {
			s += " " + m
		}
		out = append(out, s)
	}
	return out
}

// inOrder reports whether want appear in got in this order.
func inOrder(got []string, want ...string) bool {
	for _, g := range got {
		if len(want) > 0 && g == want[0] {
			want = want[1:]
		}
	}
	return len(want) == 0
}

// pids are the processes the events name.
func pids(events []timeline.Event) []int {
	var out []int
	for _, e := range events {
		if m := regexp.MustCompile(`pid (\d+)`).FindStringSubmatch(e.Detail); m != nil {
			pid, _ := strconv.Atoi(m[1])
			out = append(out, pid)
		}
	}
	return out
}

func TestBadFlagsAreOneLineErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-reads=maybe"}, "expected local or quorum"},
		{[]string{"-bogus"}, "expected -reads=local|quorum"},
	}
	for _, tt := range tests {
		_, err := register.ParseFlags(tt.args)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), "\n")
	}
	o, err := register.ParseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, register.ReadQuorum, o.Reads, "the safe path is the default")
}
