package postmortem

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

// extractTxtar writes the files of a txtar-style archive ("-- name --"
// markers) under dir. The fixture repository lives in one archive so that
// its go.work and go.mod files never sit inside the real workspace.
func extractTxtar(t testing.TB, archive, dir string) {
	t.Helper()
	data, err := os.ReadFile(archive)
	require.NoError(t, err)
	var name string
	var body strings.Builder
	flush := func() {
		if name == "" {
			return
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body.String()), 0o644))
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			name = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			continue
		}
		if name != "" {
			body.WriteString(line)
		}
	}
	flush()
}

// fixtureRepo builds the miniature repository in a temporary directory and
// returns its root.
func fixtureRepo(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	extractTxtar(t, filepath.Join("testdata", "repo.txtar"), root)
	return root
}

// fixtureOptions describe the fixture's labs the way labkit/catalog
// describes the real ones: lab 1 declares two faults and writes
// watchdog.txt, and the harness writes chart.html besides the real harness
// files.
func fixtureOptions() Options {
	stages := catalog.Stages()
	stages[1].Faults = []string{"goroutine-leak", "deadlock"}
	stages[1].Evidence = []string{"watchdog.txt"}
	return Options{Stages: stages, Evidence: append(HarnessEvidence(), "chart.html")}
}

// placePostmortem copies a fixture postmortem into lab 1's postmortems/.
func placePostmortem(t testing.TB, root, fixture string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "postmortems", fixture))
	require.NoError(t, err)
	dst := filepath.Join(root, "projects", "lab-1-concurrency", "postmortems", filepath.Base(fixture))
	require.NoError(t, os.WriteFile(dst, src, 0o644))
	return dst
}
