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
	"sync"
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
	tmp := t.TempDir()

	// Every binary is built before any grade runs: a build beside a
	// timing-sensitive run would blur the separation it measures. Two builds
	// at a time keep both cores busy (a link is mostly one thread).
	type exercise struct {
		ws           Workspace
		stub, fixed  *build
		lab          int
		fault, where string
	}
	var all []*exercise
	var builds []*build
	for _, st := range catalog.Stages() {
		if st.Status != catalog.Ready || (len(only) > 0 && !slices.Contains(only, strconv.Itoa(st.Number))) {
			continue
		}
		var fixed *build
		for _, f := range st.Faults {
			ex := &exercise{lab: st.Number, fault: f}
			all = append(all, ex)
			ws, err := Open(root, st.Number, f)
			if err != nil {
				ex.where = err.Error()
				continue
			}
			ws.Dir = filepath.Join(tmp, "exercises", ws.Stage.Dir, f) // a fresh copy, never the learner's
			if _, err := ws.Start(false); err != nil {
				ex.where = err.Error()
				continue
			}
			ex.ws = ws
			if fixed == nil {
				fixed = &build{ws: ws, dir: filepath.Join(tmp, "fixed", ws.Stage.Dir), fixed: true}
				builds = append(builds, fixed)
			}
			ex.fixed = fixed
			ex.stub = &build{ws: ws, dir: filepath.Join(tmp, "stub", ws.Stage.Dir, f)}
			builds = append(builds, ex.stub)
		}
	}
	start := time.Now()
	buildAll(t, goTool, builds, 2)
	t.Logf("built %d grading programs in %v", len(builds), time.Since(start).Round(time.Millisecond))

	for _, ex := range all {
		t.Run("lab-"+strconv.Itoa(ex.lab)+"/"+ex.fault, func(t *testing.T) {
			require.Empty(t, ex.where)
			require.NoError(t, ex.fixed.err, "lab %d must build on its own fix", ex.lab)
			require.NoError(t, ex.stub.err, "the stub of %s must compile", ex.fault)
			args, err := ex.ws.GradeArgs(filepath.Join(tmp, "out"), extra...)
			require.NoError(t, err)

			out, code := grade(t, root, ex.stub.bin, args)
			assert.Equal(t, 1, code, "the stub of %s must fail its grade; output:\n%s", ex.fault, out)
			assert.Contains(t, out, "✗ expected", "the failure says what was expected")
			assert.Contains(t, out, "FAIL:")
			assert.Regexp(t, symptomLine, out, "the failure names the symptom's metric, threshold and text")

			out, code = grade(t, root, ex.fixed.bin, args)
			assert.Equal(t, 0, code, "the lab's own fix of %s must pass its grade; output:\n%s", ex.fault, out)
			assert.Contains(t, out, "PASS:")
		})
	}
}

// build is one grading program to build: a stub's, or a lab's own fix's.
type build struct {
	ws    Workspace
	dir   string
	fixed bool
	bin   string
	err   error
}

func buildAll(t *testing.T, goTool string, builds []*build, parallel int) {
	t.Helper()
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, b := range builds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if b.err = os.MkdirAll(b.dir, 0o755); b.err == nil {
				b.bin, b.err = b.ws.Build(context.Background(), goTool, b.dir, b.fixed)
			}
		}()
	}
	wg.Wait()
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
