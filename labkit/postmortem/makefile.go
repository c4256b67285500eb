package postmortem

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Targets are the goals a Makefile defines: plain names ("test:") and
// pattern rules ("lab-%:").
type Targets struct {
	names    map[string]bool
	patterns []string // "lab-%"
}

func (t *Targets) add(name string) {
	if strings.Contains(name, "%") {
		t.patterns = append(t.patterns, name)
	} else if name != "" {
		t.names[name] = true
	}
}

// Has reports whether `make goal` names a rule of the Makefile.
func (t *Targets) Has(goal string) bool {
	if t.names[goal] {
		return true
	}
	for _, p := range t.patterns {
		if matchPattern(p, goal) {
			return true
		}
	}
	return false
}

// List returns the targets, sorted, patterns included, for error messages.
func (t *Targets) List() []string {
	out := make([]string, 0, len(t.names)+len(t.patterns))
	for n := range t.names {
		if !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	out = append(out, t.patterns...)
	sort.Strings(out)
	return out
}

func matchPattern(pattern, goal string) bool {
	i := strings.IndexByte(pattern, '%')
	if i < 0 {
		return pattern == goal
	}
	prefix, suffix := pattern[:i], pattern[i+1:]
	return len(goal) > len(prefix)+len(suffix) &&
		strings.HasPrefix(goal, prefix) && strings.HasSuffix(goal, suffix)
}

// ruleLine matches "name other-name: deps" and "name:: deps" but not the
// assignments "x := y", "x ::= y" or "x != y".
var ruleLine = regexp.MustCompile(`^([^\s:=#][^:=#]*?)\s*::?(?:$|[^=:])`)

var assignLine = regexp.MustCompile(`^(?:(?:override|export)\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*(?:::?=|:::=|\?=|\+=|!=|=)`)

// ParseMakefile reads the rule names of a Makefile: the names a postmortem
// can cite as `make NAME`. Lines of recipes and define blocks are skipped,
// and so are rules whose names are built from variables ($(LABS:%=x-%)):
// this repository's Makefile names its rules literally (lab-% is a pattern,
// not an expansion), so the linter needs no make expander.
func ParseMakefile(r io.Reader) (*Targets, []string, error) {
	t := &Targets{names: map[string]bool{}}
	var includes []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	inDefine := false
	cont := false
	for sc.Scan() {
		line := sc.Text()
		wasCont := cont
		cont = strings.HasSuffix(line, `\`)
		if wasCont || strings.HasPrefix(line, "\t") {
			continue
		}
		trimmed := strings.TrimSpace(line)
		if inDefine {
			if trimmed == "endef" || strings.HasPrefix(trimmed, "endef ") {
				inDefine = false
			}
			continue
		}
		if strings.HasPrefix(trimmed, "define ") || trimmed == "define" ||
			strings.HasPrefix(trimmed, "override define ") {
			inDefine = true
			continue
		}
		for _, kw := range []string{"include ", "-include ", "sinclude "} {
			if strings.HasPrefix(line, kw) {
				includes = append(includes, strings.Fields(strings.TrimPrefix(line, kw))...)
			}
		}
		if assignLine.MatchString(line) {
			continue
		}
		m := ruleLine.FindStringSubmatch(maskRefs(line))
		if m == nil || strings.Contains(m[1], "$") {
			continue
		}
		for _, name := range strings.Fields(m[1]) {
			t.add(name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read Makefile: %w", err)
	}
	return t, includes, nil
}

// LoadMakefile parses path and the files it includes (relative to its
// directory; globs allowed; includes that name variables are skipped).
func LoadMakefile(path string) (*Targets, error) {
	all := &Targets{names: map[string]bool{}}
	seen := map[string]bool{}
	var load func(p string, required bool) error
	load = func(p string, required bool) error {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", p, err)
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		f, err := os.Open(abs)
		if err != nil {
			if !required {
				return nil
			}
			return fmt.Errorf("open Makefile: %w", err)
		}
		defer f.Close()
		t, includes, err := ParseMakefile(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for n := range t.names {
			all.names[n] = true
		}
		all.patterns = append(all.patterns, t.patterns...)
		for _, inc := range includes {
			if strings.Contains(inc, "$") {
				continue
			}
			matches, err := filepath.Glob(filepath.Join(filepath.Dir(abs), inc))
			if err != nil {
				continue
			}
			for _, m := range matches {
				if err := load(m, false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := load(path, true); err != nil {
		return nil, err
	}
	return all, nil
}

// maskRefs replaces each $(...) / ${...} in line with "$" so the colons
// and equals signs inside variable references do not look like rule or
// assignment syntax.
func maskRefs(line string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '$' && i+1 < len(line) && (line[i+1] == '(' || line[i+1] == '{'):
			if depth == 0 {
				b.WriteByte('$')
			}
			depth++
			i++
		case depth > 0 && (line[i] == '(' || line[i] == '{'):
			depth++
		case depth > 0 && (line[i] == ')' || line[i] == '}'):
			depth--
		case depth == 0:
			b.WriteByte(line[i])
		}
	}
	return b.String()
}
