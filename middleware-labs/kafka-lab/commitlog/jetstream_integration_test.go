//go:build integration

package commitlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
)

// BenchmarkBesideJetStream puts this package's log next to a NATS JetStream stream (file storage)
// on the same machine, with 1 KiB messages, in one run:
//
//   - mode=sync: one message per append (fsync per batch) against one synchronous publish.
//   - mode=batched: 100 messages per batch against asynchronous publishes, 100 in flight.
//   - mode=consume: reading everything back, 1 MiB per read, against a pull consumer.
//
// It measures the storage engine alone against a whole server reached over loopback: the log's
// figure is the ceiling the broker's own numbers (protocol, network, replication) can approach,
// not a broker-to-broker comparison. Durability differs too: JetStream 2.9 syncs its files on an
// interval (2 minutes by default), so mode=sync is fsync per message here and not there; the
// interval policy row is the like-for-like one.
//
//	NATS_URL=nats://127.0.0.1:4222 go test -tags integration -run '^$' -bench BesideJetStream ./commitlog/
func BenchmarkBesideJetStream(b *testing.B) {
	url := servicetest.Require(b, "NATS_URL")
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatalf("connect to NATS at %s: %v", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	payload := make([]byte, 1024)

	stream := func(b *testing.B) (jetstream.Stream, string) {
		name := fmt.Sprintf("COMMITLOG_BENCH_%d", time.Now().UnixNano())
		s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name}, Storage: jetstream.FileStorage})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = js.DeleteStream(context.Background(), name) })
		return s, name
	}
	openLog := func(b *testing.B, fsync commitlog.FsyncPolicy) *commitlog.Log {
		l, err := commitlog.Open(b.TempDir(), commitlog.Options{Fsync: fsync, SegmentBytes: 64 << 20})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = l.Close() })
		return l
	}
	rate := func(b *testing.B, msgs int) {
		b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	}

	for _, fsync := range []commitlog.FsyncPolicy{commitlog.FsyncEveryBatch, commitlog.FsyncInterval} {
		b.Run("mode=sync/system=commitlog/fsync="+fsync.String(), func(b *testing.B) {
			l, batch := openLog(b, fsync), kiloBatch(1)
			for b.Loop() {
				if _, err := l.Append(batch); err != nil {
					b.Fatal(err)
				}
			}
			rate(b, b.N)
		})
	}
	b.Run("mode=sync/system=jetstream", func(b *testing.B) {
		_, subj := stream(b)
		for b.Loop() {
			if _, err := js.Publish(ctx, subj, payload); err != nil {
				b.Fatal(err)
			}
		}
		rate(b, b.N)
	})
	for _, fsync := range []commitlog.FsyncPolicy{commitlog.FsyncEveryBatch, commitlog.FsyncInterval} {
		b.Run("mode=batched/system=commitlog/fsync="+fsync.String(), func(b *testing.B) {
			l, batch := openLog(b, fsync), kiloBatch(100)
			for b.Loop() {
				if _, err := l.Append(batch); err != nil {
					b.Fatal(err)
				}
			}
			rate(b, 100*b.N)
		})
	}
	b.Run("mode=batched/system=jetstream", func(b *testing.B) {
		ajs, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(100))
		if err != nil {
			b.Fatal(err)
		}
		_, subj := stream(b)
		for b.Loop() {
			for range 100 {
				if _, err := ajs.PublishAsync(subj, payload); err != nil {
					b.Fatal(err)
				}
			}
		}
		select {
		case <-ajs.PublishAsyncComplete():
		case <-time.After(30 * time.Second):
			b.Fatal("async publishes not acknowledged in 30 s")
		}
		rate(b, 100*b.N)
	})

	const consumeMsgs = 20_000
	b.Run("mode=consume/system=commitlog", func(b *testing.B) {
		l, batch := openLog(b, commitlog.FsyncInterval), kiloBatch(100)
		for range consumeMsgs / 100 {
			if _, err := l.Append(batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for b.Loop() {
			for off := int64(0); off < l.EndOffset(); {
				out, err := l.Read(ctx, off, 1<<20)
				if err != nil {
					b.Fatal(err)
				}
				off += int64(len(out) / len(batch) * 100)
			}
		}
		rate(b, consumeMsgs*b.N)
	})
	b.Run("mode=consume/system=jetstream", func(b *testing.B) {
		s, subj := stream(b)
		for range consumeMsgs {
			if _, err := js.PublishAsync(subj, payload); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
		b.ResetTimer()
		for b.Loop() {
			c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			for got := 0; got < consumeMsgs; {
				msgs, err := c.FetchNoWait(1000)
				if err != nil {
					b.Fatal(err)
				}
				for range msgs.Messages() {
					got++
				}
				if err := msgs.Error(); err != nil {
					b.Fatal(err)
				}
			}
		}
		rate(b, consumeMsgs*b.N)
	})
}
