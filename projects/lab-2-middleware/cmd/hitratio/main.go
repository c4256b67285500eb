// Command hitratio replays a Zipf trace and a scan-heavy trace through this lab's LRU and LFU and
// through golang-lru, its 2Q and ristretto at several capacities, prints a markdown table of hit
// ratios and writes the chart as SVG.
//
//	go run ./cmd/hitratio -out docs/hitratio.svg
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/cachesim"
)

func main() {
	out := flag.String("out", "hitratio.svg", "where to write the SVG chart")
	n := flag.Int("n", 500_000, "accesses per trace")
	keys := flag.Int("keys", 100_000, "distinct keys in the Zipf part")
	s := flag.Float64("s", 1.1, "Zipf exponent (> 1)")
	seed := flag.Uint64("seed", 1, "trace seed")
	capsFlag := flag.String("caps", "100,300,1000,3000,10000", "comma-separated capacities")
	flag.Parse()
	if err := run(*out, *n, *keys, *s, *seed, *capsFlag); err != nil {
		fmt.Fprintln(os.Stderr, "hitratio:", err)
		os.Exit(2)
	}
}

func run(out string, n, keys int, s float64, seed uint64, capsFlag string) error {
	var caps []int
	for _, f := range strings.Split(capsFlag, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return fmt.Errorf("-caps wants positive integers separated by commas, got %q", f)
		}
		caps = append(caps, c)
	}
	zipf, err := cachesim.Zipf(seed, n, keys, s)
	if err != nil {
		return err
	}
	scan, err := cachesim.ScanHeavy(seed, n, keys, s, 10_000, 5_000)
	if err != nil {
		return err
	}
	results, err := cachesim.Experiment([]cachesim.Trace{zipf, scan}, cachesim.Policies(), caps)
	if err != nil {
		return err
	}
	fmt.Printf("| trace | policy |")
	for _, c := range caps {
		fmt.Printf(" cap %d |", c)
	}
	fmt.Printf("\n| --- | --- |%s\n", strings.Repeat(" ---: |", len(caps)))
	for i := 0; i < len(results); i += len(caps) {
		fmt.Printf("| %s | %s |", results[i].Trace, results[i].Policy)
		for _, r := range results[i : i+len(caps)] {
			fmt.Printf(" %.1f%% |", 100*r.HitRatio)
		}
		fmt.Println()
	}
	if err := os.WriteFile(out, cachesim.Chart(results), 0o644); err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	fmt.Println("chart:", out)
	return nil
}
