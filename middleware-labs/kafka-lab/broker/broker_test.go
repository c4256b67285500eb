package broker_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/broker"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs a broker on a free loopback port until the test ends.
func start(t testing.TB) (*broker.Broker, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b, err := broker.New(broker.Config{NodeID: 1, DefaultPartitions: 1,
		Open: broker.DiskLogs(t.TempDir(), 1, commitlog.Options{Fsync: commitlog.FsyncInterval})})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return b, ln.Addr().String()
}

func TestKafkaGoWriterAndReaderRoundTrip(t *testing.T) {
	b, addr := start(t)
	require.NoError(t, b.CreateTopic("orders", 3))

	// Its own transport, closed at the end: kafka.DefaultTransport keeps
	// its connections (and their goroutines) for the life of the process.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "orders", Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: tr}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var msgs []kafka.Message
	for i := range 30 {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("k%d", i%5)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))

	got := map[string]bool{}
	for p := range 3 {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "orders", Partition: p, MaxWait: 50 * time.Millisecond})
		for {
			rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			m, err := r.ReadMessage(rctx)
			rcancel()
			if err != nil {
				break
			}
			got[string(m.Value)] = true
		}
		require.NoError(t, r.Close())
	}
	assert.Len(t, got, 30)
}
