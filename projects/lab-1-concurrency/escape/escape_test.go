package escape

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type row struct{ fn, value, decision string }

// readTable parses the escape table of the lab README.
func readTable(t *testing.T) []row {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := string(data)
	begin := strings.Index(text, "<!-- escape-table:begin -->")
	end := strings.Index(text, "<!-- escape-table:end -->")
	require.True(t, begin >= 0 && end > begin, "README.md has no escape-table markers")
	var rows []row
	sc := bufio.NewScanner(strings.NewReader(text[begin:end]))
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "function" {
			continue
		}
		clean := func(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }
		rows = append(rows, row{clean(cells[1]), clean(cells[2]), clean(cells[3])})
	}
	require.NotEmpty(t, rows)
	return rows
}

// funcLines maps each top-level function of escape.go to its line range and source text.
func funcLines(t *testing.T) map[string][3]int {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "escape.go", nil, 0)
	require.NoError(t, err)
	out := map[string][3]int{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			out[fd.Name.Name] = [3]int{fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line,
				fset.Position(fd.Pos()).Offset}
		}
	}
	return out
}

var diagLine = regexp.MustCompile(`^\./escape\.go:(\d+):\d+: (.*)$`)

func TestCompilerMatchesREADME(t *testing.T) {
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command must be on PATH")
	out, err := exec.Command(goTool, "build", "-gcflags=-m", ".").CombinedOutput()
	require.NoError(t, err, "go build -gcflags=-m: %s", out)
	type diag struct {
		line int
		msg  string
	}
	var diags []diag
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := diagLine.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			diags = append(diags, diag{n, m[2]})
		}
	}
	require.NotEmpty(t, diags, "no escape-analysis output: %s", out)
	fns := funcLines(t)
	for _, r := range readTable(t) {
		t.Run(r.fn+"/"+r.value, func(t *testing.T) {
			span, ok := fns[r.fn]
			require.True(t, ok, "README names %s, which escape.go does not define", r.fn)
			var msgs []string
			for _, d := range diags {
				if d.line >= span[0] && d.line <= span[1] {
					msgs = append(msgs, d.msg)
				}
			}
			has := func(s string) bool {
				for _, m := range msgs {
					if m == s || strings.HasPrefix(m, s+" ") {
						return true
					}
				}
				return false
			}
			heap := has("moved to heap: "+r.value) || has(r.value+" escapes to heap")
			leaks := has("leaking param: " + r.value)
			got := "stack"
			switch {
			case heap:
				got = "heap"
			case leaks:
				got = "leaks"
			}
			assert.Equal(t, r.decision, got, "compiler said, for %s:\n%s", r.fn, strings.Join(msgs, "\n"))
			if got == "stack" {
				// Positively: the compiler must say so, on a line of this function. A row whose
				// value the compiler never mentions proves nothing.
				var at []string
				for _, d := range diags {
					if d.line >= span[0] && d.line <= span[1] && d.msg == r.value+" does not escape" {
						at = append(at, "escape.go:"+strconv.Itoa(d.line))
					}
				}
				assert.NotEmpty(t, at, "expected the compiler to print %q within %s (escape.go:%d-%d); it said:\n%s",
					r.value+" does not escape", r.fn, span[0], span[1], strings.Join(msgs, "\n"))
			}
		})
	}
}

// Typed sinks keep results alive without boxing them (boxing would itself allocate).
var (
	sinkAny any
	sinkInt int
	sinkPtr *Point
)

// The benchmarks pair each heap decision with its stack counterpart; -benchmem shows the
// allocation the escape costs.
func BenchmarkEscape(b *testing.B) {
	cases := []struct {
		name string
		fn   func(i int)
	}{
		{"NewPoint/heap", func(i int) { sinkPtr = NewPoint(i, i) }},
		{"PointValue/stack", func(i int) { sinkInt = PointValue(i, i).X }},
		{"MakeFixed/stack", func(i int) { sinkInt = MakeFixed(i) }},
		{"MakeVariable-n=4/stack", func(i int) { sinkInt = MakeVariable(4) }},
		{"MakeVariable-n=64/heap-at-run-time", func(i int) { sinkInt = MakeVariable(64) }},
		{"MakeLarge/heap", func(i int) { sinkInt = MakeLarge(i & 1023) }},
		{"ToInterface/heap", func(i int) { sinkAny = ToInterface(i + 1000) }},
		{"Counter/heap", func(i int) { sinkInt = Counter()() }},
		{"LocalClosure/stack", func(i int) { sinkInt = LocalClosure(8) }},
		{"Format/stack", func(i int) { sinkInt = Format(i) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c.fn(i)
			}
		})
	}
}

func TestFunctionsWork(t *testing.T) {
	p := Point{3, -4}
	assert.Equal(t, 7, Norm1(&p))
	assert.Same(t, &p, Identity(&p))
	assert.Equal(t, Point{1, 2}, *NewPoint(1, 2))
	assert.Equal(t, Point{1, 2}, PointValue(1, 2))
	assert.Equal(t, 3*2016, SumArray(3))
	assert.Equal(t, 64, MakeFixed(1))
	assert.Equal(t, 100, MakeVariable(100))
	assert.Equal(t, 1, MakeLarge(5))
	assert.Equal(t, 1234, ToInterface(1234))
	c := Counter()
	c()
	assert.Equal(t, 2, c())
	assert.Equal(t, 28, LocalClosure(8))
	assert.Equal(t, 4, Format(-123))
}
