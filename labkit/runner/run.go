package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

// ScenarioConfig is how one scenario is run.
type ScenarioConfig struct {
	FaultOn  bool
	Seed     uint64
	Duration time.Duration // the load window; the lab's Window when zero
	Dir      string        // the scenario's evidence folder
	// Metrics is the registry the scenario registers its metrics on; a fresh
	// one with the Go and process collectors when nil.
	Metrics *prometheus.Registry
	// Hidden hides the fault's name and culprit from the result (mystery).
	Hidden bool
	// Evidence tunes the capture.
	Evidence evidence.Options
}

// RunScenario runs one scenario inside an evidence window and judges it. It
// never panics: a panicking or failing Run becomes an "error" verdict.
func RunScenario(ctx context.Context, lab Lab, sc Scenario, cfg ScenarioConfig) report.Scenario {
	if cfg.Duration <= 0 {
		cfg.Duration = lab.window(sc)
	}
	cfg.Evidence.NoTrace = cfg.Evidence.NoTrace || sc.NoTrace || lab.NoTrace
	if cfg.Evidence.SampleEvery <= 0 {
		// About a thousand rows whatever the window: 100ms ticks for a unit,
		// coarser for a soak, so metrics.csv and the charts stay readable.
		cfg.Evidence.SampleEvery = max(100*time.Millisecond, cfg.Duration/1000)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = telemetry.NewRegistry()
	}
	res := report.Scenario{Fault: sc.Fault, FaultOn: cfg.FaultOn, Description: sc.Description, Symptom: sc.Symptom,
		Tool: sc.Tool, Dir: cfg.Dir, Metrics: map[string]float64{}}
	started := time.Now()
	fail := func(err error) report.Scenario {
		res.Verdict, res.Error = report.VerdictError, err.Error()
		res.ElapsedSeconds = time.Since(started).Seconds()
		return res
	}
	capture, err := evidence.Start(cfg.Dir, cfg.Evidence)
	if err != nil {
		return fail(err)
	}
	logFile, err := os.Create(filepath.Join(cfg.Dir, evidence.LogFile))
	if err != nil {
		_ = capture.Stop()
		return fail(fmt.Errorf("runner: %w", err))
	}
	defer logFile.Close()
	tracing, err := telemetry.NewTracing(ctx, telemetry.TracingOptions{Service: fmt.Sprintf("lab-%d", lab.Number),
		InMemory: true, Getenv: func(string) string { return "" }}) // spans are evidence, written below
	if err != nil {
		_ = capture.Stop()
		return fail(err)
	}
	logged := sc.Fault
	if cfg.Hidden {
		logged = "mystery" // the log is evidence a learner reads: it must not name the answer
	}
	env := &Env{
		FaultOn: cfg.FaultOn, Seed: cfg.Seed, Rand: rand.New(rand.NewPCG(cfg.Seed, uint64(lab.Number))),
		Duration: cfg.Duration, Log: telemetry.NewLogger(logFile, telemetry.LoggerOptions{}).With(
			zap.String("fault", logged), zap.Bool("fault_on", cfg.FaultOn)),
		Metrics: cfg.Metrics, Tracer: tracing.Provider, Dir: cfg.Dir,
		capture: capture, recorded: map[string]float64{},
	}
	if cfg.Hidden {
		// A lab's own series are named for what its fault breaks; a mystery
		// charts only the common signals.
		env.keepSeries = func(name string) bool { return slices.Contains(lab.commonSignals(), name) }
		env.hidden = true
	}

	// A generous deadline: a scenario that hangs is a bug to report, not a
	// reason for the learner's terminal to hang.
	runCtx, cancel := context.WithTimeout(ctx, 5*cfg.Duration+30*time.Second)
	runErr := safeRun(runCtx, sc, env)
	cancel()

	stopErr := capture.Stop()
	_ = env.Log.Sync()
	spansErr := writeSpans(ctx, tracing, capture)
	env.runCleanups()

	res.Metrics = env.metrics()
	res.Evidence = append(capture.Files(), evidence.LogFile)
	res.Events = capture.Events()
	res.Culprit = judgeCulprit(sc.Culprit, cfg.Dir)
	res.Next = next(sc, cfg.Dir, res.Culprit.Node)
	res.Checks, res.Verdict = judgeChecks(sc.Checks, res.Metrics)
	judgeHistory(ctx, sc.HistoryChecks, env, res.Events, &res)
	if err := errors.Join(runErr, stopErr, spansErr); err != nil {
		res.Verdict, res.Error = report.VerdictError, oneLine(err)
	}
	if cfg.Hidden {
		hide(&res, lab.commonSignals(), cfg.Dir)
	}
	res.ElapsedSeconds = time.Since(started).Seconds()
	return res
}

func safeRun(ctx context.Context, sc Scenario, env *Env) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("scenario %s panicked: %v\n%s", sc.Fault, r, debug.Stack())
		}
	}()
	if err := sc.Run(ctx, env); err != nil {
		return fmt.Errorf("scenario %s: %w", sc.Fault, err)
	}
	return nil
}

func judgeChecks(checks []Check, metrics map[string]float64) ([]report.Check, string) {
	out := make([]report.Check, len(checks))
	verdict := report.VerdictHealthy
	for i, c := range checks {
		v, ok := metrics[c.Metric]
		out[i] = report.Check{Metric: c.Metric, Op: c.Op.String(), Threshold: c.Threshold, Value: v, Unit: c.Unit,
			Missing: !ok, Symptom: ok && c.symptom(v)}
		if out[i].Symptom {
			verdict = report.VerdictSymptom
		}
		if !ok {
			verdict = report.VerdictError
		}
	}
	return out, verdict
}

func judgeCulprit(c Culprit, dir string) report.Culprit {
	out := report.Culprit{Func: c.Func, Evidence: string(c.Evidence), Frame: c.Frame}
	a, node, err := analyzeCulprit(c, dir)
	out.Node = node
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Hint = culprit.Top(a.Own, 5)
	out.Matched, out.Share = a.Share(c.frame())
	minShare := c.MinShare
	if minShare <= 0 {
		minShare = DefaultMinShare
	}
	out.Found = out.Share >= minShare
	return out
}

// next is the command to run first on the evidence in dir; node is the
// node the culprit was judged on ("" for the runner's own profile).
func next(sc Scenario, dir, node string) string {
	if sc.Tool != "" {
		return strings.ReplaceAll(sc.Tool, "{dir}", dir)
	}
	if sc.Culprit.Evidence == evidence.Log {
		return fmt.Sprintf("grep -E '\"level\":\"(warn|error)\"' %s", filepath.Join(dir, evidence.LogFile))
	}
	return pprofCommand(sc.Culprit, dir, node)
}

// hide strips what would give a mystery fault away: its name, its own
// metrics and checks, its culprit and its hint. The profiles stay, and so do
// the lab's common signals, which are the same whatever the fault.
func hide(res *report.Scenario, signals []string, dir string) {
	res.Fault, res.Description, res.Symptom, res.Tool = "mystery", "", "", ""
	res.Culprit = report.Culprit{Evidence: "?"}
	res.Checks = nil
	res.Properties = nil // a history check's name ("linearizable") narrows the answer down
	for name := range res.Metrics {
		if !slices.Contains(signals, name) {
			delete(res.Metrics, name)
		}
	}
	res.Next = fmt.Sprintf("ls %s   # then pick the profile that explains the symptom", dir)
}

// Contrast judges a culprit on both paths: it is found only when its frame
// carries at least MinShare of the profile with the fault on (on.Culprit.Found)
// and at most half of that share with the fault off. A frame every request
// runs (a cache's load, a client's fetch) carries the same share either way,
// so it names where the work is, not where the defect is.
func Contrast(on *report.Scenario, off report.Scenario) {
	share := off.Culprit.Share
	on.Culprit.OffShare = &share
	on.Culprit.Found = on.Culprit.Found && share <= on.Culprit.Share/2
}

// span is the part of a finished span a learner reads in spans.json.
type span struct {
	Name       string            `json:"name"`
	TraceID    string            `json:"trace_id"`
	SpanID     string            `json:"span_id"`
	Parent     string            `json:"parent_span_id,omitempty"`
	Start      time.Time         `json:"start"`
	DurationMS float64           `json:"duration_ms"`
	Status     string            `json:"status,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// maxSpans bounds spans.json: a busy window ends millions of spans.
const maxSpans = 5000

func writeSpans(ctx context.Context, t *telemetry.Tracing, c *evidence.Capture) error {
	defer func() { _ = t.Shutdown(ctx) }()
	got := t.Recorder.GetSpans()
	if len(got) == 0 {
		return nil
	}
	spans := make([]span, 0, min(len(got), maxSpans))
	for _, s := range got[:min(len(got), maxSpans)] {
		sp := span{Name: s.Name, TraceID: s.SpanContext.TraceID().String(), SpanID: s.SpanContext.SpanID().String(),
			Start: s.StartTime.UTC(), DurationMS: float64(s.EndTime.Sub(s.StartTime).Microseconds()) / 1000,
			Status: s.Status.Description}
		if s.Parent.IsValid() {
			sp.Parent = s.Parent.SpanID().String()
		}
		for _, kv := range s.Attributes {
			if sp.Attributes == nil {
				sp.Attributes = map[string]string{}
			}
			sp.Attributes[string(kv.Key)] = kv.Value.String()
		}
		spans = append(spans, sp)
	}
	b, err := json.MarshalIndent(spans, "", "  ")
	if err != nil {
		return fmt.Errorf("runner: encode spans: %w", err)
	}
	return c.WriteFile("spans.json", b)
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 && !strings.Contains(s, "panicked") {
		return strings.ReplaceAll(s, "\n", "; ")
	}
	return s
}
