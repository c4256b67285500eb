// Package culprit reads a captured profile and says which functions carry
// it, so a scenario can prove that its evidence leads a learner to the defect.
//
// Two rankings are kept. Cumulative share answers "how much of this profile
// passes through function F" (a function is counted once per sample, however
// deep the recursion). Nearest-own-frame attribution answers "which of the
// lab's own functions is closest to where the time, the bytes or the blocked
// goroutines actually are": each sample is charged to its leaf-most frame that
// belongs to the lab, which is usually the line a learner has to change.
package culprit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// RepoPrefix is the import path prefix of this repository's packages.
const RepoPrefix = "github.com/architect-roadmap/architect-roadmap/"

// harnessPrefix marks the harness's own frames, which are never a culprit.
const harnessPrefix = RepoPrefix + "labkit/"

// Entry is one function's share of a profile.
type Entry struct {
	Func  string  `json:"func"`
	Value int64   `json:"value"`
	Share float64 `json:"share"` // of the profile's total, 0..1
}

// Analysis is what a profile says.
type Analysis struct {
	Path  string  `json:"path"`
	Unit  string  `json:"unit"` // e.g. "nanoseconds", "bytes", "count"
	Total int64   `json:"total"`
	Own   []Entry `json:"own"`  // the lab's own functions by nearest-frame attribution, largest first
	Cum   []Entry `json:"cum"`  // every function by cumulative value, largest first
	Leaf  []Entry `json:"leaf"` // every function by flat (leaf) value, largest first

	cum map[string]int64
}

// sampleIndex picks the value each profile type is read by: in-use bytes for
// the heap, delay for mutex and block, the only value elsewhere.
func sampleIndex(p *profile.Profile) int {
	prefer := map[string]bool{"inuse_space": true, "delay": true, "cpu": true, "goroutine": true}
	for i, st := range p.SampleType {
		if prefer[st.Type] {
			return i
		}
	}
	return len(p.SampleType) - 1
}

// Analyze parses the profile at path.
func Analyze(path string) (*Analysis, error) {
	p, err := parseFile(path)
	if err != nil {
		return nil, err
	}
	return analyze(path, p), nil
}

// parseFile opens and parses one profile for Analyze and AnalyzeLabel.
func parseFile(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("culprit: %w", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("culprit: parse %s: %w", path, err)
	}
	return p, nil
}

func analyze(path string, p *profile.Profile) *Analysis {
	idx := sampleIndex(p)
	a := &Analysis{Path: path, cum: map[string]int64{}}
	if idx >= 0 && idx < len(p.SampleType) {
		a.Unit = p.SampleType[idx].Unit
	}
	own, leaf := map[string]int64{}, map[string]int64{}
	for _, s := range p.Sample {
		if idx < 0 || idx >= len(s.Value) {
			continue
		}
		v := s.Value[idx]
		if v <= 0 {
			continue
		}
		a.Total += v
		seen := map[string]bool{}
		ownCharged := false
		for li, loc := range s.Location {
			// Inlined calls appear as several lines of one location; the
			// last line is the outermost function.
			for i := range loc.Line {
				fn := loc.Line[i].Function
				if fn == nil {
					continue
				}
				name := fn.Name
				if li == 0 && i == 0 {
					leaf[name] += v
				}
				if !seen[name] {
					seen[name] = true
					a.cum[name] += v
				}
				if !ownCharged && IsOwn(name) {
					own[name] += v
					ownCharged = true
				}
			}
		}
	}
	a.Own = rank(own, a.Total)
	a.Cum = rank(a.cum, a.Total)
	a.Leaf = rank(leaf, a.Total)
	return a
}

// AnalyzeLog reads a zap JSON log and ranks the functions ("func" field) that
// wrote its warning and error lines. Share is then the fraction of those
// lines a function wrote.
func AnalyzeLog(path string) (*Analysis, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("culprit: %w", err)
	}
	defer f.Close()
	a := &Analysis{Path: path, Unit: "warn+ lines", cum: map[string]int64{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Level string `json:"level"`
			Func  string `json:"func"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Func == "" {
			continue
		}
		switch line.Level {
		case "warn", "error", "dpanic", "panic", "fatal":
			a.cum[line.Func]++
			a.Total++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("culprit: read %s: %w", path, err)
	}
	a.Cum = rank(a.cum, a.Total)
	own := map[string]int64{}
	for name, v := range a.cum {
		if IsOwn(name) {
			own[name] = v
		}
	}
	a.Own = rank(own, a.Total)
	return a, nil
}

// IsOwn reports whether a function belongs to a lab (this repository, but not
// the harness).
func IsOwn(fn string) bool {
	return strings.HasPrefix(fn, RepoPrefix) && !strings.HasPrefix(fn, harnessPrefix)
}

// Share is the cumulative share of the profile carried by the functions
// whose fully qualified name contains frame, and the best-matching name. With
// several matches the largest is returned: callers name a function, and the
// profile may hold it under a longer name (a closure, a method value).
func (a *Analysis) Share(frame string) (string, float64) {
	var best string
	var bestV int64
	for name, v := range a.cum {
		if strings.Contains(name, frame) && v > bestV {
			best, bestV = name, v
		}
	}
	if a.Total == 0 {
		return best, 0
	}
	return best, float64(bestV) / float64(a.Total)
}

// Top returns at most n entries of a ranking.
func Top(entries []Entry, n int) []Entry {
	if len(entries) > n {
		return entries[:n]
	}
	return entries
}

func rank(m map[string]int64, total int64) []Entry {
	out := make([]Entry, 0, len(m))
	for name, v := range m {
		e := Entry{Func: name, Value: v}
		if total > 0 {
			e.Share = float64(v) / float64(total)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Func < out[j].Func
	})
	return out
}

// ShortName trims the repository prefix so a hint fits on a terminal line.
func ShortName(fn string) string { return strings.TrimPrefix(fn, RepoPrefix) }
