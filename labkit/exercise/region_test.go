package exercise

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

const sample = `package demo

func Open(sync bool) string {
	if sync {
		return "sync"
	}
	// exercise:begin slow-thing
	return "async"
	// exercise:stub
	// return "sync"
	// exercise:end
}
`

func TestParseRegions(t *testing.T) {
	tests := []struct {
		name, src, err string
		faults         []string
	}{
		{name: "one region", src: sample, faults: []string{"slow-thing"}},
		{name: "nested", src: "// exercise:begin a\n// exercise:begin b\n", err: "regions do not nest"},
		{name: "end without begin", src: "x\n// exercise:end\n", err: "without a begin marker"},
		{name: "unterminated", src: "// exercise:begin a\nx\n// exercise:stub\n", err: "has no \"// exercise:end\""},
		{name: "no stub", src: "// exercise:begin a\nx\n// exercise:end\n", err: "has no \"// exercise:stub\" section"},
		{name: "no name", src: "// exercise:begin \n", err: "expected a fault name"},
		{name: "stub not a comment", src: "// exercise:begin a\nx\n// exercise:stub\ny\n// exercise:end\n", err: "must be a // comment"},
		{name: "unknown marker", src: "// exercise:start a\n", err: "unknown marker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRegions("f.go", []byte(tt.src))
			if tt.err != "" {
				require.ErrorIs(t, err, ErrMarker)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			var faults []string
			for _, r := range got {
				faults = append(faults, r.Fault)
			}
			assert.Equal(t, tt.faults, faults)
		})
	}
}

func TestStubbedReplacesTheFixWithTheStub(t *testing.T) {
	rs, err := parseRegions("f.go", []byte(sample))
	require.NoError(t, err)
	require.Len(t, rs, 1)
	out, err := rs[0].Stubbed([]byte(sample), 9)
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, "\treturn \"sync\"\n\t// exercise:end\n}")
	assert.NotContains(t, s, `"async"`)
	assert.Contains(t, s, "make lab-9 grade=slow-thing")
	_, err = parser.ParseFile(token.NewFileSet(), "f.go", out, 0)
	require.NoError(t, err)
}

func TestScanRejectsTwoRegionsOfOneFault(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.go"), []byte(sample), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.go"), []byte(sample), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c_test.go"), []byte("// exercise:begin ignored\n"), 0o644))
	_, err := Scan(dir)
	require.ErrorIs(t, err, ErrMarker)
	assert.Contains(t, err.Error(), `fault "slow-thing" has two regions, a.go:7 and b.go:7`)
}

// repoRoot is the repository root, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// TestEveryReadyFaultHasOneRegionAndHints is the structural half of the
// contract: every fault the catalog lists for a Ready lab has exactly one
// region (Scan rejects duplicates and nesting), no region names a fault the
// lab lacks, each stubbed file still parses, and each fault has its three
// hints. That the stubs compile and keep the defect is TestEveryFaultGrades
// (make test-exercises); that the lab builds and passes with the markers in
// place is the lab's own test.
func TestEveryReadyFaultHasOneRegionAndHints(t *testing.T) {
	root := repoRoot(t)
	for _, st := range catalog.Stages() {
		if st.Status != catalog.Ready {
			continue
		}
		t.Run(st.Dir, func(t *testing.T) {
			regions, err := Scan(filepath.Join(root, st.Dir))
			require.NoError(t, err)
			byFault := map[string]Region{}
			for _, r := range regions {
				assert.Contains(t, st.Faults, r.Fault, "%s:%d: region of a fault lab %d does not declare", r.File, r.Begin, st.Number)
				byFault[r.Fault] = r
			}
			hints, err := Hints(filepath.Join(root, st.Dir))
			require.NoError(t, err)
			for _, f := range st.Faults {
				r, ok := byFault[f]
				if !assert.True(t, ok, "lab %d fault %s has no region: mark its fix with %q ... %q", st.Number, f, BeginMarker+f, EndMarker) {
					continue
				}
				assert.True(t, strings.HasSuffix(r.File, ".go"))
				src, err := os.ReadFile(filepath.Join(root, st.Dir, r.File))
				require.NoError(t, err)
				stub, err := r.Stubbed(src, st.Number)
				require.NoError(t, err)
				_, err = parser.ParseFile(token.NewFileSet(), r.File, stub, 0)
				assert.NoError(t, err, "the stub of %s does not parse", f)
				assert.Len(t, hints[f].Hints, Levels, "%s/%s: fault %s needs %d hints", st.Dir, HintsFile, f, Levels)
			}
		})
	}
}
