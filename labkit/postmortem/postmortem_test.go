package postmortem

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type want struct {
	line int
	text string // a substring of "problem (expected ...)"
}

func TestLintFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    []want
	}{
		{"good/goroutine-leak.md", nil},
		{"good/minimal.md", nil},
		{"bad/missing-sections.md", []want{
			{1, `missing section "Trigger"`},
			{1, `missing section "Lessons"`},
		}},
		{"bad/empty-sections.md", []want{
			{9, `section "Detection" is empty`},
			{14, `section "Timeline" is empty`},
			{17, `section "Root cause" is empty`},
			{21, `section "Trigger" is empty`},
			{25, `section "Evidence" is empty`},
		}},
		{"bad/no-figures.md", []want{
			{6, `section "Impact" has no figures`},
			{27, `section "Verification" has 1 figure(s)`},
			{27, `section "Verification" cites no command`},
		}},
		{"bad/no-commands.md", []want{
			{6, `section "Impact" cites no command`},
			{27, `section "Verification" cites no command`},
		}},
		{"bad/citations.md", []want{
			{4, `cited file "leak/missing.go" does not exist`},
			{4, `cited line leak/leak.go:99 is past the end of leak/leak.go (10 lines)`},
			{10, `link target "../docs/dashboards.md" does not exist`},
			{16, `cited file "projcts/lab-1-concurrency/leak/leak.go" does not exist`},
			{23, "`go run ./labkit/cmd/nothing-here`: no such package directory"},
			{24, "`go run ./cmd/empty`: projects/lab-1-concurrency/cmd/empty/ holds no Go files"},
			{25, "`cd projects/nowhere`: no such directory"},
			{26, "`go test ./projects/lab-1-concurrency/missing/...`: no such package directory"},
			{27, `cited file "docker-env/prometheus/tests/lab-1.test.yml" does not exist`},
			{28, `cited file "net.pprof" does not exist`},
		}},
		{"bad/make-targets.md", []want{
			{10, "`make bogus`: the Makefile in the repository root has no rule \"bogus\" (expected one of bench, check-0"},
			{10, "cites make but docs/ has no readable Makefile"},
			{13, "`make lab-42`: there is no lab 42"},
			{13, "`make lab-4`: lab 4 (middleware-labs/mysql-lab) has no directory yet"},
			{16, "`fault=bogus,deadlock`: lab 1 declares no fault \"bogus\" (expected on, off, list, mystery, compare or a fault among deadlock, goroutine-leak)"},
			{16, "`answer=livelock`: lab 1 declares no fault \"livelock\""},
			{19, "`duration=abc` is not a duration"},
			{19, "`lab=x` is not a lab number"},
			{22, "`make check-9`: the Makefile in the repository root has no rule \"check-9\""},
			{22, "`make check-8`: the Makefile in the repository root has no rule \"check-8\""},
			{25, `cited file "projects/lab-1-concurrency/postmortems/none.md" does not exist`},
		}},
		{"bad/out-paths.md", []want{
			{10, `"out/lab-12/<run>/goroutine-leak/goroutine.pprof" names lab 12, which does not exist`},
			{13, `"out/lab-1/<run>/goroutine-leak/flame.svg" names an evidence file no run writes (expected one of block.pprof, chart.html, cpu.pprof`},
			{16, `"out/lab-1/<run>/livelock/cpu.pprof" names fault "livelock", which lab 1 does not declare`},
			{19, `"out/lab-1/<run>/goroutine-leak/extra/cpu.pprof" is deeper than the evidence layout`},
			{22, `"out/lab-4/<run>/slow-sql/cpu.pprof" belongs to lab 4, which has no directory middleware-labs/mysql-lab yet`},
			{22, `"out/tmp/report.json" does not name a lab`},
			{22, `"out/lab-1/<run>/summary.json" names an evidence file no run writes`},
		}},
		{"bad/owners.md", []want{
			{34, `action item has no owner (expected "owner: NAME"`},
			{39, "action item has no owner (expected a person or team in the Owner column)"},
			{40, "action item has no owner (expected a person or team in the Owner column)"},
		}},
		{"bad/no-items.md", []want{
			{33, `section "Action items" has no list or table of items`},
		}},
		{"bad/duplicate-and-hidden.md", []want{
			{1, `missing section "Detection"`},
			{1, `missing section "Timeline"`},
			{9, `section "Impact" appears again (first at line 6)`},
		}},
	}
	root := fixtureRepo(t)
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			path := placePostmortem(t, root, tt.fixture)
			probs, err := LintFile(path, fixtureOptions())
			require.NoError(t, err)

			var got []string
			for _, p := range probs {
				got = append(got, fmt.Sprintf("%d: %s (expected %s)", p.Line, p.Problem, p.Expected))
			}
			require.Len(t, got, len(tt.want), "problems:\n%s", strings.Join(got, "\n"))
			for i, w := range tt.want {
				assert.Equal(t, w.line, probs[i].Line, "problem %d: %s", i, got[i])
				assert.Contains(t, got[i], w.text, "problem %d", i)
			}
		})
	}
}

func TestLintFileErrors(t *testing.T) {
	root := fixtureRepo(t)
	outside := filepath.Join(t.TempDir(), "pm.md")
	require.NoError(t, os.WriteFile(outside, []byte("# x\n"), 0o644))
	big := filepath.Join(root, "big.md")
	require.NoError(t, os.WriteFile(big, make([]byte, MaxSize+1), 0o644))

	tests := []struct {
		name string
		path string
		opts Options
		want string
	}{
		{"missing file", filepath.Join(root, "nope.md"), Options{}, "no such file"},
		{"directory", root, Options{}, "is a directory"},
		{"too large", big, Options{}, "more than the"},
		{"no go.work above", outside, Options{}, ErrNoRoot.Error()},
		{"root not a directory", filepath.Join(root, "docs", "methodology.md"), Options{Root: filepath.Join(root, "Makefile")}, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LintFile(tt.path, tt.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLintWithExplicitRoot(t *testing.T) {
	root := fixtureRepo(t)
	// A postmortem outside the repository still resolves citations against
	// the root it is given.
	src, err := os.ReadFile(filepath.Join("testdata", "postmortems", "good", "minimal.md"))
	require.NoError(t, err)
	outside := filepath.Join(t.TempDir(), "minimal.md")
	require.NoError(t, os.WriteFile(outside, src, 0o644))
	opts := fixtureOptions()
	opts.Root = root
	probs, err := LintFile(outside, opts)
	require.NoError(t, err)
	assert.Empty(t, probs)
}

func TestRunOutputThatExists(t *testing.T) {
	root := fixtureRepo(t)
	// A real run folder is accepted even when the file name is not one the
	// sources name (a scenario may write any extra evidence).
	dir := filepath.Join(root, "out", "lab-1", "20260101T000000Z-on", "goroutine-leak")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "custom.bin"), nil, 0o644))
	l, err := newLinter(filepath.Join(root, "docs", "methodology.md"), Options{})
	require.NoError(t, err)
	_, ok := l.checkOutPath(1, "out/lab-1/20260101T000000Z-on/goroutine-leak/custom.bin")
	assert.True(t, ok)
	_, ok = l.checkOutPath(1, "out/lab-1/20260101T000000Z-on/goroutine-leak/other.bin")
	assert.False(t, ok)
}

func TestFormat(t *testing.T) {
	p := Problem{Line: 7, Problem: `section "Impact" has no figures`, Expected: "numbers"}
	assert.Equal(t, `pm.md:7: section "Impact" has no figures (expected numbers)`, p.Format("pm.md"))
}

func TestPathKind(t *testing.T) {
	root := fixtureRepo(t)
	l, err := newLinter(filepath.Join(root, "docs", "methodology.md"), fixtureOptions())
	require.NoError(t, err)
	tests := []struct {
		word string
		want pathKind
	}{
		{"out/lab-1/<run>/goroutine-leak/goroutine.pprof", outPath},
		{"./out/lab-1", outPath},
		{"goroutine.pprof", evidenceName},
		{"chart.html", evidenceName}, // a harness file (fixtureOptions)
		{"projects/lab-1-concurrency", filePath},
		{"docs/x.md", filePath},
		{"scenarios/leak.go:42", filePath},
		{"./cmd/lab", filePath},
		{"../README.md", filePath},
		{"go.mod", filePath},
		{"Makefile", filePath},
		{"main.go", filePath},
		{"runtime/trace", notPath},
		{"runtime/chan.go:259", notPath},
		{"net/http/pprof", notPath},
		{"github.com/google/pprof/profile", notPath},
		{"go.opentelemetry.io/otel", notPath},
		{"/debug/pprof/goroutine", notPath},
		{"/sched/latencies:seconds", notPath},
		{"127.0.0.1:6060/metrics", notPath},
		{"http://127.0.0.1:9090", notPath},
		{"leak.(*Handler).Serve", notPath},
		{"sync.Mutex.Lock", notPath},
		{"goroutine-leak", notPath},
		{"lab1_goroutines", notPath},
		{"$RUN/cpu.pprof", notPath},
		{"", notPath},
		{"a b.go", notPath},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			assert.Equal(t, tt.want, l.pathKind(tt.word))
		})
	}
}

func TestFigures(t *testing.T) {
	l := &linter{rootEntries: map[string]bool{"projects": true}}
	tests := []struct {
		text string
		want []string
	}{
		{"10 412 goroutines after 20 s", []string{"10", "412", "20"}},
		{"p99 1.2s, 41 ms, 20.7%", []string{"1.2", "41", "20.7"}},
		{"lab-1 and p99 and v2 and x1", nil},
		{"`make lab-1 duration=20s` only", nil},
		{"`out/lab-1/<run>/goroutine-leak/goroutine.pprof`", nil},
		{"1. the first step", nil},
		{"| fault on | 10 412 |", []string{"10", "412"}},
		{"[run 3](../x.md#L12)", []string{"3"}},
		{"`37` requests", []string{"37"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			doc := Parse([]byte(tt.text))
			assert.Equal(t, tt.want, l.figures(doc.Lines))
		})
	}
	t.Run("fenced commands do not count, their output does", func(t *testing.T) {
		doc := Parse([]byte("```sh\nmake lab-1 duration=20s \\\n  seed=42\n```\n```text\nSYMPTOM goroutines 10412 > 1000\n```\n"))
		assert.Equal(t, []string{"10412", "1000"}, l.figures(doc.Lines))
	})
}

func TestMatchesSection(t *testing.T) {
	tests := []struct {
		heading string
		name    string
		want    bool
	}{
		{"Summary", "Summary", true},
		{"1. Summary", "Summary", true},
		{"**Root cause:**", "Root cause", true},
		{"Root causes", "Root cause", true},
		{"Lessons learned", "Lessons", true},
		{"Action items (owners)", "Action items", true},
		{"Action Items", "Action items", true},
		{"Impact — users", "Impact", true},
		{"Impactful", "Impact", false},
		{"Triggers", "Trigger", true},
		{"Evidence-based", "Evidence", true},
		{"Postmortem: summary of x", "Summary", false},
	}
	for _, tt := range tests {
		t.Run(tt.heading, func(t *testing.T) {
			assert.Equal(t, tt.want, matchesSection(normalizeTitle(tt.heading), tt.name))
		})
	}
}

func TestRequiredSectionsMatchTemplate(t *testing.T) {
	// The template in docs/ and this list must not drift apart.
	root, err := FindRoot(".")
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(root, "docs", "postmortem-template.md"))
	if os.IsNotExist(err) {
		t.Fatalf("docs/postmortem-template.md is missing (expected the template the linter enforces)")
	}
	require.NoError(t, err)
	doc := Parse(src)
	for _, name := range RequiredSections() {
		found := false
		for _, s := range doc.Sections {
			if matchesSection(normalizeTitle(s.Title), name) {
				found = true
			}
		}
		assert.True(t, found, "template has no section %q", name)
	}
}

func TestCheckOwners(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []int // lines of problems
	}{
		{"bullets with owners", "- a — owner: Ana\n- b @bo\n", nil},
		{"owner on a continuation line", "- a long item\n  owner: Ana\n", nil},
		{"paragraph after the list is not the item's", "- a\n\nOwner: the platform team reviews these.\n", []int{2}},
		{"numbered items", "1. a (owner: Ana)\n2. b\n", []int{3}},
		{"table with owner column", "| do | owner |\n| - | - |\n| a | Ana |\n| b |  |\n", []int{5}},
		{"two tables", "| do | owner |\n| - | - |\n| a | Ana |\n\n| do | owner |\n| - | - |\n| b | TODO |\n", []int{8}},
		{"table without owner column", "| do | who |\n| - | - |\n| a | Ana |\n| b | @bo |\n", []int{4}},
		{"prose only", "We will fix it.\n", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := Parse([]byte("## Action items\n" + tt.body))
			require.Len(t, doc.Sections, 1)
			var got []int
			for _, p := range checkOwners(doc.Sections[0], doc.Body(doc.Sections[0])) {
				got = append(got, p.Line)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
