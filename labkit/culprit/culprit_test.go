package culprit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
)

// hotCompile recompiles a regexp on every call: the classic CPU culprit.
//
//go:noinline
func hotCompile(s string) bool {
	return regexp.MustCompile(`^[a-z]+-[0-9]+@example\.(com|org)$`).MatchString(s)
}

//go:noinline
func coldWork(n int) int {
	sum := 0
	for i := range n {
		sum += i
	}
	return sum
}

func TestAnalyzeFindsAKnownHotFunction(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu.pprof")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, pprof.StartCPUProfile(f))
	deadline := time.Now().Add(1500 * time.Millisecond)
	// coldSum uses coldWork's result: a pure call whose result is dropped
	// reads as a mistake, and only go:noinline (not a guarantee about
	// future compilers) would keep it from being elided, leaving no cold
	// frame to compare against.
	coldSum := 0
	for time.Now().Before(deadline) {
		hotCompile("user-42@example.com")
		coldSum += coldWork(10)
	}
	pprof.StopCPUProfile()
	require.NoError(t, f.Close())
	require.Positive(t, coldSum, "the cold function ran")

	a, err := culprit.Analyze(path)
	require.NoError(t, err)
	require.Positive(t, a.Total, "the CPU profile recorded no samples")

	name, share := a.Share("culprit_test.hotCompile")
	assert.Contains(t, name, "hotCompile")
	// Absolute shares move with -race and a busy machine (GC, the profiler
	// itself); the relation between a hot and a cold function does not.
	_, coldShare := a.Share("culprit_test.coldWork")
	assert.Greater(t, share, 0.2, "hotCompile should carry a large share of the CPU")
	assert.Greater(t, share, 10*coldShare, "hot %.2f vs cold %.2f", share, coldShare)

	assert.Empty(t, a.Own, "harness frames are never a lab's own")
	var top []string
	for _, e := range culprit.Top(a.Cum, 8) {
		top = append(top, e.Func)
	}
	assert.Contains(t, strings.Join(top, " "), "hotCompile", "the culprit should rank high by cumulative CPU")
}

func TestAnalyzeRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.pprof")
	require.NoError(t, os.WriteFile(path, []byte("not a profile"), 0o644))
	_, err := culprit.Analyze(path)
	require.Error(t, err)

	_, err = culprit.Analyze(filepath.Join(t.TempDir(), "missing.pprof"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestGoroutineProfile(t *testing.T) {
	stop := make(chan struct{})
	for range 50 {
		go parked(stop)
	}
	defer close(stop)
	time.Sleep(20 * time.Millisecond) // let them park

	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 0))
	path := filepath.Join(t.TempDir(), "goroutine.pprof")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))

	a, err := culprit.Analyze(path)
	require.NoError(t, err)
	_, share := a.Share("culprit_test.parked")
	assert.Greater(t, share, 0.8)
}

//go:noinline
func parked(stop chan struct{}) { <-stop }

func TestShortName(t *testing.T) {
	assert.Equal(t, "projects/lab-0-template/server.(*Server).Stop",
		culprit.ShortName("github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/server.(*Server).Stop"))
	assert.True(t, culprit.IsOwn("github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/server.Run"))
	assert.False(t, culprit.IsOwn("github.com/architect-roadmap/architect-roadmap/labkit/runner.Run"))
	assert.False(t, culprit.IsOwn("net/http.(*conn).serve"))
}
