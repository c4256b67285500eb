package exercise

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

// fakeRepo is a repository root with lab 0's region file and hints, so the
// workspace's file handling is tested without touching the real exercises/.
func fakeRepo(t *testing.T) (string, Workspace) {
	t.Helper()
	real := repoRoot(t)
	st, err := catalog.Lookup(0)
	require.NoError(t, err)
	regions, err := Scan(filepath.Join(real, st.Dir))
	require.NoError(t, err)
	root := t.TempDir()
	for _, r := range regions {
		src, err := os.ReadFile(filepath.Join(real, st.Dir, r.File))
		require.NoError(t, err)
		dst := filepath.Join(root, st.Dir, r.File)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, src, 0o644))
	}
	ws, err := Open(root, 0, st.Faults[0])
	require.NoError(t, err)
	return root, ws
}

func TestStartNeverOverwritesYourWork(t *testing.T) {
	root, ws := fakeRepo(t)
	assert.Equal(t, NotStarted, Status(root, ws.Stage)[ws.Region.Fault])

	wrote, err := ws.Start(false)
	require.NoError(t, err)
	assert.True(t, wrote)
	cur, err := Current(root, 0)
	require.NoError(t, err)
	assert.Equal(t, ws.Region.Fault, cur)
	assert.Equal(t, Started, Status(root, ws.Stage)[ws.Region.Fault])

	wrote, err = ws.Start(false) // unchanged: nothing to lose, nothing written
	require.NoError(t, err)
	assert.False(t, wrote)

	require.NoError(t, os.WriteFile(ws.File(), []byte("package server // my fix\n"), 0o644))
	_, err = ws.Start(false)
	require.ErrorIs(t, err, ErrYourWork)
	got, err := os.ReadFile(ws.File())
	require.NoError(t, err)
	assert.Equal(t, "package server // my fix\n", string(got), "the learner's work is kept")

	wrote, err = ws.Start(true) // exercise=reset
	require.NoError(t, err)
	assert.True(t, wrote)
	got, err = os.ReadFile(ws.File())
	require.NoError(t, err)
	assert.Contains(t, string(got), "Your fix goes here")
}

func TestStatusReadsTheLastGrade(t *testing.T) {
	root, ws := fakeRepo(t)
	_, err := ws.Start(false)
	require.NoError(t, err)
	require.NoError(t, writeResult(ws.GradeFile(), Result{Fault: ws.Region.Fault, Passed: false}))
	assert.Equal(t, Failing, Status(root, ws.Stage)[ws.Region.Fault])
	require.NoError(t, writeResult(ws.GradeFile(), Result{Fault: ws.Region.Fault, Passed: true}))
	assert.Equal(t, Passed, Status(root, ws.Stage)[ws.Region.Fault])
}

func TestCurrentBeforeAnyExercise(t *testing.T) {
	_, err := Current(t.TempDir(), 3)
	require.ErrorIs(t, err, ErrNotStarted)
	assert.Contains(t, err.Error(), "make lab-3 exercise=FAULT")
}

func TestGraderMainNeedsOneRunnerMain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.go")
	require.NoError(t, os.WriteFile(path, []byte("package main\n\nimport "+runnerImport+"\n\nfunc main() { runner.Main(x()) }\n"), 0o644))
	src, err := graderMain(path)
	require.NoError(t, err)
	assert.Contains(t, string(src), exerciseImport)
	assert.Contains(t, string(src), "exercise.Main(x())")

	require.NoError(t, os.WriteFile(path, []byte("package main\n\nimport "+runnerImport+"\n\nfunc main() { runner.Exec(nil) }\n"), 0o644))
	_, err = graderMain(path)
	assert.ErrorContains(t, err, "expected one call of runner.Main")
}

func TestHintLevels(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "exercises"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, HintsFile), []byte("# Hints\n\n## `slow-thing`\n\n1. Open the mutex\n   profile.\nWindow: 1.5s\n2. Func.\n3. Line.\n"), 0o644))
	h, err := Hint(dir, "slow-thing", 1)
	require.NoError(t, err)
	assert.Equal(t, "Open the mutex profile.", h)
	all, err := Hints(dir)
	require.NoError(t, err)
	assert.Equal(t, 1500*time.Millisecond, all["slow-thing"].Window)
	_, err = Hint(dir, "slow-thing", 4)
	require.ErrorIs(t, err, ErrNoHint)
	_, err = Hint(dir, "other", 1)
	require.ErrorIs(t, err, ErrNoHint)
}
