package scenarios

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
)

const (
	jobsTopic      = "jobs"
	jobsGroup      = "workers"
	jobsPartitions = 6
	jobsMembers    = 3
	jobsRate       = 1000
	jobsBacklog    = 3000 // waiting when the workers start
	// maxPollInterval is max.poll.interval.ms: a member that does not come
	// back to poll within it is presumed stuck and leaves the group.
	maxPollInterval = 300 * time.Millisecond
	// jobCost is the downstream call each job makes (a render, an API call).
	jobCost = time.Millisecond
	// maxPollRecords bounds a poll on the fixed path: 50 jobs take about
	// 50 ms, far inside maxPollInterval.
	maxPollRecords = 50
	// unboundedPoll is the fault's poll: all that has arrived, up to the
	// client default of 500 records, about half a second of work.
	unboundedPoll = 500
)

// worker is one member of the group with the poll contract of Kafka's Java
// consumer: a watchdog, like its heartbeat thread, makes the member leave
// the group when processing keeps it from polling for longer than
// maxPollInterval; the next poll rejoins, and every leave and every join is
// a rebalance that stops the whole group.
type worker struct {
	id       int
	addr     string
	log      *zap.Logger
	mu       sync.Mutex
	r        *kafka.Reader
	lastPoll time.Time
	left     bool
	done     atomic.Int64
	distinct *sync.Map // job ids done at least once, shared by the group
}

func (w *worker) reader() *kafka.Reader {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.r == nil || w.left {
		w.r = kafka.NewReader(kafka.ReaderConfig{Brokers: []string{w.addr}, Topic: jobsTopic, GroupID: jobsGroup,
			MaxWait: 20 * time.Millisecond, StartOffset: kafka.FirstOffset, CommitInterval: 50 * time.Millisecond,
			HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, RebalanceTimeout: time.Second})
		w.left = false
	}
	w.lastPoll = time.Now()
	return w.r
}

// watchdog leaves the group for a member whose processing outlasts
// maxPollInterval, as the Java consumer does ("consumer poll timeout has
// expired").
func (w *worker) watchdog(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		var stale *kafka.Reader
		if w.r != nil && !w.left && time.Since(w.lastPoll) > maxPollInterval {
			stale, w.left = w.r, true
		}
		since := time.Since(w.lastPoll)
		w.mu.Unlock()
		if stale != nil {
			w.log.Warn("poll timeout expired: processing outlasted max.poll.interval, leaving the group",
				zap.Int("worker", w.id), zap.Duration("since_poll", since), zap.Duration("max_poll_interval", maxPollInterval))
			_ = stale.Close()
		}
	}
}

// poll takes one batch: the first message waits, the rest are what has
// already arrived, up to limit.
func poll(ctx context.Context, r *kafka.Reader, limit int) ([]kafka.Message, error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []kafka.Message{m}
	for len(batch) < limit {
		pctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		m, err := r.FetchMessage(pctx)
		cancel()
		if err != nil {
			break
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// pollLimit is where the defect lives: a poll of everything that has
// arrived (up to 500 records) takes longer to process than
// max.poll.interval allows; the fix bounds it (max.poll.records).
func pollLimit(fault bool) int {
	if fault {
		return unboundedPoll
	}
	// exercise:begin rebalance-storm
	return maxPollRecords
	// exercise:stub
	// return unboundedPoll
	// exercise:end
}

func (w *worker) run(ctx context.Context, limit int) {
	defer func() {
		w.mu.Lock()
		r := w.r
		w.mu.Unlock()
		if r != nil {
			_ = r.Close()
		}
	}()
	for ctx.Err() == nil {
		r := w.reader()
		batch, err := poll(ctx, r, limit)
		if err != nil {
			continue // closed by the watchdog or by ctx: rejoin or stop
		}
		for _, m := range batch {
			if doJob(ctx) != nil {
				return
			}
			w.done.Add(1)
			w.distinct.Store(string(m.Value), true)
		}
		_ = r.CommitMessages(ctx, batch[len(batch)-1]) // refused once the member left: the jobs come again
	}
}

// doJob is one job's downstream call; its latency is the dependency's.
func doJob(ctx context.Context) error {
	t := time.NewTimer(jobCost)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func runStorm(ctx context.Context, env *runner.Env) error {
	var (
		mu       sync.Mutex
		counting bool
		inWindow int
	)
	rebalances := prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_lab_group_rebalances_total", Help: "Consumer-group generations completed.",
		ConstLabels: prometheus.Labels{"group": jobsGroup}})
	if err := telemetry.Register(env.Metrics, rebalances); err != nil {
		return err
	}
	c, err := startBroker(env, func(g group.Generation) {
		rebalances.Inc()
		env.Event("generation", fmt.Sprintf("%s generation %d: %d members, leader %s (%s)", g.Group, g.ID, g.Members, g.Leader, g.Reason))
		mu.Lock()
		if counting {
			inWindow++
		}
		mu.Unlock()
	})
	if err != nil {
		return err
	}
	if err := c.broker.CreateTopic(jobsTopic, jobsPartitions); err != nil {
		return err
	}
	w := c.writer(env, jobsTopic, &kafka.RoundRobin{})
	backlog := make([]kafka.Message, jobsBacklog)
	for i := range backlog {
		backlog[i] = kafka.Message{Value: fmt.Appendf(nil, "job-%d", i)}
	}
	if err := w.WriteMessages(ctx, backlog...); err != nil {
		return fmt.Errorf("produce the backlog: %w", err)
	}

	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	workers := make([]*worker, jobsMembers)
	var distinct sync.Map
	for i := range workers {
		workers[i] = &worker{id: i + 1, addr: c.addr, log: env.Log, distinct: &distinct}
		wg.Go(func() { workers[i].watchdog(cctx) })
		wg.Go(func() { workers[i].run(cctx, pollLimit(env.FaultOn)) })
	}
	processed := func() float64 {
		var n int64
		for _, w := range workers {
			n += w.done.Load()
		}
		return float64(n)
	}
	env.Series("jobs_processed", processed)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err = c.waitStable(wctx, jobsGroup, jobsMembers)
	wcancel()
	if err != nil {
		return err
	}
	mu.Lock()
	counting = true
	mu.Unlock()
	count := func() float64 {
		n := 0
		distinct.Range(func(any, any) bool { n++; return true })
		return float64(n)
	}
	start, before, beforeDistinct := time.Now(), processed(), count()

	pctx, pcancel := context.WithTimeout(ctx, env.Duration)
	defer pcancel()
	if _, err := produceAtRate(pctx, env.Traffic(), w, jobsRate, func(i int) kafka.Message {
		return kafka.Message{Value: fmt.Appendf(nil, "job-%d", jobsBacklog+i)}
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	mu.Lock()
	n := inWindow
	counting = false
	mu.Unlock()
	stop()
	wg.Wait()
	env.Record("rebalances_per_min", float64(n)/elapsed.Minutes())
	done, fresh := processed()-before, count()-beforeDistinct
	env.Record("jobs_per_s", done/elapsed.Seconds())
	// Goodput: jobs done for the first time. The rest is work redone
	// because a member left before its commit went through.
	env.Record("distinct_jobs_per_s", fresh/elapsed.Seconds())
	env.Record("redone_jobs_share", (done-fresh)/max(done, 1))
	return nil
}
