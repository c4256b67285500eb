package broker_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/broker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memLog is an in-memory partition log for the broker's own tests.
type memLog struct {
	mu      sync.Mutex
	batches [][]byte
	next    int64
}

func (l *memLog) Append(_ context.Context, batch []byte, _ int16) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := append([]byte{}, batch...)
	base := l.next
	binary.BigEndian.PutUint64(b, uint64(base))
	l.next += int64(binary.BigEndian.Uint32(b[23:27])) + 1
	l.batches = append(l.batches, b)
	return base, nil
}

func (l *memLog) Read(_ context.Context, off int64, maxBytes int) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []byte
	for _, b := range l.batches {
		last := int64(binary.BigEndian.Uint64(b)) + int64(binary.BigEndian.Uint32(b[23:27]))
		if last < off {
			continue
		}
		if len(out) > 0 && len(out)+len(b) > maxBytes {
			break
		}
		out = append(out, b...)
	}
	return out, nil
}

func (l *memLog) HighWatermark() int64 { l.mu.Lock(); defer l.mu.Unlock(); return l.next }
func (l *memLog) StartOffset() int64   { return 0 }
func (l *memLog) OffsetForTime(int64) (int64, error) {
	return 0, nil
}
func (l *memLog) Close() error { return nil }

// start runs a broker on a free loopback port until the test ends.
func start(t *testing.T) (*broker.Broker, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := broker.New(broker.Config{NodeID: 1, DefaultPartitions: 1,
		Open: func(string, int32) (broker.Log, error) { return &memLog{}, nil }})
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
