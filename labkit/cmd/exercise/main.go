// Command exercise is exercise mode's front end, run by the Makefile from the
// repository root:
//
//	make lab-0 exercise=sync-logging   exercise -lab=0 -start=sync-logging
//	make lab-0 exercise=reset          exercise -lab=0 -start=reset
//	make lab-0 grade                   exercise -lab=0 -grade=current
//	make lab-0 grade=sync-logging      exercise -lab=0 -grade=sync-logging
//	make lab-0 hint=2                  exercise -lab=0 -hint=2 [-fault=NAME]
//
// Grading builds the lab's grading program with the learner's copy overlaid
// (package exercise says why) and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
	"github.com/architect-roadmap/architect-roadmap/labkit/exercise"
)

// Exit codes, as the labs': 1 a failing grade, 2 bad input.
const (
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	lab                 int
	start, grade, fault string
	hint                int
	root, out           string
	seed, duration      string
	check               bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("exercise", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.lab, "lab", -1, "lab number")
	fs.StringVar(&o.start, "start", "", "FAULT: write your copy with the stub; reset: restore the stub of the current exercise")
	fs.StringVar(&o.grade, "grade", "", "FAULT, or current: grade your fix")
	fs.IntVar(&o.hint, "hint", 0, "1..3: a hint for the current exercise (or -fault)")
	fs.StringVar(&o.fault, "fault", "", "the exercise a hint is for (default: the current one)")
	fs.StringVar(&o.root, "root", ".", "repository root")
	fs.StringVar(&o.out, "out", "out", "folder grading writes its evidence under")
	fs.StringVar(&o.seed, "seed", "", "seed of the grading run")
	fs.StringVar(&o.duration, "duration", "", "load window of each grading run")
	fs.BoolVar(&o.check, "check", false, "only validate the flags (the Makefile does this first, to fail in one line)")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "exercise: %v; valid flags: -lab, -start, -grade, -hint, -fault, -root, -out, -seed, -duration\n", err)
		return exitUsage
	}
	if o.lab < 0 {
		fmt.Fprintf(stderr, "exercise: -lab=N is required; ready labs: %s\n", strings.Join(catalog.ReadyNumbers(), " "))
		return exitUsage
	}
	var err error
	code := 0
	switch {
	case o.check:
		err = check(o)
	case o.start != "":
		err = start(o, stdout)
	case o.grade != "":
		code, err = grade(ctx, o, stdout)
	case o.hint != 0:
		err = hint(o, stdout)
	default:
		err = errors.New("expected one of -start, -grade or -hint")
	}
	if err != nil {
		fmt.Fprintf(stderr, "exercise: %v\n", strings.TrimPrefix(err.Error(), "exercise: "))
		if errors.Is(err, exercise.ErrBuild) {
			return exitFail
		}
		return exitUsage
	}
	return code
}

// check validates what the flags name without writing or running anything.
func check(o options) error {
	switch {
	case o.start == "reset":
		_, err := resolve(o, "")
		return err
	case o.start != "":
		ws, err := resolve(o, o.start)
		if err != nil {
			return err
		}
		return ws.CheckUnchanged()
	case o.grade != "":
		_, err := resolve(o, o.grade)
		return err
	case o.hint != 0:
		ws, err := resolve(o, o.fault)
		if err != nil {
			return err
		}
		_, err = exercise.Hint(ws.ModuleDir(), ws.Region.Fault, o.hint)
		return err
	}
	return errors.New("expected one of -start, -grade or -hint")
}

// resolve names the exercise: the given fault, or the one started last.
func resolve(o options, fault string) (exercise.Workspace, error) {
	if fault == "" || fault == "current" || fault == "reset" {
		cur, err := exercise.Current(o.root, o.lab)
		if err != nil {
			return exercise.Workspace{}, err
		}
		fault = cur
	}
	return exercise.Open(o.root, o.lab, fault)
}

func start(o options, w io.Writer) error {
	reset := o.start == "reset"
	ws, err := resolve(o, o.start)
	if err != nil {
		return err
	}
	wrote, err := ws.Start(reset)
	if err != nil {
		return err
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(ws.Root, p); err == nil {
			return r
		}
		return p
	}
	n, f := ws.Stage.Number, ws.Region.Fault
	switch {
	case reset:
		fmt.Fprintf(w, "Restored the stub of lab-%d %s.\n", n, f)
	case !wrote:
		fmt.Fprintf(w, "Lab-%d %s is already started (your copy is unchanged from the stub).\n", n, f)
	default:
		fmt.Fprintf(w, "Exercise lab-%d %s: you write the fix, the lab grades it.\n", n, f)
	}
	fmt.Fprintf(w, `
  1. see the harm:  make lab-%[1]d fault=%[2]s   (then open the file its "next:" line names)
  2. read:          %[3]s/README.md, its Faults section (%[2]s); postmortems/%[2]s.md is the answer: keep it for later
  3. write here:    %[4]s, between the exercise markers (lines %[5]d-%[6]d)
                    it stands in for %[7]s: grading builds the lab with your copy in its place
  4. grade:         make lab-%[1]d grade   (or grade=%[2]s)
  stuck?            make lab-%[1]d hint=1   (2: which function, 3: which line)
  start over:       make lab-%[1]d exercise=reset
`, n, f, ws.Stage.Dir, rel(ws.File()), ws.Region.Begin, ws.Region.Begin+len(ws.Region.Stub)+2, rel(ws.Original()))
	return nil
}

func grade(ctx context.Context, o options, w io.Writer) (int, error) {
	ws, err := resolve(o, o.grade)
	if err != nil {
		return 0, err
	}
	if !ws.Started() {
		return 0, fmt.Errorf("%w: lab-%d %s; start it first: make lab-%d exercise=%s", exercise.ErrNotStarted,
			ws.Stage.Number, ws.Region.Fault, ws.Stage.Number, ws.Region.Fault)
	}
	tmp, err := os.MkdirTemp("", "exercise-grade-")
	if err != nil {
		return 0, fmt.Errorf("exercise: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(w, "[lab-%d %s] building the lab with your copy (go build -overlay) ...\n", ws.Stage.Number, ws.Region.Fault)
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	bin, err := ws.Build(ctx, goTool, tmp, false)
	if err != nil {
		return 0, err
	}
	var extra []string
	if o.seed != "" {
		extra = append(extra, "-seed="+o.seed)
	}
	if o.duration != "" {
		extra = append(extra, "-duration="+o.duration)
	}
	args, err := ws.GradeArgs(o.out, extra...)
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = ws.Root, w, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == exitFail {
		return exitFail, nil
	}
	if err != nil {
		return 0, fmt.Errorf("exercise: the grading program: %w", err)
	}
	return 0, nil
}

func hint(o options, w io.Writer) error {
	ws, err := resolve(o, o.fault)
	if err != nil {
		return err
	}
	h, err := exercise.Hint(ws.ModuleDir(), ws.Region.Fault, o.hint)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "lab-%d %s, hint %d of %d: %s\n", ws.Stage.Number, ws.Region.Fault, o.hint, exercise.Levels, h)
	return nil
}
