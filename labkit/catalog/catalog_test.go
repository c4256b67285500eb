package catalog_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

// TestMakefileAgreesWithTheCatalog: `make lab-N` and `make labs` must name
// the same directories and the same ready labs.
func TestMakefileAgreesWithTheCatalog(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "Makefile"))
	require.NoError(t, err)
	defer f.Close()
	dirs := map[string]string{}
	var labs []string
	re := regexp.MustCompile(`^LAB_DIR_(\d+) := (\S+)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			dirs[m[1]] = m[2]
		}
		if rest, ok := strings.CutPrefix(sc.Text(), "LABS := "); ok {
			labs = strings.Fields(rest)
		}
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, catalog.ReadyNumbers(), labs, "LABS in the Makefile")
	for _, s := range catalog.Stages() {
		n := fmt.Sprint(s.Number)
		if s.Status == catalog.Ready {
			assert.Equal(t, s.Dir, dirs[n], "LAB_DIR_%s", n)
			assert.DirExists(t, filepath.Join("..", "..", s.Dir))
			assert.NotEmpty(t, s.Faults, "a ready lab ships faults")
		} else {
			assert.Empty(t, dirs[n], "planned lab %s must not be runnable", n)
		}
	}
}

func TestLookup(t *testing.T) {
	s, err := catalog.Lookup(5)
	require.NoError(t, err)
	assert.Equal(t, "middleware-labs/redis-lab", s.Dir)
	_, err = catalog.Lookup(42)
	require.ErrorContains(t, err, "unknown lab 42; valid: 0 1 2 3 4 5 6 7")
}

// TestStages pins the table's shape: stages 0..9 in order, each with both
// titles, and directories that are unique (a directory names one lab).
func TestStages(t *testing.T) {
	dirs := map[string]int{}
	for i, s := range catalog.Stages() {
		assert.Equal(t, i, s.Number)
		assert.NotEmpty(t, s.Title, "lab %d", i)
		assert.NotEmpty(t, s.TitleZH, "lab %d", i)
		assert.Contains(t, []string{catalog.Ready, catalog.Planned}, s.Status, "lab %d", i)
		if prev, dup := dirs[s.Dir]; dup {
			t.Errorf("labs %d and %d share directory %s", prev, i, s.Dir)
		}
		dirs[s.Dir] = i
	}
}

func TestByDir(t *testing.T) {
	tests := []struct {
		dir  string
		want int
		ok   bool
	}{
		{"projects/lab-0-template", 0, true},
		{"middleware-labs/redis-lab/", 5, true},
		{"distributed-labs/raft-lab/node", 7, true},
		{"projects/lab-9-mini-amazon", 9, true},
		{"projects/lab-0-templates", 0, false},
		{"middleware-labs/nats-lab", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			s, ok := catalog.ByDir(tt.dir)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, s.Number)
		})
	}
}

// TestEvidenceListsWhatLabsWrite: every file a ready lab's scenarios add to
// the evidence with env.WriteFile("name", ...) is in its Evidence, so a
// postmortem that cites it passes the linter.
func TestEvidenceListsWhatLabsWrite(t *testing.T) {
	re := regexp.MustCompile(`env\.WriteFile\("([^"]+)"`)
	for _, s := range catalog.Stages() {
		if s.Status != catalog.Ready {
			continue
		}
		t.Run(s.Dir, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join("..", "..", s.Dir, "scenarios", "*.go"))
			require.NoError(t, err)
			require.NotEmpty(t, files, "a ready lab has scenarios")
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") {
					continue
				}
				src, err := os.ReadFile(f)
				require.NoError(t, err)
				for _, m := range re.FindAllStringSubmatch(string(src), -1) {
					assert.Contains(t, s.Evidence, m[1], "%s writes %s", f, m[1])
				}
			}
		})
	}
}
