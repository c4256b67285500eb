package postmortem

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The evidence layout grew folders inside a scenario's: fault=compare's two
// sides and charts, a multi-process lab's nodes, and a mystery run's
// baseline and incident. A postmortem may cite any of them.
func TestOutPathsOfCompareNodesAndMystery(t *testing.T) {
	root := fixtureRepo(t)
	l, err := newLinter(filepath.Join(root, "docs", "methodology.md"), fixtureOptions())
	require.NoError(t, err)
	tests := []struct {
		path string
		ok   bool
	}{
		{"out/lab-1/<run>/goroutine-leak/on/goroutine.pprof", true},
		{"out/lab-1/<run>/goroutine-leak/off/cpu.pprof", true},
		{"out/lab-1/<run>/goroutine-leak/compare-goroutines.svg", true},
		{"out/lab-1/<run>/goroutine-leak/node2/cpu.pprof", true},
		{"out/lab-1/<run>/baseline/cpu.pprof", true},
		{"out/lab-1/<run>/incident/goroutine.pprof", true},
		{"out/lab-1/<run>/goroutine-leak/sideways/cpu.pprof", false},
		{"out/lab-1/<run>/goroutine-leak/on/flame.svg", false},
		{"out/lab-1/<run>/goroutine-leak/compare-x.png", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, ok := l.checkOutPath(1, tt.path)
			assert.Equal(t, tt.ok, ok, "problem: %s", p.Problem)
		})
	}
}
