package recordbatch_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/segmentio/kafka-go/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// kafkaGoBatch encodes records the way kafka-go's producer does, with kafka-go's own encoder, and
// returns the batch without the record set's 4-byte size prefix.
func kafkaGoBatch(t testing.TB, attrs protocol.Attributes, recs ...protocol.Record) []byte {
	t.Helper()
	rs := protocol.RecordSet{Version: 2, Attributes: attrs, Records: protocol.NewRecordReader(recs...)}
	var buf bytes.Buffer
	_, err := rs.WriteTo(&buf)
	require.NoError(t, err)
	return buf.Bytes()[4:]
}

var t0 = time.UnixMilli(1_764_590_400_000)

func sampleRecords() []protocol.Record {
	return []protocol.Record{
		{Time: t0, Key: protocol.NewBytes([]byte("order-1")), Value: protocol.NewBytes([]byte("created"))},
		{Time: t0.Add(5 * time.Millisecond), Key: nil, Value: protocol.NewBytes(bytes.Repeat([]byte("x"), 1000)),
			Headers: []protocol.Header{{Key: "trace", Value: []byte("abc")}, {Key: "empty", Value: []byte{}}}},
		{Time: t0.Add(2 * time.Millisecond), Key: protocol.NewBytes([]byte{}), Value: nil},
	}
}

func TestKafkaGoBatches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs protocol.Attributes
		want  recordbatch.Compression
	}{
		{"none", 0, recordbatch.None},
		{"gzip", protocol.Gzip, recordbatch.Gzip},
		{"snappy", protocol.Snappy, recordbatch.Snappy},
		{"lz4", protocol.Lz4, recordbatch.LZ4},
		{"zstd", protocol.Zstd, recordbatch.Zstd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := kafkaGoBatch(t, tc.attrs, sampleRecords()...)
			require.NoError(t, recordbatch.Validate(b))
			h, err := recordbatch.ParseHeader(b)
			require.NoError(t, err)
			assert.Equal(t, len(b), h.Size())
			assert.EqualValues(t, 2, h.Magic)
			assert.Equal(t, tc.want, h.Compression())
			assert.EqualValues(t, 3, h.RecordCount)
			assert.EqualValues(t, 2, h.LastOffsetDelta)
			assert.Equal(t, t0.UnixMilli(), h.FirstTimestamp)
			assert.Equal(t, t0.UnixMilli()+5, h.MaxTimestamp)
			assert.EqualValues(t, -1, h.ProducerID)
			assert.EqualValues(t, -1, h.BaseSequence)
			assert.Equal(t, recordbatch.Checksum(b), h.CRC)

			recs, err := recordbatch.Records(b)
			require.NoError(t, err)
			require.Len(t, recs, 3)
			assert.Equal(t, []byte("order-1"), recs[0].Key)
			assert.Equal(t, []byte("created"), recs[0].Value)
			assert.Nil(t, recs[1].Key, "a null key stays null")
			assert.Len(t, recs[1].Value, 1000)
			assert.Equal(t, []recordbatch.RecordHeader{{Key: "trace", Value: []byte("abc")}, {Key: "empty", Value: []byte{}}}, recs[1].Headers)
			assert.Equal(t, []byte{}, recs[2].Key, "an empty key is not a null key")
			assert.Nil(t, recs[2].Value, "a tombstone")
			for i, r := range recs {
				assert.EqualValues(t, i, r.Offset)
			}
			assert.Equal(t, t0.UnixMilli()+5, recs[1].Timestamp)
			assert.Equal(t, t0.UnixMilli()+2, recs[2].Timestamp)
		})
	}
}

// kafkaGoRecord is what kafka-go's reader saw of one record, copied out: the reader reuses its
// Record between calls.
type kafkaGoRecord struct {
	Offset  int64
	Time    time.Time
	Key     []byte
	Value   []byte
	Headers []protocol.Header
}

// readWithKafkaGo decodes a batch with kafka-go's reader: proof that a consumer reads our bytes.
func readWithKafkaGo(t *testing.T, b []byte) []kafkaGoRecord {
	t.Helper()
	var rs protocol.RecordSet
	framed := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	_, err := rs.ReadFrom(bytes.NewReader(append(framed, b...)))
	require.NoError(t, err)
	var out []kafkaGoRecord
	for {
		r, err := rs.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		k, err := protocol.ReadAll(r.Key)
		require.NoError(t, err)
		v, err := protocol.ReadAll(r.Value)
		require.NoError(t, err)
		out = append(out, kafkaGoRecord{Offset: r.Offset, Time: r.Time, Key: k, Value: v, Headers: r.Headers})
	}
}

func TestBuildReadByKafkaGo(t *testing.T) {
	b := recordbatch.Build(recordbatch.Header{
		BaseOffset: 42, ProducerID: 7, ProducerEpoch: 1, BaseSequence: 100, PartitionLeaderEpoch: 3,
	}, []recordbatch.Record{
		{Key: []byte("k0"), Value: []byte("v0"), Timestamp: t0.UnixMilli()},
		{Key: nil, Value: []byte("v1"), Timestamp: t0.UnixMilli() + 9, Headers: []recordbatch.RecordHeader{{Key: "h", Value: []byte("1")}}},
	})
	require.NoError(t, recordbatch.Validate(b))
	h, err := recordbatch.ParseHeader(b)
	require.NoError(t, err)
	assert.EqualValues(t, 42, h.BaseOffset)
	assert.EqualValues(t, 43, h.LastOffset())
	assert.EqualValues(t, 101, h.LastSequence())
	assert.EqualValues(t, 3, h.PartitionLeaderEpoch)

	got := readWithKafkaGo(t, b)
	require.Len(t, got, 2)
	assert.EqualValues(t, 42, got[0].Offset)
	assert.EqualValues(t, 43, got[1].Offset)
	assert.Equal(t, t0.UnixMilli()+9, got[1].Time.UnixMilli())
	assert.Equal(t, []byte("k0"), got[0].Key)
	assert.Equal(t, []byte("v1"), got[1].Value)
	assert.Nil(t, got[1].Key)
	assert.Equal(t, []protocol.Header{{Key: "h", Value: []byte("1")}}, got[1].Headers)
}

func TestSetBaseOffsetKeepsCRC(t *testing.T) {
	b := kafkaGoBatch(t, 0, sampleRecords()...)
	recordbatch.SetBaseOffset(b, 1_000_000)
	recordbatch.SetPartitionLeaderEpoch(b, 9)
	require.NoError(t, recordbatch.Validate(b), "neither field is under the CRC")
	recs, err := recordbatch.Records(b)
	require.NoError(t, err)
	assert.EqualValues(t, 1_000_002, recs[2].Offset)
	got := readWithKafkaGo(t, b)
	assert.EqualValues(t, 1_000_000, got[0].Offset)
}

func TestMalformed(t *testing.T) {
	good := kafkaGoBatch(t, 0, sampleRecords()...)
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, recordbatch.ErrShort},
		{"header cut", good[:recordbatch.HeaderSize-1], recordbatch.ErrShort},
		{"body cut", good[:len(good)-1], recordbatch.ErrShort},
		{"magic 1", mutate(func(b []byte) []byte { b[16] = 1; return b }), recordbatch.ErrMagic},
		{"negative length", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 0xFFFFFFF0); return b }), recordbatch.ErrLength},
		{"huge length", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 1<<30); return b }), recordbatch.ErrLength},
		{"flipped value byte", mutate(func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), recordbatch.ErrCRC},
		{"flipped attributes", mutate(func(b []byte) []byte { b[22] ^= 0x10; return b }), recordbatch.ErrCRC},
		{"flipped producer id", mutate(func(b []byte) []byte { b[50] ^= 1; return b }), recordbatch.ErrCRC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := recordbatch.Validate(tc.b)
			require.ErrorIs(t, err, tc.want)
			_, err = recordbatch.Records(tc.b)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// withCRC fixes a batch's length and CRC after a test edits its records, so the edit reaches the
// record decoder instead of stopping at the checksum.
func withCRC(b []byte) []byte {
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-recordbatch.LogOverhead))
	binary.BigEndian.PutUint32(b[17:], recordbatch.Checksum(b))
	return b
}

func TestMalformedRecords(t *testing.T) {
	good := recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{{Key: []byte("k"), Value: []byte("v")}})
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"record count beyond the bytes", func(b []byte) []byte { binary.BigEndian.PutUint32(b[57:], 1<<30); return b }},
		{"two records claimed, one present", func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[57:], 2)
			binary.BigEndian.PutUint32(b[23:], 1)
			return b
		}},
		{"trailing garbage", func(b []byte) []byte { return append(b, 0) }},
		{"record length past the end", func(b []byte) []byte { b[recordbatch.HeaderSize] = 0x7e; return b }},
		{"value length past the record", func(b []byte) []byte { b[len(b)-3] = 0x40; return b }},
		{"negative header count", func(b []byte) []byte { b[len(b)-1] = 0x01; return b }},
		{"compressed with codec 6", func(b []byte) []byte { b[22] |= 6; return b }},
		{"gzip that is not gzip", func(b []byte) []byte { b[22] |= 1; return b }},
		{"last offset delta below the count", func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[57:], 5)
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := withCRC(tc.edit(bytes.Clone(good)))
			_, err := recordbatch.Records(b)
			require.Error(t, err)
			assert.True(t, errors.Is(err, recordbatch.ErrRecord) || errors.Is(err, recordbatch.ErrCompression) || errors.Is(err, recordbatch.ErrShort), "got %v", err)
		})
	}
}

func TestSplit(t *testing.T) {
	a := kafkaGoBatch(t, 0, sampleRecords()...)
	b := recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{{Value: []byte("x")}})
	parts, err := recordbatch.Split(append(bytes.Clone(a), b...))
	require.NoError(t, err)
	require.Len(t, parts, 2)
	assert.Equal(t, a, parts[0])
	assert.Equal(t, b, parts[1])

	_, err = recordbatch.Split(append(bytes.Clone(a), b[:30]...))
	require.ErrorIs(t, err, recordbatch.ErrShort)
	parts, err = recordbatch.Split(nil)
	require.NoError(t, err)
	assert.Empty(t, parts)
}

func TestControlBatch(t *testing.T) {
	for _, typ := range []recordbatch.ControlType{recordbatch.ControlCommit, recordbatch.ControlAbort} {
		b := recordbatch.BuildControl(5, 2, typ, 11, t0.UnixMilli())
		h, err := recordbatch.ParseHeader(b)
		require.NoError(t, err)
		assert.True(t, h.IsControl())
		assert.True(t, h.IsTransactional())
		recs, err := recordbatch.Records(b)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		got, err := recordbatch.ParseControl(recs[0])
		require.NoError(t, err)
		assert.Equal(t, typ, got)
	}
	_, err := recordbatch.ParseControl(recordbatch.Record{Key: []byte{0, 0, 0, 9}})
	require.ErrorIs(t, err, recordbatch.ErrRecord)
}

func TestBuildEmptyAndDefaults(t *testing.T) {
	b := recordbatch.Build(recordbatch.Header{FirstTimestamp: 77}, []recordbatch.Record{{Value: []byte("a")}, {Value: []byte("b"), Timestamp: 70}})
	h, err := recordbatch.ParseHeader(b)
	require.NoError(t, err)
	assert.EqualValues(t, 77, h.FirstTimestamp)
	assert.EqualValues(t, 77, h.MaxTimestamp, "an earlier record does not lower the max")
	recs, err := recordbatch.Records(b)
	require.NoError(t, err)
	assert.EqualValues(t, 77, recs[0].Timestamp)
	assert.EqualValues(t, 70, recs[1].Timestamp)
}
