package culprit

import "slices"

// AnalyzeLabel is Analyze restricted to the samples whose pprof label key
// has the given value: one node's share of a profile taken from a process
// that hosts several (node.Label tags their goroutines). Shares are of
// that node's samples, so "node2 spends 80% in X" reads as it would from
// node2's own process.
func AnalyzeLabel(path, key, value string) (*Analysis, error) {
	p, err := parseFile(path)
	if err != nil {
		return nil, err
	}
	kept := p.Sample[:0]
	for _, s := range p.Sample {
		if slices.Contains(s.Label[key], value) {
			kept = append(kept, s)
		}
	}
	p.Sample = kept
	return analyze(path, p), nil
}

// LabelValues lists, sorted, the values pprof label key takes in the
// profile at path (the nodes a shared process hosted).
func LabelValues(path, key string) ([]string, error) {
	p, err := parseFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
