package evidence_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// A debug server in this process stands in for a node: its mutex profile
// is this process's, so what the node folder holds can be checked against
// contention made before and during the watch. (Its CPU profile cannot be
// taken: the window's own CPU profiler holds the process's; node's tests
// fetch CPU from real child processes.)
func TestAWatchedNodesMutexProfileIsTheWindowsDelta(t *testing.T) {
	srv, err := debugserver.Start("127.0.0.1:0", telemetry.NewRegistry())
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(context.Background())) }()

	dir := t.TempDir()
	c, err := evidence.Start(dir, evidence.Options{MutexFraction: 1, NoTrace: true})
	require.NoError(t, err)
	contention(8, 40) // before the watch: in the runner's own profile only
	require.NoError(t, c.Watch("node1", srv.Addr(), time.Now().Add(time.Second)))
	time.Sleep(200 * time.Millisecond) // let the baseline land before the next burst
	c.Event(timeline.Kill, "node1 (pid 1)")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { lockInWindow(&mu, 40) })
	}
	wg.Wait()
	require.NoError(t, c.Stop())

	for _, f := range []string{"node1/heap.pprof", "node1/goroutine.pprof", "node1/goroutine.txt", "node1/mutex.pprof",
		"node1/block.pprof", "node1/capture-errors.txt"} {
		assert.Contains(t, c.Files(), f)
	}
	a, err := culprit.Analyze(filepath.Join(dir, "node1", "mutex.pprof"))
	require.NoError(t, err)
	_, share := a.Share("evidence_test.contend")
	assert.Zero(t, share, "the contention before the watch is subtracted")
	_, share = a.Share("evidence_test.lockInWindow")
	assert.Greater(t, share, 0.8, "the contention during the watch is the node's profile")
	own, err := culprit.Analyze(filepath.Join(dir, "mutex.pprof"))
	require.NoError(t, err)
	_, before := own.Share("evidence_test.contend")
	_, during := own.Share("evidence_test.lockInWindow")
	assert.Greater(t, before+during, 0.8, "the runner's own window holds both bursts")
	assert.Positive(t, before)

	notes, err := os.ReadFile(filepath.Join(dir, "node1", "capture-errors.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(notes), "cpu:", "the CPU profiler was busy; said so, beside the profiles")

	events := c.Events()
	require.Len(t, events, 1)
	assert.Equal(t, timeline.Kill, events[0].Kind)
	assert.Greater(t, events[0].At, 200*time.Millisecond)
	assert.Less(t, events[0].At, 5*time.Second)
}

//go:noinline
func lockInWindow(mu *sync.Mutex, n int) {
	for range n {
		mu.Lock()
		time.Sleep(50 * time.Microsecond)
		mu.Unlock()
	}
}

func TestANodeThatIsDownIsANoteNotAFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now: a killed node

	dir := t.TempDir()
	c, err := evidence.Start(dir, evidence.Options{NoTrace: true})
	require.NoError(t, err)
	require.NoError(t, c.Watch("node2", addr, time.Now().Add(time.Second)))
	require.ErrorContains(t, c.Watch("../up", addr, time.Now()), "plain folder name")
	require.NoError(t, c.Stop())
	assert.Contains(t, c.Files(), "node2/capture-errors.txt")
	assert.NotContains(t, c.Files(), "node2/heap.pprof")
	require.ErrorContains(t, c.Watch("node3", addr, time.Now()), "window is closed")
}
