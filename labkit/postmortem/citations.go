package postmortem

import (
	"fmt"
	"go/build"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

type linter struct {
	root     string // absolute
	docDir   string // absolute directory of the postmortem
	modDir   string // absolute directory of the postmortem's go.mod, or root
	labs     map[int]catalog.Stage
	evidence map[string]bool // file names the harness writes into every run

	rootEntries map[string]bool
	makefiles   map[string]*makeResult
	labInfos    map[int]*labInfo
	// produced are files that commands earlier in the postmortem write
	// (go tool trace -pprof=sync trace.out > sync.pprof): later citations
	// of them are not missing files.
	produced map[string]bool
}

type makeResult struct {
	targets *Targets
	err     error
}

// labInfo is what the catalog says of a lab, and whether its directory
// exists yet.
type labInfo struct {
	exists bool
	faults map[string]bool
	files  map[string]bool
}

func newLinter(p string, opts Options) (*linter, error) {
	absPath, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", p, err)
	}
	l := &linter{
		docDir:    filepath.Dir(absPath),
		labs:      map[int]catalog.Stage{},
		evidence:  map[string]bool{},
		makefiles: map[string]*makeResult{},
		labInfos:  map[int]*labInfo{},
		produced:  map[string]bool{},
	}
	stages, files := opts.Stages, opts.Evidence
	if stages == nil {
		stages = catalog.Stages()
	}
	if files == nil {
		files = HarnessEvidence()
	}
	for _, s := range stages {
		l.labs[s.Number] = s
	}
	for _, f := range files {
		l.evidence[f] = true
	}
	if opts.Root != "" {
		if l.root, err = filepath.Abs(opts.Root); err != nil {
			return nil, fmt.Errorf("resolve root %s: %w", opts.Root, err)
		}
		if fi, err := os.Stat(l.root); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("root %s is not a directory", opts.Root)
		}
	} else if l.root, err = FindRoot(l.docDir); err != nil {
		return nil, err
	}
	l.modDir = l.root
	for d := l.docDir; strings.HasPrefix(d, l.root) && d != l.root; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			l.modDir = d
			break
		}
	}
	l.rootEntries = map[string]bool{}
	if ents, err := os.ReadDir(l.root); err == nil {
		for _, e := range ents {
			l.rootEntries[e.Name()] = true
		}
	}
	return l, nil
}

// ---- what a citation looks like ------------------------------------------

// commandWords are programs a postmortem cites as commands. A code span that
// starts with one of them is checked as a command line, not as a path.
var commandWords = map[string]bool{
	"make": true, "go": true, "curl": true, "cd": true, "promtool": true, "amtool": true,
	"redis-cli": true, "redis-benchmark": true, "mysql": true, "mariadb": true, "psql": true,
	"kcat": true, "wrk": true, "hey": true, "vegeta": true, "docker": true, "docker-compose": true,
	"kubectl": true, "helm": true, "git": true, "grep": true, "jq": true, "head": true, "tail": true,
	"cat": true, "less": true, "ls": true, "awk": true, "sed": true, "sort": true, "wc": true,
	"benchstat": true, "dlv": true, "hyperfine": true, "bash": true, "sh": true, "ss": true,
	"netstat": true, "lsof": true, "top": true, "htop": true, "ps": true, "vmstat": true,
	"iostat": true, "pidstat": true, "perf": true, "strace": true, "dig": true, "nc": true,
	"kill": true, "nats": true, "etcdctl": true, "find": true, "diff": true, "python3": true,
}

var envAssign = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// commandWordsOf returns the words of a simple command with leading
// VAR=value assignments and env/time/sudo wrappers removed.
func commandWordsOf(words []string) []string {
	for len(words) > 0 {
		w := words[0]
		if envAssign.MatchString(w) || w == "env" || w == "time" || w == "sudo" || w == "exec" {
			words = words[1:]
			continue
		}
		break
	}
	return words
}

// withoutPrompt is a command line without the "$ " prompt a postmortem
// may copy with it, so that what is checked is what was run.
func withoutPrompt(s string) string {
	s = strings.TrimSpace(s)
	if s == "$" || strings.HasPrefix(s, "$ ") || strings.HasPrefix(s, "$\t") {
		s = strings.TrimSpace(s[1:])
	}
	return s
}

// looksLikeCommand reports whether a span of text is a shell command line.
func looksLikeCommand(s string) bool {
	cmds := SplitShell(withoutPrompt(s))
	if len(cmds) == 0 {
		return false
	}
	words := commandWordsOf(cmds[0])
	if len(words) == 0 {
		return false
	}
	w := words[0]
	if commandWords[w] {
		// "make" or "go" alone in prose ("the go tool") is still a command
		// when it is in backticks with arguments, or a bare `make`.
		return len(words) > 1 || w == "make" || len(cmds[0]) > 1
	}
	return (strings.HasPrefix(w, "./") || strings.HasPrefix(w, "scripts/")) &&
		(strings.HasSuffix(w, ".sh") || len(words) > 1)
}

var shellFences = map[string]bool{
	"": true, "sh": true, "bash": true, "shell": true, "console": true, "zsh": true,
	"terminal": true, "shell-session": true, "shellsession": true,
}

// fenceCommand returns the command on a line of a shell-like fenced block.
func fenceCommand(ln Line) (string, bool) {
	if !ln.InFence || !shellFences[strings.ToLower(ln.FenceInfo)] {
		return "", false
	}
	t := withoutPrompt(ln.Text)
	if t == "" || strings.HasPrefix(t, "#") || !looksLikeCommand(t) {
		return "", false
	}
	return t, true
}

type pathKind int

const (
	notPath      pathKind = iota
	outPath               // out/lab-N/...: a run output
	evidenceName          // a bare evidence file name such as goroutine.pprof
	filePath              // a file or directory that must exist
)

var fileExts = map[string]bool{
	".go": true, ".md": true, ".yml": true, ".yaml": true, ".json": true, ".pprof": true,
	".prof": true, ".out": true, ".csv": true, ".svg": true, ".txt": true, ".html": true,
	".sql": true, ".proto": true, ".sh": true, ".mod": true, ".sum": true, ".toml": true,
	".log": true, ".mk": true, ".png": true, ".lua": true, ".conf": true,
}

var bareFiles = map[string]bool{
	"Makefile": true, "Dockerfile": true, "go.mod": true, "go.work": true, "go.sum": true,
}

var fileLine = regexp.MustCompile(`^(.+?):(\d+)(?::\d+)?$`)

// splitFileLine cuts "scenarios/leak.go:57" into the path and line 57.
func splitFileLine(s string) (string, int) {
	if m := fileLine.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[2])
		if err == nil {
			return m[1], n
		}
	}
	return s, 0
}

// pathKind decides whether a word names a file of this repository.
// Deliberately narrow: Go import paths (runtime/trace, github.com/...),
// endpoints (/debug/pprof/), URLs and identifiers are not paths.
func (l *linter) pathKind(s string) pathKind {
	s = strings.Trim(strings.TrimSpace(s), `"'`)
	if s == "" || strings.ContainsAny(s, " \t") || strings.Contains(s, "://") {
		return notPath
	}
	s, _ = splitFileLine(s)
	clean := strings.TrimPrefix(s, "./")
	if clean == "out" || strings.HasPrefix(clean, "out/") {
		return outPath
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") ||
		strings.ContainsAny(s, ":(){}[]<>$@=,;|&?!") {
		return notPath
	}
	if strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return filePath
	}
	base := path.Base(s)
	if strings.Contains(s, "/") {
		first := strings.SplitN(s, "/", 2)[0]
		if strings.Contains(first, ".") && !strings.HasPrefix(first, ".") {
			return notPath // github.com/..., go.opentelemetry.io/...
		}
		if l.rootEntries[first] {
			return filePath
		}
		if isStdDir(first) {
			return notPath // runtime/chan.go, net/http/server.go: Go's own sources
		}
		if fileExts[path.Ext(base)] || bareFiles[base] {
			return filePath
		}
		return notPath
	}
	if l.knownEvidence(s) {
		return evidenceName
	}
	if fileExts[path.Ext(s)] || bareFiles[s] {
		return filePath
	}
	return notPath
}

// isStdDir reports whether name is a top-level directory of the Go
// standard library source tree (runtime, net, sync ...).
func isStdDir(name string) bool {
	root := build.Default.GOROOT
	if root == "" || name == "" || strings.HasPrefix(name, ".") {
		return false
	}
	fi, err := os.Stat(filepath.Join(root, "src", name))
	return err == nil && fi.IsDir()
}

// knownEvidence reports whether name is a file the harness writes into a run.
func (l *linter) knownEvidence(name string) bool {
	return l.evidence[name]
}

// ---- checking citations ---------------------------------------------------

func (l *linter) checkCitations(doc *Document) []Problem {
	var probs []Problem
	for i := 0; i < len(doc.Lines); i++ {
		ln := doc.Lines[i]
		if ln.InFence {
			cmd, ok := fenceCommand(ln)
			if !ok {
				continue
			}
			for strings.HasSuffix(cmd, `\`) && i+1 < len(doc.Lines) && doc.Lines[i+1].InFence {
				i++
				cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(doc.Lines[i].Text)
			}
			probs = append(probs, l.checkCommand(ln.Num, cmd)...)
			continue
		}
		if ln.Fence {
			continue
		}
		for _, span := range spansOf(ln) {
			if looksLikeCommand(span) {
				probs = append(probs, l.checkCommand(ln.Num, span)...)
				continue
			}
			if p, ok := l.checkPathWord(ln.Num, span, ""); !ok {
				probs = append(probs, p)
			}
		}
		for _, target := range ln.links {
			if p, ok := l.checkLink(ln.Num, target); !ok {
				probs = append(probs, p)
			}
		}
	}
	return probs
}

func (l *linter) checkLink(line int, target string) (Problem, bool) {
	if target == "" || strings.HasPrefix(target, "#") || strings.Contains(target, "://") ||
		strings.HasPrefix(target, "mailto:") {
		return Problem{}, true
	}
	t := target
	if i := strings.IndexAny(t, "#?"); i >= 0 {
		t = t[:i]
	}
	var abs string
	if strings.HasPrefix(t, "/") {
		abs = filepath.Join(l.root, filepath.FromSlash(t))
	} else {
		abs = filepath.Join(l.docDir, filepath.FromSlash(t))
	}
	if _, err := os.Stat(abs); err != nil {
		return Problem{
			Line:     line,
			Problem:  fmt.Sprintf("link target %q does not exist", target),
			Expected: fmt.Sprintf("a path relative to %s", l.rel(l.docDir)),
		}, false
	}
	return Problem{}, true
}

func (l *linter) rel(abs string) string {
	r, err := filepath.Rel(l.root, abs)
	if err != nil || r == "." {
		return "the repository root"
	}
	return filepath.ToSlash(r) + "/"
}

// checkPathWord checks one word that may be a path. cwd, when set, is the
// directory a `cd` moved to.
func (l *linter) checkPathWord(line int, word, cwd string) (Problem, bool) {
	switch l.pathKind(word) {
	case outPath:
		return l.checkOutPath(line, strings.Trim(word, `"'`))
	case filePath:
		return l.checkFile(line, strings.Trim(word, `"'`), cwd)
	}
	return Problem{}, true
}

// bases are the directories a relative path may be written against.
func (l *linter) bases(cwd string) []string {
	if cwd != "" {
		return []string{cwd}
	}
	out := []string{l.root}
	if l.modDir != l.root {
		out = append(out, l.modDir)
	}
	if l.docDir != l.modDir && l.docDir != l.root {
		out = append(out, l.docDir)
	}
	return out
}

func (l *linter) basesText(cwd string) string {
	var names []string
	for _, b := range l.bases(cwd) {
		names = append(names, l.rel(b))
	}
	return strings.Join(names, ", ")
}

// resolve returns the existing file or directory p names, or "".
func (l *linter) resolve(p, cwd string) string {
	p = strings.TrimSuffix(p, "/...")
	for _, b := range l.bases(cwd) {
		abs := filepath.Join(b, filepath.FromSlash(p))
		if strings.ContainsAny(p, "*") {
			if m, err := filepath.Glob(abs); err == nil && len(m) > 0 {
				return m[0]
			}
			continue
		}
		if _, err := os.Stat(abs); err == nil {
			return abs
		}
	}
	return ""
}

func (l *linter) checkFile(line int, word, cwd string) (Problem, bool) {
	p, lineNo := splitFileLine(word)
	if l.produced[strings.TrimPrefix(p, "./")] {
		return Problem{}, true
	}
	abs := l.resolve(p, cwd)
	if abs == "" {
		return Problem{
			Line:     line,
			Problem:  fmt.Sprintf("cited file %q does not exist", word),
			Expected: "a path relative to " + l.basesText(cwd),
		}, false
	}
	if lineNo > 0 {
		data, err := os.ReadFile(abs)
		if err != nil {
			return Problem{
				Line:     line,
				Problem:  fmt.Sprintf("cited file %q cannot be read: %v", p, err),
				Expected: "a readable file",
			}, false
		}
		n := strings.Count(string(data), "\n")
		if len(data) > 0 && data[len(data)-1] != '\n' {
			n++
		}
		if lineNo > n {
			return Problem{
				Line:     line,
				Problem:  fmt.Sprintf("cited line %s is past the end of %s (%d lines)", word, p, n),
				Expected: "a line that exists",
			}, false
		}
	}
	return Problem{}, true
}

var (
	labSegment  = regexp.MustCompile(`^lab-(\d+)$`)
	placeholdRe = regexp.MustCompile(`\$\([^)]*\)|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|<[^<>]*>`)
)

func isPlaceholder(seg string) bool {
	return seg == "\x00" || seg == "*" || seg == "..." || seg == "…" || seg == "lab-N"
}

// checkOutPath accepts run outputs that match the evidence layout:
// out/lab-N/<run>/{report.json,report.md,postmortem-draft.md} and
// out/lab-N/<run>/<fault>/<evidence file>. A path that exists is accepted as is.
func (l *linter) checkOutPath(line int, word string) (Problem, bool) {
	p, _ := splitFileLine(word)
	p = strings.TrimPrefix(p, "./")
	if _, err := os.Stat(filepath.Join(l.root, filepath.FromSlash(p))); err == nil {
		return Problem{}, true
	}
	bad := func(problem, expected string) (Problem, bool) {
		return Problem{Line: line, Problem: fmt.Sprintf("run output %q %s", word, problem), Expected: expected}, false
	}
	layout := "out/lab-N/<run>/<fault>/<evidence file> or out/lab-N/<run>/report.json"
	masked := placeholdRe.ReplaceAllString(p, "\x00")
	segs := strings.Split(strings.TrimSuffix(masked, "/"), "/")
	if len(segs) < 2 {
		return Problem{}, true
	}
	lab := -1
	if m := labSegment.FindStringSubmatch(segs[1]); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return bad("names no lab", layout)
		}
		if _, ok := l.labs[n]; !ok {
			return bad(fmt.Sprintf("names lab %d, which does not exist", n), "a lab number among "+l.labNumbers())
		}
		lab = n
	} else if !isPlaceholder(segs[1]) && !strings.Contains(segs[1], "\x00") {
		return bad("does not name a lab", layout)
	}
	if len(segs) <= 3 {
		return Problem{}, true // the lab's or the run's folder
	}
	var info *labInfo
	if lab >= 0 {
		info = l.labInfo(lab)
		if !info.exists {
			return bad(fmt.Sprintf("belongs to lab %d, which has no directory %s yet", lab, l.labs[lab].Dir),
				"a lab that exists")
		}
	}
	names := map[string]bool{}
	for n := range l.evidence {
		names[n] = true
	}
	if info != nil {
		for n := range info.files {
			names[n] = true
		}
	}
	fileOK := func(name string) bool {
		if isPlaceholder(name) || strings.Contains(name, "\x00") {
			return true
		}
		if strings.ContainsAny(name, "*?[") {
			for n := range names {
				if ok, _ := path.Match(name, n); ok {
					return true
				}
			}
			return false
		}
		return names[name]
	}
	knownNames := func() string {
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		return "one of " + strings.Join(list, ", ")
	}
	fault := segs[3]
	if len(segs) == 4 && path.Ext(fault) != "" {
		if fileOK(fault) {
			return Problem{}, true
		}
		return bad("names an evidence file no run writes", knownNames())
	}
	if !isPlaceholder(fault) && !strings.Contains(fault, "\x00") && !isRunOnlyFolder(fault) && info != nil && !info.faults[fault] {
		return bad(fmt.Sprintf("names fault %q, which lab %d does not declare", fault, lab),
			"a fault among "+setList(info.faults))
	}
	if len(segs) == 4 {
		return Problem{}, true
	}
	if len(segs) == 5 && strings.HasPrefix(segs[4], "compare-") && path.Ext(segs[4]) == ".svg" {
		return Problem{}, true // fault=compare: one chart per key series, both runs
	}
	if len(segs) == 6 && subFolder.MatchString(segs[4]) {
		segs = append(segs[:4], segs[5]) // <fault>/on|off|nodeN/<file>
	}
	if len(segs) > 5 {
		return bad("is deeper than the evidence layout", layout)
	}
	if !fileOK(segs[4]) {
		return bad("names an evidence file no run writes", knownNames())
	}
	return Problem{}, true
}

// isRunOnlyFolder reports the folders a run writes beside its faults'
// folders: a mystery run's, whose names must not give the fault away.
func isRunOnlyFolder(name string) bool {
	switch name {
	case "mystery", "baseline", "incident":
		return true
	}
	return false
}

// subFolder is a folder inside a scenario's evidence: the two sides of
// fault=compare, or one node of a multi-process lab.
var subFolder = regexp.MustCompile(`^(on|off|node[0-9]+)$`)

func (l *linter) labNumbers() string {
	nums := make([]int, 0, len(l.labs))
	for n := range l.labs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

func setList(m map[string]bool) string {
	if len(m) == 0 {
		return "(none in labkit/catalog yet)"
	}
	list := make([]string, 0, len(m))
	for n := range m {
		list = append(list, n)
	}
	sort.Strings(list)
	return strings.Join(list, ", ")
}

// ---- what the catalog declares ----------------------------------------------

func (l *linter) labInfo(n int) *labInfo {
	if info, ok := l.labInfos[n]; ok {
		return info
	}
	st := l.labs[n]
	info := &labInfo{faults: map[string]bool{}, files: map[string]bool{}}
	if fi, err := os.Stat(filepath.Join(l.root, filepath.FromSlash(st.Dir))); err == nil && fi.IsDir() && st.Dir != "" {
		info.exists = true
	}
	for _, f := range st.Faults {
		info.faults[f] = true
	}
	for _, f := range st.Evidence {
		info.files[f] = true
	}
	l.labInfos[n] = info
	return info
}

// ---- commands ----------------------------------------------------------------

// checkCommand checks a command line: the make targets and variables, the
// go packages, and every path-like word.
func (l *linter) checkCommand(line int, cmdline string) []Problem {
	var probs []Problem
	cwd := ""
	cmds, redirects := splitShell(withoutPrompt(cmdline))
	produce := func(f string) { l.produced[strings.TrimPrefix(f, "./")] = true }
	for _, r := range redirects {
		produce(r)
	}
	for _, words := range cmds {
		words = commandWordsOf(words)
		for i, w := range words {
			if outputFlags[w] && i+1 < len(words) {
				produce(words[i+1])
			} else if k, v, ok := strings.Cut(w, "="); ok && outputFlags[k] {
				produce(v)
			} else if i > 0 && words[0] == "tee" && !strings.HasPrefix(w, "-") {
				produce(w)
			}
		}
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "cd":
			if len(words) < 2 {
				cwd = ""
				continue
			}
			abs := l.resolve(words[1], cwd)
			if abs == "" {
				probs = append(probs, Problem{
					Line:     line,
					Problem:  fmt.Sprintf("`cd %s`: no such directory", words[1]),
					Expected: "a directory relative to " + l.basesText(cwd),
				})
				return probs
			}
			cwd = abs
		case "make":
			probs = append(probs, l.checkMake(line, words[1:], cwd)...)
		case "go":
			probs = append(probs, l.checkGo(line, words[1:], cwd)...)
		default:
			for _, w := range words {
				probs = append(probs, l.checkArg(line, w, cwd)...)
			}
		}
	}
	return probs
}

// checkArg checks a word, or the value of a -flag=value word, as a path.
func (l *linter) checkArg(line int, w, cwd string) []Problem {
	if strings.HasPrefix(w, "-") {
		i := strings.IndexByte(w, '=')
		if i < 0 {
			return nil
		}
		w = w[i+1:]
	}
	if p, ok := l.checkPathWord(line, w, cwd); !ok {
		return []Problem{p}
	}
	return nil
}

func (l *linter) makefile(dir, name string) *makeResult {
	key := filepath.Join(dir, name)
	if r, ok := l.makefiles[key]; ok {
		return r
	}
	var r makeResult
	if name != "" {
		r.targets, r.err = LoadMakefile(key)
	} else {
		r.err = fmt.Errorf("no Makefile")
		for _, n := range []string{"GNUmakefile", "makefile", "Makefile"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				r.targets, r.err = LoadMakefile(filepath.Join(dir, n))
				break
			}
		}
	}
	l.makefiles[key] = &r
	return &r
}

var makeValueFlags = map[string]bool{"-C": true, "-f": true, "-j": true, "-l": true, "-o": true, "-W": true, "-I": true,
	"--directory": true, "--file": true, "--makefile": true, "--jobs": true}

func (l *linter) checkMake(line int, args []string, cwd string) []Problem {
	var probs []Problem
	dir, file := cwd, ""
	if dir == "" {
		dir = l.root
	}
	var goals []string
	vars := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-C" || a == "--directory" || strings.HasPrefix(a, "--directory=") || strings.HasPrefix(a, "-C") && len(a) > 2:
			v := strings.TrimPrefix(strings.TrimPrefix(a, "--directory="), "-C")
			if a == "-C" || a == "--directory" {
				if i+1 >= len(args) {
					continue
				}
				i++
				v = args[i]
			}
			abs := l.resolve(v, cwd)
			if abs == "" {
				return append(probs, Problem{Line: line, Problem: fmt.Sprintf("`make -C %s`: no such directory", v),
					Expected: "a directory relative to " + l.basesText(cwd)})
			}
			dir = abs
		case a == "-f" || a == "--file" || a == "--makefile":
			if i+1 < len(args) {
				i++
				file = args[i]
			}
		case makeValueFlags[a]:
			i++
		case strings.HasPrefix(a, "-"):
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			vars[k] = v
		default:
			if _, err := strconv.Atoi(a); err == nil {
				continue
			}
			goals = append(goals, a)
		}
	}
	mf := l.makefile(dir, file)
	where := l.rel(dir)
	if mf.err != nil {
		return append(probs, Problem{
			Line:     line,
			Problem:  fmt.Sprintf("cites make but %s has no readable Makefile (%v)", where, mf.err),
			Expected: "a Makefile in " + where,
		})
	}
	lab := -1
	for _, g := range goals {
		if !mf.targets.Has(g) {
			probs = append(probs, Problem{
				Line:     line,
				Problem:  fmt.Sprintf("`make %s`: the Makefile in %s has no rule %q", g, where, g),
				Expected: "one of " + strings.Join(mf.targets.List(), ", "),
			})
			continue
		}
		if m := labSegment.FindStringSubmatch(g); m != nil {
			n, _ := strconv.Atoi(m[1])
			if p, ok := l.checkLab(line, n, "make "+g); !ok {
				probs = append(probs, p)
				continue
			}
			lab = n
		}
	}
	if v, ok := vars["lab"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			probs = append(probs, Problem{Line: line, Problem: fmt.Sprintf("`lab=%s` is not a lab number", v),
				Expected: "lab=N with N among " + l.labNumbers()})
		} else if p, ok := l.checkLab(line, n, "lab="+v); !ok {
			probs = append(probs, p)
		} else {
			lab = n
		}
	}
	if v, ok := vars["duration"]; ok && !strings.Contains(v, "$") {
		if _, err := time.ParseDuration(v); err != nil {
			probs = append(probs, Problem{Line: line, Problem: fmt.Sprintf("`duration=%s` is not a duration", v),
				Expected: "a Go duration such as 20s or 1m"})
		}
	}
	if lab >= 0 {
		info := l.labInfo(lab)
		for _, key := range []string{"fault", "answer"} {
			v, ok := vars[key]
			if !ok || strings.ContainsAny(v, "$<") {
				continue
			}
			for _, f := range strings.Split(v, ",") {
				if f == "" || key == "fault" && (f == "on" || f == "off" || f == "list" || f == "mystery" || f == "compare") {
					continue
				}
				if !info.faults[f] {
					probs = append(probs, Problem{
						Line:     line,
						Problem:  fmt.Sprintf("`%s=%s`: lab %d declares no fault %q", key, v, lab, f),
						Expected: "on, off, list, mystery, compare or a fault among " + setList(info.faults),
					})
				}
			}
		}
	}
	for k, v := range vars {
		if k == "file" || k == "out" {
			probs = append(probs, l.checkArg(line, v, cwd)...)
		}
	}
	return probs
}

func (l *linter) checkLab(line, n int, cited string) (Problem, bool) {
	st, ok := l.labs[n]
	if !ok {
		return Problem{Line: line, Problem: fmt.Sprintf("`%s`: there is no lab %d", cited, n),
			Expected: "a lab number among " + l.labNumbers()}, false
	}
	if !l.labInfo(n).exists {
		return Problem{Line: line, Problem: fmt.Sprintf("`%s`: lab %d (%s) has no directory yet", cited, n, st.Dir),
			Expected: "a lab that exists"}, false
	}
	return Problem{}, true
}

// outputFlags are flags whose value is a file the command writes.
var outputFlags = map[string]bool{
	"-o": true, "-output": true, "--output": true, "-cpuprofile": true, "-memprofile": true,
	"-blockprofile": true, "-mutexprofile": true, "-trace": true, "-coverprofile": true,
}

// goValueFlags are the go build/test flags that take a separate value.
var goValueFlags = map[string]bool{
	"-run": true, "-bench": true, "-count": true, "-timeout": true, "-tags": true, "-fuzz": true,
	"-fuzztime": true, "-benchtime": true, "-cpu": true, "-coverprofile": true, "-cpuprofile": true,
	"-memprofile": true, "-blockprofile": true, "-mutexprofile": true, "-trace": true, "-o": true,
	"-exec": true, "-gcflags": true, "-ldflags": true, "-p": true, "-parallel": true, "-skip": true,
	"-shuffle": true, "-covermode": true, "-coverpkg": true, "-outputdir": true, "-fuzzminimizetime": true,
	"-list": true, "-mod": true, "-modfile": true, "-asmflags": true, "-pkgdir": true, "-toolexec": true,
}

func (l *linter) checkGo(line int, args []string, cwd string) []Problem {
	if len(args) >= 2 && args[0] == "-C" {
		abs := l.resolve(args[1], cwd)
		if abs == "" {
			return []Problem{{Line: line, Problem: fmt.Sprintf("`go -C %s`: no such directory", args[1]),
				Expected: "a directory relative to " + l.basesText(cwd)}}
		}
		cwd, args = abs, args[2:]
	}
	if len(args) == 0 {
		return nil
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "run", "test", "build", "vet", "install", "list", "generate":
	default: // go tool pprof FILE, go tool trace FILE ...
		var probs []Problem
		for _, a := range args {
			probs = append(probs, l.checkArg(line, a, cwd)...)
		}
		return probs
	}
	var probs []Problem
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if goValueFlags[a] {
				i++
			} else {
				probs = append(probs, l.checkArg(line, a, cwd)...)
			}
			continue
		}
		if !strings.HasPrefix(a, ".") && !strings.HasSuffix(a, ".go") {
			if sub == "run" {
				break // an import path: what follows are program arguments
			}
			continue // an import path such as github.com/...
		}
		probs = append(probs, l.checkPackage(line, sub, a, cwd)...)
		if sub == "run" {
			for _, rest := range args[i+1:] {
				probs = append(probs, l.checkArg(line, rest, cwd)...)
			}
			break
		}
	}
	return probs
}

// checkPackage wants ./dir (or ./dir/...) to be a directory; for go run, a
// directory holding Go files, or a .go file.
func (l *linter) checkPackage(line int, sub, pkg, cwd string) []Problem {
	abs := l.resolve(pkg, cwd)
	if abs == "" {
		return []Problem{{
			Line:     line,
			Problem:  fmt.Sprintf("`go %s %s`: no such package directory", sub, pkg),
			Expected: "a directory relative to " + l.basesText(cwd),
		}}
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil
	}
	if sub == "run" && !strings.HasSuffix(pkg, "/...") {
		if !fi.IsDir() {
			if strings.HasSuffix(abs, ".go") {
				return nil
			}
		} else if matches, _ := filepath.Glob(filepath.Join(abs, "*.go")); len(matches) > 0 {
			return nil
		}
		return []Problem{{
			Line:     line,
			Problem:  fmt.Sprintf("`go run %s`: %s holds no Go files", pkg, l.rel(abs)),
			Expected: "a main package directory",
		}}
	}
	if !fi.IsDir() && !strings.HasSuffix(abs, ".go") {
		return []Problem{{
			Line:     line,
			Problem:  fmt.Sprintf("`go %s %s`: not a package directory", sub, pkg),
			Expected: "a directory of Go files",
		}}
	}
	return nil
}
