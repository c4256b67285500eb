package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	paymentsTopic      = "payments"
	paymentsGroup      = "ledger"
	paymentsPartitions = 4
	paymentsRate       = 1500
	// commitEveryN is the consumer's at-least-once contract: it commits
	// after processing, every this many messages.
	commitEveryN = 50
	crashEvery   = 400 * time.Millisecond
)

// ledger is the consumer's sink: it applies each payment to an account
// balance. Its mutex is the sink's own transaction.
type ledger struct {
	mu       sync.Mutex
	balances map[string]int64
	applied  map[string]bool // payment ids whose effect is in the balances
	audit    *audit
	// idempotent is the fix: a payment id already applied is skipped inside
	// the same transaction that would apply it.
	idempotent bool
}

// apply is where the defect lives: with idempotent false, a payment
// delivered twice (redelivered after a crash, because its offset was not yet
// committed) moves the balance twice.
func (l *ledger) apply(id, account string, amount int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// exercise:begin duplicate-consumption
	if l.idempotent && l.applied[id] {
		return // the dedupe key is checked in the transaction that applies it
	}
	// exercise:stub
	// _ = l.idempotent
	// exercise:end
	l.balances[account] += amount
	l.applied[id] = true
	l.audit.effect(id)
}

// audit is the consumer-side checker: it counts, per payment id, how often
// an effect reached the ledger, and names the anomaly as Jepsen does.
type audit struct {
	log        *zap.Logger
	mu         sync.Mutex
	effects    map[string]int
	duplicates atomic.Int64
	counter    prometheus.Counter
}

// effect records one applied effect of payment id; a second one is a
// duplicate, and is logged where a reader of lab.log finds it.
func (a *audit) effect(id string) {
	a.mu.Lock()
	a.effects[id]++
	n := a.effects[id]
	a.mu.Unlock()
	if n > 1 {
		a.duplicates.Add(1)
		a.counter.Inc()
		a.log.Warn("duplicate: payment applied again", zap.String("payment", id), zap.Int("times", n))
	}
}

var errCrashed = errors.New("consumer crashed")

// consumeAtLeastOnce processes, then commits every commitEveryN messages;
// a crash between two commits leaves the processed tail uncommitted, and
// the partition's next owner is handed it again.
func consumeAtLeastOnce(ctx context.Context, r *kafka.Reader, l *ledger, crash <-chan struct{}, delivered *atomic.Int64) (int, error) {
	var pending []kafka.Message
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return len(pending), ignoreDone(ctx, err)
		}
		delivered.Add(1)
		amount, _ := strconv.ParseInt(string(m.Value), 10, 64)
		l.apply(string(m.Key)+"/"+headerValue(m, "payment-id"), string(m.Key), amount)
		pending = append(pending, m)
		select {
		case <-crash:
			return len(pending), errCrashed
		default:
		}
		if len(pending) >= commitEveryN {
			if err := r.CommitMessages(ctx, pending[len(pending)-1]); err != nil {
				// A commit refused during a rebalance: what it covered will be
				// delivered again; keep going in the new generation.
				if ctx.Err() != nil {
					return len(pending), nil
				}
			}
			pending = pending[:0]
		}
	}
}

func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func runDuplicates(ctx context.Context, env *runner.Env) error {
	c, err := startBroker(env, nil)
	if err != nil {
		return err
	}
	if err := c.broker.CreateTopic(paymentsTopic, paymentsPartitions); err != nil {
		return err
	}
	dup := prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_lab_duplicate_effects_total", Help: "Messages whose effect reached the sink more than once.",
		ConstLabels: prometheus.Labels{"group": paymentsGroup}})
	if err := telemetry.Register(env.Metrics, dup); err != nil {
		return err
	}
	l := &ledger{balances: map[string]int64{}, applied: map[string]bool{}, idempotent: !env.FaultOn,
		audit: &audit{log: env.Log, effects: map[string]int{}, counter: dup}}
	env.Series("duplicate_effects", func() float64 { return float64(l.audit.duplicates.Load()) })

	newReader := func() *kafka.Reader {
		return kafka.NewReader(kafka.ReaderConfig{Brokers: []string{c.addr}, Topic: paymentsTopic, GroupID: paymentsGroup,
			MaxWait: 20 * time.Millisecond, StartOffset: kafka.FirstOffset,
			HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, RebalanceTimeout: time.Second})
	}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var delivered atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	// Two members, each a crash-looping process: when one crashes, a
	// replacement with a new member id joins the group at once.
	crashes := []chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}
	for member, crash := range crashes {
		wg.Go(func() {
			for cctx.Err() == nil {
				r := newReader()
				uncommitted, err := consumeAtLeastOnce(cctx, r, l, crash, &delivered)
				_ = r.Close()
				if errors.Is(err, errCrashed) {
					env.Event("crash", fmt.Sprintf("member %d crashed with %d processed, uncommitted messages", member+1, uncommitted))
				} else if err != nil {
					env.Log.Error("consumer", zap.Error(err))
					return
				}
			}
		})
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err = c.waitStable(wctx, paymentsGroup, len(crashes))
	wcancel()
	if err != nil {
		return err
	}

	pctx, pcancel := context.WithTimeout(ctx, env.Duration)
	defer pcancel()
	go func() {
		t := time.NewTicker(crashEvery)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				select {
				case crashes[i%len(crashes)] <- struct{}{}:
				default:
				}
			}
		}
	}()
	w := c.writer(env, paymentsTopic, &kafka.Hash{})
	sent, err := produceAtRate(pctx, env.Traffic(), w, paymentsRate, func(i int) kafka.Message {
		return kafka.Message{Key: fmt.Appendf(nil, "acct-%d", i%100), Value: []byte("1"),
			Headers: []kafka.Header{{Key: "payment-id", Value: strconv.AppendInt(nil, int64(i), 10)}}}
	})
	if err != nil {
		return err
	}
	// Let the group drain what was written before judging.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		n := len(l.applied)
		l.mu.Unlock()
		if n >= sent { // at least every acknowledged payment (a cut-off write may add more)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()

	l.mu.Lock()
	distinct, lost := len(l.applied), 0
	for i := range sent { // every acknowledged payment must have reached the ledger
		if !l.applied[fmt.Sprintf("acct-%d/%d", i%100, i)] {
			lost++
		}
	}
	l.mu.Unlock()
	dups := l.audit.duplicates.Load()
	env.Record("produced", float64(sent))
	env.Record("processed_distinct", float64(distinct))
	env.Record("lost", float64(lost))
	env.Record("redelivered_per_processed", float64(delivered.Load()-int64(distinct))/float64(max(distinct, 1)))
	env.Record("duplicates_per_processed", float64(dups)/float64(max(distinct, 1)))
	return nil
}
