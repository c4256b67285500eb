package broker_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/broker"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// serveOn runs a broker over the logs in dir until stop is called.
func serveOn(t *testing.T, dir string) (b *broker.Broker, addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	offsets, err := broker.OpenOffsetLog(filepath.Join(dir, "__consumer_offsets"))
	require.NoError(t, err)
	b, err = broker.New(broker.Config{NodeID: 1, Open: broker.DiskLogs(dir, 1, commitlog.Options{}),
		Group: group.Config{Offsets: offsets}})
	require.NoError(t, err)
	topics, err := broker.DiskTopics(dir)
	require.NoError(t, err)
	for name, n := range topics {
		require.NoError(t, b.CreateTopic(name, n))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	return b, ln.Addr().String(), func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, offsets.Close())
	}
}

func TestARestartedBrokerServesWhatItAcknowledged(t *testing.T) {
	dir := t.TempDir()
	b, addr, stop := serveOn(t, dir)
	tr := &kafka.Transport{}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "kept", Transport: tr, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll,
		AllowAutoTopicCreation: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("one")}, kafka.Message{Value: []byte("two")}),
		"the topic is created on first use")
	require.NoError(t, w.Close())
	tr.CloseIdleConnections()
	res := b.Group.Commit(&protocol.OffsetCommitRequest{GroupID: "readers", GenerationID: -1,
		Topics: []protocol.OffsetCommitTopic{{Name: "kept", Partitions: []protocol.OffsetCommitPartition{{Partition: 0, Offset: 1}}}}})
	require.Equal(t, protocol.None, res.Topics[0].Partitions[0].ErrorCode)
	stop()

	topics, err := broker.DiskTopics(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]int32{"kept": 1}, topics)

	b, addr, stop = serveOn(t, dir)
	defer stop()
	assert.Equal(t, int64(1), b.Group.Committed("readers", "kept", 0), "the commit is replayed from __consumer_offsets")
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "kept", MaxWait: 20 * time.Millisecond})
	defer r.Close()
	for _, want := range []string{"one", "two"} {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(m.Value))
	}
}
