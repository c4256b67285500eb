package postmortem

import (
	"fmt"
	"regexp"
	"strings"
)

// normalizeTitle lowercases a heading and drops numbering, emphasis and a
// trailing colon: "2. **Root cause:**" → "root cause".
func normalizeTitle(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	t = strings.NewReplacer("*", "", "_", " ", "`", "").Replace(t)
	t = leadingNumber.ReplaceAllString(t, "")
	t = strings.TrimRight(t, " :")
	return strings.Join(strings.Fields(t), " ")
}

var leadingNumber = regexp.MustCompile(`^\d+(\.\d+)*[.)]?\s+`)

// matchesSection reports whether a normalized heading names the required
// section: the name itself, its plural, or the name followed by more words
// ("Lessons learned", "Action items (owners)").
func matchesSection(title, name string) bool {
	name = strings.ToLower(name)
	if title == name || title == name+"s" {
		return true
	}
	if !strings.HasPrefix(title, name) {
		return false
	}
	rest := strings.TrimPrefix(title[len(name):], "s")
	return rest == "" || strings.ContainsRune(" (:—-–/,", rune(rest[0]))
}

// placeholder matches what a template or a generated draft leaves to fill
// in: a line that starts with TODO/TBD/FIXME, or only "...", "-", "N/A".
var placeholder = regexp.MustCompile(`(?i)^((todo|tbd|fixme)\b.*|tk|xxx|\.\.\.|…|-|n/?a|none yet)[.:!]?$`)

var listMarker = regexp.MustCompile(`^\s*(?:[-*+]|\d{1,9}[.)])(?:\s+\[[ xX]\])?\s+`)

// hasContent reports whether the section body holds real text: not only
// blank lines, comments, sub-headings, empty bullets or placeholders.
func hasContent(lines []Line) bool {
	for _, ln := range lines {
		if ln.Heading > 0 || ln.Underline || ln.Fence {
			continue
		}
		t := strings.TrimSpace(ln.Visible)
		if !ln.InFence {
			t = strings.TrimSpace(listMarker.ReplaceAllString(t, ""))
			if strings.Trim(t, "-*+>|: ") == "" {
				continue
			}
		}
		if t == "" || placeholder.MatchString(t) {
			continue
		}
		return true
	}
	return false
}

// figure is a number written as a measurement: not glued to a word, a path
// or a flag ("p99", "lab-1", "v2", "./cmd/x1" are not figures).
var figure = regexp.MustCompile(`(?:^|[^\w./\-#:])(\d+(?:[.,]\d+)?)`)

// figures returns the measurements in a section: its prose, tables and
// pasted output. Commands, paths and link targets are left out, so the
// digits of `make lab-1 duration=20s` do not count as results.
func (l *linter) figures(lines []Line) []string {
	var out []string
	prevCont := false
	for _, ln := range lines {
		if ln.Heading > 0 || ln.Underline || ln.Fence {
			prevCont = false
			continue
		}
		text := ln.Visible
		if ln.InFence {
			_, isCmd := fenceCommand(ln)
			cont := prevCont
			prevCont = (isCmd || cont) && strings.HasSuffix(strings.TrimSpace(text), `\`)
			if isCmd || cont {
				continue
			}
		} else {
			// Link targets are not in the prose; list markers are not
			// in parsed lines, only in raw (HTML) ones.
			text = proseOf(ln, func(span string) string {
				if looksLikeCommand(span) || l.pathKind(span) != notPath {
					return " "
				}
				return " " + span + " "
			})
			text = listMarker.ReplaceAllString(text, " ")
		}
		for _, m := range figure.FindAllStringSubmatch(text, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// citesCommand reports whether the section names a command a reader can run.
func citesCommand(lines []Line) bool {
	for _, ln := range lines {
		if ln.InFence {
			if _, ok := fenceCommand(ln); ok {
				return true
			}
			continue
		}
		for _, span := range spansOf(ln) {
			if looksLikeCommand(span) {
				return true
			}
		}
	}
	return false
}

func (l *linter) checkSections(doc *Document) []Problem {
	var probs []Problem
	found := map[string]Section{}
	for _, name := range RequiredSections() {
		// The section is the shallowest heading that names it: "### Impact
		// on users" under "## Impact", or "### Verification steps" under
		// Resolution, are sub-headings, not the section. Two at the same
		// shallowest level are a duplicate.
		var matches []Section
		top := 7
		for _, s := range doc.Sections {
			if matchesSection(normalizeTitle(s.Title), name) {
				matches = append(matches, s)
				top = min(top, s.Level)
			}
		}
		for _, s := range matches {
			if s.Level != top {
				continue
			}
			if first, dup := found[name]; dup {
				probs = append(probs, Problem{
					Line:     s.Line,
					Problem:  fmt.Sprintf("section %q appears again (first at line %d)", name, first.Line),
					Expected: "each section once",
				})
				continue
			}
			found[name] = s
		}
		s, ok := found[name]
		if !ok {
			probs = append(probs, Problem{
				Line:     1,
				Problem:  fmt.Sprintf("missing section %q", name),
				Expected: fmt.Sprintf("a heading \"## %s\" as in docs/postmortem-template.md", name),
			})
			continue
		}
		body := doc.Body(s)
		if !hasContent(body) {
			probs = append(probs, Problem{
				Line:     s.Line,
				Problem:  fmt.Sprintf("section %q is empty", name),
				Expected: "text under the heading; template guidance in <!-- --> comments and TODO/TBD do not count",
			})
			continue
		}
		switch name {
		case "Impact":
			if len(l.figures(body)) == 0 {
				probs = append(probs, Problem{
					Line:     s.Line,
					Problem:  `section "Impact" has no figures`,
					Expected: "numbers from a real run, e.g. \"1 240 of 6 000 requests failed (20.7%)\"",
				})
			}
			if !citesCommand(body) {
				probs = append(probs, Problem{
					Line:     s.Line,
					Problem:  `section "Impact" cites no command`,
					Expected: "the command that produced the numbers, in backticks, e.g. `make lab-1 fault=goroutine-leak seed=42`",
				})
			}
		case "Verification":
			if n := len(l.figures(body)); n < 2 {
				probs = append(probs, Problem{
					Line:     s.Line,
					Problem:  fmt.Sprintf(`section "Verification" has %d figure(s)`, n),
					Expected: "before and after numbers from real runs, e.g. \"goroutines 10 412 with the fault, 9 without\"",
				})
			}
			if !citesCommand(body) {
				probs = append(probs, Problem{
					Line:     s.Line,
					Problem:  `section "Verification" cites no command`,
					Expected: "the command that reproduces the numbers, in backticks, e.g. `make lab-1` and `make lab-1 fault=on`",
				})
			}
		case "Action items":
			probs = append(probs, checkOwners(s, body)...)
		}
	}
	return probs
}

var ownerMark = regexp.MustCompile(`(?i)\bowners?\b|@[\w-]+`)

// checkOwners wants every action item to name who does it: a table with an
// Owner column filled in, or list items that say "owner: ..." or "@someone".
func checkOwners(s Section, body []Line) []Problem {
	var probs []Problem
	type item struct {
		line int
		text string
	}
	var items []item
	ownerCol, tableRows := -1, 0
	inTable, inItem := false, false
	for _, ln := range body {
		if ln.InFence || ln.Fence || ln.Heading > 0 {
			inTable, inItem = false, false
			continue
		}
		t := strings.TrimSpace(ln.Visible)
		if t == "" {
			inTable, inItem = false, false
			continue
		}
		if strings.HasPrefix(t, "|") {
			cells := tableCells(t)
			if !inTable {
				inTable = true
				ownerCol = -1
				for i, c := range cells {
					if strings.Contains(strings.ToLower(c), "owner") {
						ownerCol = i
					}
				}
				continue
			}
			if isSeparatorRow(cells) {
				continue
			}
			tableRows++
			if ownerCol < 0 {
				items = append(items, item{ln.Num, t})
				continue
			}
			if ownerCol >= len(cells) || strings.TrimSpace(cells[ownerCol]) == "" ||
				placeholder.MatchString(strings.TrimSpace(cells[ownerCol])) {
				probs = append(probs, Problem{
					Line:     ln.Num,
					Problem:  "action item has no owner",
					Expected: "a person or team in the Owner column",
				})
			}
			continue
		}
		inTable = false
		if listMarker.MatchString(ln.Visible) && !strings.HasPrefix(ln.Visible, "  ") {
			items = append(items, item{ln.Num, t})
			inItem = true
			continue
		}
		if inItem || (len(items) > 0 && strings.HasPrefix(ln.Visible, "  ")) {
			items[len(items)-1].text += " " + t // continuation of the item
		}
	}
	if len(items) == 0 && tableRows == 0 {
		return []Problem{{
			Line:     s.Line,
			Problem:  `section "Action items" has no list or table of items`,
			Expected: "one item per bullet (or table row), each with an owner, e.g. \"- Bound the result channel — owner: @lab-1-maintainers\"",
		}}
	}
	for _, it := range items {
		if !ownerMark.MatchString(it.text) {
			probs = append(probs, Problem{
				Line:     it.line,
				Problem:  "action item has no owner",
				Expected: "\"owner: NAME\" or \"@name\" on the item, or an Owner column",
			})
		}
	}
	return probs
}

func tableCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	row = strings.TrimSuffix(row, "|")
	cells := strings.Split(row, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

func isSeparatorRow(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, ":- ") != "" {
			return false
		}
	}
	return len(cells) > 0
}
