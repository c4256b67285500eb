package broker_test

import (
	"net"
	"testing"
	"time"

	kproto "github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/fetch"
	"github.com/segmentio/kafka-go/protocol/produce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// fetchV5 sends one Fetch v5 for partition 0 of "t" from offset and
// returns the partition's answer and how long the broker held it.
func fetchV5(t *testing.T, c net.Conn, offset int64, maxWait time.Duration) (fetch.ResponsePartition, time.Duration) {
	t.Helper()
	start := time.Now()
	send(t, c, protocol.Fetch, 5, func(e *protocol.Encoder) {
		e.Int32(-1)
		e.Int32(int32(maxWait.Milliseconds()))
		e.Int32(1) // min bytes
		e.Int32(1 << 20)
		e.Int8(0)
		e.ArrayLen(1)
		e.String("t")
		e.ArrayLen(1)
		e.Int32(0)
		e.Int64(offset)
		e.Int64(-1)
		e.Int32(1 << 20)
	})
	_, msg, err := kproto.ReadResponse(c, kproto.Fetch, 5)
	require.NoError(t, err)
	return msg.(*fetch.Response).Topics[0].Partitions[0], time.Since(start)
}

func TestFetchLongPollsUntilDataOrMaxWait(t *testing.T) {
	b, addr := start(t)
	require.NoError(t, b.CreateTopic("t", 1))
	c := dial(t, addr)

	// Nothing to read: the broker holds the request for max_wait.
	p, held := fetchV5(t, c, 0, 300*time.Millisecond)
	assert.Zero(t, p.ErrorCode)
	assert.GreaterOrEqual(t, held, 300*time.Millisecond)
	assert.Equal(t, int64(0), p.HighWatermark)

	// A produce while the fetch waits wakes it long before max_wait.
	pc := dial(t, addr)
	produced := make(chan produce.ResponsePartition, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		produced <- produceBatch(t, pc, -1, -1, 2)
	}()
	p, held = fetchV5(t, c, 0, 3*time.Second)
	assert.Zero(t, (<-produced).ErrorCode)
	assert.Zero(t, p.ErrorCode)
	assert.Less(t, held, 2*time.Second, "woken by the append, not by max_wait")
	assert.Equal(t, int64(2), p.HighWatermark)

	// Past the end is OFFSET_OUT_OF_RANGE, at once.
	p, held = fetchV5(t, c, 7, 3*time.Second)
	assert.Equal(t, int16(protocol.OffsetOutOfRange), p.ErrorCode)
	assert.Less(t, held, 2*time.Second)
}
