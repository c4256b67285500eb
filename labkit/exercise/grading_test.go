//go:build exercises

package exercise

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

// TestEveryFaultGrades is the Done-when test of exercise mode, for every
// fault of every Ready lab in the catalog: on a fresh copy, the stub fails
// its grade with a message naming the symptom, and the lab's own fix passes.
// It builds each stub once and each lab's fix once, and runs the fixed
// binary's grade (fault off, then on for the contrast) after the stub's
// (fault off only: a grade stops at the first run that shows the harm).
//
// It is timing-sensitive and takes minutes: make test-exercises runs it
// under the shared lock. EXERCISE_LABS="1 5" limits it to some labs;
// EXERCISE_DURATION sets the load window of each run (the lab's own
// otherwise).
func TestEveryFaultGrades(t *testing.T) {
	root := repoRoot(t)
	only := strings.Fields(os.Getenv("EXERCISE_LABS"))
	var extra []string
	if d := os.Getenv("EXERCISE_DURATION"); d != "" {
		extra = append(extra, "-duration="+d)
	}
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	ctx := context.Background()
	for _, st := range catalog.Stages() {
		if st.Status != catalog.Ready || (len(only) > 0 && !slices.Contains(only, strconv.Itoa(st.Number))) {
			continue
		}
		t.Run("lab-"+strconv.Itoa(st.Number), func(t *testing.T) {
			tmp := t.TempDir()
			var fixed string
			for _, f := range st.Faults {
				t.Run(f, func(t *testing.T) {
					ws, err := Open(root, st.Number, f)
					require.NoError(t, err)
					ws.Dir = filepath.Join(tmp, "exercises", f) // a fresh copy, never the learner's
					if fixed == "" {
						dir := filepath.Join(tmp, "fixed")
						require.NoError(t, os.MkdirAll(dir, 0o755))
						start := time.Now()
						fixed, err = ws.Build(ctx, goTool, dir, true)
						require.NoError(t, err)
						t.Logf("built lab %d's grader on its own fix in %v", st.Number, time.Since(start).Round(time.Millisecond))
					}
					_, err = ws.Start(false)
					require.NoError(t, err)
					dir := filepath.Join(tmp, "stub-"+f)
					require.NoError(t, os.MkdirAll(dir, 0o755))
					start := time.Now()
					stub, err := ws.Build(ctx, goTool, dir, false)
					require.NoError(t, err, "the stub of %s must compile", f)
					t.Logf("built the stub in %v", time.Since(start).Round(time.Millisecond))

					args, err := ws.GradeArgs(filepath.Join(tmp, "out"), extra...)
					require.NoError(t, err)
					out, code := grade(t, root, stub, args)
					assert.Equal(t, 1, code, "the stub of %s must fail its grade; output:\n%s", f, out)
					assert.Contains(t, out, "✗ expected", "the failure says what was expected")
					assert.Contains(t, out, "FAIL:")
					assert.Regexp(t, symptomLine, out, "the failure names the symptom's metric, threshold and text")

					out, code = grade(t, root, fixed, args)
					assert.Equal(t, 0, code, "the lab's own fix of %s must pass its grade; output:\n%s", f, out)
					assert.Contains(t, out, "PASS:")
				})
			}
		})
	}
}

// symptomLine is how a grade names a symptom it still saw: the metric, the
// symptom side of its threshold, and the scenario's words for the harm.
var symptomLine = regexp.MustCompile(`✗ expected \S+ not [<>] \S+.* \(the symptom: .+\)`)

func grade(t *testing.T, root, bin string, args []string) (string, int) {
	t.Helper()
	var b bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, &b, &b
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v", filepath.Base(filepath.Dir(bin)), strings.Join(args[:1], " "), time.Since(start).Round(time.Millisecond))
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return b.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", bin, err)
	}
	return b.String(), 0
}
