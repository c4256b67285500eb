package exercise

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// HintsFile is each lab's hints, relative to its module directory: a
// "## FAULT" section per fault holding a numbered list of three hints, from
// which profile to open, to which function, to which line. A section may
// hold a "Window: 1.5s" line: the load window the lab's own scenario test
// proves that fault with (labtest.Duration), when it is not the lab's
// Window; grading uses it, so a grade holds the learner to exactly what the
// lab's test holds the lab's fix to.
const HintsFile = "exercises/hints.md"

// FaultHints are one fault's hints and grading window.
type FaultHints struct {
	Hints  []string
	Window time.Duration // 0: the lab's
}

// Levels is how many hints each fault has.
const Levels = 3

// ErrNoHint is wrapped when a lab's hints file lacks a fault or a level.
var ErrNoHint = errors.New("exercise: no such hint")

var (
	hintItem   = regexp.MustCompile(`^([1-9])\.\s+(.*)$`)
	windowLine = regexp.MustCompile(`^Window:\s*(\S+)\s*$`)
)

// Hints reads the hints of a lab's module directory, by fault.
func Hints(moduleDir string) (map[string]FaultHints, error) {
	src, err := os.ReadFile(filepath.Join(moduleDir, filepath.FromSlash(HintsFile)))
	if err != nil {
		return nil, fmt.Errorf("exercise: %w", err)
	}
	out := map[string]FaultHints{}
	var fault string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fh := out[fault]
		switch m, w := hintItem.FindStringSubmatch(line), windowLine.FindStringSubmatch(line); {
		case strings.HasPrefix(line, "## "):
			fault = strings.Trim(strings.TrimSpace(strings.TrimPrefix(line, "## ")), "`")
			continue
		case fault == "":
			continue
		case m != nil:
			fh.Hints = append(fh.Hints, m[2])
		case w != nil:
			d, err := time.ParseDuration(w[1])
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("exercise: %s:%d: expected a window such as 1.5s, got %q", HintsFile, n, w[1])
			}
			fh.Window = d
		case strings.TrimSpace(line) != "" && len(fh.Hints) > 0 && (strings.HasPrefix(line, "   ") || strings.HasPrefix(line, "\t")):
			// a continuation line of the current item
			fh.Hints[len(fh.Hints)-1] += " " + strings.TrimSpace(line)
		}
		out[fault] = fh
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("exercise: %w", err)
	}
	return out, nil
}

// Hint returns hint level (1..Levels) of fault.
func Hint(moduleDir, fault string, level int) (string, error) {
	if level < 1 || level > Levels {
		return "", fmt.Errorf("%w: hint=%d; expected 1 (which evidence to open), 2 (which function) or 3 (which line)", ErrNoHint, level)
	}
	all, err := Hints(moduleDir)
	if err != nil {
		return "", err
	}
	h := all[fault].Hints
	if len(h) < level {
		return "", fmt.Errorf("%w: %s has no hint %d for %q", ErrNoHint, HintsFile, level, fault)
	}
	return h[level-1], nil
}
