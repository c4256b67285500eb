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
	require.ErrorContains(t, err, "unknown lab 42; valid: 0 1 2 3 5")
}
