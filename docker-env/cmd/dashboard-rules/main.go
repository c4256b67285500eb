// Command dashboard-rules turns the PromQL queries of Grafana dashboards into a Prometheus
// recording-rules file, so `promtool check rules` parses every panel's query:
//
//	go run ./cmd/dashboard-rules grafana/dashboards/*.json > /tmp/dashboards.rules.yml
//	promtool check rules /tmp/dashboards.rules.yml
//
// Grafana's range variables ($__rate_interval, $__interval, $__range) become 1m first.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dashboard-rules DASHBOARD.json... (want at least one Grafana dashboard JSON file)")
		os.Exit(2)
	}
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard-rules:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, files []string) error {
	var groups []ruleGroup
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		g, err := rulesFor(filepath.Base(f), raw)
		if err != nil {
			return err
		}
		groups = append(groups, g)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(rulesFile{Groups: groups}); err != nil {
		return fmt.Errorf("encode rules: %w", err)
	}
	return enc.Close()
}

type rulesFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record string `yaml:"record"`
	Expr   string `yaml:"expr"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		Type string `json:"type"`
	} `json:"datasource"`
	Targets []struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		Datasource struct {
			Type string `json:"type"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows nest their panels
}

var (
	grafanaRange = regexp.MustCompile(`\$__(rate_interval|interval|range)`)
	nonMetric    = regexp.MustCompile(`[^a-zA-Z0-9_]`)
)

// rulesFor returns one recording rule per Prometheus query in the dashboard.
func rulesFor(name string, raw []byte) (ruleGroup, error) {
	var d struct {
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return ruleGroup{}, fmt.Errorf("%s: want Grafana dashboard JSON: %w", name, err)
	}
	if d.UID == "" {
		return ruleGroup{}, fmt.Errorf("%s: dashboard has no uid", name)
	}
	g := ruleGroup{Name: "dashboard-" + d.UID}
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			if err := walk(p.Panels); err != nil {
				return err
			}
			for _, t := range p.Targets {
				typ := t.Datasource.Type
				if typ == "" {
					typ = p.Datasource.Type
				}
				if typ != "prometheus" {
					continue
				}
				if strings.TrimSpace(t.Expr) == "" {
					return fmt.Errorf("%s: panel %d %q query %s is empty", name, p.ID, p.Title, t.RefID)
				}
				g.Rules = append(g.Rules, rule{
					Record: fmt.Sprintf("dashboard:%s:panel_%d_%s", nonMetric.ReplaceAllString(d.UID, "_"), p.ID, nonMetric.ReplaceAllString(t.RefID, "_")),
					Expr:   grafanaRange.ReplaceAllString(t.Expr, "1m"),
				})
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return ruleGroup{}, err
	}
	if len(g.Rules) == 0 {
		return ruleGroup{}, errors.New(name + ": dashboard has no Prometheus query")
	}
	return g, nil
}
