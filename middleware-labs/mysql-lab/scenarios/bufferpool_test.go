package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// TestBufferPoolThrash: plain LRU lets each scan push the hot set out (lookups miss after every
// scan); midpoint insertion keeps it (no misses). Culprit evidence is not checked; see BufferPoolThrash.
func TestBufferPoolThrash(t *testing.T) {
	sc := BufferPoolThrash()
	run := func(on bool) map[string]float64 {
		res := runner.RunScenario(context.Background(), Lab(), sc, runner.ScenarioConfig{FaultOn: on, Seed: 42, Duration: 1500 * time.Millisecond, Dir: t.TempDir()})
		require.Empty(t, res.Error, "fault on=%v", on)
		t.Logf("fault on=%v: hit ratio %.3f, misses per scan %.1f", on, res.Metrics["lookup_hit_ratio"], res.Metrics["lookup_misses_per_scan"])
		return res.Metrics
	}
	off, on := run(false), run(true)
	assert.GreaterOrEqual(t, off["lookup_hit_ratio"], 0.99)
	assert.Less(t, on["lookup_hit_ratio"], 0.95)
	assert.Greater(t, on["lookup_misses_per_scan"], 10*max(off["lookup_misses_per_scan"], 0.5))
}
