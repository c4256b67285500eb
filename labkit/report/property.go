package report

import (
	"fmt"
	"sort"
	"strings"
)

// Property is a history check's verdict: whether a property of the
// operations the scenario recorded holds ("linearizable", "no acknowledged
// write lost"), and the counts it rests on. A violated property is the
// symptom, as a check on the symptom side of its threshold is.
type Property struct {
	Name   string         `json:"name"`
	Holds  bool           `json:"holds"`
	Counts map[string]int `json:"counts,omitempty"`
	Detail string         `json:"detail,omitempty"`
	Files  []string       `json:"files,omitempty"` // evidence the check wrote, in the scenario's folder
	Error  string         `json:"error,omitempty"` // the check could not decide
}

// writeProperties lists a scenario's history checks in report.md.
func writeProperties(b *strings.Builder, props []Property) {
	if len(props) == 0 {
		return
	}
	b.WriteString("History checks:\n\n| property | verdict | counts | detail |\n| --- | --- | --- | --- |\n")
	for _, p := range props {
		verdict := "holds"
		switch {
		case p.Error != "":
			verdict, p.Detail = "error", p.Error
		case !p.Holds:
			verdict = "**violated**"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", p.Name, verdict, formatCounts(p.Counts), p.Detail)
	}
	b.WriteString("\n")
}

func formatCounts(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c[k])
	}
	return strings.Join(parts, ", ")
}

// impactOfProperties writes a scenario's history verdicts in the
// postmortem draft's Impact section.
func impactOfProperties(b *strings.Builder, s Scenario) {
	for _, p := range s.Properties {
		verdict := "holds"
		if !p.Holds {
			verdict = "violated"
		}
		fmt.Fprintf(b, "- %s: %s %s (%s)\n", s.Fault, p.Name, verdict, formatCounts(p.Counts))
	}
}
