// Package breaker is a circuit breaker with closed, open and half-open states, tripped by the
// failure ratio or the slow-call ratio over a rolling time window.
//
//   - Closed: calls pass; outcomes land in a ring of time buckets. When the window holds at least
//     MinRequests calls and either ratio reaches its threshold, the breaker opens.
//   - Open: calls fail fast with ErrOpen for OpenTimeout, so a struggling dependency gets room to
//     recover instead of more load.
//   - Half-open: at most MaxProbes calls run at once as probes. ProbesToClose successes in a row
//     close the breaker; a single failure or slow probe opens it again.
//
// State changes call the OnStateChange hooks (StateGauge exports them to Prometheus).
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is the breaker's state.
type State int

// The three states. The numeric values are what StateGauge exports.
const (
	Closed   State = 0
	HalfOpen State = 1
	Open     State = 2
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	default:
		return fmt.Sprintf("state(%d)", int(s))
	}
}

var (
	// ErrOpen is returned without calling the dependency while the breaker is open.
	ErrOpen = errors.New("breaker: circuit open")
	// ErrTooManyProbes is returned in half-open when MaxProbes probes are already running.
	ErrTooManyProbes = errors.New("breaker: too many half-open probes")
)

// Config tunes a Breaker. Zero fields take the defaults in parentheses.
type Config struct {
	Name          string
	Window        time.Duration // rolling window (10s)
	Buckets       int           // buckets in the window (10)
	MinRequests   int           // calls in the window before ratios count (20)
	FailureRatio  float64       // open at or above this failure ratio (0.5)
	SlowCall      time.Duration // a call at least this long is slow (0: never)
	SlowRatio     float64       // open at or above this slow-call ratio (1: only when all are slow)
	OpenTimeout   time.Duration // how long to stay open before probing (5s)
	MaxProbes     int           // concurrent probes in half-open (1)
	ProbesToClose int           // consecutive successful probes that close it (MaxProbes)
	IsFailure     func(error) bool
	OnStateChange []func(name string, from, to State)
	Now           func() time.Time
}

type bucket struct {
	start                int64
	total, failed, slows int
}

// Breaker is safe for concurrent use.
type Breaker struct {
	cfg     Config
	mu      sync.Mutex
	state   State
	ring    []bucket
	width   int64
	openAt  time.Time
	probes  int // probes in flight
	okRun   int // consecutive successful probes
	base    time.Time
	changes []func(string, State, State)
}

// New validates cfg and returns a closed breaker.
func New(cfg Config) (*Breaker, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.Window, 10*time.Second)
	def(&cfg.OpenTimeout, 5*time.Second)
	if cfg.Buckets == 0 {
		cfg.Buckets = 10
	}
	if cfg.MinRequests == 0 {
		cfg.MinRequests = 20
	}
	if cfg.FailureRatio == 0 {
		cfg.FailureRatio = 0.5
	}
	if cfg.SlowRatio == 0 {
		cfg.SlowRatio = 1
	}
	if cfg.MaxProbes == 0 {
		cfg.MaxProbes = 1
	}
	if cfg.ProbesToClose == 0 {
		cfg.ProbesToClose = cfg.MaxProbes
	}
	if cfg.IsFailure == nil {
		cfg.IsFailure = func(err error) bool { return err != nil && !errors.Is(err, context.Canceled) }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.Window < 0 || cfg.OpenTimeout < 0 || cfg.SlowCall < 0:
		return nil, fmt.Errorf("breaker: durations must not be negative (window %v, open timeout %v, slow call %v)", cfg.Window, cfg.OpenTimeout, cfg.SlowCall)
	case cfg.Buckets < 1 || cfg.MinRequests < 1 || cfg.MaxProbes < 1 || cfg.ProbesToClose < 1:
		return nil, fmt.Errorf("breaker: buckets, min requests and probe counts must be at least 1")
	case cfg.FailureRatio <= 0 || cfg.FailureRatio > 1 || cfg.SlowRatio <= 0 || cfg.SlowRatio > 1:
		return nil, fmt.Errorf("breaker: ratios must be in (0, 1], got failure %v slow %v", cfg.FailureRatio, cfg.SlowRatio)
	case int64(cfg.Window)/int64(cfg.Buckets) == 0:
		return nil, fmt.Errorf("breaker: window %v too short for %d buckets", cfg.Window, cfg.Buckets)
	}
	b := &Breaker{cfg: cfg, ring: make([]bucket, cfg.Buckets), width: int64(cfg.Window) / int64(cfg.Buckets), base: cfg.Now()}
	b.changes = cfg.OnStateChange
	return b, nil
}

// State returns the current state, moving open to half-open when the timeout has passed.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	var fire []func()
	s := b.currentLocked(b.cfg.Now(), &fire)
	defer run(fire)
	return s
}

func run(fs []func()) {
	for _, f := range fs {
		f()
	}
}

// currentLocked applies the open → half-open timeout. Caller holds mu.
func (b *Breaker) currentLocked(now time.Time, fire *[]func()) State {
	if b.state == Open && now.Sub(b.openAt) >= b.cfg.OpenTimeout {
		b.setLocked(HalfOpen, now, fire)
	}
	return b.state
}

func (b *Breaker) setLocked(to State, now time.Time, fire *[]func()) {
	from := b.state
	if from == to {
		return
	}
	b.state = to
	b.probes, b.okRun = 0, 0
	switch to {
	case Open:
		b.openAt = now
	case Closed:
		clear(b.ring)
	}
	for _, h := range b.changes {
		*fire = append(*fire, func() { h(b.cfg.Name, from, to) })
	}
}

// Allow asks to make one call. On success it returns done, which the caller must call exactly once
// with the call's error and duration.
func (b *Breaker) Allow() (done func(err error, took time.Duration), err error) {
	probe, err := b.admit(b.cfg.Now())
	if err != nil {
		return nil, err
	}
	return func(err error, took time.Duration) { b.record(probe, err, took, b.cfg.Now()) }, nil
}

// admit decides whether a call may run now; probe says it runs as a half-open probe.
func (b *Breaker) admit(now time.Time) (probe bool, err error) {
	var fire []func()
	b.mu.Lock()
	switch b.currentLocked(now, &fire) {
	case Open:
		err = ErrOpen
	case HalfOpen:
		if b.probes >= b.cfg.MaxProbes {
			err = ErrTooManyProbes
		} else {
			b.probes++
			probe = true
		}
	}
	b.mu.Unlock()
	run(fire)
	return probe, err
}

// record books one finished call.
func (b *Breaker) record(probe bool, err error, took time.Duration, now time.Time) {
	failed := b.cfg.IsFailure(err)
	slow := b.cfg.SlowCall > 0 && took >= b.cfg.SlowCall
	var fire []func()
	b.mu.Lock()
	switch {
	case probe && b.state == HalfOpen:
		b.probes--
		if failed || slow {
			b.setLocked(Open, now, &fire)
		} else if b.okRun++; b.okRun >= b.cfg.ProbesToClose {
			b.setLocked(Closed, now, &fire)
		}
	case !probe && b.state == Closed:
		b.countLocked(failed, slow, now, &fire)
	}
	// Otherwise the state moved on while the call ran, and its outcome is stale.
	b.mu.Unlock()
	run(fire)
}

func (b *Breaker) countLocked(failed, slow bool, now time.Time, fire *[]func()) {
	t := int64(now.Sub(b.base))
	slot := &b.ring[(t/b.width)%int64(len(b.ring))]
	if start := t - t%b.width; slot.start != start {
		*slot = bucket{start: start}
	}
	slot.total++
	if failed {
		slot.failed++
	}
	if slow {
		slot.slows++
	}
	var total, fails, slows int
	for _, s := range b.ring {
		if t-s.start < int64(b.cfg.Window) {
			total += s.total
			fails += s.failed
			slows += s.slows
		}
	}
	if total >= b.cfg.MinRequests &&
		(float64(fails) >= b.cfg.FailureRatio*float64(total) || float64(slows) >= b.cfg.SlowRatio*float64(total)) {
		b.setLocked(Open, now, fire)
	}
}

// Execute runs fn through the breaker: it fails fast with ErrOpen or ErrTooManyProbes when the
// breaker refuses, otherwise records fn's outcome and duration.
func (b *Breaker) Execute(ctx context.Context, fn func(context.Context) error) error {
	start := b.cfg.Now()
	probe, err := b.admit(start)
	if err != nil {
		return err
	}
	err = fn(ctx)
	end := b.cfg.Now()
	b.record(probe, err, end.Sub(start), end)
	return err
}

// StateGauge returns a hook that sets gauge{name=<breaker name>} to the state's number
// (0 closed, 1 half-open, 2 open). Register the GaugeVec once; pass the hook in Config.OnStateChange.
func StateGauge(g *prometheus.GaugeVec) func(name string, from, to State) {
	return func(name string, _, to State) { g.WithLabelValues(name).Set(float64(to)) }
}
