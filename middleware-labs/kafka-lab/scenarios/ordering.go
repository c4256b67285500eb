package scenarios

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	ordersTopic      = "orders"
	ordersPartitions = 4
	ordersEntities   = 40
	ordersRate       = 2000
	// ordersBurst is how many events an entity emits back to back (created,
	// paid, packed, shipped, delivered), as real entities do.
	ordersBurst = 5
)

// orderEvent is the i-th event of the stream: events come in bursts of
// ordersBurst per entity, each with the entity's own sequence number.
// keyed is the fix: the entity id as
// the message key, so the key hash puts all of an entity's events on one
// partition, whose order Kafka keeps. Without a key the balancer spreads
// them over every partition, and partitions are consumed in parallel.
func orderEvent(i int, keyed bool) kafka.Message {
	burst := i / ordersBurst
	entity := fmt.Sprintf("order-%d", burst%ordersEntities)
	seq := burst/ordersEntities*ordersBurst + i%ordersBurst
	m := kafka.Message{Value: fmt.Appendf(nil, "%s:%d", entity, seq)}
	if keyed {
		// exercise:begin ordering-broken
		m.Key = []byte(entity) // the key hash keeps an entity on one partition
		// exercise:stub
		// _ = entity
		// exercise:end
	}
	return m
}

// orderChecker is the consumer-side checker for ordering: per entity, the
// highest sequence applied so far. An event older than that is a
// non-monotonic read, in Jepsen's terms.
type orderChecker struct {
	log        *zap.Logger
	mu         sync.Mutex
	last       map[string]int
	seen       int
	outOfOrder atomic.Int64
	counter    prometheus.Counter
}

// observe applies one event in the order a consumer processed it.
func (c *orderChecker) observe(entity string, seq int) {
	c.mu.Lock()
	last, ok := c.last[entity]
	c.seen++
	if !ok || seq > last {
		c.last[entity] = seq
	}
	c.mu.Unlock()
	if ok && seq < last {
		c.outOfOrder.Add(1)
		c.counter.Inc()
		c.log.Warn("non-monotonic: event older than one already applied", zap.String("entity", entity), zap.Int("seq", seq), zap.Int("after", last))
	}
}

func (c *orderChecker) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen
}

// consumePartition applies one partition's events in offset order.
func consumePartition(ctx context.Context, r *kafka.Reader, c *orderChecker) error {
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return ignoreDone(ctx, err)
		}
		entity, seq, ok := strings.Cut(string(m.Value), ":")
		n, err := strconv.Atoi(seq)
		if !ok || err != nil {
			return fmt.Errorf("partition %d offset %d: event %q is not entity:seq", m.Partition, m.Offset, m.Value)
		}
		c.observe(entity, n)
	}
}

func runOrdering(ctx context.Context, env *runner.Env) error {
	c, err := startBroker(env, nil)
	if err != nil {
		return err
	}
	if err := c.broker.CreateTopic(ordersTopic, ordersPartitions); err != nil {
		return err
	}
	ooo := prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_lab_out_of_order_events_total", Help: "Events applied after a later event of the same entity."})
	if err := telemetry.Register(env.Metrics, ooo); err != nil {
		return err
	}
	chk := &orderChecker{log: env.Log, last: map[string]int{}, counter: ooo}
	env.Series("out_of_order_events", func() float64 { return float64(chk.outOfOrder.Load()) })

	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, ordersPartitions)
	for p := range ordersPartitions {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{c.addr}, Topic: ordersTopic, Partition: p, MaxWait: 20 * time.Millisecond})
		wg.Go(func() {
			defer r.Close()
			errs <- consumePartition(cctx, r, chk)
		})
	}
	var balancer kafka.Balancer = &kafka.RoundRobin{}
	if !env.FaultOn {
		balancer = &kafka.Hash{}
	}
	pctx, pcancel := context.WithTimeout(ctx, env.Duration)
	defer pcancel()
	w := c.writer(env, ordersTopic, balancer)
	sent, err := produceAtRate(pctx, env.Traffic(), w, ordersRate, func(i int) kafka.Message { return orderEvent(i, !env.FaultOn) })
	if err != nil {
		return err
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && chk.count() < sent {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("consumer: %w", err)
		}
	}
	env.Record("produced", float64(sent))
	env.Record("consumed", float64(chk.count()))
	env.Record("out_of_order_per_entity", float64(chk.outOfOrder.Load())/ordersEntities)
	return nil
}
