package postmortem

import (
	"bytes"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Document is a markdown file cut into lines and headed sections. goldmark
// parses it; the linter works line by line, because a problem is reported at
// a line, so what the parse tree says is folded back onto the lines: which
// are headings, which sit inside fenced code blocks or HTML comments, and
// which inline code spans and links each holds.
type Document struct {
	Lines    []Line
	Sections []Section
}

// Line is one source line with what the parser learnt about it.
type Line struct {
	Num  int    // 1-based line number
	Text string // the line without its line ending
	// Fence marks the opening and closing ``` or ~~~ lines of a fenced code block.
	Fence bool
	// InFence marks lines inside a fenced code block (not the fence lines).
	InFence bool
	// FenceInfo is the language of the enclosing fence ("sh", "text" ...).
	FenceInfo string
	// Comment is the part of the line inside an HTML comment (<!-- -->).
	Comment bool
	// Visible is the text with HTML comments removed.
	Visible string
	// Heading is the heading level (1-6) when this line is a heading, or the
	// title line of a setext heading; 0 otherwise.
	Heading int
	// Underline marks the ==== / ---- line of a setext heading.
	Underline bool

	pieces []piece  // the line's inline text, code spans marked
	links  []string // link and image targets on the line
	parsed bool     // pieces come from inline parsing (not raw text)
}

// piece is a run of a line's inline text: prose, or the content of a code
// span.
type piece struct {
	text string
	code bool
}

// Section is a heading and the lines under it, up to the next heading of the
// same or a higher level.
type Section struct {
	Title string // heading text, comments removed, trimmed
	Level int    // 1-6
	Line  int    // line number of the heading
	// Start and End index Document.Lines: the body is Lines[Start:End].
	Start, End int
}

// Body returns the section's lines, sub-headings included.
func (d *Document) Body(s Section) []Line {
	return d.Lines[s.Start:s.End]
}

// Parse reads markdown. It never fails: anything that is not a heading, a
// fence or a comment is body text.
func Parse(src []byte) *Document {
	// CommonMark ends a line at \n, \r\n or a lone \r; goldmark does too.
	// Lines here must be goldmark's lines, or a heading's offsets land on
	// the wrong line (a fuzzed "#\r0\n#" once gave a body ending before it
	// began).
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	src = bytes.ReplaceAll(src, []byte("\r"), []byte("\n"))
	raw := strings.Split(string(src), "\n")
	if len(raw) > 0 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	d := &Document{Lines: make([]Line, len(raw))}
	starts := make([]int, len(raw))
	off := 0
	for i, s := range raw {
		d.Lines[i] = Line{Num: i + 1, Text: s}
		starts[i] = off
		off += len(s) + 1
	}
	lineOf := func(offset int) int {
		return max(sort.Search(len(starts), func(i int) bool { return starts[i] > offset })-1, 0)
	}

	root := goldmark.DefaultParser().Parse(text.NewReader(src))
	var comments [][2]int // byte ranges of HTML comments
	var headings []*ast.Heading
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
		case *ast.FencedCodeBlock:
			markFence(d, n, src, starts, lineOf)
			return ast.WalkSkipChildren, nil
		case *ast.HTMLBlock:
			if n.HTMLBlockType == ast.HTMLBlockType2 && n.Lines().Len() > 0 {
				first := n.Lines().At(0)
				last := first
				if n.HasClosure() {
					last = n.ClosureLine
				}
				start := first.Start + bytes.Index(first.Value(src), []byte("<!--"))
				end := last.Stop
				if i := bytes.Index(last.Value(src), []byte("-->")); i >= 0 {
					end = last.Start + i + 3
				}
				comments = append(comments, [2]int{start, end})
			}
		case *ast.RawHTML:
			segs := n.Segments
			if segs.Len() == 0 {
				break
			}
			if first := segs.At(0); bytes.HasPrefix(first.Value(src), []byte("<!--")) {
				comments = append(comments, [2]int{first.Start, segs.At(segs.Len() - 1).Stop})
				return ast.WalkSkipChildren, nil
			}
			for i := 0; i < segs.Len(); i++ {
				seg := segs.At(i)
				addPiece(d, lineOf(seg.Start), piece{text: string(seg.Value(src))})
			}
		case *ast.CodeSpan:
			if t, ok := n.FirstChild().(*ast.Text); ok {
				var b strings.Builder
				for c := n.FirstChild(); c != nil; c = c.NextSibling() {
					if t, ok := c.(*ast.Text); ok {
						b.Write(t.Segment.Value(src))
					}
				}
				// A span that wraps onto the next line reads as one line:
				// CommonMark turns its line endings into spaces.
				content := strings.ReplaceAll(b.String(), "\n", " ")
				addPiece(d, lineOf(t.Segment.Start), piece{text: content, code: true})
			}
			return ast.WalkSkipChildren, nil
		case *ast.Link:
			addLink(d, n, string(n.Destination), lineOf)
		case *ast.Image:
			addLink(d, n, string(n.Destination), lineOf)
		case *ast.AutoLink:
			addPiece(d, lineOf(n.Pos()), piece{text: string(n.URL(src))})
		case *ast.Text:
			addPiece(d, lineOf(n.Segment.Start), piece{text: string(n.Segment.Value(src))})
		}
		return ast.WalkContinue, nil
	})

	for i := range d.Lines {
		ln := &d.Lines[i]
		if ln.InFence || ln.Fence {
			ln.Visible = ln.Text
			continue
		}
		ln.Visible, ln.Comment = removeRanges(ln.Text, starts[i], comments)
	}
	for _, h := range headings {
		i := headingLine(h, lineOf)
		if i < 0 || d.Lines[i].Heading > 0 {
			continue
		}
		d.Lines[i].Heading = h.Level
		d.Lines[i].parsed = true // an empty heading has no text, not its "##"
		// A heading that is not ATX on its line is setext, underlined by
		// the next line, unless it sits in a container (a list item's "#")
		// and the next line is no underline at all.
		if !isATX(d.Lines[i].Text) && i+1 < len(d.Lines) && isUnderline(d.Lines[i+1].Text) {
			d.Lines[i+1].Underline = true
		}
		title := strings.TrimSpace(proseOf(d.Lines[i], func(s string) string { return "`" + s + "`" }))
		start := i + 1
		if d.Lines[i].Heading > 0 && start < len(d.Lines) && d.Lines[start].Underline {
			start++
		}
		d.Sections = append(d.Sections, Section{Title: title, Level: h.Level, Line: i + 1, Start: start})
	}
	sort.Slice(d.Sections, func(a, b int) bool { return d.Sections[a].Line < d.Sections[b].Line })
	for i := range d.Sections {
		end := len(d.Lines)
		for _, next := range d.Sections[i+1:] {
			if next.Level <= d.Sections[i].Level {
				end = next.Line - 1
				break
			}
		}
		d.Sections[i].End = end
	}
	return d
}

// isUnderline reports whether a line can underline a setext heading: only
// '=' or only '-', after indentation.
func isUnderline(line string) bool {
	t := strings.TrimSpace(line)
	return t != "" && (strings.Trim(t, "=") == "" || strings.Trim(t, "-") == "")
}

// headingLine is the index of a heading's line. A setext heading whose title
// runs over several lines is taken to be its last line: a postmortem's
// headings are one line, and the lines above are the previous section's text.
func headingLine(h *ast.Heading, lineOf func(int) int) int {
	if h.Lines().Len() > 0 {
		return lineOf(h.Lines().At(h.Lines().Len() - 1).Start)
	}
	if h.Pos() >= 0 {
		return lineOf(h.Pos())
	}
	return -1
}

// isATX reports whether a heading line is "# Title" rather than a setext
// title.
func isATX(s string) bool {
	t := strings.TrimLeft(s, " ")
	n := len(t) - len(strings.TrimLeft(t, "#"))
	return n > 0 && n <= 6 && (n == len(t) || t[n] == ' ' || t[n] == '\t')
}

func markFence(d *Document, n *ast.FencedCodeBlock, src []byte, starts []int, lineOf func(int) int) {
	if n.Pos() < 0 || len(d.Lines) == 0 {
		return
	}
	open := lineOf(n.Pos())
	d.Lines[open].Fence = true
	// The fence may sit in a list item or a quote: cut what precedes it.
	opener := strings.TrimLeft(d.Lines[open].Text[min(n.Pos()-starts[open], len(d.Lines[open].Text)):], " >\t")
	if opener == "" {
		return
	}
	fenceChar := opener[:1]
	fenceLen := len(opener) - len(strings.TrimLeft(opener, fenceChar))
	lang := string(n.Language(src))
	last := open
	for i := 0; i < n.Lines().Len(); i++ {
		l := lineOf(n.Lines().At(i).Start)
		d.Lines[l].InFence = true
		d.Lines[l].FenceInfo = lang
		last = l
	}
	// goldmark keeps no position for the closing fence: it is the next line
	// when that line is a run of the opening fence's character.
	if c := last + 1; c < len(d.Lines) && !d.Lines[c].InFence {
		t := strings.TrimLeft(strings.TrimSpace(d.Lines[c].Text), "> \t")
		if len(t) >= fenceLen && strings.Trim(t, fenceChar) == "" {
			d.Lines[c].Fence = true
		}
	}
}

func addPiece(d *Document, line int, p piece) {
	if line < len(d.Lines) {
		d.Lines[line].pieces = append(d.Lines[line].pieces, p)
		d.Lines[line].parsed = true
	}
}

// addLink records a link's target at the line of its first text.
func addLink(d *Document, n ast.Node, dest string, lineOf func(int) int) {
	line := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering && line < 0 {
			line = lineOf(t.Segment.Start)
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if line < 0 && n.Pos() >= 0 {
		line = lineOf(n.Pos())
	}
	if line >= 0 {
		d.Lines[line].links = append(d.Lines[line].links, dest)
	}
}

// removeRanges cuts the parts of a line (which starts at byte offset start)
// that fall inside the ranges.
func removeRanges(s string, start int, ranges [][2]int) (string, bool) {
	var b strings.Builder
	cut := false
	for i := 0; i < len(s); i++ {
		off := start + i
		inside := false
		for _, r := range ranges {
			if off >= r[0] && off < r[1] {
				inside = true
				break
			}
		}
		if inside {
			cut = true
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), cut
}

// proseOf is a line's inline text with each code span replaced by what code
// returns for its content, link targets left out. Lines that are not inline
// markdown (HTML, indented code) are their visible text.
func proseOf(ln Line, code func(string) string) string {
	if !ln.parsed {
		return ln.Visible
	}
	var b strings.Builder
	for _, p := range ln.pieces {
		if p.code {
			b.WriteString(code(p.text))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// spansOf returns the contents of a line's inline code spans.
func spansOf(ln Line) []string {
	var out []string
	for _, p := range ln.pieces {
		if p.code {
			out = append(out, p.text)
		}
	}
	return out
}
