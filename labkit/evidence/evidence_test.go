package evidence_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

//go:noinline
func contend(mu *sync.Mutex, n int) {
	for range n {
		mu.Lock()
		time.Sleep(50 * time.Microsecond) // hold the lock so others queue
		mu.Unlock()
	}
}

func contention(workers, n int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { contend(&mu, n) })
	}
	wg.Wait()
}

func TestCaptureWritesEveryFileAndScopesMutexToTheWindow(t *testing.T) {
	dir := t.TempDir()
	c, err := evidence.Start(dir, evidence.Options{SampleEvery: 20 * time.Millisecond, MutexFraction: 1})
	require.NoError(t, err)
	var ticks float64
	c.Series("ticks", func() float64 { ticks++; return ticks })
	contention(8, 40)
	require.NoError(t, c.Snapshot(evidence.Goroutine))
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, c.WriteFile("extra.txt", []byte("hello")))
	require.NoError(t, c.Stop())

	want := []string{"block.pprof", "cpu.pprof", "extra.txt", "goroutine.pprof", "goroutine.txt", "heap.pprof",
		"metrics.csv", "metrics.svg", "mutex.pprof", "trace.out"}
	assert.Equal(t, want, c.Files())
	for _, f := range want {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, st.Size(), f)
	}

	a, err := culprit.Analyze(filepath.Join(dir, "mutex.pprof"))
	require.NoError(t, err)
	_, share := a.Share("evidence_test.contend")
	assert.Greater(t, share, 0.8, "the window's mutex profile is the contention it saw")

	// A second window sees none of the first window's contention.
	dir2 := t.TempDir()
	c2, err := evidence.Start(dir2, evidence.Options{MutexFraction: 1})
	require.NoError(t, err)
	require.NoError(t, c2.Stop())
	a2, err := culprit.Analyze(filepath.Join(dir2, "mutex.pprof"))
	require.NoError(t, err)
	_, share2 := a2.Share("evidence_test.contend")
	assert.Zero(t, share2, "mutex profiles are deltas, not the process's history")

	csv, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	require.Greater(t, len(lines), 2)
	assert.Equal(t, "t_seconds,goroutines,heap_live_bytes,gc_cycles,gc_pause_p99_seconds,sched_latency_p99_seconds,os_threads,cpu_cores_used,ticks", lines[0])
	svg, err := os.ReadFile(filepath.Join(dir, "metrics.svg"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(svg, []byte("<svg")))
	assert.Contains(t, string(svg), "goroutines")
}

func TestSnapshotRejectsCPU(t *testing.T) {
	c, err := evidence.Start(t.TempDir(), evidence.Options{NoTrace: true})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Stop()) }()
	require.ErrorContains(t, c.Snapshot(evidence.CPU), "cannot snapshot")
	require.ErrorContains(t, c.WriteFile("../escape", nil), "must not contain a directory")
}

func TestStartFailsCleanly(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := evidence.Start(filepath.Join(file, "sub"), evidence.Options{})
	require.Error(t, err)
	// The profiler was not left running: a new capture can start.
	c, err := evidence.Start(t.TempDir(), evidence.Options{NoTrace: true})
	require.NoError(t, err)
	require.NoError(t, c.Stop())
}

func TestSamplesWithTooFewPointsStillChart(t *testing.T) {
	s := evidence.StartSampler(time.Hour)
	svg, err := s.Stop().Chart()
	require.NoError(t, err)
	assert.Contains(t, string(svg), "no samples")
}
