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
)

const (
	backlogTopic      = "clicks"
	backlogGroup      = "analytics"
	backlogPartitions = 4
	backlogRate       = 3000 // messages a second
	// warehouseRoundTrip is the downstream's cost per call, whatever the
	// number of rows: a network round trip and a commit on its side.
	warehouseRoundTrip = time.Millisecond
)

// warehouse is the consumer's downstream: each Insert is one call to a
// store whose round trip is the same for one row or two hundred. The
// latency is the dependency's, injected at its client; the defect under
// study is how often the consumer calls it.
type warehouse struct{ rows atomic.Int64 }

func (w *warehouse) Insert(ctx context.Context, rows int) error {
	t := time.NewTimer(warehouseRoundTrip)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	w.rows.Add(int64(rows))
	return nil
}

// consumePerMessage is the defect: one consumer for every partition, one
// downstream call per message, and a synchronous offset commit after each.
// Every message costs a warehouse round trip and an OffsetCommit round trip
// before the next is read, so the group consumes more slowly than the
// producers write, and the lag grows for as long as they do.
func consumePerMessage(ctx context.Context, r *kafka.Reader, sink *warehouse) error {
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return ignoreDone(ctx, err)
		}
		if err := sink.Insert(ctx, 1); err != nil {
			return ignoreDone(ctx, err)
		}
		if err := r.CommitMessages(ctx, m); err != nil { // CommitInterval 0: waits for the coordinator
			return ignoreDone(ctx, err)
		}
	}
}

// maxBatch bounds what consumeBatched hands the warehouse in one call.
const maxBatch = 200

// consumeBatched is the fix: one consumer per partition, each inserting
// what has arrived (up to maxBatch) in one call and handing the batch's
// last offset to a background commit, so both round trips are paid per
// batch, not per message.
func consumeBatched(ctx context.Context, r *kafka.Reader, sink *warehouse) error {
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return ignoreDone(ctx, err)
		}
		batch := []kafka.Message{m}
		for len(batch) < maxBatch {
			// Take what is already fetched without waiting for more.
			pctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			m, err := r.FetchMessage(pctx)
			cancel()
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		if err := sink.Insert(ctx, len(batch)); err != nil {
			return ignoreDone(ctx, err)
		}
		if err := r.CommitMessages(ctx, batch[len(batch)-1]); err != nil { // CommitInterval > 0: queued, returns at once
			return ignoreDone(ctx, err)
		}
	}
}

// lagAlert is the consumer-lag alert the fix calls for: the in-process
// twin of docker-env's KafkaLabConsumerLagHigh rule. It runs on every path
// and speaks only when the group is this far behind.
const lagAlert = 1000

// lagMonitor watches the group's lag and warns, with what a responder
// needs first (how far behind, how many members, how fast they consume),
// while the lag is above lagAlert.
type lagMonitor struct {
	log     *zap.Logger
	c       *cluster
	sink    *warehouse
	last    float64
	lastAt  time.Time
	lastOut int64
}

func (m *lagMonitor) check(lag float64) {
	now, out := time.Now(), m.sink.rows.Load()
	defer func() { m.last, m.lastAt, m.lastOut = lag, now, out }()
	if lag <= lagAlert || m.lastAt.IsZero() {
		return
	}
	dt := now.Sub(m.lastAt).Seconds()
	_, _, members := m.c.broker.Group.Describe(backlogGroup)
	m.log.Warn("consumer lag above the alert threshold",
		zap.String("group", backlogGroup), zap.Float64("lag", lag), zap.Float64("growth_per_s", (lag-m.last)/dt),
		zap.Int("members", members), zap.Int("partitions", backlogPartitions),
		zap.Float64("consumed_per_s", float64(out-m.lastOut)/dt))
}

func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func runBacklog(ctx context.Context, env *runner.Env) error {
	c, err := startBroker(env, nil)
	if err != nil {
		return err
	}
	if err := c.broker.CreateTopic(backlogTopic, backlogPartitions); err != nil {
		return err
	}
	lagGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "kafka_lab_consumer_lag", Help: "Messages written but not yet committed by the consumer group.",
		ConstLabels: prometheus.Labels{"group": backlogGroup}})
	if err := telemetry.Register(env.Metrics, lagGauge); err != nil {
		return err
	}
	lag := func() float64 {
		return float64(c.broker.Group.Lag(backlogGroup, backlogTopic, c.broker.HighWatermarks(backlogTopic)))
	}
	env.Series("consumer_lag", lag)

	// exercise:begin consumer-backlog
	// The fix: a consumer per partition, each batching its warehouse calls and commits.
	consumers, consume, commitEvery := backlogPartitions, consumeBatched, 100*time.Millisecond
	// exercise:stub
	// consumers, consume, commitEvery := 1, consumePerMessage, time.Duration(0)
	// exercise:end
	if env.FaultOn {
		consumers, consume, commitEvery = 1, consumePerMessage, 0
	}
	cctx, stop := context.WithCancel(ctx)
	sink := &warehouse{}
	var wg sync.WaitGroup
	errs := make(chan error, consumers)
	for range consumers {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{c.addr}, Topic: backlogTopic, GroupID: backlogGroup,
			MaxWait: 20 * time.Millisecond, CommitInterval: commitEvery, StartOffset: kafka.FirstOffset,
			HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: 3 * time.Second, RebalanceTimeout: 3 * time.Second})
		wg.Go(func() {
			defer r.Close()
			errs <- consume(cctx, r, sink)
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err = c.waitStable(wctx, backlogGroup, consumers)
	wcancel()
	if err != nil {
		return err
	}
	env.Event("group-stable", fmt.Sprintf("%d consumers for %d partitions", consumers, backlogPartitions))

	// Sample the lag while the producers write for the window.
	pctx, pcancel := context.WithTimeout(ctx, env.Duration)
	defer pcancel()
	start := time.Now()
	monitor := &lagMonitor{log: env.Log, c: c, sink: sink}
	var xs, ys []float64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				l := lag()
				lagGauge.Set(l)
				monitor.check(l)
				xs, ys = append(xs, time.Since(start).Seconds()), append(ys, l)
			}
		}
	}()
	w := c.writer(env, backlogTopic, &kafka.RoundRobin{})
	sent, err := produceAtRate(pctx, env.Traffic(), w, backlogRate, func(i int) kafka.Message {
		return kafka.Message{Value: fmt.Appendf(nil, "click-%d", i)}
	})
	<-sampled
	if err != nil {
		return err
	}
	select {
	case err := <-errs:
		if err != nil {
			return fmt.Errorf("consumer: %w", err)
		}
	default:
	}
	end := lag()
	half := len(xs) / 2
	env.Record("consumer_lag_end", end)
	env.Record("consumer_lag_slope", slope(xs[half:], ys[half:]))
	env.Record("produced", float64(sent))
	env.Record("consumed", float64(sink.rows.Load()))
	env.Record("consumed_per_s", float64(sink.rows.Load())/time.Since(start).Seconds())
	return nil
}
