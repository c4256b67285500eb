// Package slo turns a service's objectives (an SLO spec file) into the
// Prometheus rules that watch them: recording rules for the error ratio over
// each window the alerts need, the error budget left, and the multiwindow,
// multi-burn-rate alerts of the SRE Workbook's "Alerting on SLOs" (chapter 5):
//
//	page    14.4× over 1 h and 5 m   (2% of a 30-day budget in an hour)
//	page    6×    over 6 h and 30 m  (5% in six hours)
//	ticket  1×    over 3 d and 6 h   (10% in three days)
//
// The long window says the burn is real, the short one that it is still
// going on, so an alert resets minutes after the fix rather than hours.
// A minimum-traffic guard keeps a quiet service from paging on one error,
// and an absent-metric alert catches the failure every SLO alert is blind
// to: the service no longer exporting its SLI at all.
//
// Specs are hand-written YAML (specs/*.yaml); the rules they generate are
// checked in under docker-env/prometheus/rules/ and a test regenerates and
// diffs them, so a spec and its rules can't drift apart.
package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Spec is one service's objectives.
type Spec struct {
	Service string `yaml:"service"`
	// Window is the SLO's period (28d or 30d): the error budget is
	// (1 - objective) of the requests in it.
	Window model.Duration `yaml:"window"`
	// MinRequestRate is the traffic (requests/s over 1 h) below which the
	// burn-rate alerts stay silent.
	MinRequestRate float64 `yaml:"min_request_rate"`
	SLOs           []SLO   `yaml:"slos"`
}

// SLO is one objective, with its SLI as two series selectors: every event
// (Total) and either the bad ones (Errors) or the good ones (Good).
type SLO struct {
	Name        string  `yaml:"name"`
	Objective   float64 `yaml:"objective"`
	Description string  `yaml:"description"`
	Total       string  `yaml:"total"`
	Errors      string  `yaml:"errors"`
	Good        string  `yaml:"good"`
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	// A selector as the spec writes it: a metric name and optional matchers.
	selectorRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^{}]*\})?$`)
)

// ErrSpec is wrapped by every validation error.
var ErrSpec = errors.New("slo spec")

// Load reads and validates a spec file. Unknown keys are an error: a
// misspelled `objectve` must not silently mean "no objective".
func Load(path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	return Parse(path, b)
}

// Parse decodes and validates spec bytes; name is used in errors.
func Parse(name string, b []byte) (Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		// yaml.v3 puts each unmarshal error on a line of its own.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
		return Spec{}, fmt.Errorf("%w %s: %s", ErrSpec, name, msg)
	}
	if err := s.validate(); err != nil {
		return Spec{}, fmt.Errorf("%w %s: %w", ErrSpec, name, err)
	}
	return s, nil
}

func (s Spec) validate() error {
	switch w := time.Duration(s.Window); {
	case !nameRE.MatchString(s.Service):
		return fmt.Errorf("service %q: expected lower-case letters, digits and dashes", s.Service)
	case w < 7*24*time.Hour || w > 90*24*time.Hour:
		return fmt.Errorf("window %s: expected 7d to 90d (28d or 30d as the SRE Workbook uses)", s.Window)
	case s.MinRequestRate < 0:
		return fmt.Errorf("min_request_rate %v: expected ≥ 0", s.MinRequestRate)
	case len(s.SLOs) == 0:
		return errors.New("no slos: expected at least one objective")
	}
	seen := map[string]bool{}
	for _, o := range s.SLOs {
		switch {
		case !nameRE.MatchString(o.Name) || seen[o.Name]:
			return fmt.Errorf("slo %q: expected a unique lower-case name", o.Name)
		case o.Objective <= 0.5 || o.Objective >= 1:
			return fmt.Errorf("slo %s: objective %v: expected a fraction between 0.5 and 1, such as 0.999", o.Name, o.Objective)
		case (o.Errors == "") == (o.Good == ""):
			return fmt.Errorf("slo %s: expected exactly one of errors and good", o.Name)
		}
		for _, sel := range []string{o.Total, o.Errors + o.Good} {
			if !selectorRE.MatchString(sel) {
				return fmt.Errorf("slo %s: selector %q: expected metric{label=\"value\",...}", o.Name, sel)
			}
		}
		seen[o.Name] = true
	}
	return nil
}
