package runner

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/fault"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

// Exit codes of a lab program.
const (
	ExitOK       = 0
	ExitMismatch = 1 // a scenario did not behave as its fault setting says, or a wrong answer
	ExitUsage    = 2 // bad input: unknown fault, bad flag, bad duration
)

// Main runs the lab as a program and exits. It is all a lab's cmd/lab needs.
func Main(lab Lab) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Exec(ctx, lab, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command line.
type options struct {
	fault    string
	duration time.Duration
	out      string
	seed     uint64
	seedSet  bool
	answer   string
	check    bool
}

// Exec runs the lab with args and returns the exit code; Main is Exec plus
// os.Exit, and tests call Exec directly.
func Exec(ctx context.Context, lab Lab, args []string, stdout, stderr io.Writer) int {
	name := fmt.Sprintf("lab-%d", lab.Number)
	if err := lab.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	opts, err := parseFlags(name, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	reg, _ := lab.Registry() // validated above
	if opts.check {
		return check(lab, reg, opts, stderr)
	}
	if opts.answer != "" {
		return answer(lab, reg, opts, stdout, stderr)
	}
	if !opts.seedSet {
		opts.seed = randomSeed()
	}
	sel, err := reg.Parse(opts.fault, opts.seed)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	if sel.Mode == fault.ModeList {
		printList(lab, stdout)
		return ExitOK
	}
	return run(ctx, lab, sel, opts, stdout, stderr)
}

// check validates what the flags name without running anything.
func check(lab Lab, reg *fault.Registry, o options, stderr io.Writer) int {
	name := fmt.Sprintf("lab-%d", lab.Number)
	if o.answer != "" {
		if !o.seedSet {
			fmt.Fprintf(stderr, "%s: answer= needs the seed= printed by the fault=mystery run\n", name)
			return ExitUsage
		}
		if _, ok := reg.Lookup(o.answer); !ok {
			fmt.Fprintf(stderr, "%s: unknown fault %q in answer=; valid: %s\n", name, o.answer, strings.Join(reg.Names(), ", "))
			return ExitUsage
		}
		return ExitOK
	}
	sel, err := reg.Parse(o.fault, o.seed)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	if sel.Mode != fault.ModeList {
		if _, err := preflight(context.Background(), lab); err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", name, err)
			return ExitUsage
		}
	}
	return ExitOK
}

// preflight runs the lab's service check with a deadline, flattening the
// error onto one line (drivers like to wrap addresses in multi-line text).
func preflight(ctx context.Context, lab Lab) (string, error) {
	if lab.Preflight == nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	desc, err := lab.Preflight(ctx)
	if err != nil {
		return "", errors.New(strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), ":;", ":")), " "))
	}
	return desc, nil
}

func parseFlags(name string, args []string, stdout io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own error output is several lines with usage; we
	// print one line naming what was expected instead.
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.fault, "fault", "off", "off | on | compare | list | mystery | NAME[,NAME]")
	fs.Var(durationFlag{&o.duration}, "duration", "load window per scenario, e.g. 3s (default: the lab's)")
	fs.StringVar(&o.out, "out", "out", "folder the evidence is written under")
	seed := fs.String("seed", "", "seed of randomized choices; printed by every run")
	fs.StringVar(&o.answer, "answer", "", "your diagnosis of a fault=mystery run (needs its seed=)")
	fs.BoolVar(&o.check, "check", false, "only validate the flags (the Makefile does this first, to fail in one line)")
	// The flag package calls Usage on every parse error; print it only for -h.
	fs.Usage = func() {}
	usage := func() {
		fmt.Fprintf(stdout, "usage: %s [-fault=off|on|compare|list|mystery|NAME[,NAME]] [-duration=3s] [-out=out] [-seed=N] [-answer=NAME -seed=N]\n", name)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return o, err
		}
		return o, fmt.Errorf("%w; valid flags: -fault, -duration, -out, -seed, -answer, -check", err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; valid flags: -fault, -duration, -out, -seed, -answer, -check", fs.Arg(0))
	}
	if *seed != "" {
		v, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil {
			return o, fmt.Errorf("invalid seed %q: expected a non-negative integer printed by an earlier run", *seed)
		}
		o.seed, o.seedSet = v, true
	}
	return o, nil
}

// durationFlag rejects zero and negative windows with an actionable message.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("expected a positive Go duration such as 3s, 500ms or 1m")
	}
	*f.d = d
	return nil
}

func randomSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	// Keep it short enough to retype.
	return binary.LittleEndian.Uint64(b[:]) % 1_000_000
}

func printList(lab Lab, w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "FAULT\tWHAT BREAKS\tREVEALED BY\n")
	for _, s := range lab.Scenarios {
		tool := s.Tool
		if tool == "" {
			// Before a run the node is known only when the culprit names one.
			node := s.Culprit.Node
			if node == AnyNode {
				node = ""
			}
			tool = next(s, ".", node)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Fault, s.Description, strings.ReplaceAll(tool, "{dir}/", ""))
	}
	_ = tw.Flush()
}

func answer(lab Lab, reg *fault.Registry, o options, stdout, stderr io.Writer) int {
	name := fmt.Sprintf("lab-%d", lab.Number)
	if !o.seedSet {
		fmt.Fprintf(stderr, "%s: answer= needs the seed= printed by the fault=mystery run\n", name)
		return ExitUsage
	}
	if _, ok := reg.Lookup(o.answer); !ok {
		fmt.Fprintf(stderr, "%s: unknown fault %q in answer=; valid: %s\n", name, o.answer, strings.Join(reg.Names(), ", "))
		return ExitUsage
	}
	hidden, err := reg.Mystery(o.seed)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	var sc Scenario
	for _, s := range lab.Scenarios {
		if s.Fault == hidden {
			sc = s
		}
	}
	code := ExitOK
	if o.answer == hidden {
		fmt.Fprintf(stdout, "RIGHT: the mystery fault of seed=%d was %s.\n", o.seed, hidden)
	} else {
		fmt.Fprintf(stdout, "WRONG: you said %s; the mystery fault of seed=%d was %s.\n", o.answer, o.seed, hidden)
		code = ExitMismatch
	}
	fmt.Fprintf(stdout, "What breaks: %s\nCulprit:     %s\nEvidence:    %s (%s)\n", sc.Description,
		culprit.ShortName(sc.Culprit.Func), sc.Culprit.Evidence, sc.Culprit.Evidence.File())
	return code
}

func run(ctx context.Context, lab Lab, sel fault.Selection, o options, stdout, stderr io.Writer) int {
	name := fmt.Sprintf("lab-%d", lab.Number)
	started := time.Now().UTC()
	dir := filepath.Join(o.out, name, started.Format("20060102T150405Z")+"-"+sel.Label())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "%s: cannot create the evidence folder: %v\n", name, err)
		return ExitUsage
	}
	// Each scenario registers its metrics on a fresh registry (the same
	// metric names recur from scenario to scenario); /metrics serves the one
	// of the scenario running now.
	metrics := &currentGatherer{}
	metrics.set(telemetry.NewRegistry())
	dbg, err := debugserver.Start("127.0.0.1:0", metrics)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	defer func() { _ = dbg.Shutdown(context.Background()) }()

	services, err := preflight(ctx, lab)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return ExitUsage
	}
	fmt.Fprintf(stdout, "%s — %s   fault=%s   seed=%d (replay with seed=%d)\n", name, lab.Title, sel.Label(), o.seed, o.seed)
	if services != "" {
		fmt.Fprintf(stdout, "services: %s\n", services)
	}
	fmt.Fprintf(stdout, "pprof:    %s\nmetrics:  %s\nevidence: %s\n\n", dbg.PprofURL(), dbg.MetricsURL(), dir)

	rep := &report.Report{Schema: report.SchemaVersion, Lab: lab.Number, Title: lab.Title, Faults: sel.Label(),
		Seed: o.seed, Started: started, GoVersion: runtime.Version(), NumCPU: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), OSArch: runtime.GOOS + "/" + runtime.GOARCH, Dir: dir, DebugAddr: dbg.Addr()}
	s := &session{ctx: ctx, lab: lab, seed: o.seed, duration: o.duration, metrics: metrics, stdout: stdout}
	var mismatch bool
	switch sel.Mode {
	case fault.ModeMystery:
		rep.Scenarios = s.mystery(sel.On[0], dir)
	case fault.ModeCompare:
		rep.Scenarios, mismatch = s.compare(dir)
	default:
		rep.Scenarios, mismatch = s.each(sel, dir)
	}
	rep.Finished = time.Now().UTC()
	if sel.Mode == fault.ModeMystery {
		printSignals(stdout, rep)
	} else {
		printSummary(stdout, rep)
	}
	if err := rep.WriteAll(dir); err != nil {
		fmt.Fprintf(stderr, "%s: writing the report: %v\n", name, err)
		return ExitMismatch
	}
	_ = writeLastRun(o.out, rep)
	fmt.Fprintf(stdout, "\nreport:     %s\npostmortem: %s\n", filepath.Join(dir, report.MarkdownFile),
		filepath.Join(dir, report.PostmortemFile))
	switch {
	case sel.Mode == fault.ModeMystery:
		fmt.Fprintf(stdout, "\nDiagnose it from the evidence, then: make lab-%d answer=<fault> seed=%d\n", lab.Number, o.seed)
	case mismatch:
		fmt.Fprintf(stderr, "%s: a scenario did not show what its fault setting predicts (SYMPTOM with the fault on, healthy with it off); see %s\n",
			name, filepath.Join(dir, report.MarkdownFile))
		return ExitMismatch
	}
	if ctx.Err() != nil {
		return ExitMismatch
	}
	return ExitOK
}

// session is what every scenario of one run shares.
type session struct {
	ctx      context.Context
	lab      Lab
	seed     uint64
	duration time.Duration
	metrics  *currentGatherer
	stdout   io.Writer
}

// scenario runs one scenario into dir, printing its progress line.
func (s *session) scenario(sc Scenario, on bool, label, dir string, hidden bool) report.Scenario {
	fmt.Fprintf(s.stdout, "▶ %-24s fault %-3s ... ", label, onOff(on))
	reg := telemetry.NewRegistry()
	s.metrics.set(reg)
	res := RunScenario(s.ctx, s.lab, sc, ScenarioConfig{FaultOn: on, Seed: s.seed, Duration: s.duration,
		Dir: dir, Metrics: reg, Hidden: hidden})
	fmt.Fprintf(s.stdout, "%s (%.1fs)\n", res.Verdict, res.ElapsedSeconds)
	if res.Error != "" {
		fmt.Fprintf(s.stdout, "    error: %s\n", res.Error)
	}
	return res
}

// expected reports whether a result shows what its fault setting predicts.
func expected(res report.Scenario) bool {
	if res.FaultOn {
		return res.Verdict == report.VerdictSymptom
	}
	return res.Verdict == report.VerdictHealthy
}

// each runs every scenario once: fault=off, fault=on, fault=NAME.
func (s *session) each(sel fault.Selection, dir string) ([]report.Scenario, bool) {
	var out []report.Scenario
	mismatch := false
	for _, sc := range s.lab.Scenarios {
		on := sel.Enabled(sc.Fault)
		if sel.Mode != fault.ModeOff && !on {
			continue // fault=NAME runs only the chosen scenarios
		}
		res := s.scenario(sc, on, sc.Fault, filepath.Join(dir, sc.Fault), false)
		mismatch = mismatch || !expected(res)
		out = append(out, res)
		if s.ctx.Err() != nil {
			break
		}
	}
	return out, mismatch
}

// compare runs every scenario with its fault off and then on, judges the
// culprit on both paths, and charts each key series of the two runs on one
// time axis in <scenario>/compare-<series>.svg.
func (s *session) compare(dir string) ([]report.Scenario, bool) {
	var out []report.Scenario
	mismatch := false
	for _, sc := range s.lab.Scenarios {
		base := filepath.Join(dir, sc.Fault)
		// Off first: a leak the fault leaves behind in the process must not
		// show up in the fixed path's profiles.
		off := s.scenario(sc, false, sc.Fault, filepath.Join(base, "off"), false)
		if s.ctx.Err() != nil {
			return append(out, off), true
		}
		on := s.scenario(sc, true, sc.Fault, filepath.Join(base, "on"), false)
		Contrast(&on, off)
		charts, err := compareCharts(base, off.Dir, on.Dir, on.Events)
		if err != nil {
			fmt.Fprintf(s.stdout, "    charts: %v\n", err)
		}
		on.Charts = charts
		mismatch = mismatch || !expected(off) || !expected(on)
		out = append(out, off, on)
		if s.ctx.Err() != nil {
			break
		}
	}
	return out, mismatch
}

// mystery runs the hidden fault's scenario with the fault off (the
// baseline) and then on (the incident), in folders named for neither, and
// sets the incident's common signals beside their baseline.
func (s *session) mystery(hidden, dir string) []report.Scenario {
	var sc Scenario
	for _, c := range s.lab.Scenarios {
		if c.Fault == hidden {
			sc = c
		}
	}
	base := s.scenario(sc, false, "baseline", filepath.Join(dir, "baseline"), true)
	if s.ctx.Err() != nil {
		return []report.Scenario{base}
	}
	inc := s.scenario(sc, true, "incident", filepath.Join(dir, "incident"), true)
	inc.Signals = signals(s.lab, base, inc)
	return []report.Scenario{base, inc}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func printSummary(w io.Writer, r *report.Report) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tFAULT\tSYMPTOM METRIC\tVALUE\tTHRESHOLD\tVERDICT\n")
	for _, s := range r.Scenarios {
		for i, c := range s.Checks {
			name, on, verdict := "", "", ""
			if i == 0 {
				name, on, verdict = s.Fault, onOff(s.FaultOn), s.Verdict
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s\n", name, on, c.Metric, report.FormatValue(c.Value, c.Unit),
				c.Op, report.FormatValue(c.Threshold, c.Unit), verdict)
		}
	}
	_ = tw.Flush()
	for _, s := range r.Scenarios {
		fmt.Fprintf(w, "\n%s (fault %s)\n  evidence: %s\n  next:     %s\n", s.Fault, onOff(s.FaultOn), s.Dir, s.Next)
		if s.Culprit.Func != "" && s.FaultOn {
			found := "NOT found"
			if s.Culprit.Found {
				found = "found"
			}
			share := fmt.Sprintf("%.0f%%", 100*s.Culprit.Share)
			if s.Culprit.OffShare != nil {
				share = fmt.Sprintf("%.0f%% with the fault on, %.0f%% off", 100*s.Culprit.Share, 100**s.Culprit.OffShare)
			}
			fmt.Fprintf(w, "  culprit:  %s — %s in the %s profile (%s)\n", culprit.ShortName(s.Culprit.Func), found,
				s.Culprit.Evidence, share)
		}
		if len(s.Charts) > 0 {
			fmt.Fprintf(w, "  charts:   %s\n", strings.Join(s.Charts, " "))
		}
	}
}

// printSignals is a mystery run's summary: what a dashboard shows first, the
// same signals whatever the fault, beside the fault-free baseline.
func printSignals(w io.Writer, r *report.Report) {
	fmt.Fprintln(w)
	var inc report.Scenario
	for _, s := range r.Scenarios {
		if s.FaultOn {
			inc = s
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SIGNAL\tBASELINE (fault-free)\tNOW\n")
	for _, sg := range inc.Signals {
		name := sg.Name
		if sg.Stat != "" {
			name += " (" + sg.Stat + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, report.FormatValue(sg.Baseline, ""), report.FormatValue(sg.Value, ""))
	}
	_ = tw.Flush()
	for _, s := range r.Scenarios {
		side := "baseline"
		if s.FaultOn {
			side = "incident"
		}
		fmt.Fprintf(w, "\n%s: %s\n  evidence: %s\n", side, s.Verdict, s.Dir)
	}
	if inc.Next != "" {
		fmt.Fprintf(w, "  next:     %s\n", inc.Next)
	}
}

// currentGatherer serves the registry of the scenario running now.
type currentGatherer struct {
	mu sync.Mutex
	g  prometheus.Gatherer
}

func (c *currentGatherer) set(g prometheus.Gatherer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.g = g
}

func (c *currentGatherer) Gather() ([]*dto.MetricFamily, error) {
	c.mu.Lock()
	g := c.g
	c.mu.Unlock()
	return g.Gather()
}
