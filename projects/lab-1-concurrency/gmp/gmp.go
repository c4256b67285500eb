// Package gmp is a deterministic, seeded, discrete-event model of the Go scheduler: goroutines (G),
// OS threads (M) and processors (P) with per-P local run queues, the global run queue, work
// stealing, time-slice preemption and the syscall hand-off of a P away from a blocked M.
//
// It is a teaching model, not a copy of runtime/proc.go: it keeps the decisions that shape a
// schedule (where a new G is queued, the 1-in-61 global-queue check, stealing half a victim's
// queue, preempted Gs going to the global queue, sysmon retaking a P from an M stuck in a syscall)
// and drops what does not (spinning Ms, netpoller, timers, GC). Time is simulated in microseconds,
// so a run is exactly reproducible from its seed.
package gmp

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// SegKind says what a goroutine does during one segment of its life.
type SegKind int

const (
	// Run is CPU work: the G needs a P for Dur.
	Run SegKind = iota
	// Syscall is a blocking system call: the G's M leaves its P for Dur.
	Syscall
)

func (k SegKind) String() string {
	if k == Syscall {
		return "syscall"
	}
	return "run"
}

// Segment is one stretch of a goroutine's life.
type Segment struct {
	Kind SegKind
	Dur  time.Duration
}

// GSpec describes one goroutine: when the main goroutine (on P0) creates it, and what it does.
type GSpec struct {
	At       time.Duration
	Segments []Segment
}

// Config is the scheduler's knobs.
type Config struct {
	Procs         int           // GOMAXPROCS
	TimeSlice     time.Duration // sysmon preempts a G that has run this long (Go: 10ms)
	SyscallRetake time.Duration // sysmon retakes the P of an M in a syscall after this (Go: ~20µs)
	LocalQueueCap int           // per-P run queue capacity (Go: 256)
	WakeLatency   time.Duration // how long an idle P takes to start looking for work
	TraceEvery    time.Duration // emit a schedtrace-like line this often (0: never)
	Seed          int64         // seeds steal-victim order
}

// DefaultConfig mirrors the Go runtime's constants.
func DefaultConfig(procs int) Config {
	return Config{
		Procs:         procs,
		TimeSlice:     10 * time.Millisecond,
		SyscallRetake: 20 * time.Microsecond,
		LocalQueueCap: 256,
		WakeLatency:   5 * time.Microsecond,
		Seed:          1,
	}
}

func (c Config) validate() error {
	switch {
	case c.Procs < 1 || c.Procs > 1024:
		return fmt.Errorf("gmp: Procs must be in 1..1024, got %d", c.Procs)
	case c.TimeSlice <= 0:
		return fmt.Errorf("gmp: TimeSlice must be > 0, got %v", c.TimeSlice)
	case c.SyscallRetake < 0:
		return fmt.Errorf("gmp: SyscallRetake must be >= 0, got %v", c.SyscallRetake)
	case c.LocalQueueCap < 2:
		return fmt.Errorf("gmp: LocalQueueCap must be >= 2, got %d", c.LocalQueueCap)
	case c.WakeLatency < 0 || c.TraceEvery < 0:
		return errors.New("gmp: WakeLatency and TraceEvery must be >= 0")
	}
	return nil
}

// Span is one interval during which a P ran a G.
type Span struct {
	P, G       int
	Start, End time.Duration
	// Why the span ended: "done", "preempt", "syscall".
	Why string
}

// Counters are what the run did.
type Counters struct {
	Spawned      int
	Completed    int
	Preemptions  int // Gs stopped by the time slice
	Steals       int // successful steal operations
	StolenGs     int // Gs moved by those steals
	GlobalGrabs  int // times a P took a batch from the global queue
	Handoffs     int // Ps retaken from an M blocked in a syscall
	SyscallsFast int // syscalls that returned before sysmon retook the P
	Threads      int // peak number of Ms alive at once
	LocalSpills  int // times a full local queue spilled half to the global queue
}

// Result is a finished simulation.
type Result struct {
	Config   Config
	Counters Counters
	Spans    []Span
	Makespan time.Duration
	Busy     []time.Duration // per P, time spent running Gs
	Trace    []string        // schedtrace-like lines
}

// Utilization is busy time over Procs × makespan.
func (r *Result) Utilization() float64 {
	if r.Makespan <= 0 {
		return 0
	}
	var busy time.Duration
	for _, b := range r.Busy {
		busy += b
	}
	return float64(busy) / (float64(r.Makespan) * float64(len(r.Busy)))
}

type gstate struct {
	id      int
	spec    GSpec
	seg     int           // current segment
	left    time.Duration // what is left of the current segment
	lastP   int
	inSys   bool
	sysDone bool
}

type pstate struct {
	id        int
	runq      []*gstate
	cur       *gstate
	curStart  time.Duration
	sliceEnd  time.Duration
	tick      int
	idle      bool
	wakeArmed bool
	mInSys    *gstate // the G whose syscall still owns this P (before retake)
	epoch     int     // invalidates stale events for this P
}

type evKind int

const (
	evSpawn     evKind = iota
	evStop             // the current G of a P reaches slice end or segment end
	evSchedule         // a P looks for work
	evRetake           // sysmon checks an M still in a syscall
	evSysReturn        // a syscall finishes
	evTrace
)

type event struct {
	at    time.Duration
	seq   int
	kind  evKind
	p     int
	g     *gstate
	epoch int
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	cfg      Config
	rnd      *rand.Rand
	now      time.Duration
	seq      int
	events   eventQueue
	ps       []*pstate
	global   []*gstate
	res      Result
	live     int // Gs not yet completed
	inSys    int // Ms blocked in syscalls that no longer own a P
	maxM     int
	lastDone time.Duration
}

// Simulate runs the workload to completion and returns the schedule.
func Simulate(cfg Config, work []GSpec) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	for i, g := range work {
		if g.At < 0 {
			return nil, fmt.Errorf("gmp: goroutine %d: At must be >= 0, got %v", i, g.At)
		}
		for j, s := range g.Segments {
			if s.Dur <= 0 || (s.Kind != Run && s.Kind != Syscall) {
				return nil, fmt.Errorf("gmp: goroutine %d segment %d: want Run or Syscall with Dur > 0", i, j)
			}
		}
		if len(g.Segments) > 0 && g.Segments[0].Kind != Run {
			return nil, fmt.Errorf("gmp: goroutine %d: the first segment must be Run (a G runs before it can make a syscall)", i)
		}
	}
	s := &sim{
		cfg: cfg,
		rnd: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		res: Result{Config: cfg, Busy: make([]time.Duration, cfg.Procs)},
	}
	for i := range cfg.Procs {
		// Every P starts idle; the spawn of the first G wakes P0 (where main runs).
		s.ps = append(s.ps, &pstate{id: i, idle: true})
	}
	for i, spec := range work {
		spec.Segments = merge(spec.Segments)
		g := &gstate{id: i + 1, spec: spec, lastP: 0}
		s.push(&event{at: spec.At, kind: evSpawn, g: g})
		s.live++
	}
	if cfg.TraceEvery > 0 && len(work) > 0 {
		s.push(&event{at: cfg.TraceEvery, kind: evTrace})
	}
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(*event)
		s.now = e.at
		s.dispatch(e)
	}
	s.res.Makespan = s.lastDone
	s.res.Counters.Threads = s.maxM
	return &s.res, nil
}

// merge joins adjacent segments of the same kind, so a G alternates run and syscall.
func merge(segs []Segment) []Segment {
	var out []Segment
	for _, sg := range segs {
		if n := len(out); n > 0 && out[n-1].Kind == sg.Kind {
			out[n-1].Dur += sg.Dur
			continue
		}
		out = append(out, sg)
	}
	return out
}

func (s *sim) push(e *event) {
	e.seq = s.seq
	s.seq++
	heap.Push(&s.events, e)
}

func (s *sim) dispatch(e *event) {
	switch e.kind {
	case evSpawn:
		s.spawn(e.g)
	case evStop:
		p := s.ps[e.p]
		if e.epoch == p.epoch {
			s.stop(p)
		}
	case evSchedule:
		p := s.ps[e.p]
		p.wakeArmed = false
		if p.cur == nil && p.mInSys == nil {
			s.schedule(p)
		}
	case evRetake:
		s.retake(e.p, e.g)
	case evSysReturn:
		s.sysReturn(e.g)
	case evTrace:
		s.trace()
		if s.live > 0 {
			s.push(&event{at: s.now + s.cfg.TraceEvery, kind: evTrace})
		}
	}
}

// spawn is newproc: the new G goes on the creating P's local queue (main runs on P0).
func (s *sim) spawn(g *gstate) {
	s.res.Counters.Spawned++
	if len(g.spec.Segments) == 0 {
		s.complete(g)
		return
	}
	g.left = g.spec.Segments[0].Dur
	s.runqPut(s.ps[0], g)
	s.wakeIdle()
}

// runqPut is runqput: a full local queue moves half of itself and the new G to the global queue.
func (s *sim) runqPut(p *pstate, g *gstate) {
	if len(p.runq) < s.cfg.LocalQueueCap {
		p.runq = append(p.runq, g)
		return
	}
	half := len(p.runq) / 2
	s.global = append(s.global, p.runq[:half]...)
	s.global = append(s.global, g)
	p.runq = append([]*gstate(nil), p.runq[half:]...)
	s.res.Counters.LocalSpills++
}

// wakeIdle is wakep: if some P is idle, it starts looking for work shortly.
func (s *sim) wakeIdle() {
	for _, p := range s.ps {
		if p.idle && !p.wakeArmed && p.mInSys == nil {
			p.wakeArmed = true
			s.push(&event{at: s.now + s.cfg.WakeLatency, kind: evSchedule, p: p.id})
			return
		}
	}
}

func (s *sim) mCount() int {
	n := s.inSys
	for _, p := range s.ps {
		if p.cur != nil || p.mInSys != nil {
			n++
		}
	}
	return n
}

// schedule is findRunnable followed by execute.
func (s *sim) schedule(p *pstate) {
	g := s.findRunnable(p)
	if g == nil {
		p.idle = true
		return
	}
	p.idle = false
	p.tick++
	s.execute(p, g)
	// Like the runtime, a P that found work while others idle wakes one more to share it.
	if len(p.runq) > 0 || len(s.global) > 0 {
		s.wakeIdle()
	}
}

func (s *sim) findRunnable(p *pstate) *gstate {
	// Every 61st tick the global queue goes first, so it cannot starve behind busy local queues.
	if p.tick%61 == 60 && len(s.global) > 0 {
		return s.globGet(p, 1)
	}
	if len(p.runq) > 0 {
		g := p.runq[0]
		p.runq = p.runq[1:]
		return g
	}
	if len(s.global) > 0 {
		return s.globGet(p, 0)
	}
	// Steal: visit the other Ps in a random order and take half of the first non-empty queue.
	order := s.rnd.Perm(len(s.ps))
	for _, i := range order {
		v := s.ps[i]
		if v == p || len(v.runq) == 0 {
			continue
		}
		n := (len(v.runq) + 1) / 2
		stolen := v.runq[len(v.runq)-n:]
		v.runq = v.runq[:len(v.runq)-n]
		s.res.Counters.Steals++
		s.res.Counters.StolenGs += n
		g := stolen[len(stolen)-1]
		p.runq = append(p.runq, stolen[:len(stolen)-1]...)
		return g
	}
	return nil
}

// globGet is globrunqget: take a fair share of the global queue (at most half a local queue),
// run the first and queue the rest locally. max 1 means "just one".
func (s *sim) globGet(p *pstate, max int) *gstate {
	n := min(len(s.global)/len(s.ps)+1, len(s.global), s.cfg.LocalQueueCap/2)
	if max > 0 {
		n = min(n, max)
	}
	batch := s.global[:n]
	s.global = append([]*gstate(nil), s.global[n:]...)
	s.res.Counters.GlobalGrabs++
	p.runq = append(p.runq, batch[1:]...)
	return batch[0]
}

func (s *sim) execute(p *pstate, g *gstate) {
	p.cur = g
	p.curStart = s.now
	p.sliceEnd = s.now + s.cfg.TimeSlice
	g.lastP = p.id
	s.maxM = max(s.maxM, s.mCount())
	s.armStop(p)
}

func (s *sim) armStop(p *pstate) {
	p.epoch++
	end := min(s.now+p.cur.left, p.sliceEnd)
	s.push(&event{at: end, kind: evStop, p: p.id, epoch: p.epoch})
}

// stop handles the current G of p reaching its slice end or the end of its run segment.
func (s *sim) stop(p *pstate) {
	g := p.cur
	ran := s.now - p.curStart
	g.left -= ran
	s.res.Busy[p.id] += ran
	span := Span{P: p.id, G: g.id, Start: p.curStart, End: s.now}
	p.cur = nil
	switch {
	case g.left > 0: // the slice ran out first
		span.Why = "preempt"
		s.res.Counters.Preemptions++
		// A G preempted by sysmon goes to the global queue (gopreempt_m -> globrunqput).
		s.global = append(s.global, g)
		s.wakeIdle()
		s.appendSpan(span)
		s.schedule(p)
	default:
		g.seg++
		if g.seg == len(g.spec.Segments) {
			span.Why = "done"
			s.appendSpan(span)
			s.complete(g)
			s.schedule(p)
			return
		}
		// merge guarantees a run segment is followed by a syscall.
		g.left = g.spec.Segments[g.seg].Dur
		span.Why = "syscall"
		s.appendSpan(span)
		s.enterSyscall(p, g)
	}
}

func (s *sim) appendSpan(sp Span) {
	if sp.End > sp.Start {
		s.res.Spans = append(s.res.Spans, sp)
	}
}

func (s *sim) complete(g *gstate) {
	s.res.Counters.Completed++
	s.live--
	s.lastDone = max(s.lastDone, s.now)
}

// enterSyscall: the M keeps its P until sysmon notices the syscall is slow and retakes it.
func (s *sim) enterSyscall(p *pstate, g *gstate) {
	g.inSys = true
	g.sysDone = false
	p.mInSys = g
	p.idle = false
	s.push(&event{at: s.now + g.left, kind: evSysReturn, g: g})
	s.push(&event{at: s.now + s.cfg.SyscallRetake, kind: evRetake, p: p.id, g: g})
}

// retake is sysmon's handoffp: the P leaves the blocked M and, when there is work, a new (or
// parked) M starts running it.
func (s *sim) retake(pid int, g *gstate) {
	p := s.ps[pid]
	if p.mInSys != g || g.sysDone {
		return
	}
	p.mInSys = nil
	s.inSys++
	s.res.Counters.Handoffs++
	s.maxM = max(s.maxM, s.mCount())
	if len(p.runq) > 0 || len(s.global) > 0 {
		s.schedule(p)
		return
	}
	p.idle = true
	s.wakeIdle() // another P may have work to share with this one
}

// sysReturn is exitsyscall: keep the old P if nobody retook it, else grab an idle P (the old one
// first), else queue the G globally and park the M.
func (s *sim) sysReturn(g *gstate) {
	g.inSys = false
	g.sysDone = true
	g.seg++
	old := s.ps[g.lastP]
	if old.mInSys == g { // fast path: sysmon never retook the P
		old.mInSys = nil
		s.res.Counters.SyscallsFast++
		s.continueAfterSyscall(old, g)
		return
	}
	s.inSys--
	cands := append([]*pstate{old}, s.ps...)
	for _, p := range cands {
		if p.idle && p.cur == nil && p.mInSys == nil {
			p.idle = false
			s.continueAfterSyscall(p, g)
			return
		}
	}
	if g.seg == len(g.spec.Segments) {
		s.complete(g)
		return
	}
	g.left = g.spec.Segments[g.seg].Dur
	s.global = append(s.global, g)
}

func (s *sim) continueAfterSyscall(p *pstate, g *gstate) {
	if g.seg == len(g.spec.Segments) {
		s.complete(g)
		s.schedule(p)
		return
	}
	g.left = g.spec.Segments[g.seg].Dur
	if g.spec.Segments[g.seg].Kind == Syscall {
		p.cur = nil
		g.lastP = p.id
		s.enterSyscall(p, g)
		return
	}
	p.tick++
	s.execute(p, g)
}

func (s *sim) trace() {
	idle := 0
	local := make([]int, len(s.ps))
	for i, p := range s.ps {
		if p.cur == nil && p.mInSys == nil {
			idle++
		}
		local[i] = len(p.runq)
	}
	s.res.Trace = append(s.res.Trace, fmt.Sprintf(
		"SIM %dms: gomaxprocs=%d idleprocs=%d threads=%d insyscall=%d runqueue=%d %v",
		s.now.Milliseconds(), len(s.ps), idle, s.mCount(), s.inSys, len(s.global), local))
}
