// Package postmortem lints a lab postmortem against the lab contract
// (docs/lab-contract.md, section 7; the shape is docs/postmortem-template.md):
//
//   - the required sections are present as headings, once each, and hold text
//     (template guidance inside <!-- --> comments does not count);
//   - Impact holds at least one figure and Verification at least two (before
//     and after), and each cites the command that reproduces them;
//   - every action item names an owner;
//   - every cited file, link and command exists: a path in backticks resolves
//     against the repository root, the postmortem's module or its directory; a
//     `make TARGET` names a rule of that Makefile (plain or pattern, such as
//     lab-%), with a known lab number and fault names the lab declares; a
//     `go run|test|build|vet ./pkg` points at an existing package directory;
//     run outputs under out/lab-N/... (gitignored) match the evidence layout
//     (a known lab, a fault the lab declares, an evidence file name the harness
//     or the lab writes).
//
// The labs, their faults and their own evidence files come from
// labkit/catalog; the harness's evidence file names from labkit/evidence and
// labkit/report. Markdown is parsed with goldmark, command lines with
// mvdan.cc/sh.
//
// Lint returns the problems found; the CLI in labkit/cmd/postmortem-check
// prints them as "PATH:LINE: problem (expected ...)".
package postmortem

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
)

// Problem is one finding, at a 1-based line of the postmortem.
type Problem struct {
	Line     int
	Problem  string
	Expected string
}

// Format renders the problem the way compilers do, so editors can jump to it.
func (p Problem) Format(path string) string {
	return fmt.Sprintf("%s:%d: %s (expected %s)", path, p.Line, p.Problem, p.Expected)
}

// Options tune a lint. The zero value lints a postmortem inside this
// repository.
type Options struct {
	// Root is the repository root. Empty: the nearest directory above the
	// postmortem that holds go.work.
	Root string
	// Stages are the labs: number, directory (relative to Root), faults and
	// the lab's own evidence files. Nil: catalog.Stages().
	Stages []catalog.Stage
	// Evidence are the file names the harness writes into every run. Nil:
	// HarnessEvidence().
	Evidence []string
}

// RequiredSections are the headings every postmortem has, in template order.
func RequiredSections() []string {
	return []string{
		"Summary", "Impact", "Detection", "Timeline", "Root cause", "Trigger",
		"Evidence", "Resolution", "Verification", "Lessons", "Action items",
	}
}

// HarnessEvidence are the files every run writes (see docs/lab-contract.md):
// the run-level reports and the per-scenario profiles, trace, series and log.
func HarnessEvidence() []string {
	return append([]string{report.JSONFile, report.MarkdownFile, report.PostmortemFile}, evidence.Files()...)
}

// MaxSize bounds the postmortems the linter reads.
const MaxSize = 4 << 20

// ErrNoRoot means no go.work was found above the postmortem.
var ErrNoRoot = errors.New("no go.work found in any parent directory")

// FindRoot returns the nearest directory at or above dir that holds go.work.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, "go.work")); err == nil && !fi.IsDir() {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s: %w", dir, ErrNoRoot)
		}
	}
}

// LintFile reads and lints the postmortem at path. The error is for a file
// that cannot be read or a repository root that cannot be found; everything
// wrong inside the file is a Problem.
func LintFile(path string, opts Options) ([]Problem, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read postmortem: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("read postmortem: %s is a directory, not a markdown file", path)
	}
	if fi.Size() > MaxSize {
		return nil, fmt.Errorf("read postmortem: %s is %d bytes, more than the %d a postmortem may have", path, fi.Size(), MaxSize)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read postmortem: %w", err)
	}
	return Lint(path, src, opts)
}

// Lint checks src, the content of the postmortem at path (path locates the
// repository and resolves relative citations; it is not read).
func Lint(path string, src []byte, opts Options) ([]Problem, error) {
	l, err := newLinter(path, opts)
	if err != nil {
		return nil, err
	}
	doc := Parse(src)
	var probs []Problem
	probs = append(probs, l.checkSections(doc)...)
	probs = append(probs, l.checkCitations(doc)...)
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return dedupe(probs), nil
}

func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
