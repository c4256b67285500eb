package slo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// BurnRate is one multiwindow alert: it fires while the error ratio over
// both windows exceeds Factor times the budget's rate (1 - objective).
type BurnRate struct {
	Factor   float64
	Long     model.Duration
	Short    model.Duration
	Severity string
}

// BurnRates are the SRE Workbook's recommended three for a 30-day budget:
// a page spends 2% of it in an hour or 5% in six, a ticket 10% in three days.
func BurnRates() []BurnRate {
	h := func(n int) model.Duration { return model.Duration(time.Duration(n) * time.Hour) }
	m := func(n int) model.Duration { return model.Duration(time.Duration(n) * time.Minute) }
	return []BurnRate{
		{14.4, h(1), m(5), "page"},
		{6, h(6), m(30), "page"},
		{1, h(72), h(6), "ticket"},
	}
}

// guardWindow is the window of the minimum-traffic guard: the fast page's long window.
var guardWindow = model.Duration(time.Hour)

// Rule is one Prometheus rule, recording or alerting, in the order
// Prometheus's rule files write its fields.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Group is a rule group.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// windows are the error-ratio windows the alerts read, shortest first, and
// the SLO's own window last (for the budget left).
func (s Spec) windows() []model.Duration {
	var out []model.Duration
	seen := map[model.Duration]bool{}
	for _, b := range BurnRates() {
		for _, w := range []model.Duration{b.Short, b.Long} {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	slices.Sort(out)
	return append(out, s.Window)
}

// Groups are the spec's rules: one group of recording rules and one of
// alerts per service. Alerts read only the recorded series, so each
// expression is evaluated once however many alerts use it.
func (s Spec) Groups() []Group {
	rec := Group{Name: "slo-" + s.Service + "-recordings"}
	alerts := Group{Name: "slo-" + s.Service + "-alerts"}
	for _, o := range s.SLOs {
		sel := fmt.Sprintf(`{service=%q,slo=%q}`, s.Service, o.Name)
		labels := map[string]string{"service": s.Service, "slo": o.Name}
		for _, w := range s.windows() {
			rec.Rules = append(rec.Rules, Rule{Record: "slo:sli_error:ratio_rate" + dur(w), Expr: o.errorRatio(w), Labels: labels})
		}
		rec.Rules = append(rec.Rules,
			Rule{Record: "slo:requests:rate" + dur(guardWindow), Expr: fmt.Sprintf("sum(rate(%s[%s]))", o.Total, dur(guardWindow)), Labels: labels},
			Rule{Record: "slo:objective:ratio", Expr: num(o.Objective), Labels: labels},
			// 1 while none of the window's budget is spent, 0 when all of
			// it is, below 0 beyond.
			Rule{Record: "slo:error_budget:remaining_ratio",
				Expr:   fmt.Sprintf("1 - slo:sli_error:ratio_rate%s%s / %s", dur(s.Window), sel, num(1-o.Objective)),
				Labels: labels})

		budget := 1 - o.Objective
		for _, b := range BurnRates() {
			threshold := num(b.Factor * budget)
			alerts.Rules = append(alerts.Rules, Rule{
				Alert: "ErrorBudgetBurn",
				Expr: fmt.Sprintf("slo:sli_error:ratio_rate%s%s > %s\nand\nslo:sli_error:ratio_rate%s%s > %s\nand\nslo:requests:rate%s%s > %s",
					dur(b.Long), sel, threshold, dur(b.Short), sel, threshold, dur(guardWindow), sel, num(s.MinRequestRate)),
				Labels: map[string]string{"service": s.Service, "slo": o.Name, "severity": b.Severity,
					"long_window": dur(b.Long), "short_window": dur(b.Short)},
				Annotations: map[string]string{
					"summary": fmt.Sprintf("%s %s: the error budget burns at %s× over %s and %s",
						s.Service, o.Name, num(b.Factor), dur(b.Long), dur(b.Short)),
					"description": fmt.Sprintf("{{ $value | humanizePercentage }} of %s's %s events failed over the last %s (objective %s%%); burning at %s× or faster, the %s error budget is gone in %s or less.",
						s.Service, o.Name, dur(b.Long), num(100*o.Objective), num(b.Factor), dur(s.Window), lasts(s.Window, b.Factor)),
				},
			})
		}
		alerts.Rules = append(alerts.Rules, Rule{
			Alert: "SLOMetricAbsent",
			// Every burn-rate alert is silent when the SLI is not there at
			// all: a crashed exporter looks like a perfect service.
			Expr:   fmt.Sprintf("absent(%s)", o.Total),
			For:    "10m",
			Labels: map[string]string{"service": s.Service, "slo": o.Name, "severity": "ticket"},
			Annotations: map[string]string{
				"summary": fmt.Sprintf("%s exports no %s SLI: its SLO alerts cannot fire", s.Service, o.Name),
			},
		})
	}
	return []Group{rec, alerts}
}

// errorRatio is the SLI's share of bad events over w.
func (o SLO) errorRatio(w model.Duration) string {
	total := fmt.Sprintf("sum(rate(%s[%s]))", o.Total, dur(w))
	if o.Errors != "" {
		// `or vector(0)`: a service that never failed has no 5xx series at
		// all, and its ratio must be 0, not missing.
		return fmt.Sprintf("(sum(rate(%s[%s])) or vector(0))\n/\n%s", o.Errors, dur(w), total)
	}
	return fmt.Sprintf("1 - (\n  sum(rate(%s[%s]))\n  /\n  %s\n)", o.Good, dur(w), total)
}

// lasts is how long a whole window's budget lasts at factor× the sustainable burn.
func lasts(window model.Duration, factor float64) string {
	return dur(model.Duration(time.Duration(float64(window) / factor).Round(time.Hour)))
}

// num prints a threshold as a person would write it: 14.4 × (1 - 0.999) is
// 0.0144, not float64's 0.014400000000000013.
func num(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// dur prints a window in days, hours or minutes (28d, not model.Duration's 4w).
func dur(d model.Duration) string {
	t := time.Duration(d)
	const day = 24 * time.Hour
	switch {
	case t%day == 0:
		return fmt.Sprintf("%dd", t/day)
	case t > day && t%time.Hour == 0:
		return fmt.Sprintf("%dd%dh", t/day, t%day/time.Hour)
	case t%time.Hour == 0:
		return fmt.Sprintf("%dh", t/time.Hour)
	}
	return fmt.Sprintf("%dm", t/time.Minute)
}

// File is the generated rule file for the spec, with a header that says not
// to edit it; specFile is the spec's file name in slo/specs.
func (s Spec) File(specFile string) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# GENERATED by projects/lab-8-observability/cmd/slogen from projects/lab-8-observability/slo/specs/%s. Do not edit:\n", specFile)
	fmt.Fprintf(&buf, "# change the spec and run `go run ./projects/lab-8-observability/cmd/slogen` from the repository root.\n")
	fmt.Fprintf(&buf, "# Tested by tests/slo-%s.test.yml (promtool test rules).\n", s.Service)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		Groups []Group `yaml:"groups"`
	}{s.Groups()}); err != nil {
		return nil, fmt.Errorf("slo: encode %s: %w", s.Service, err)
	}
	return []byte(strings.TrimRight(buf.String(), "\n") + "\n"), nil
}

// Output is one generated rule file.
type Output struct {
	Path    string // where it belongs
	Content []byte // what the spec generates
	Stale   bool   // the file at Path differs from Content (or is missing)
}

// GenerateAll generates the rule file of every spec in specDir into outDir
// (without writing it) and says which checked-in files are stale.
func GenerateAll(specDir, outDir string) ([]Output, error) {
	paths, err := filepath.Glob(filepath.Join(specDir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("slo: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no *.yaml in %s", ErrSpec, specDir)
	}
	var out []Output
	services := map[string]string{}
	for _, p := range paths {
		s, err := Load(p)
		if err != nil {
			return nil, err
		}
		if prev, ok := services[s.Service]; ok {
			return nil, fmt.Errorf("%w: service %s is in both %s and %s", ErrSpec, s.Service, prev, p)
		}
		services[s.Service] = p
		content, err := s.File(filepath.Base(p))
		if err != nil {
			return nil, err
		}
		path := filepath.Join(outDir, "slo-"+s.Service+".yml")
		old, err := os.ReadFile(path)
		out = append(out, Output{Path: path, Content: content, Stale: err != nil || !bytes.Equal(old, content)})
	}
	return out, nil
}
