package exercise

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Main is the grading program's main: the lab's cmd/lab with runner.Main
// replaced by it (Workspace.Overlay builds it). Exit codes are runner's: 0
// passed, 1 failed, 2 bad input.
func Main(lab runner.Lab) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Exec(ctx, lab, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exec is Main without os.Exit.
func Exec(ctx context.Context, lab runner.Lab, args []string, stdout, stderr io.Writer) int {
	name := fmt.Sprintf("lab-%d grade", lab.Number)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fault := fs.String("fault", "", "the fault whose fix is graded")
	result := fs.String("result", "", "file to write the verdict to as JSON (grade.json)")
	out := fs.String("out", "out", "folder the evidence is written under")
	readme := fs.String("readme", "", "the lab's README, named in the output")
	seed := fs.String("seed", "", "seed of randomized choices")
	duration := fs.Duration("duration", 0, "load window per run (default: the lab's)")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v; valid flags: -fault, -result, -out, -readme, -seed, -duration\n", name, err)
		return runner.ExitUsage
	}
	s := uint64(time.Now().UnixNano() % 1_000_000)
	if *seed != "" {
		v, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "%s: invalid seed %q: expected a non-negative integer\n", name, *seed)
			return runner.ExitUsage
		}
		s = v
	}
	dir := filepath.Join(*out, "exercises", fmt.Sprintf("lab-%d", lab.Number), *fault,
		time.Now().UTC().Format("20060102T150405Z"))
	res, err := Grade(ctx, lab, *fault, GradeConfig{Seed: s, Duration: *duration, Dir: dir, ReadMe: *readme}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return runner.ExitUsage
	}
	if *result != "" {
		if err := writeResult(*result, res); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return runner.ExitUsage
		}
	}
	if !res.Passed {
		return runner.ExitMismatch
	}
	return runner.ExitOK
}

func writeResult(path string, r Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("exercise: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("exercise: %w", err)
	}
	return nil
}
