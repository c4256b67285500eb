package postmortem

import "strings"

// SplitShell cuts a command line into simple commands (split on && || ; |)
// and each command into words, the way a POSIX shell would for the plain
// cases a postmortem cites: quotes, backslash escapes, $(...) kept whole
// inside a word, redirections dropped with their target, and # comments.
// It never fails; unbalanced quotes end at the end of the line.
func SplitShell(line string) [][]string {
	cmds, _ := splitShell(line)
	return cmds
}

// splitShell is SplitShell that also returns the redirection targets: the
// files the command line writes (> f, >> f, 2> f) or reads (< f).
func splitShell(line string) (cmds [][]string, redirects []string) {
	var (
		words    []string
		cur      strings.Builder
		inWord   bool
		redirect bool // the next word is a redirection target: drop it
	)
	endWord := func() {
		if !inWord {
			return
		}
		if redirect {
			redirect = false
			redirects = append(redirects, cur.String())
		} else {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	endCmd := func() {
		endWord()
		redirect = false
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
			inWord = true
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for i < len(line) && line[i] != '"' {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
				i++
			}
			inWord = true
		case c == '$' && i+1 < len(line) && (line[i+1] == '(' || line[i+1] == '{'):
			j := balanced(line, i+1)
			cur.WriteString(line[i:j])
			i = j - 1
			inWord = true
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds, redirects
		case c == ';':
			endCmd()
		case c == '&' || c == '|':
			if i+1 < len(line) && line[i+1] == c {
				i++
			}
			endCmd()
		case c == '<' && placeholderAt(line, i):
			// <run>, <fault>: a documentation placeholder, kept in the word.
			j := balanced(line, i)
			cur.WriteString(line[i:j])
			i = j - 1
			inWord = true
		case c == '>' || c == '<':
			// "2>" ">>" ">file" "2>&1": an fd number before the operator is
			// dropped, a "&N" after it is a dup, anything else is a
			// redirection target and is dropped with it.
			if s := cur.String(); inWord && (s == "1" || s == "2") {
				cur.Reset()
				inWord = false
			} else {
				endWord()
			}
			for i+1 < len(line) && (line[i+1] == '>' || line[i+1] == '&') {
				i++
			}
			if line[i] == '&' && i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '9' {
				for i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '9' {
					i++
				}
				continue
			}
			redirect = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, redirects
}

// balanced returns the index just past the bracket that closes the one at
// s[open], or len(s) when it is never closed.
func balanced(s string, open int) int {
	var closeCh byte
	switch s[open] {
	case '(':
		closeCh = ')'
	case '{':
		closeCh = '}'
	case '<':
		closeCh = '>'
	default:
		return open + 1
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case s[open]:
			depth++
		case closeCh:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// codeSpans returns the contents of the `inline code` spans of one line.
func codeSpans(s string) []string {
	var out []string
	for _, r := range codeSpanRanges(s) {
		span := s[r[0]:r[1]]
		if len(span) > 1 && span[0] == ' ' && span[len(span)-1] == ' ' {
			span = span[1 : len(span)-1]
		}
		out = append(out, span)
	}
	return out
}

// codeSpanRanges returns [start, end) of each span's content, backticks
// excluded.
func codeSpanRanges(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		start := i + n
		end := -1
		for j := start; j < len(s); {
			if s[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(s) && s[j+m] == '`' {
				m++
			}
			if m == n {
				end = j
				break
			}
			j += m
		}
		if end < 0 {
			return out
		}
		out = append(out, [2]int{start, end})
		i = end + n
	}
	return out
}

// replaceCodeSpans returns s with each inline code span (backticks
// included) replaced by what keep returns for its content.
func replaceCodeSpans(s string, keep func(span string) string) string {
	var b strings.Builder
	last := 0
	for _, r := range codeSpanRanges(s) {
		open := r[0]
		for open > last && s[open-1] == '`' {
			open--
		}
		closeEnd := r[1] + (r[0] - open)
		b.WriteString(s[last:open])
		b.WriteString(keep(s[r[0]:r[1]]))
		last = closeEnd
	}
	b.WriteString(s[last:])
	return b.String()
}

// placeholderAt reports whether line[i] opens a "<name>" placeholder: a
// closing '>' follows with no space, quote or operator in between.
func placeholderAt(line string, i int) bool {
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '>':
			return j > i+1
		case ' ', '\t', '<', '|', '&', ';', '"', '\'':
			return false
		}
	}
	return false
}
