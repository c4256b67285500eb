package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/bank"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/watchdog"
)

// runDeadlock has 256 tellers make random transfers between 4 accounts for the window while a
// watchdog watches the completed-transfer counter.
// errTransferNeverReturned is a transfer still in progress when the window closed.
var errTransferNeverReturned = errors.New("transfer did not return within the window")

func runDeadlock(ctx context.Context, env *runner.Env) error {
	const accounts, tellers = 4, 256
	if env.Duration < 2*time.Second {
		return fmt.Errorf("deadlock needs a window of at least 2s (a 1s stall check plus the watchdog's grace), got %v", env.Duration)
	}
	b, err := bank.New(accounts, 1<<40, !env.FaultOn)
	if err != nil {
		return err
	}
	var stalled atomic.Bool
	wd, err := watchdog.New(watchdog.Config{Progress: b.Completed.Load, Pending: b.InFlight.Load,
		After: 250 * time.Millisecond, OnStall: func(s watchdog.Stall) {
			stalled.Store(true)
			env.Log.Error("watchdog: transfers stalled", zap.String("stall", s.String()))
			_ = env.WriteFile("watchdog.txt", []byte(fmt.Sprintf("%s watchdog: transfers stalled: %s\n",
				time.Now().UTC().Format(time.RFC3339Nano), s)))
		}})
	if err != nil {
		return err
	}
	if err := telemetry.Register(env.Metrics,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lab1_bank_transfers_total",
			Help: "Transfers completed."}, func() float64 { return float64(b.Completed.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab1_bank_transfers_inflight",
			Help: "Transfer calls under way (including those blocked on a lock)."},
			func() float64 { return float64(b.InFlight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lab1_watchdog_stalled",
			Help: "1 while the progress watchdog sees pending transfers and no progress."},
			func() float64 {
				if wd.Stalled() {
					return 1
				}
				return 0
			})); err != nil {
		return err
	}
	env.Series("transfers_completed", func() float64 { return float64(b.Completed.Load()) })
	env.Series("transfers_inflight", func() float64 { return float64(b.InFlight.Load()) })

	window, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	wdDone := make(chan struct{})
	go func() { defer close(wdDone); wd.Run(window) }()
	var live atomic.Int64
	// Each teller is a user of the bank: its transfers are the lab's
	// traffic. A teller keeps its own tally (a shared one would serialize
	// the tellers whose lock order this scenario is about) and notes when
	// its current transfer began, so one that never returns still counts.
	traffic := make([]*runner.Traffic, tellers)
	began := make([]atomic.Int64, tellers)
	for t := range tellers {
		live.Add(1)
		traffic[t] = runner.NewTraffic()
		go func() {
			defer live.Add(-1)
			r := rand.New(rand.NewPCG(env.Seed, uint64(t)))
			for window.Err() == nil {
				from := r.IntN(accounts)
				to := (from + 1 + r.IntN(accounts-1)) % accounts
				start := time.Now()
				began[t].Store(start.UnixNano())
				err := b.Transfer(from, to, 1+r.Int64N(100))
				began[t].Store(0)
				traffic[t].Observe(time.Since(start), err)
			}
		}()
	}
	// Throughput over the last second of the window is the symptom metric. A sampler records
	// (time, count) pairs, because this goroutine itself may wait a long time for a P among 256
	// busy tellers: reading the counter "one second before the end" from here could happen
	// after the end.
	type sample struct {
		t time.Time
		n int64
	}
	samples := []sample{{time.Now(), b.Completed.Load()}}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-window.Done():
				return
			case now := <-tick.C:
				samples = append(samples, sample{now, b.Completed.Load()})
			}
		}
	}()
	<-window.Done()
	<-sampled
	end, _ := window.Deadline()
	completed := b.Completed.Load() // fixed tellers stop at the deadline; stuck ones never finish
	from := samples[0]
	for _, s := range samples {
		if !s.t.After(end.Add(-time.Second)) {
			from = s
		}
	}
	rate := float64(completed-from.n) / end.Sub(from.t).Seconds()
	<-wdDone
	// Fixed tellers see the window close and return; deadlocked ones are blocked in Lock and
	// never will. They stay, by design, until the process exits.
	grace := time.Now().Add(time.Second)
	for live.Load() > 0 && time.Now().Before(grace) && !stalled.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	for t := range tellers {
		env.Traffic().Merge(traffic[t])
		if at := began[t].Load(); at != 0 {
			// Still inside Transfer: a user who has waited this long gives up.
			env.Traffic().Observe(time.Since(time.Unix(0, at)), errTransferNeverReturned)
		}
	}
	stalls, longest := wd.Stalls()
	env.Record("transfers_per_second_last_second", rate)
	env.Record("watchdog_longest_stall_seconds", longest.Seconds())
	env.Record("watchdog_stalls", float64(stalls))
	env.Record("transfers_completed", float64(b.Completed.Load()))
	env.Record("stuck_tellers", float64(live.Load()))
	// Neutral on purpose: a mystery run shows lab.log, and a message or
	// field named after the fault or its symptom would give the answer away.
	env.Log.Info("load window done", zap.Int64("requests", b.Completed.Load()))
	return nil
}
