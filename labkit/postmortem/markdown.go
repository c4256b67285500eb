package postmortem

import (
	"strings"
)

// Document is a markdown file cut into lines and headed sections. It keeps
// enough structure for the linter: which lines are headings, which lines sit
// inside fenced code blocks or HTML comments, and which lines belong to which
// section.
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
	// FenceInfo is the info string of the enclosing fence ("sh", "text" ...).
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
}

// Section is a heading and the lines under it, up to the next heading of the
// same or a higher level.
type Section struct {
	Title string // heading text as written, trimmed
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
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	raw := strings.Split(text, "\n")
	if len(raw) > 0 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	d := &Document{Lines: make([]Line, len(raw))}

	var (
		fenceChar  byte
		fenceLen   int
		fenceInfo  string
		inComment  bool
		prevIsText bool // previous line can be the title of a setext heading
	)
	for i, s := range raw {
		ln := Line{Num: i + 1, Text: s}
		if fenceLen > 0 {
			if c, n, info, ok := fenceOpen(s); ok && c == fenceChar && n >= fenceLen && info == "" {
				ln.Fence = true
				fenceLen = 0
			} else {
				ln.InFence = true
				ln.FenceInfo = fenceInfo
			}
			ln.Visible = s
			d.Lines[i] = ln
			prevIsText = false
			continue
		}

		visible, commented, still := stripComments(s, inComment)
		inComment = still
		ln.Visible = visible
		ln.Comment = commented

		if strings.TrimSpace(visible) == "" {
			d.Lines[i] = ln
			prevIsText = false
			continue
		}
		if c, n, info, ok := fenceOpen(visible); ok && !(c == '`' && strings.Contains(info, "`")) {
			fenceChar, fenceLen, fenceInfo = c, n, info
			ln.Fence = true
			d.Lines[i] = ln
			prevIsText = false
			continue
		}
		if lvl, _ := atxHeading(visible); lvl > 0 {
			ln.Heading = lvl
			d.Lines[i] = ln
			prevIsText = false
			continue
		}
		if lvl := setextLevel(visible); lvl > 0 && prevIsText {
			d.Lines[i-1].Heading = lvl
			ln.Underline = true
			d.Lines[i] = ln
			prevIsText = false
			continue
		}
		d.Lines[i] = ln
		prevIsText = canBeSetextTitle(visible)
	}

	for i, ln := range d.Lines {
		if ln.Heading == 0 {
			continue
		}
		title := ln.Visible
		start := i + 1
		if i+1 < len(d.Lines) && d.Lines[i+1].Underline {
			title = strings.TrimSpace(title)
			start = i + 2
		} else {
			_, title = atxHeading(ln.Visible)
		}
		d.Sections = append(d.Sections, Section{Title: title, Level: ln.Heading, Line: ln.Num, Start: start})
	}
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

// fenceOpen reports whether s opens (or closes) a fenced code block.
func fenceOpen(s string) (c byte, n int, info string, ok bool) {
	t, indent := trimIndent(s)
	if indent > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return 0, 0, "", false
	}
	c = t[0]
	for n < len(t) && t[n] == c {
		n++
	}
	if n < 3 {
		return 0, 0, "", false
	}
	info = strings.TrimSpace(t[n:])
	if f := strings.Fields(info); len(f) > 0 {
		info = f[0]
	}
	return c, n, info, true
}

// atxHeading returns the level and text of a "## Title ##" heading, or 0.
func atxHeading(s string) (int, string) {
	t, indent := trimIndent(s)
	if indent > 3 {
		return 0, ""
	}
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ' && t[n] != '\t') {
		return 0, ""
	}
	title := strings.TrimSpace(t[n:])
	// A closing sequence of #s is dropped when a space precedes it.
	if j := strings.LastIndexFunc(title, func(r rune) bool { return r != '#' }); j < len(title)-1 {
		if j < 0 {
			title = ""
		} else if title[j] == ' ' || title[j] == '\t' {
			title = strings.TrimSpace(title[:j+1])
		}
	}
	return n, title
}

// setextLevel returns 1 for a "===" underline, 2 for "---", 0 otherwise.
func setextLevel(s string) int {
	t, indent := trimIndent(s)
	t = strings.TrimRight(t, " \t")
	if indent > 3 || t == "" {
		return 0
	}
	c := t[0]
	if c != '=' && c != '-' {
		return 0
	}
	for i := 0; i < len(t); i++ {
		if t[i] != c {
			return 0
		}
	}
	if c == '=' {
		return 1
	}
	return 2
}

// canBeSetextTitle reports whether a text line may be underlined into a
// heading: plain paragraph text, not a list item, quote, table row or heading.
func canBeSetextTitle(s string) bool {
	t, indent := trimIndent(s)
	if indent > 3 || t == "" {
		return false
	}
	switch t[0] {
	case '>', '|', '#', '<':
		return false
	case '-', '*', '+':
		return len(t) > 1 && t[1] != ' ' && t[1] != '\t'
	}
	if setextLevel(s) > 0 {
		return false
	}
	return !isOrderedItem(t)
}

func isOrderedItem(t string) bool {
	i := 0
	for i < len(t) && i < 9 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i < len(t) && (t[i] == '.' || t[i] == ')') && (i+1 == len(t) || t[i+1] == ' ')
}

func trimIndent(s string) (string, int) {
	n := 0
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		if s[n] == '\t' {
			return s[n:], 4
		}
		n++
	}
	return s[n:], n
}

// stripComments removes <!-- ... --> from s. inComment says whether s starts
// inside a comment opened on an earlier line; still says whether one is open
// at the end of s.
func stripComments(s string, inComment bool) (visible string, commented, still bool) {
	var b strings.Builder
	for {
		if inComment {
			commented = true
			end := strings.Index(s, "-->")
			if end < 0 {
				return b.String(), commented, true
			}
			s = s[end+3:]
			inComment = false
			continue
		}
		start := strings.Index(s, "<!--")
		if start < 0 {
			b.WriteString(s)
			return b.String(), commented, false
		}
		b.WriteString(s[:start])
		s = s[start+4:]
		inComment = true
	}
}
