package sqlparser

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokQuotedIdent // `name`: never a keyword
	tokNumber
	tokString
	tokParam
	tokVariable
	tokOp // punctuation and operators: ( ) , ; . * = < > <= >= != <> + - / %
)

type token struct {
	kind tokenKind
	text string // identifiers keep their case; string literals are unescaped
	pos  int    // byte offset in the input, for "near '...'"
}

// SyntaxError is MySQL's ER_PARSE_ERROR (1064): the message quotes the input from where parsing
// stopped, the way a learner sees it in the mysql client.
type SyntaxError struct {
	Near string
	Line int
	// Detail says what the parser expected; MySQL keeps it to itself, the lab shows it in Error().
	Detail string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '%s' at line %d (%s)", e.Near, e.Line, e.Detail)
}

// lex splits src into tokens. It never fails on its own for unknown bytes: it reports them as a
// syntax error at their position, like MySQL.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "-- ")) || (c == '-' && i+2 == len(src) && src[i+1] == '-'):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			// /*! ... */ version comments (sysbench's ENGINE=InnoDB) are skipped: the mini engine
			// has one storage engine.
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, syntaxErr(src, i, "an unterminated /* comment")
			}
			i += end + 4
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, src[i:j], i})
			i = j
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'):
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{tokNumber, src[i:j], i})
			i = j
		case c == '\'' || c == '"':
			s, n, ok := readQuoted(src[i:], c)
			if !ok {
				return nil, syntaxErr(src, i, "a closing quote")
			}
			toks = append(toks, token{tokString, s, i})
			i += n
		case c == '`':
			end := strings.IndexByte(src[i+1:], '`')
			if end < 0 {
				return nil, syntaxErr(src, i, "a closing backquote")
			}
			toks = append(toks, token{tokQuotedIdent, src[i+1 : i+1+end], i})
			i += end + 2
		case c == '?':
			toks = append(toks, token{tokParam, "?", i})
			i++
		case c == '@':
			j := i + 1
			if j < len(src) && src[j] == '@' {
				j++
			}
			k := j
			for k < len(src) && (isIdentPart(src[k]) || src[k] == '.') {
				k++
			}
			if k == j {
				return nil, syntaxErr(src, i, "a variable name after @")
			}
			toks = append(toks, token{tokVariable, src[i:k], i})
			i = k
		default:
			if i+1 < len(src) {
				two := src[i : i+2]
				switch two {
				case "<=", ">=", "!=", "<>":
					toks = append(toks, token{tokOp, two, i})
					i += 2
					continue
				}
			}
			if strings.IndexByte("(),;.*=<>+-/%", c) < 0 {
				return nil, syntaxErr(src, i, fmt.Sprintf("a token, not %q", c))
			}
			toks = append(toks, token{tokOp, string(c), i})
			i++
		}
	}
	toks = append(toks, token{tokEOF, "", len(src)})
	return toks, nil
}

// readQuoted reads a quoted string starting at s[0] == q, handling doubled quotes and backslash
// escapes; it returns the unescaped text and the number of bytes consumed.
func readQuoted(s string, q byte) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(s[i])
			}
		case c == q && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case c == q:
			return b.String(), i + 1, true
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// syntaxErr quotes up to 80 bytes of the input from pos, as MySQL does.
func syntaxErr(src string, pos int, expected string) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	near := src[pos:]
	if len(near) > 80 {
		near = near[:80]
	}
	line := 1 + strings.Count(src[:pos], "\n")
	return &SyntaxError{Near: near, Line: line, Detail: "expected " + expected}
}
