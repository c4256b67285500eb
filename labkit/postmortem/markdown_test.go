package postmortem

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestParseSections(t *testing.T) {
	type sec struct {
		title string
		level int
		line  int
		body  int // number of body lines
	}
	tests := []struct {
		name string
		src  string
		want []sec
	}{
		{"atx levels", "# T\n\n## A\ntext\n### A1\nmore\n## B\n", []sec{
			{"T", 1, 1, 6}, {"A", 2, 3, 3}, {"A1", 3, 5, 1}, {"B", 2, 7, 0}}},
		{"closing hashes and indent", "  ## Impact ##\nx\n", []sec{{"Impact", 2, 1, 1}}},
		{"hash inside title kept", "## C# notes\n", []sec{{"C# notes", 2, 1, 0}}},
		{"not a heading without space", "#hashtag\n##Impact\n", nil},
		{"four spaces is code", "    ## Impact\n", nil},
		{"seven hashes", "####### x\n", nil},
		{"empty heading", "##\n", []sec{{"", 2, 1, 0}}},
		{"setext", "Impact\n======\nx\nRoot cause\n---\ny\n", []sec{
			{"Impact", 1, 1, 4}, {"Root cause", 2, 4, 1}}},
		{"dashes after a list are not setext", "- item\n---\n", nil},
		{"dashes after blank are a rule", "\n---\n", nil},
		{"fence hides headings", "```\n## no\n```\n## yes\n", []sec{{"yes", 2, 4, 0}}},
		{"tilde fence and longer close", "~~~~ sh\n# no\n~~~\n## still no\n~~~~~\n## yes\n", []sec{{"yes", 2, 6, 0}}},
		{"unclosed fence runs to the end", "```\n## no\n", nil},
		{"comment hides headings", "<!--\n## no\n-->\n## yes <!-- c -->\n", []sec{{"yes", 2, 4, 0}}},
		{"crlf", "## A\r\nx\r\n", []sec{{"A", 2, 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Parse([]byte(tt.src))
			var got []sec
			for _, s := range d.Sections {
				got = append(got, sec{s.Title, s.Level, s.Line, len(d.Body(s))})
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseLineFlags(t *testing.T) {
	d := Parse([]byte("a <!-- hidden --> b\n<!-- open\nstill\n-->after\n```sh\nmake x\n```\n"))
	assert.Equal(t, "a  b", d.Lines[0].Visible)
	assert.True(t, d.Lines[0].Comment)
	assert.Equal(t, "", d.Lines[1].Visible)
	assert.Equal(t, "", d.Lines[2].Visible)
	assert.Equal(t, "after", d.Lines[3].Visible)
	assert.True(t, d.Lines[4].Fence)
	assert.True(t, d.Lines[5].InFence)
	assert.Equal(t, "sh", d.Lines[5].FenceInfo)
	assert.True(t, d.Lines[6].Fence)
}

func TestHasContent(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"", false},
		{"\n\n", false},
		{"<!-- guidance -->\n", false},
		{"TODO\n", false},
		{"TODO: one paragraph: what broke.\n", false},
		{"- TBD\n- \n", false},
		{"### Sub\n", false},
		{"```\n```\n", false},
		{"| a | b |\n| --- | --- |\n", true},
		{"```\nout\n```\n", true},
		{"real text\n", true},
		{"- [ ] item\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			assert.Equal(t, tt.want, hasContent(Parse([]byte(tt.body)).Lines))
		})
	}
}

// FuzzParse: any input parses without panicking, and the sections it
// reports are consistent with the lines.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"# T\n## Impact\n10 requests\n",
		"Impact\n===\n```sh\nmake lab-1\n```\n",
		"<!--\n## x\n-->\n## y\n",
		"~~~\n# a\n~~~~\n",
		"## a ##\n#\n####### b\n- x\n---\n",
		"\r\n\r\n## \t\n",
		"`` a ` b `` `c`\n",
		"<!-- <!-- --> -->\n```` ```\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		d := Parse(src)
		n := len(d.Lines)
		lf := strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\r", "\n")
		if want := strings.Count(lf, "\n"); n != want && n != want+1 {
			t.Fatalf("%d lines for %d newlines", n, want)
		}
		prev := 0
		for _, s := range d.Sections {
			if s.Line <= prev || s.Line > n {
				t.Fatalf("section %q at line %d after %d of %d", s.Title, s.Line, prev, n)
			}
			prev = s.Line
			if s.Level < 1 || s.Level > 6 {
				t.Fatalf("level %d", s.Level)
			}
			if s.Start < s.Line || s.Start > s.End || s.End > n {
				t.Fatalf("body [%d,%d) for heading at %d of %d lines", s.Start, s.End, s.Line, n)
			}
			_ = d.Body(s)
			if d.Lines[s.Line-1].InFence {
				t.Fatalf("heading %q inside a fence", s.Title)
			}
			if utf8.ValidString(string(src)) && !utf8.ValidString(s.Title) {
				t.Fatalf("title %q is not valid UTF-8", s.Title)
			}
		}
		for _, ln := range d.Lines {
			_ = spansOf(ln)
			_ = proseOf(ln, func(s string) string { return s })
		}
	})
}

func TestCodeSpanAcrossLines(t *testing.T) {
	d := Parse([]byte("see `go test -run\nTestX ./cache` for it\n"))
	assert.Equal(t, []string{"go test -run TestX ./cache"}, spansOf(d.Lines[0]))
	assert.Empty(t, spansOf(d.Lines[1]), "the span belongs to the line it opens on")
}
