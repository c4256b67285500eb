// Command schedload runs gmp.SchedloadWorkload on the real Go runtime: each goroutine spins for
// its CPU bursts and blocks in real nanosleep(2) system calls, so
//
//	GODEBUG=schedtrace=1000 go run ./cmd/schedload
//
// prints the runtime's own scheduler counters for the workload cmd/gmpsim models.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/gmp"
)

func main() {
	seed := flag.Int64("seed", 1, "workload seed (same as gmpsim -seed)")
	flag.Parse()
	work, err := gmp.SchedloadWorkload().Generate(*seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedload:", err)
		os.Exit(2)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, g := range work {
		wg.Go(func() {
			for _, s := range g.Segments {
				if s.Kind == gmp.Run {
					spin(s.Dur)
					continue
				}
				ts := syscall.NsecToTimespec(s.Dur.Nanoseconds())
				// A raw blocking syscall (not time.Sleep, which parks the G without blocking the M),
				// so sysmon has to hand the P to another M.
				_ = syscall.Nanosleep(&ts, nil)
			}
		})
	}
	wg.Wait()
	fmt.Printf("makespan=%v goroutines=%d\n", time.Since(start).Round(time.Millisecond), len(work))
}

// spin burns CPU for d without calling into the scheduler.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := 1
	for time.Now().Before(end) {
		for i := range 1000 {
			x = x*31 + i
		}
	}
	_ = x
}
