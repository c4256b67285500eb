// Package fault parses a lab's fault selection (off, on, compare, list,
// mystery, or a comma-separated list of names) and keeps the registry of what each fault is.
//
// The selection is parsed once, at the edge of the program, into a Selection
// value; code under study only ever sees a boolean "is my fault on", which
// keeps the defect and its switch next to each other and easy to read.
package fault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Fault describes one switchable defect of a lab.
type Fault struct {
	Name string // kebab-case, e.g. "sync-logging"
}

// Registry is the ordered set of a lab's faults.
type Registry struct {
	faults []Fault
}

// NewRegistry returns a registry of faults, rejecting empty or duplicate names.
func NewRegistry(faults ...Fault) (*Registry, error) {
	seen := make(map[string]bool, len(faults))
	for _, f := range faults {
		switch {
		case f.Name == "":
			return nil, errors.New("fault: a fault needs a name")
		case isReserved(f.Name):
			return nil, fmt.Errorf("fault: %q is a reserved word (off, on, compare, list, mystery)", f.Name)
		case strings.ContainsAny(f.Name, ", \t"):
			return nil, fmt.Errorf("fault: name %q must not contain commas or spaces", f.Name)
		case seen[f.Name]:
			return nil, fmt.Errorf("fault: duplicate fault %q", f.Name)
		}
		seen[f.Name] = true
	}
	return &Registry{faults: slices.Clone(faults)}, nil
}

// Names returns the fault names in declaration order.
func (r *Registry) Names() []string {
	names := make([]string, len(r.faults))
	for i, f := range r.faults {
		names[i] = f.Name
	}
	return names
}

// Lookup returns the fault with that name.
func (r *Registry) Lookup(name string) (Fault, bool) {
	for _, f := range r.faults {
		if f.Name == name {
			return f, true
		}
	}
	return Fault{}, false
}

// Mode says what a selection asks for.
type Mode int

const (
	ModeOff     Mode = iota // every scenario runs on its fixed path
	ModeOn                  // the named faults (all of them for "on") are injected
	ModeList                // print the faults and exit
	ModeMystery             // one fault chosen by seed, its name hidden
	ModeCompare             // every fault, each scenario run with it off and then on
)

// Selection is a parsed fault=... value.
type Selection struct {
	Mode Mode
	// On holds the faults that are injected. For ModeOff it is empty; for
	// ModeMystery it holds the one hidden fault.
	On []string

	all bool // fault=on: every fault, labelled "on"
}

// Enabled reports whether the named fault is injected.
func (s Selection) Enabled(name string) bool { return slices.Contains(s.On, name) }

// Label is the selection as it appears in folder names and reports. A mystery
// run is labelled "mystery" so the evidence does not give the answer away.
func (s Selection) Label() string {
	switch s.Mode {
	case ModeOff:
		return "off"
	case ModeMystery:
		return "mystery"
	case ModeList:
		return "list"
	case ModeCompare:
		return "compare"
	}
	if s.all {
		return "on"
	}
	return strings.Join(s.On, ",")
}

// ErrUnknown is wrapped by Parse when a name is not in the registry.
var ErrUnknown = errors.New("unknown fault")

// Parse reads a fault=... value. An empty value means off. The seed picks the
// mystery fault, so the same seed always hides the same fault.
func (r *Registry) Parse(value string, seed uint64) (Selection, error) {
	switch v := strings.TrimSpace(value); v {
	case "", "off":
		return Selection{Mode: ModeOff}, nil
	case "on":
		return Selection{Mode: ModeOn, On: r.Names(), all: true}, nil
	case "compare":
		return Selection{Mode: ModeCompare, On: r.Names()}, nil
	case "list":
		return Selection{Mode: ModeList}, nil
	case "mystery":
		name, err := r.Mystery(seed)
		if err != nil {
			return Selection{}, err
		}
		return Selection{Mode: ModeMystery, On: []string{name}}, nil
	}
	var on []string
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := r.Lookup(name); !ok {
			return Selection{}, fmt.Errorf("%w %q; valid: %s", ErrUnknown, name, r.Choices())
		}
		if !slices.Contains(on, name) {
			on = append(on, name)
		}
	}
	if len(on) == 0 {
		return Selection{}, fmt.Errorf("%w %q; valid: %s", ErrUnknown, value, r.Choices())
	}
	return Selection{Mode: ModeOn, On: on}, nil
}

// Choices is the one-line list of valid fault=... values.
func (r *Registry) Choices() string {
	// compare goes last so the list reads as the familiar modes, the faults,
	// then the mode that runs them all both ways.
	return strings.Join(append([]string{"off", "on", "list", "mystery"}, r.Names()...), ", ") + ", or compare"
}

// Mystery picks one fault from the seed. It is a pure function of the seed so
// that "answer=NAME seed=S" can check a guess without re-running the lab.
func (r *Registry) Mystery(seed uint64) (string, error) {
	if len(r.faults) == 0 {
		return "", errors.New("fault: this lab has no faults to hide")
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d79737465727921)) // "mystery!"
	return r.faults[rng.IntN(len(r.faults))].Name, nil
}

func isReserved(name string) bool {
	switch name {
	case "off", "on", "compare", "list", "mystery":
		return true
	}
	return false
}
