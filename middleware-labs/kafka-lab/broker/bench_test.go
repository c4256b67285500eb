package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// BenchmarkProduceAndFetch is 1 KB messages through kafka-go against the
// broker on loopback: produced in batches of 100 with acks=all (one disk
// append per partition batch, fsync on an interval), then read back.
func BenchmarkProduceAndFetch(b *testing.B) {
	brk, addr := start(b)
	require.NoError(b, brk.CreateTopic("bench", 1))
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "bench", Transport: tr, BatchSize: 100, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	value := make([]byte, 1024)
	batch := make([]kafka.Message, 100)
	for i := range batch {
		batch[i] = kafka.Message{Value: value}
	}
	ctx := context.Background()
	produced := 0
	b.Run("produce", func(b *testing.B) {
		b.SetBytes(int64(len(batch) * len(value)))
		for b.Loop() {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			produced += len(batch)
		}
		b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("fetch", func(b *testing.B) {
		for produced < b.N { // the reader must never wait for messages that will not come
			require.NoError(b, w.WriteMessages(ctx, batch...))
			produced += len(batch)
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "bench", MaxWait: 10 * time.Millisecond, MaxBytes: 4 << 20})
		defer r.Close()
		b.SetBytes(int64(len(value)))
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		for b.Loop() {
			if _, err := r.ReadMessage(rctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}
