package culprit_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
)

// labelled writes a CPU profile of two nodes sharing a process: node1's
// samples in handle, node2's in spin, and one unlabelled sample in gc.
func labelled(t *testing.T) string {
	t.Helper()
	fn := func(id uint64, name string) *profile.Function { return &profile.Function{ID: id, Name: name} }
	handle, spin, gc := fn(1, "lab.handle"), fn(2, "lab.spin"), fn(3, "runtime.gcBgMarkWorker")
	loc := func(id uint64, f *profile.Function) *profile.Location {
		return &profile.Location{ID: id, Line: []profile.Line{{Function: f}}}
	}
	lh, ls, lg := loc(1, handle), loc(2, spin), loc(3, gc)
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "cpu", Unit: "nanoseconds"}},
		Function:   []*profile.Function{handle, spin, gc},
		Location:   []*profile.Location{lh, ls, lg},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lh}, Value: []int64{10}, Label: map[string][]string{"node": {"node1"}}},
			{Location: []*profile.Location{ls}, Value: []int64{90}, Label: map[string][]string{"node": {"node2"}}},
			{Location: []*profile.Location{lh}, Value: []int64{10}, Label: map[string][]string{"node": {"node2"}}},
			{Location: []*profile.Location{lg}, Value: []int64{50}},
		},
	}
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, p.Write(f))
	require.NoError(t, f.Close())
	return path
}

func TestAnalyzeLabelKeepsOneNodesSamples(t *testing.T) {
	path := labelled(t)
	tests := []struct {
		node   string
		frame  string
		share  float64
		total  int64
		reason string
	}{
		{"node2", "lab.spin", 0.9, 100, "90 of node2's 100"},
		{"node2", "lab.handle", 0.1, 100, "10 of node2's 100"},
		{"node1", "lab.spin", 0, 10, "node1 never spun"},
		{"node1", "lab.handle", 1, 10, "all of node1's samples"},
		{"node3", "lab.handle", 0, 0, "no such node"},
	}
	for _, tt := range tests {
		t.Run(tt.node+" "+tt.frame, func(t *testing.T) {
			a, err := culprit.AnalyzeLabel(path, "node", tt.node)
			require.NoError(t, err)
			_, share := a.Share(tt.frame)
			assert.InDelta(t, tt.share, share, 1e-9, tt.reason)
			assert.Equal(t, tt.total, a.Total)
		})
	}
	values, err := culprit.LabelValues(path, "node")
	require.NoError(t, err)
	assert.Equal(t, []string{"node1", "node2"}, values)

	whole, err := culprit.Analyze(path)
	require.NoError(t, err)
	_, share := whole.Share("lab.spin")
	assert.InDelta(t, 90.0/160, share, 1e-9, "unfiltered, spin is diluted by the other node and the runtime")
}

func TestAnalyzeLabelOfAMissingFileIsAnError(t *testing.T) {
	_, err := culprit.AnalyzeLabel(filepath.Join(t.TempDir(), "none.pprof"), "node", "node1")
	require.Error(t, err)
	_, err = culprit.LabelValues(filepath.Join(t.TempDir(), "none.pprof"), "node")
	require.Error(t, err)
}
