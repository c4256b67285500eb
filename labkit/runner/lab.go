// Package runner turns a lab's scenarios into a program and a report.
//
// A lab declares what it is (number, title) and, for each fault, a Scenario:
// the run function, the symptom checks with their thresholds, and the culprit
// the evidence must point at. The runner owns everything else: flags, the
// debug server, the evidence window around each scenario, verdicts, the
// terminal summary, report.json/report.md/postmortem-draft.md, and exit codes.
// A lab's cmd/lab/main.go is one line: runner.Main(scenarios.Lab()).
package runner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/fault"
)

// DefaultWindow is a scenario's load window when the lab sets none. Four
// faults of a few seconds each, plus capture, keep a whole lab under 60 s.
const DefaultWindow = 3 * time.Second

// Lab is one stage of the curriculum.
type Lab struct {
	Number int
	Title  string
	// Window is each scenario's load window (DefaultWindow when zero);
	// duration= on the command line overrides it.
	Window time.Duration
	// NoTrace turns runtime/trace off for every scenario of the lab (a trace
	// of a minutes-long soak is hundreds of megabytes).
	NoTrace   bool
	Scenarios []Scenario
	// Signals are the lab's own common signals beyond the RED trio that
	// every scenario reports through env.Traffic (REDSignals): what an
	// on-call engineer's dashboard shows first, the same set whatever the
	// fault (the backing store's QPS, say). Each is a name the scenarios
	// pass to env.Record. A fault=mystery run shows the RED trio and these
	// beside their fault-free baseline, with the runtime's own (goroutines,
	// heap, GC pauses, scheduler latency, CPU), and nothing scenario-specific.
	Signals []string
	// Preflight, when set, runs once before any scenario: it connects to
	// the services the lab will use and says which ones (for example
	// "store: PostgreSQL at 127.0.0.1:5432 (POSTGRES_DSN)" or "store:
	// embedded SQLite; set POSTGRES_DSN for PostgreSQL"). An error is bad
	// input, like an unknown fault: one line naming the address tried, exit 2.
	Preflight func(ctx context.Context) (string, error)
}

// Scenario is one fault: a real defect, how to drive it, how to see it.
type Scenario struct {
	Fault       string // kebab-case fault name, e.g. "goroutine-leak"
	Description string // one line: what breaks
	Symptom     string // one line: what a learner observes
	// Tool is the command that reveals the fault. "{dir}" is replaced by the
	// scenario's evidence folder. When empty the runner suggests
	// `go tool pprof -top {dir}/<culprit evidence>.pprof`.
	Tool string
	// Window is this scenario's load window: minutes for a soak, a second
	// for a unit. It overrides the lab's Window; duration= overrides both.
	Window time.Duration
	// NoTrace turns runtime/trace off for this scenario.
	NoTrace bool
	Culprit Culprit
	Checks  []Check
	// HistoryChecks are symptoms that are properties of the operations
	// the scenario recorded with env.History() (see HistoryCheck).
	HistoryChecks []HistoryCheck
	// Run drives the scenario for env.Duration with the fault on or off
	// (env.FaultOn) and records the symptom metrics with env.Record. It must
	// return when ctx is cancelled. Resources that must outlive the evidence
	// capture (a leak, a stuck goroutine) are released with env.Cleanup.
	Run func(ctx context.Context, env *Env) error
}

// Culprit is where the defect lives and which evidence shows it.
type Culprit struct {
	// Func is the function where the defect lives: a substring of its fully
	// qualified name, e.g. "server.(*Server).Stop".
	Func string
	// Evidence is the profile that reveals it, or evidence.Log when the
	// defect is something that does not happen (a wait, a flush) and only
	// the warning its function logs can show it.
	Evidence evidence.Kind
	// Frame is the frame to find in that profile when it differs from Func
	// (the defect is a missing setting and the profile shows its effect).
	Frame string
	// MinShare is the cumulative share of the profile the frame must carry
	// to count as found (DefaultMinShare when zero).
	MinShare float64
	// Node names the node whose profile must show the frame: "" is the
	// runner's own process, "node2" that node's (its evidence folder, or,
	// when the nodes share the runner's process, the samples node.Label
	// tagged node2), and AnyNode whichever node shows it most.
	Node string
}

// AnyNode as Culprit.Node: the frame may show in any node's profile.
const AnyNode = "*"

// DefaultMinShare: the culprit carries at least a fifth of its profile.
const DefaultMinShare = 0.2

// frame is what to search the profile for.
func (c Culprit) frame() string {
	if c.Frame != "" {
		return c.Frame
	}
	return c.Func
}

// Op says on which side of a threshold the symptom lies.
type Op int

// The two sides.
const (
	Above Op = iota // symptom when value > threshold
	Below           // symptom when value < threshold
)

func (o Op) String() string {
	if o == Below {
		return "<"
	}
	return ">"
}

// Check is one symptom metric and its threshold.
type Check struct {
	Metric    string // a name the scenario passes to env.Record
	Op        Op
	Threshold float64
	Unit      string
}

// symptom reports whether v is on the symptom side of the threshold.
func (c Check) symptom(v float64) bool {
	if c.Op == Below {
		return v < c.Threshold
	}
	return v > c.Threshold
}

// Registry is the lab's fault registry, built from its scenarios.
func (l Lab) Registry() (*fault.Registry, error) {
	faults := make([]fault.Fault, len(l.Scenarios))
	for i, s := range l.Scenarios {
		faults[i] = fault.Fault{Name: s.Fault}
	}
	return fault.NewRegistry(faults...)
}

// commonSignals are the RED trio and the lab's own Signals.
func (l Lab) commonSignals() []string { return append(slices.Clone(REDSignals), l.Signals...) }

// Validate reports a scenario declared without what the runner needs.
func (l Lab) Validate() error {
	if l.Number < 0 || l.Number > 9 {
		return fmt.Errorf("runner: lab number %d is not a stage 0..9", l.Number)
	}
	if _, err := l.Registry(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, name := range REDSignals {
		seen[name] = true // a lab that lists one of them lists it twice
	}
	for _, name := range l.Signals {
		if name == "" || seen[name] {
			return fmt.Errorf("runner: lab signal %q is empty or listed twice", name)
		}
		seen[name] = true
	}
	for _, s := range l.Scenarios {
		switch {
		case s.Run == nil:
			return fmt.Errorf("runner: scenario %s has no Run function", s.Fault)
		case len(s.Checks) == 0 && len(s.HistoryChecks) == 0:
			return fmt.Errorf("runner: scenario %s declares no symptom check", s.Fault)
		case s.Culprit.Func == "":
			return fmt.Errorf("runner: scenario %s names no culprit function", s.Fault)
		}
		switch s.Culprit.Evidence {
		case evidence.CPU, evidence.Heap, evidence.Goroutine, evidence.Mutex, evidence.Block, evidence.Log:
		default:
			return fmt.Errorf("runner: scenario %s: culprit evidence %q is not cpu, heap, goroutine, mutex, block or log",
				s.Fault, s.Culprit.Evidence)
		}
	}
	return nil
}

// window is a scenario's load window: its own, else the lab's, else the default.
func (l Lab) window(sc Scenario) time.Duration {
	switch {
	case sc.Window > 0:
		return sc.Window
	case l.Window > 0:
		return l.Window
	}
	return DefaultWindow
}
