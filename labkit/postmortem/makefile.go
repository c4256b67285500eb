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

var assignLine = regexp.MustCompile(`^(?:(?:override|export)\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(::?=|:::=|\?=|\+=|=)\s*(.*)$`)

// ParseMakefile reads the rule names of a Makefile. Lines of recipes and
// define blocks are skipped. Rule names built from variables are expanded
// for the simple forms ($(V), $(V:%=x-%), $(V:a=b), $(addprefix P,L),
// $(addsuffix S,L)); a name that needs anything else is skipped.
func ParseMakefile(r io.Reader) (*Targets, []string, error) {
	t := &Targets{names: map[string]bool{}}
	vars := map[string]string{}
	var dynamic []string
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
		if a := assignLine.FindStringSubmatch(line); a != nil {
			val := strings.TrimSpace(a[3])
			switch a[2] {
			case "+=":
				vars[a[1]] = strings.TrimSpace(vars[a[1]] + " " + val)
			case "?=":
				if _, ok := vars[a[1]]; !ok {
					vars[a[1]] = val
				}
			default:
				vars[a[1]] = val
			}
			continue
		}
		masked, refs := maskRefs(line)
		m := ruleLine.FindStringSubmatch(masked)
		if m == nil {
			continue
		}
		if len(refs) > 0 && strings.Contains(m[1], "\x01") {
			dynamic = append(dynamic, unmaskRefs(m[1], refs))
			continue
		}
		for _, name := range strings.Fields(m[1]) {
			t.add(name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read Makefile: %w", err)
	}
	for _, d := range dynamic {
		if exp, ok := expandMake(d, vars, 0); ok {
			for _, name := range strings.Fields(exp) {
				t.add(name)
			}
		}
	}
	return t, includes, nil
}

// expandMake expands the variable references make would, for the simple
// forms a Makefile uses to name rules. ok is false when s needs more.
func expandMake(s string, vars map[string]string, depth int) (string, bool) {
	if depth > 10 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		if s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if s[i+1] != '(' && s[i+1] != '{' {
			v, ok := expandMake(vars[s[i+1:i+2]], vars, depth+1)
			if !ok {
				return "", false
			}
			b.WriteString(v)
			i++
			continue
		}
		end := balanced(s, i+1)
		if end > len(s) || end-1 <= i+1 || (s[end-1] != ')' && s[end-1] != '}') {
			return "", false
		}
		inner := s[i+2 : end-1]
		v, ok := expandRef(inner, vars, depth)
		if !ok {
			return "", false
		}
		b.WriteString(v)
		i = end - 1
	}
	return b.String(), true
}

func expandRef(inner string, vars map[string]string, depth int) (string, bool) {
	for _, fn := range []string{"addprefix ", "addsuffix "} {
		if !strings.HasPrefix(inner, fn) {
			continue
		}
		arg, list, found := strings.Cut(inner[len(fn):], ",")
		if !found {
			return "", false
		}
		a, ok1 := expandMake(arg, vars, depth+1)
		l, ok2 := expandMake(list, vars, depth+1)
		if !ok1 || !ok2 {
			return "", false
		}
		words := strings.Fields(l)
		for i, w := range words {
			if fn == "addprefix " {
				words[i] = a + w
			} else {
				words[i] = w + a
			}
		}
		return strings.Join(words, " "), true
	}
	if strings.ContainsAny(inner, " $,") {
		return "", false
	}
	name, subst, hasSubst := strings.Cut(inner, ":")
	val, known := vars[name]
	if !known {
		return "", false
	}
	val, ok := expandMake(val, vars, depth+1)
	if !ok || !hasSubst {
		return val, ok
	}
	from, to, found := strings.Cut(subst, "=")
	if !found {
		return "", false
	}
	if !strings.Contains(from, "%") {
		from, to = "%"+from, "%"+to
	}
	words := strings.Fields(val)
	for i, w := range words {
		fp, fs, _ := strings.Cut(from, "%")
		if strings.HasPrefix(w, fp) && strings.HasSuffix(w, fs) && len(w) >= len(fp)+len(fs) {
			stem := w[len(fp) : len(w)-len(fs)]
			words[i] = strings.Replace(to, "%", stem, 1)
		}
	}
	return strings.Join(words, " "), true
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

// maskRefs replaces each $(...) / ${...} in line with "\x01N\x02" so the
// colons and equals signs inside variable references do not look like rule
// or assignment syntax.
func maskRefs(line string) (string, []string) {
	if !strings.Contains(line, "$(") && !strings.Contains(line, "${") {
		return line, nil
	}
	var b strings.Builder
	var refs []string
	for i := 0; i < len(line); i++ {
		if line[i] == '$' && i+1 < len(line) && (line[i+1] == '(' || line[i+1] == '{') {
			end := balanced(line, i+1)
			fmt.Fprintf(&b, "\x01%d\x02", len(refs))
			refs = append(refs, line[i:end])
			i = end - 1
			continue
		}
		b.WriteByte(line[i])
	}
	return b.String(), refs
}

func unmaskRefs(s string, refs []string) string {
	for i := len(refs) - 1; i >= 0; i-- {
		s = strings.ReplaceAll(s, fmt.Sprintf("\x01%d\x02", i), refs[i])
	}
	return s
}
