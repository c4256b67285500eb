// Command gmpsim runs the GMP scheduler model on a seeded random workload, prints its counters
// and schedtrace-like lines, and writes the per-P timeline chart.
//
//	go run ./cmd/gmpsim -procs 2 -seed 1 -svg gmp.svg
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/gmp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gmpsim:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gmpsim", flag.ContinueOnError)
	w := gmp.SchedloadWorkload()
	procs := fs.Int("procs", 2, "GOMAXPROCS of the model")
	seed := fs.Int64("seed", 1, "seed of the workload and of the steal order")
	fs.IntVar(&w.Goroutines, "goroutines", w.Goroutines, "goroutines main creates")
	fs.DurationVar(&w.MeanRun, "mean-run", w.MeanRun, "mean CPU burst")
	fs.IntVar(&w.Bursts, "bursts", w.Bursts, "CPU bursts per goroutine")
	fs.Float64Var(&w.SyscallProb, "syscall-prob", w.SyscallProb, "chance of a blocking syscall after a burst")
	fs.DurationVar(&w.MeanSyscall, "mean-syscall", w.MeanSyscall, "mean syscall length")
	slice := fs.Duration("slice", 10*time.Millisecond, "preemption time slice")
	traceEvery := fs.Duration("trace-every", time.Second, "schedtrace-like line interval (0: none)")
	svg := fs.String("svg", "", "write the per-P timeline chart here (SVG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	work, err := w.Generate(*seed)
	if err != nil {
		return err
	}
	cfg := gmp.DefaultConfig(*procs)
	cfg.Seed, cfg.TimeSlice, cfg.TraceEvery = *seed, *slice, *traceEvery
	res, err := gmp.Simulate(cfg, work)
	if err != nil {
		return err
	}
	for _, l := range res.Trace {
		fmt.Println(l)
	}
	c := res.Counters
	fmt.Printf("makespan=%v utilization=%.1f%% goroutines=%d preemptions=%d steals=%d stolen=%d handoffs=%d fast-syscalls=%d global-grabs=%d spills=%d threads=%d\n",
		res.Makespan, 100*res.Utilization(), c.Completed, c.Preemptions, c.Steals, c.StolenGs, c.Handoffs,
		c.SyscallsFast, c.GlobalGrabs, c.LocalSpills, c.Threads)
	if *svg != "" {
		f, err := os.Create(*svg)
		if err != nil {
			return err
		}
		if err := res.WriteSVG(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
