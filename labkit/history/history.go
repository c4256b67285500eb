// Package history records what a scenario's clients did — each operation's
// client, kind, input, output and its invoke and return times — and checks
// properties of that history: linearizability (with porcupine, whose HTML
// visualization becomes evidence) or an invariant written in Go ("no
// acknowledged write lost", "at most one leader per term").
//
// A property of the history is what a distributed system promises, so it is
// what a distributed defect breaks: a stale read is not slow, it is wrong.
package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// Outcome is what a client knows about an operation after it returned.
type Outcome string

// The three outcomes. The difference between Failed and Unknown matters: a
// write that timed out may still have been applied, and a checker that
// assumed otherwise would report violations that are not there.
const (
	OK      Outcome = "ok"      // took effect; Output is what it returned
	Failed  Outcome = "failed"  // certainly did not take effect (refused before it was sent)
	Unknown Outcome = "unknown" // may or may not have taken effect (a timeout, a lost reply)
)

// Op is one operation as its client saw it.
type Op struct {
	Client  int       `json:"client"`
	Kind    string    `json:"kind"` // what the model understands: "read", "write", "add", "buy", ...
	Key     string    `json:"key,omitempty"`
	Input   string    `json:"input,omitempty"`
	Output  string    `json:"output,omitempty"`
	Outcome Outcome   `json:"outcome"`
	Error   string    `json:"error,omitempty"`
	Call    time.Time `json:"call"`
	Return  time.Time `json:"return"` // zero while pending
}

// Recorder collects a run's operations. It is safe for concurrent use; every
// client goroutine records through the same Recorder.
type Recorder struct {
	mu  sync.Mutex
	ops []Op
	now func() time.Time
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{now: time.Now} }

// Pending is an operation that was invoked and has not returned yet.
type Pending struct {
	r *Recorder
	i int
}

// Invoke records that client started an operation, stamping its call time.
// Call exactly one of OK, Fail or Unknown on the result; an operation never
// finished counts as Unknown.
func (r *Recorder) Invoke(client int, kind, key, input string) *Pending {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, Op{Client: client, Kind: kind, Key: key, Input: input, Outcome: Unknown, Call: r.now()})
	return &Pending{r: r, i: len(r.ops) - 1}
}

// OK records that the operation took effect and returned output.
func (p *Pending) OK(output string) { p.finish(OK, output, nil) }

// Fail records that the operation certainly did not take effect.
func (p *Pending) Fail(err error) { p.finish(Failed, "", err) }

// Unknown records that the operation returned without saying whether it took
// effect.
func (p *Pending) Unknown(err error) { p.finish(Unknown, "", err) }

func (p *Pending) finish(o Outcome, output string, err error) {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	op := &p.r.ops[p.i]
	op.Outcome, op.Output, op.Return = o, output, p.r.now()
	if err != nil {
		op.Error = err.Error()
	}
}

// Ops returns a copy of the operations in invocation order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// Len is the number of operations invoked so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops)
}

// History is what a check reads: the operations, the run's events (a
// partition, a kill, a heal: the checks annotate their evidence with them),
// and the folder where it may write evidence.
type History struct {
	Ops    []Op
	Events []timeline.Event
	Dir    string
}

// Verdict is a check's answer and the counts it rests on, so a report can
// say "3 of 412 reads returned a value older than an acknowledged write"
// rather than only "violated".
type Verdict struct {
	Holds  bool           `json:"holds"`
	Counts map[string]int `json:"counts"`
	Detail string         `json:"detail,omitempty"`
	Files  []string       `json:"files,omitempty"` // evidence written into History.Dir
}

// Check is a property of a history.
type Check func(ctx context.Context, h History) (Verdict, error)

// ErrUndecided is returned when a checker ran out of time before it could
// say whether the property holds.
var ErrUndecided = errors.New("history: undecided")

// Invariant wraps a Go predicate over the operations as a Check. fn returns
// whether the property holds, the counts behind the answer, and a one-line
// detail naming the first counterexample when there is one.
func Invariant(fn func(ops []Op) (holds bool, counts map[string]int, detail string)) Check {
	return func(ctx context.Context, h History) (Verdict, error) {
		if err := ctx.Err(); err != nil {
			return Verdict{}, fmt.Errorf("history: %w", err)
		}
		holds, counts, detail := fn(h.Ops)
		return Verdict{Holds: holds, Counts: counts, Detail: detail}, nil
	}
}
