// Package report defines report.json (the Go type below IS its schema) and
// renders the same facts for people as report.md and postmortem-draft.md.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// SchemaVersion identifies the report.json layout. Change it whenever a
// field changes meaning, so a CI comparing runs across commits can tell.
const SchemaVersion = "architect-roadmap/report/v2" // v2: scenarios carry events

// File names a run writes in its folder.
const (
	JSONFile       = "report.json"
	MarkdownFile   = "report.md"
	PostmortemFile = "postmortem-draft.md"
)

// Verdicts of a scenario.
const (
	VerdictSymptom = "SYMPTOM"
	VerdictHealthy = "healthy"
	VerdictError   = "error"
)

// Report is one run of one lab.
type Report struct {
	Schema     string     `json:"schema"`     // SchemaVersion
	Lab        int        `json:"lab"`        // stage number, 0..9
	Title      string     `json:"title"`      // e.g. "Engineering template"
	Faults     string     `json:"faults"`     // the selection label: "off", "on", "mystery" or "a,b"
	Seed       uint64     `json:"seed"`       // replay with seed=
	Started    time.Time  `json:"started"`    // UTC
	Finished   time.Time  `json:"finished"`   // UTC
	GoVersion  string     `json:"go_version"` // runtime.Version()
	NumCPU     int        `json:"num_cpu"`    // machine cores
	GOMAXPROCS int        `json:"gomaxprocs"` // scheduler Ps
	OSArch     string     `json:"os_arch"`    // e.g. "linux/amd64"
	Dir        string     `json:"dir"`        // the run folder, relative to the working directory
	DebugAddr  string     `json:"debug_addr"` // pprof and /metrics while the run was live
	Scenarios  []Scenario `json:"scenarios"`
}

// Scenario is the outcome of one fault scenario.
type Scenario struct {
	// Fault is the fault name, or "mystery" when hidden.
	Fault       string `json:"fault"`
	FaultOn     bool   `json:"fault_on"`
	Description string `json:"description,omitempty"` // omitted in a mystery run
	Symptom     string `json:"symptom,omitempty"`     // omitted in a mystery run
	Tool        string `json:"tool,omitempty"`

	Verdict string             `json:"verdict"` // SYMPTOM, healthy or error
	Error   string             `json:"error,omitempty"`
	Metrics map[string]float64 `json:"metrics"`
	Checks  []Check            `json:"checks"`
	Culprit Culprit            `json:"culprit"`
	// Signals are the lab's common signals beside their fault-free
	// baseline: all a fault=mystery run shows in place of Metrics and Checks.
	Signals []Signal `json:"signals,omitempty"`
	// Charts are fault=compare's pictures of this scenario: one SVG per key
	// series with the fault-off and fault-on curves, relative to the run.
	Charts []string `json:"charts,omitempty"`

	Dir            string   `json:"dir"`      // evidence folder, relative to the working directory
	Evidence       []string `json:"evidence"` // files in Dir
	Next           string   `json:"next"`     // the one command to open next
	ElapsedSeconds float64  `json:"elapsed_seconds"`

	// Events are what happened during the scenario (kill, partition,
	// restart ...), at their offsets from the window's start.
	Events []timeline.Event `json:"events,omitempty"`

	// Properties are the verdicts of the scenario's history checks.
	Properties []Property `json:"properties,omitempty"`
}

// Check is one symptom threshold and what the run measured.
type Check struct {
	Metric    string  `json:"metric"`
	Op        string  `json:"op"` // ">" or "<": the symptom side of the threshold
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit,omitempty"`
	Symptom   bool    `json:"symptom"` // the value is on the symptom side
	Missing   bool    `json:"missing,omitempty"`
}

// Signal is one common signal of a run beside its value with the fault off.
type Signal struct {
	Name     string  `json:"name"`
	Stat     string  `json:"stat,omitempty"` // how a time series was summed up: "max", "mean"; empty for env.Record
	Baseline float64 `json:"baseline"`
	Value    float64 `json:"value"`
}

// Culprit is where the defect lives and what the evidence says about it.
type Culprit struct {
	Func     string          `json:"func,omitempty"` // omitted in a mystery run
	Evidence string          `json:"evidence"`       // profile kind: cpu, heap, goroutine, mutex, block
	Frame    string          `json:"frame,omitempty"`
	Found    bool            `json:"found"`
	Share    float64         `json:"share"` // cumulative share of the profile carried by the frame
	Matched  string          `json:"matched,omitempty"`
	Hint     []culprit.Entry `json:"hint"` // the lab's own functions nearest the cost, largest first
	Error    string          `json:"error,omitempty"`

	// OffShare is the frame's share of the same profile with the fault off,
	// when that run was made (fault=compare, fault=mystery, labtest): a
	// culprit is found only if it carries at most half of Share there.
	OffShare *float64 `json:"off_share,omitempty"`

	// Node is the node whose profile was read (runner.Culprit.Node); empty
	// for the runner's own process.
	Node string `json:"node,omitempty"`
}

// WriteJSON writes report.json in dir.
func (r *Report) WriteJSON(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode: %w", err)
	}
	return write(filepath.Join(dir, JSONFile), append(b, '\n'))
}

// ReadJSON reads a report.json, rejecting another schema version.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: decode %s: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("report: %s has schema %q, want %q", path, r.Schema, SchemaVersion)
	}
	return &r, nil
}

// WriteAll writes report.json, report.md and postmortem-draft.md in dir.
func (r *Report) WriteAll(dir string) error {
	return errors.Join(
		r.WriteJSON(dir),
		write(filepath.Join(dir, MarkdownFile), []byte(r.Markdown())),
		write(filepath.Join(dir, PostmortemFile), []byte(r.PostmortemDraft())),
	)
}

func write(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
