package broker_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	kproto "github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/apiversions"
	"github.com/segmentio/kafka-go/protocol/initproducerid"
	"github.com/segmentio/kafka-go/protocol/produce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	return c
}

// send writes one request frame: header v1 and body.
func send(t *testing.T, c net.Conn, key protocol.ApiKey, v int16, body func(e *protocol.Encoder)) {
	t.Helper()
	var e protocol.Encoder
	e.Int16(int16(key))
	e.Int16(v)
	e.Int32(1)
	e.String("wire-test")
	body(&e)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(e.Bytes())))
	_, err := c.Write(append(frame, e.Bytes()...))
	require.NoError(t, err)
}

// produceBatch sends one idempotent batch of n records and returns the
// partition's answer as kafka-go decodes it.
func produceBatch(t *testing.T, c net.Conn, pid int64, seq int32, n int) produce.ResponsePartition {
	t.Helper()
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Value: []byte("v"), Timestamp: 1}
	}
	batch := recordbatch.Build(recordbatch.Header{ProducerID: pid, BaseSequence: seq}, recs)
	send(t, c, protocol.Produce, 3, func(e *protocol.Encoder) {
		e.NullableString("", false)
		e.Int16(-1)
		e.Int32(1000)
		e.ArrayLen(1)
		e.String("t")
		e.ArrayLen(1)
		e.Int32(0)
		e.BytesField(batch)
	})
	_, msg, err := kproto.ReadResponse(c, kproto.Produce, 3)
	require.NoError(t, err)
	return msg.(*produce.Response).Topics[0].Partitions[0]
}

func TestIdempotentProducerRetriesAreWrittenOnceAndGapsRefused(t *testing.T) {
	b, addr := start(t)
	require.NoError(t, b.CreateTopic("t", 1))
	c := dial(t, addr)
	send(t, c, protocol.InitProducerID, 1, func(e *protocol.Encoder) { e.NullableString("", false); e.Int32(1000) })
	_, msg, err := kproto.ReadResponse(c, kproto.InitProducerId, 1)
	require.NoError(t, err)
	pid := msg.(*initproducerid.Response).ProducerID
	require.Positive(t, pid)

	tests := []struct {
		name     string
		seq      int32
		wantCode protocol.ErrorCode
		wantBase int64
		wantHW   int64
	}{
		{"first batch", 0, protocol.None, 0, 3},
		{"the same batch retried", 0, protocol.None, 0, 3},
		{"a gap in the sequence", 5, protocol.OutOfOrderSequenceNumber, -1, 3},
		{"the next batch", 3, protocol.None, 3, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := produceBatch(t, c, pid, tc.seq, 3)
			assert.Equal(t, int16(tc.wantCode), p.ErrorCode)
			assert.Equal(t, tc.wantBase, p.BaseOffset)
			assert.Equal(t, []int64{tc.wantHW}, b.HighWatermarks("t"))
		})
	}
	assert.Equal(t, int64(1), b.Stats().DuplicateBatches.Load())
}

func TestApiVersionsAtAnUnknownVersionGetsUnsupportedVersionAndTheList(t *testing.T) {
	_, addr := start(t)
	c := dial(t, addr)
	send(t, c, protocol.ApiVersions, 3, func(e *protocol.Encoder) {})
	_, msg, err := kproto.ReadResponse(c, kproto.ApiVersions, 0)
	require.NoError(t, err)
	res := msg.(*apiversions.Response)
	assert.Equal(t, int16(protocol.UnsupportedVersion), res.ErrorCode)
	assert.Len(t, res.ApiKeys, len(protocol.SupportedVersions()))

	// The connection stays usable at a version the list offers.
	send(t, c, protocol.ApiVersions, 2, func(e *protocol.Encoder) {})
	_, msg, err = kproto.ReadResponse(c, kproto.ApiVersions, 2)
	require.NoError(t, err)
	assert.Zero(t, msg.(*apiversions.Response).ErrorCode)
}

func TestAMalformedFrameClosesTheConnection(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
	}{
		{"truncated heartbeat body", append(binary.BigEndian.AppendUint32(nil, 12), 0, 12, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1)},
		{"unsupported produce version", append(binary.BigEndian.AppendUint32(nil, 10), 0, 0, 0, 9, 0, 0, 0, 1, 0, 0)},
		{"size prefix past the limit", binary.BigEndian.AppendUint32(nil, 1<<30)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, addr := start(t)
			c := dial(t, addr)
			_, err := c.Write(tc.raw)
			require.NoError(t, err)
			_, err = c.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "the broker hangs up")
			assert.Equal(t, int64(1), b.Stats().MalformedFrames.Load())
		})
	}
}
