package history

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinearizabilityFile is the porcupine visualization a Linearizable check
// writes into the evidence folder: open it in a browser, the red bar is the
// operation no order of the history can explain.
const LinearizabilityFile = "linearizability.html"

// Register is the model of one read/write register that starts as initial.
// Ops of kind "write" set it to Input; ops of kind "read" return it as Output.
// Keys are ignored: use KV for many registers.
func Register(initial string) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return initial },
		Step: func(state, input, _ any) (bool, any) {
			op := input.(Op)
			switch op.Kind {
			case "write":
				return true, op.Input
			case "read":
				return op.Output == state.(string), state
			}
			return false, state
		},
		DescribeOperation: describe,
		DescribeState:     func(state any) string { return fmt.Sprintf("%q", state) },
	}
}

// KV is the model of independent registers, one per Op.Key, each starting as
// initial. Checking each key apart is what keeps porcupine fast.
func KV(initial string) porcupine.Model {
	m := Register(initial)
	m.Partition = func(ops []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, o := range ops {
			k := o.Input.(Op).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], o)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	}
	return m
}

func describe(input, _ any) string {
	op := input.(Op)
	key := op.Key
	switch {
	case op.Kind == "write" && op.Outcome == Unknown:
		return fmt.Sprintf("write(%s%q) ?", key, op.Input)
	case op.Kind == "write":
		return fmt.Sprintf("write(%s%q)", key, op.Input)
	case op.Kind == "read":
		return fmt.Sprintf("read(%s) → %q", key, op.Output)
	}
	return fmt.Sprintf("%s(%s%q) → %q", op.Kind, key, op.Input, op.Output)
}

// Linearizable checks the history against model with porcupine, for at most
// timeout, and writes LinearizabilityFile into h.Dir with the run's events as
// annotations on their own row.
//
// What the client knows decides what the checker may assume: a failed
// operation is left out, a read whose outcome is unknown is left out (it had
// no effect), and a write whose outcome is unknown is kept as one that may
// have taken effect at any time after its call.
func Linearizable(model porcupine.Model, timeout time.Duration) Check {
	return func(ctx context.Context, h History) (Verdict, error) {
		if err := ctx.Err(); err != nil {
			return Verdict{}, fmt.Errorf("history: %w", err)
		}
		ops, counts := porcupineOps(h.Ops)
		// porcupine has its own timeout; the context still bounds the wait.
		deadline := timeout
		if d, ok := ctx.Deadline(); ok && time.Until(d) < deadline {
			deadline = time.Until(d)
		}
		result, info := porcupine.CheckOperationsVerbose(model, ops, deadline)
		info.AddAnnotations(annotations(h))
		v := Verdict{Holds: result == porcupine.Ok, Counts: counts}
		if h.Dir != "" {
			if err := porcupine.VisualizePath(model, info, filepath.Join(h.Dir, LinearizabilityFile)); err != nil {
				return Verdict{}, fmt.Errorf("history: write %s: %w", LinearizabilityFile, err)
			}
			v.Files = []string{LinearizabilityFile}
		}
		switch result {
		case porcupine.Ok:
			v.Detail = fmt.Sprintf("porcupine found a linearization of %d operations", len(ops))
		case porcupine.Illegal:
			v.Detail = fmt.Sprintf("porcupine: no order of the %d operations explains what the clients saw; see %s",
				len(ops), LinearizabilityFile)
		default:
			return v, fmt.Errorf("%w: porcupine gave no answer within %s for %d operations", ErrUndecided, timeout, len(ops))
		}
		return v, nil
	}
}

// porcupineOps converts what the clients saw into porcupine's operations.
func porcupineOps(h []Op) ([]porcupine.Operation, map[string]int) {
	counts := map[string]int{"operations": len(h)}
	base := start(h)
	var last int64
	for _, op := range h {
		if !op.Return.IsZero() {
			last = max(last, op.Return.Sub(base).Nanoseconds())
		}
	}
	ops := make([]porcupine.Operation, 0, len(h))
	for _, op := range h {
		counts[op.Kind+"s"]++
		counts[string(op.Outcome)]++
		if op.Outcome == Failed || (op.Outcome == Unknown && op.Kind == "read") {
			continue
		}
		ret := op.Return.Sub(base).Nanoseconds()
		if op.Outcome == Unknown {
			ret = last + 1 // may have taken effect at any point after its call
		}
		ops = append(ops, porcupine.Operation{ClientId: op.Client, Input: op, Output: op,
			Call: op.Call.Sub(base).Nanoseconds(), Return: ret})
	}
	counts["checked"] = len(ops)
	return ops, counts
}

func start(h []Op) time.Time {
	var t time.Time
	for _, op := range h {
		if t.IsZero() || op.Call.Before(t) {
			t = op.Call
		}
	}
	return t
}

// annotations puts the run's events on porcupine's timeline, so the
// violation can be read against the partition that caused it.
func annotations(h History) []porcupine.Annotation {
	base := start(h.Ops)
	out := make([]porcupine.Annotation, 0, len(h.Events))
	for _, e := range h.Events {
		at := e.Time.Sub(base).Nanoseconds()
		out = append(out, porcupine.Annotation{Tag: "events", Start: at, End: at,
			Description: e.Kind, Details: e.Detail, BackgroundColor: "#f4c7c3"})
	}
	return out
}
