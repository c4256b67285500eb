package broker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, addr, topic string, n, from int) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond, Transport: tr}
	defer w.Close()
	var msgs []kafka.Message
	for i := from; i < from+n; i++ {
		msgs = append(msgs, kafka.Message{Value: []byte(fmt.Sprintf("m%03d", i))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, w.WriteMessages(ctx, msgs...))
}

func groupReader(addr, topic, group string) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, GroupID: group,
		MaxWait: 50 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second,
		RebalanceTimeout: 2 * time.Second, CommitInterval: 0, StartOffset: kafka.FirstOffset})
}

// consume reads until want distinct values arrived (or the deadline),
// committing each message, and records who read what.
func consume(ctx context.Context, r *kafka.Reader, seen *sync.Map, want int, counter *sync.WaitGroup) {
	defer counter.Done()
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return
		}
		seen.Store(string(m.Value), m.Partition)
		if err := r.CommitMessages(ctx, m); err != nil {
			return
		}
		n := 0
		seen.Range(func(any, any) bool { n++; return true })
		if n >= want {
			return
		}
	}
}

func TestConsumerGroupSharesPartitionsAndCommits(t *testing.T) {
	b, addr := start(t)
	require.NoError(t, b.CreateTopic("events", 4))
	write(t, addr, "events", 80, 0)

	r1, r2 := groupReader(addr, "events", "billing"), groupReader(addr, "events", "billing")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var seen sync.Map
	var wg sync.WaitGroup
	wg.Add(2)
	go consume(ctx, r1, &seen, 80, &wg)
	go consume(ctx, r2, &seen, 80, &wg)
	// Both finish only when all 80 arrived between them: one stops at 80,
	// the other when the context ends or it sees 80 too.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		seen.Range(func(any, any) bool { n++; return true })
		if n == 80 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	n := 0
	seen.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 80, n, "every message consumed by the group")
	require.NoError(t, r1.Close())
	require.NoError(t, r2.Close())

	var committed int64
	for p := range int32(4) {
		committed += b.Group.Committed("billing", "events", p)
	}
	assert.Equal(t, int64(80), committed, "committed offsets add up to the messages (20 per partition)")
	assert.GreaterOrEqual(t, b.Group.Rebalances(), int64(1))

	// A new member of the same group starts from the committed offsets: it
	// sees only what is written after.
	write(t, addr, "events", 8, 80)
	r3 := groupReader(addr, "events", "billing")
	defer r3.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 8 {
		m, err := r3.ReadMessage(ctx)
		require.NoError(t, err)
		var i int
		_, err = fmt.Sscanf(string(m.Value), "m%03d", &i)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, i, 80, "resumes after the committed offset")
	}
}
