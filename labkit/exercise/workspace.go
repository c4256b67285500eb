package exercise

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

// ErrYourWork is returned when starting an exercise would overwrite a copy
// the learner has changed.
var ErrYourWork = errors.New("exercise: your copy has changes")

// ErrNotStarted is returned when grading or resetting an exercise that was
// never started.
var ErrNotStarted = errors.New("exercise: not started")

// Folder is where learners' copies live, relative to the repository root.
const Folder = "exercises"

// Files a workspace keeps beside the learner's copy.
const (
	stubSumFile = ".stub.sha256" // what we wrote, to tell the learner's edits apart
	gradeFile   = "grade.json"   // the last grade
	currentFile = "current"      // exercises/lab-N/current: the fault started last
)

// Workspace is one learner's exercise: a fault of a lab and its copy.
type Workspace struct {
	Root   string // repository root (absolute)
	Stage  catalog.Stage
	Region Region
	Dir    string // Root/exercises/lab-N/FAULT
}

// Open finds fault's region in lab's module under root.
func Open(root string, lab int, fault string) (Workspace, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return Workspace{}, fmt.Errorf("exercise: %w", err)
	}
	st, err := catalog.Lookup(lab)
	if err != nil {
		return Workspace{}, err
	}
	if st.Status != catalog.Ready {
		return Workspace{}, fmt.Errorf("exercise: lab %d is %s, not ready; ready labs: %s", lab, st.Status,
			strings.Join(catalog.ReadyNumbers(), " "))
	}
	regions, err := Scan(filepath.Join(root, st.Dir))
	if err != nil {
		return Workspace{}, err
	}
	for _, r := range regions {
		if r.Fault == fault {
			return Workspace{Root: root, Stage: st, Region: r,
				Dir: filepath.Join(root, Folder, fmt.Sprintf("lab-%d", lab), fault)}, nil
		}
	}
	return Workspace{}, fmt.Errorf("exercise: lab %d has no exercise %q; valid: %s", lab, fault, strings.Join(st.Faults, ", "))
}

// File is the learner's copy.
func (w Workspace) File() string { return filepath.Join(w.Dir, filepath.FromSlash(w.Region.File)) }

// Original is the lab's file the copy stands in for.
func (w Workspace) Original() string {
	return filepath.Join(w.Root, w.Stage.Dir, filepath.FromSlash(w.Region.File))
}

// ModuleDir is the lab's module directory.
func (w Workspace) ModuleDir() string { return filepath.Join(w.Root, w.Stage.Dir) }

// Start writes the learner's copy with the stub in place. It never
// overwrites a copy the learner changed unless force is set (exercise=reset);
// it reports whether it wrote the copy.
func (w Workspace) Start(force bool) (bool, error) {
	src, err := os.ReadFile(w.Original())
	if err != nil {
		return false, fmt.Errorf("exercise: %w", err)
	}
	stub, err := w.Region.Stubbed(src, w.Stage.Number)
	if err != nil {
		return false, err
	}
	if cur, err := os.ReadFile(w.File()); err == nil && !force {
		if bytes.Equal(cur, stub) {
			return false, w.setCurrent()
		}
		if err := w.CheckUnchanged(); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(w.File()), 0o755); err != nil {
		return false, fmt.Errorf("exercise: %w", err)
	}
	if err := os.WriteFile(w.File(), stub, 0o644); err != nil {
		return false, fmt.Errorf("exercise: %w", err)
	}
	if err := os.WriteFile(filepath.Join(w.Dir, stubSumFile), []byte(digest(stub)+"\n"), 0o644); err != nil {
		return false, fmt.Errorf("exercise: %w", err)
	}
	_ = os.Remove(filepath.Join(w.Dir, gradeFile)) // a fresh stub has not been graded
	return true, w.setCurrent()
}

// CheckUnchanged returns ErrYourWork when the learner's copy differs from
// the stub that was written, so starting again would lose their work.
func (w Workspace) CheckUnchanged() error {
	cur, err := os.ReadFile(w.File())
	if err != nil {
		return nil // nothing to lose
	}
	if sum, _ := os.ReadFile(filepath.Join(w.Dir, stubSumFile)); strings.TrimSpace(string(sum)) != digest(cur) {
		return fmt.Errorf("%w: %s; keep working on it, grade it (make lab-%d grade=%s), or start over from the stub (make lab-%d exercise=reset)",
			ErrYourWork, w.rel(w.File()), w.Stage.Number, w.Region.Fault, w.Stage.Number)
	}
	return nil
}

// Started reports whether the learner's copy exists.
func (w Workspace) Started() bool { return fileExists(w.File()) }

func (w Workspace) setCurrent() error {
	path := filepath.Join(filepath.Dir(w.Dir), currentFile)
	if err := os.WriteFile(path, []byte(w.Region.Fault+"\n"), 0o644); err != nil {
		return fmt.Errorf("exercise: %w", err)
	}
	return nil
}

// Current is the fault of lab started last under root.
func Current(root string, lab int) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, Folder, fmt.Sprintf("lab-%d", lab), currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: no exercise of lab %d yet; start one: make lab-%d exercise=FAULT (make lab-%d fault=list names them)",
			ErrNotStarted, lab, lab, lab)
	}
	if err != nil {
		return "", fmt.Errorf("exercise: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (w Workspace) rel(path string) string {
	if r, err := filepath.Rel(w.Root, path); err == nil {
		return r
	}
	return path
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Overlay writes, under tmp, what `go build -overlay` needs to build the
// lab's grading program against the learner's copy, and returns the overlay
// file and the program's package path (relative to the repository root).
// With fixed set it leaves the lab's file alone: the grading program on the
// lab's own fix.
func (w Workspace) Overlay(tmp string, fixed bool) (overlay, pkg string, err error) {
	mainSrc, err := graderMain(filepath.Join(w.ModuleDir(), "cmd", "lab", "main.go"))
	if err != nil {
		return "", "", err
	}
	mainFile := filepath.Join(tmp, "exercise-grade.go")
	if err := os.WriteFile(mainFile, mainSrc, 0o644); err != nil {
		return "", "", fmt.Errorf("exercise: %w", err)
	}
	replace := map[string]string{filepath.Join(w.ModuleDir(), "cmd", "exercise-grade", "main.go"): mainFile}
	if !fixed {
		replace[w.Original()] = w.File()
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", "", fmt.Errorf("exercise: %w", err)
	}
	overlay = filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlay, b, 0o644); err != nil {
		return "", "", fmt.Errorf("exercise: %w", err)
	}
	return overlay, "./" + filepath.ToSlash(filepath.Join(w.Stage.Dir, "cmd", "exercise-grade")), nil
}

const (
	runnerImport   = `"github.com/architect-roadmap/architect-roadmap/labkit/runner"`
	exerciseImport = `"github.com/architect-roadmap/architect-roadmap/labkit/exercise"`
)

// graderMain is the lab's cmd/lab with runner.Main replaced by
// exercise.Main, so whatever else the lab's main does (gin's release mode, a
// node program's child side) grading does too.
func graderMain(path string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("exercise: a lab's grading program is its cmd/lab: %w", err)
	}
	s := string(src)
	if strings.Count(s, "runner.Main(") != 1 || strings.Count(s, "runner.") != 1 || !strings.Contains(s, runnerImport) {
		return nil, fmt.Errorf("exercise: %s: expected one call of runner.Main and no other use of package runner", path)
	}
	s = strings.Replace(s, runnerImport, exerciseImport, 1)
	s = strings.Replace(s, "runner.Main(", "exercise.Main(", 1)
	return []byte(s), nil
}

// GradeFile is where the grading program writes the last verdict.
func (w Workspace) GradeFile() string { return filepath.Join(w.Dir, gradeFile) }

// Exercise states, as `make labs` shows them.
const (
	NotStarted = "not started"
	Started    = "started"
	Failing    = "failing"
	Passed     = "passed"
)

// Status is the state of each exercise of a stage under root, by fault.
func Status(root string, st catalog.Stage) map[string]string {
	out := map[string]string{}
	for _, f := range st.Faults {
		dir := filepath.Join(root, Folder, fmt.Sprintf("lab-%d", st.Number), f)
		if !fileExists(filepath.Join(dir, stubSumFile)) {
			out[f] = NotStarted
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, gradeFile))
		var r Result
		switch {
		case err != nil || json.Unmarshal(b, &r) != nil:
			out[f] = Started
		case r.Passed:
			out[f] = Passed
		default:
			out[f] = Failing
		}
	}
	return out
}
