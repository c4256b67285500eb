package postmortem

import (
	"fmt"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// SplitShell cuts a command line into simple commands (split on && || ; |)
// and each command into words, as mvdan.cc/sh parses it: quotes and
// backslash escapes removed, $(...) and ${...} kept whole inside a word,
// redirections dropped with their target, # comments dropped. It never
// fails: a line the shell cannot parse (an unclosed quote) is cut on blanks.
func SplitShell(line string) [][]string {
	cmds, _ := splitShell(line)
	return cmds
}

// placeholderRe matches a documentation placeholder such as <run> or
// <fault>: the shell would read its angle brackets as redirections.
var placeholderRe = regexp.MustCompile(`<[^\s<>|&;"']+>`)

// splitShell is SplitShell that also returns the redirection targets: the
// files the command line writes (> f, >> f, 2> f) or reads (< f).
func splitShell(line string) (cmds [][]string, redirects []string) {
	var holders []string
	masked := placeholderRe.ReplaceAllStringFunc(line, func(p string) string {
		holders = append(holders, p)
		return fmt.Sprintf("__PLACEHOLDER%d__", len(holders)-1)
	})
	unmask := func(s string) string {
		for i := len(holders) - 1; i >= 0; i-- {
			s = strings.ReplaceAll(s, fmt.Sprintf("__PLACEHOLDER%d__", i), holders[i])
		}
		return s
	}
	file, err := syntax.NewParser(syntax.KeepComments(false)).Parse(strings.NewReader(masked), "")
	if err != nil {
		return fallbackSplit(line), nil
	}
	syntax.Walk(file, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			for _, r := range n.Redirs {
				if r.Word != nil && r.Op != syntax.DplIn && r.Op != syntax.DplOut {
					redirects = append(redirects, unmask(wordText(masked, r.Word)))
				}
			}
		case *syntax.CallExpr:
			var words []string
			for _, a := range n.Assigns {
				words = append(words, unmask(masked[a.Pos().Offset():a.End().Offset()]))
			}
			for _, w := range n.Args {
				words = append(words, unmask(wordText(masked, w)))
			}
			if len(words) > 0 {
				cmds = append(cmds, words)
			}
			return false
		}
		return true
	})
	return cmds, redirects
}

// wordText is a word as the command receives it, quotes removed, with
// expansions ($(...), ${...}, $((...))) left as written: a postmortem cites
// them, nothing runs them.
func wordText(src string, w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		writePart(&b, src, p, false)
	}
	return b.String()
}

func writePart(b *strings.Builder, src string, p syntax.WordPart, quoted bool) {
	switch p := p.(type) {
	case *syntax.Lit:
		b.WriteString(unescape(p.Value, quoted))
	case *syntax.SglQuoted:
		b.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			writePart(b, src, q, true)
		}
	default:
		b.WriteString(src[p.Pos().Offset():p.End().Offset()])
	}
}

// unescape removes the backslashes the shell would: any outside quotes,
// only those before $ ` " \ or a newline inside double quotes.
func unescape(s string, quoted bool) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (!quoted || strings.IndexByte("$`\"\\\n", s[i+1]) >= 0) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shellOperator separates the simple commands of a line fallbackSplit cuts.
var shellOperator = regexp.MustCompile(`&&|\|\||[;|]`)

// fallbackSplit cuts a line the shell parser rejects on blanks and
// operators, quotes dropped, so a half-written command still yields words.
func fallbackSplit(line string) [][]string {
	var cmds [][]string
	line = strings.NewReplacer(`"`, "", "'", "").Replace(line)
	for _, part := range shellOperator.Split(line, -1) {
		if words := strings.Fields(part); len(words) > 0 {
			if strings.HasPrefix(words[0], "#") {
				break
			}
			cmds = append(cmds, words)
		}
	}
	return cmds
}
