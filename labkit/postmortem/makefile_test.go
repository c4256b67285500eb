package postmortem

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMakefile(t *testing.T) {
	tests := []struct {
		name string
		src  string
		has  []string
		not  []string
	}{
		{"plain rules", "help:\n\t@echo\ntest: build\nbuild:\n", []string{"help", "test", "build"}, []string{"echo"}},
		{"several names", "test test-integration: ## tests\n", []string{"test", "test-integration"}, nil},
		{"double colon", "bench:: ; @echo\n", []string{"bench"}, nil},
		{"pattern rule", "lab-%: ## run lab N\n\t@run $*\n", []string{"lab-0", "lab-42", "lab-x"}, []string{"lab-", "labs"}},
		{"pattern with suffix", "bench-%-cpu:\n", []string{"bench-1-cpu"}, []string{"bench-1", "bench--cpu"}},
		{"assignments are not rules", "X := a\nY ::= b\nZ ?= c\nW = d: e\nV != date\nU := x: y\n", nil, []string{"X", "Y", "Z", "W", "V", "U", "x"}},
		{"recipes are not rules", "a:\n\tb: c\n\t@echo d:\n", []string{"a"}, []string{"b", "d"}},
		{"define blocks are not rules", "define HELP\nfake: rule\nendef\nreal:\n", []string{"real"}, []string{"fake"}},
		{"continued lines are not rules", "X = a \\\n  fake: b\nreal:\n", []string{"real"}, []string{"fake"}},
		{"comments", "# old: rule\nnew: # x: y\n", []string{"new"}, []string{"old", "#"}},
		{"rule names built from variables are skipped", "LABS := 0 1\n$(LABS:%=check-%):\n$(addprefix bench-,$(LABS)) x:\n${LABS:=.out}:\nplain:\n",
			[]string{"plain"}, []string{"check-0", "bench-0", "x", "0.out", "$(LABS", "LABS"}},
		{"variable references in dependencies", "lab-%: $(BIN)/lab ## x: y\ntest: $(if $(a),b:c)\n", []string{"lab-1", "test"}, []string{"b", "c"}},
		{"unknown functions skipped", "$(shell ls):\n$(UNSET):\n", nil, []string{"ls", ""}},
		{"special targets", ".PHONY: help\n", []string{".PHONY"}, []string{"help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets, _, err := ParseMakefile(strings.NewReader(tt.src))
			require.NoError(t, err)
			for _, h := range tt.has {
				assert.True(t, targets.Has(h), "want %q in %v", h, targets.List())
			}
			for _, n := range tt.not {
				assert.False(t, targets.Has(n), "did not want %q in %v", n, targets.List())
			}
		})
	}
}

func TestLoadMakefileIncludes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "mk"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Makefile"),
		[]byte("include mk/*.mk\n-include missing.mk\ninclude $(X).mk\nmain:\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mk", "labs.mk"), []byte("labs:\ninclude ../Makefile\n"), 0o644))
	targets, err := LoadMakefile(filepath.Join(dir, "Makefile"))
	require.NoError(t, err)
	assert.Equal(t, []string{"labs", "main"}, targets.List())

	_, err = LoadMakefile(filepath.Join(dir, "nope"))
	require.Error(t, err)
}

func TestSplitShell(t *testing.T) {
	tests := []struct {
		line string
		want [][]string
	}{
		{"make lab-1 fault=on", [][]string{{"make", "lab-1", "fault=on"}}},
		{"cd projects/lab-1 && go test ./...", [][]string{{"cd", "projects/lab-1"}, {"go", "test", "./..."}}},
		{"go tool pprof -top x.pprof | head -20; echo done", [][]string{{"go", "tool", "pprof", "-top", "x.pprof"}, {"head", "-20"}, {"echo", "done"}}},
		{`go test -run 'TestLab/goroutine leak' "./a b"`, [][]string{{"go", "test", "-run", "TestLab/goroutine leak", "./a b"}}},
		{"go tool trace -pprof=sync trace.out > sync.pprof 2>&1", [][]string{{"go", "tool", "trace", "-pprof=sync", "trace.out"}}},
		{"go test ./... 2> err.txt >>log.txt", [][]string{{"go", "test", "./..."}}},
		{"go tool pprof out/lab-1/<run>/goroutine-leak/cpu.pprof", [][]string{{"go", "tool", "pprof", "out/lab-1/<run>/goroutine-leak/cpu.pprof"}}},
		{"go tool pprof out/lab-1/$(ls -t out/lab-1 | head -1)/x/cpu.pprof", [][]string{{"go", "tool", "pprof", "out/lab-1/$(ls -t out/lab-1 | head -1)/x/cpu.pprof"}}},
		{"make test # a comment", [][]string{{"make", "test"}}},
		{`echo a\ b`, [][]string{{"echo", "a b"}}},
		{"sort < in.txt", [][]string{{"sort"}}},
		{"  ", nil},
		{`"unclosed`, [][]string{{"unclosed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			assert.Equal(t, tt.want, SplitShell(tt.line))
		})
	}
}

func TestSplitShellRedirects(t *testing.T) {
	_, redirects := splitShell("go tool trace -pprof=sync trace.out > sync.pprof 2>&1; sort < in.txt >>out.txt 2> err.txt")
	assert.Equal(t, []string{"sync.pprof", "in.txt", "out.txt", "err.txt"}, redirects)
}

func TestCodeSpans(t *testing.T) {
	ln := Parse([]byte("x `a` y ``b ` c`` `d` `unclosed")).Lines[0]
	assert.Equal(t, []string{"a", "b ` c", "d"}, spansOf(ln))
	assert.Equal(t, "x [a] y [b ` c] [d] `unclosed", proseOf(ln, func(s string) string { return "[" + s + "]" }))
}

func FuzzSplitShell(f *testing.F) {
	for _, s := range []string{"make lab-1 fault=on && go run ./x -file y", `a 'b' "c\"d" e\ f`, "x 2>&1 | y > z < w", "$(a $(b)) ${c}", "<run>/x <", "#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, cmd := range SplitShell(line) {
			if len(cmd) == 0 {
				t.Fatal("empty command")
			}
		}
		_ = looksLikeCommand(line)
	})
}

// FuzzLint runs every check on arbitrary markdown inside the fixture
// repository: problems are fine, panics and hangs are not.
func FuzzLint(f *testing.F) {
	for _, name := range []string{"good/goroutine-leak.md", "bad/make-targets.md", "bad/out-paths.md", "bad/citations.md"} {
		src, err := os.ReadFile(filepath.Join("testdata", "postmortems", name))
		require.NoError(f, err)
		f.Add(src)
	}
	root := fixtureRepo(f)
	path := filepath.Join(root, "projects", "lab-1-concurrency", "postmortems", "fuzz.md")
	f.Fuzz(func(t *testing.T, src []byte) {
		probs, err := Lint(path, src, fixtureOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range probs {
			if p.Line < 1 || p.Problem == "" || p.Expected == "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
	})
}
