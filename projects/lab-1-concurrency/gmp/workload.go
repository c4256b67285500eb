package gmp

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Workload describes a random batch of goroutines, all created by main (so all start on P0's
// queue, which is what makes the other Ps steal).
type Workload struct {
	Goroutines  int
	MeanRun     time.Duration // mean length of a CPU burst (exponentially distributed)
	Bursts      int           // CPU bursts per goroutine
	SyscallProb float64       // chance that a blocking syscall follows a burst
	MeanSyscall time.Duration
	SpawnEvery  time.Duration // main creates one goroutine this often (0: all at once)
}

// Generate draws the goroutines from seed; the same seed gives the same workload.
func (w Workload) Generate(seed int64) ([]GSpec, error) {
	if w.Goroutines < 1 || w.Bursts < 1 || w.MeanRun <= 0 || w.SyscallProb < 0 || w.SyscallProb > 1 ||
		w.MeanSyscall < 0 || w.SpawnEvery < 0 {
		return nil, fmt.Errorf("gmp: workload wants Goroutines>=1, Bursts>=1, MeanRun>0, SyscallProb in [0,1], got %+v", w)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 42))
	exp := func(mean time.Duration) time.Duration {
		d := time.Duration(r.ExpFloat64() * float64(mean))
		return max(d.Round(time.Microsecond), time.Microsecond)
	}
	out := make([]GSpec, w.Goroutines)
	for i := range out {
		out[i].At = time.Duration(i) * w.SpawnEvery
		for b := range w.Bursts {
			out[i].Segments = append(out[i].Segments, Segment{Kind: Run, Dur: exp(w.MeanRun)})
			if b < w.Bursts-1 && w.MeanSyscall > 0 && r.Float64() < w.SyscallProb {
				out[i].Segments = append(out[i].Segments, Segment{Kind: Syscall, Dur: exp(w.MeanSyscall)})
			}
		}
	}
	return out, nil
}

// SchedloadWorkload is the workload cmd/schedload runs on the real runtime and cmd/gmpsim runs
// in the model, so their schedtrace lines can be compared.
func SchedloadWorkload() Workload {
	return Workload{Goroutines: 200, MeanRun: 5 * time.Millisecond, Bursts: 8, SyscallProb: 0.25,
		MeanSyscall: 2 * time.Millisecond}
}
