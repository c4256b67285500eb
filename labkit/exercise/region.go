package exercise

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The markers. They are line comments so that a lab builds, vets and
// formats the same with or without them.
const (
	BeginMarker = "// exercise:begin "
	StubMarker  = "// exercise:stub"
	EndMarker   = "// exercise:end"
)

// ErrMarker is wrapped by every error about malformed markers.
var ErrMarker = errors.New("exercise: malformed region markers")

// Region is one fault's fix in a lab's source.
type Region struct {
	Fault string
	File  string // slash-separated, relative to the module directory
	Begin int    // 1-based line of the begin marker
	End   int    // 1-based line of the end marker
	Fix   []string
	Stub  []string // the stub's lines, uncommented, with their indentation
}

// Scan reads every non-test Go file of the module in dir and returns its
// regions, sorted by fault. It rejects nested, unterminated and duplicate
// regions, and a region without a stub section.
func Scan(dir string) ([]Region, error) {
	var regions []Region
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != dir && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") ||
				fileExists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("exercise: %w", err)
		}
		if !bytes.Contains(src, []byte("exercise:")) {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return fmt.Errorf("exercise: %w", err)
		}
		found, err := parseRegions(filepath.ToSlash(rel), src)
		if err != nil {
			return err
		}
		regions = append(regions, found...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i].Fault < regions[j].Fault })
	for i := 1; i < len(regions); i++ {
		if a, b := regions[i-1], regions[i]; a.Fault == b.Fault {
			return nil, fmt.Errorf("%w: fault %q has two regions, %s:%d and %s:%d; a fault has exactly one",
				ErrMarker, a.Fault, a.File, a.Begin, b.File, b.Begin)
		}
	}
	return regions, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// parseRegions finds the regions of one file.
func parseRegions(file string, src []byte) ([]Region, error) {
	var (
		out    []Region
		cur    *Region
		inStub bool
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		where := fmt.Sprintf("%s:%d", file, n)
		switch {
		case strings.HasPrefix(trimmed+" ", BeginMarker):
			if cur != nil {
				return nil, fmt.Errorf("%w: %s: region %q begins inside region %q (line %d); regions do not nest",
					ErrMarker, where, strings.TrimSpace(strings.TrimPrefix(trimmed, BeginMarker)), cur.Fault, cur.Begin)
			}
			fault := strings.Fields(strings.TrimPrefix(trimmed+" ", BeginMarker))
			if len(fault) == 0 {
				return nil, fmt.Errorf("%w: %s: expected a fault name after %q", ErrMarker, where, strings.TrimSpace(BeginMarker))
			}
			cur, inStub = &Region{Fault: fault[0], File: file, Begin: n}, false
		case trimmed == StubMarker:
			if cur == nil || inStub {
				return nil, fmt.Errorf("%w: %s: %q outside a region or twice in one", ErrMarker, where, StubMarker)
			}
			inStub = true
		case trimmed == EndMarker:
			if cur == nil {
				return nil, fmt.Errorf("%w: %s: %q without a begin marker", ErrMarker, where, EndMarker)
			}
			if !inStub {
				return nil, fmt.Errorf("%w: %s: region %q has no %q section; write the defect it stands for there, commented out",
					ErrMarker, where, cur.Fault, StubMarker)
			}
			cur.End = n
			out = append(out, *cur)
			cur = nil
		case strings.HasPrefix(trimmed, "// exercise:"):
			return nil, fmt.Errorf("%w: %s: unknown marker %q; expected %q, %q or %q", ErrMarker, where, trimmed,
				strings.TrimSpace(BeginMarker)+" FAULT", StubMarker, EndMarker)
		case cur != nil && inStub:
			code, ok := uncomment(line)
			if !ok {
				return nil, fmt.Errorf("%w: %s: a stub line of region %q must be a // comment", ErrMarker, where, cur.Fault)
			}
			cur.Stub = append(cur.Stub, code)
		case cur != nil:
			cur.Fix = append(cur.Fix, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("exercise: %s: %w", file, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%w: %s:%d: region %q has no %q", ErrMarker, file, cur.Begin, cur.Fault, EndMarker)
	}
	return out, nil
}

// uncomment turns "\t// code" into "\tcode".
func uncomment(line string) (string, bool) {
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	rest := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(rest, "//") {
		return "", false
	}
	rest = strings.TrimPrefix(rest, "//")
	rest = strings.TrimPrefix(rest, " ")
	if rest == "" {
		return "", true
	}
	return indent + rest, true
}

// Stubbed returns src (the region's file) with the region replaced by its
// stub between the two markers the learner keeps: the grader does not need
// them, but they show where to write.
func (r Region) Stubbed(src []byte, lab int) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	if r.Begin < 1 || r.End > len(lines) || r.Begin >= r.End {
		return nil, fmt.Errorf("exercise: %s: region %q (lines %d-%d) is not in this file", r.File, r.Fault, r.Begin, r.End)
	}
	begin := lines[r.Begin-1]
	if !strings.Contains(begin, BeginMarker+r.Fault) {
		return nil, fmt.Errorf("exercise: %s:%d: expected the begin marker of %q; the file changed since it was scanned", r.File, r.Begin, r.Fault)
	}
	indent := begin[:len(begin)-len(strings.TrimLeft(begin, " \t"))]
	var b strings.Builder
	for _, l := range lines[:r.Begin-1] {
		b.WriteString(l)
	}
	fmt.Fprintf(&b, "%s%s%s\n", indent, BeginMarker, r.Fault)
	fmt.Fprintf(&b, "%s// Your fix goes here. The lines below are the defect. Grade: make lab-%d grade=%s; hints: make lab-%d hint=1\n",
		indent, lab, r.Fault, lab)
	for _, l := range r.Stub {
		b.WriteString(l + "\n")
	}
	b.WriteString(indent + EndMarker + "\n")
	for _, l := range lines[r.End:] {
		b.WriteString(l)
	}
	return []byte(b.String()), nil
}
