// Command postmortem-check lints a lab postmortem against the lab contract:
// the required sections, figures in Impact and Verification, owners on action
// items, and every cited file, make target and go package.
//
//	go run ./labkit/cmd/postmortem-check -file projects/lab-1-concurrency/postmortems/goroutine-leak.md
//
// Exit status: 0 clean; 1 problems, one per line as "PATH:LINE: problem
// (expected ...)"; 2 bad usage or an unreadable file, in one line.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/architect-roadmap/architect-roadmap/labkit/postmortem"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = "usage: postmortem-check -file PATH [-root DIR]"

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("postmortem-check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("file", "", "the postmortem markdown file to lint")
	root := fs.String("root", "", "repository root (default: the nearest directory above the file holding go.work)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		fmt.Fprintf(stderr, "postmortem-check: %v (%s)\n", err, usage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "postmortem-check: unexpected argument %q (%s)\n", fs.Arg(0), usage)
		return 2
	}
	if *file == "" {
		fmt.Fprintf(stderr, "postmortem-check: -file is required (%s)\n", usage)
		return 2
	}
	probs, err := postmortem.LintFile(*file, postmortem.Options{Root: *root})
	if err != nil {
		if errors.Is(err, postmortem.ErrNoRoot) {
			fmt.Fprintf(stderr, "postmortem-check: %v (expected the file inside the repository, or -root DIR)\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "postmortem-check: %v\n", err)
		return 2
	}
	for _, p := range probs {
		fmt.Fprintln(stdout, p.Format(*file))
	}
	if len(probs) > 0 {
		return 1
	}
	return 0
}
