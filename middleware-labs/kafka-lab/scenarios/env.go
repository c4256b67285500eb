package scenarios

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/broker"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
)

// cluster is the broker a scenario talks to: this lab's own, in the lab's
// process on a loopback listener, reached by kafka-go over TCP like any
// other broker.
type cluster struct {
	addr   string
	broker *broker.Broker
}

// startBroker starts a broker on a free loopback port with its logs in a
// temporary directory; both go at env cleanup. Its log lines go to lab.log
// at error level only, so the warnings there are the scenario's own.
func startBroker(env *runner.Env, onGeneration func(group.Generation)) (*cluster, error) {
	dir, err := os.MkdirTemp("", "kafka-lab-")
	if err != nil {
		return nil, fmt.Errorf("broker data dir: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("broker listen: %w", err)
	}
	log := env.Log.Named("broker").WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel))
	b, err := broker.New(broker.Config{NodeID: 1, DefaultPartitions: 1, Log: log,
		Open: broker.DiskLogs(dir, 1, commitlog.Options{Fsync: commitlog.FsyncInterval}),
		Group: group.Config{
			// Consumers a scenario starts together form one generation.
			InitialRebalanceDelay: 150 * time.Millisecond,
			OnGeneration:          onGeneration,
		}})
	if err != nil {
		_ = ln.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := telemetry.Register(env.Metrics, b.Collectors()...); err != nil {
		_ = ln.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	env.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			env.Log.Error("broker stopped with an error", zap.Error(err))
		}
		_ = os.RemoveAll(dir)
	})
	return &cluster{addr: ln.Addr().String(), broker: b}, nil
}

// writer is a kafka-go producer with its own transport, closed at env
// cleanup (kafka.DefaultTransport would keep its connections for the life
// of the process).
func (c *cluster) writer(env *runner.Env, topic string, balancer kafka.Balancer) *kafka.Writer {
	tr := &kafka.Transport{}
	w := &kafka.Writer{Addr: kafka.TCP(c.addr), Topic: topic, Balancer: balancer, Transport: tr,
		BatchTimeout: 2 * time.Millisecond, BatchSize: 200, RequiredAcks: kafka.RequireAll}
	env.Cleanup(func() {
		_ = w.Close()
		tr.CloseIdleConnections()
	})
	return w
}

// waitStable waits until a group has members members in a stable generation.
func (c *cluster) waitStable(ctx context.Context, groupID string, members int) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		state, _, n := c.broker.Group.Describe(groupID)
		if state == group.Stable && n == members {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("group %s never reached %d stable members (state %s, %d members): %w", groupID, members, state, n, ctx.Err())
		case <-t.C:
		}
	}
}

// produceAtRate writes rate messages a second, in 10 ms ticks, until ctx
// ends; msg builds the i-th message. It returns how many were acknowledged.
//
// Each write is one operation of the producing users' traffic: its latency
// and its error are what a publisher's dashboard shows.
func produceAtRate(ctx context.Context, traffic *runner.Traffic, w *kafka.Writer, rate int, msg func(i int) kafka.Message) (int, error) {
	const tick = 10 * time.Millisecond
	per := max(rate*int(tick)/int(time.Second), 1)
	t := time.NewTicker(tick)
	defer t.Stop()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return sent, nil
		case <-t.C:
		}
		batch := make([]kafka.Message, per)
		for j := range batch {
			batch[j] = msg(sent + j)
		}
		start := time.Now()
		err := w.WriteMessages(ctx, batch...)
		if ctx.Err() != nil {
			return sent, nil // cut off by the window's end
		}
		traffic.Observe(time.Since(start), err)
		if err != nil {
			return sent, fmt.Errorf("produce: %w", err)
		}
		sent += per
	}
}

// slope is the least-squares slope of ys sampled at xs (per second).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
