package exercise

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrBuild is wrapped when the learner's copy does not compile.
var ErrBuild = errors.New("exercise: the lab does not build with your copy")

// Build compiles the lab's grading program into tmp with the learner's copy
// in place of the lab's file (or, with fixed, the lab's own fix) and returns
// the program's path. Compiler messages name the learner's copy, not the
// file it stands in for.
func (w Workspace) Build(ctx context.Context, goTool, tmp string, fixed bool) (string, error) {
	overlay, pkg, err := w.Overlay(tmp, fixed)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "grade")
	// -w leaves out DWARF, which only a debugger reads (less for the linker
	// to write); profiles are symbolized from the runtime's own tables.
	cmd := exec.CommandContext(ctx, goTool, "build", "-overlay", overlay, "-ldflags=-w", "-o", bin, pkg)
	cmd.Dir = w.Root
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := string(out)
		if !fixed {
			mine := w.rel(w.File())
			msg = strings.ReplaceAll(msg, w.Original(), mine)
			msg = strings.ReplaceAll(msg, filepath.Join(w.Stage.Dir, filepath.FromSlash(w.Region.File)), mine)
		}
		return "", fmt.Errorf("%w (%w):\n%s", ErrBuild, err, strings.TrimSpace(msg))
	}
	return bin, nil
}

// GradeArgs are the grading program's arguments for this workspace: the
// fault's grading window from the hints file unless extra sets one.
func (w Workspace) GradeArgs(out string, extra ...string) ([]string, error) {
	args := []string{"-fault=" + w.Region.Fault, "-result=" + w.GradeFile(), "-out=" + out,
		"-readme=" + filepath.ToSlash(filepath.Join(w.Stage.Dir, "README.md"))}
	hints, err := Hints(w.ModuleDir())
	if err != nil {
		return nil, err
	}
	if d := hints[w.Region.Fault].Window; d > 0 {
		args = append(args, "-duration="+d.String())
	}
	return append(args, extra...), nil // a later -duration wins
}
