package recordbatch_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/segmentio/kafka-go/protocol"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// FuzzRecordBatch feeds the decoder arbitrary bytes twice: as they are, which mostly stops at the
// length and CRC checks, and with the length and CRC fixed up, so the mutations reach the varint
// record decoder and the decompressors. Either way a malformed batch must be an error, not a panic.
func FuzzRecordBatch(f *testing.F) {
	f.Add(recordbatch.Build(recordbatch.Header{}, []recordbatch.Record{{Key: []byte("k"), Value: []byte("v"), Headers: []recordbatch.RecordHeader{{Key: "h", Value: nil}}}}))
	f.Add(recordbatch.BuildControl(1, 0, recordbatch.ControlCommit, 0, 1))
	for _, attrs := range []protocol.Attributes{0, protocol.Gzip, protocol.Snappy, protocol.Lz4, protocol.Zstd} {
		f.Add(kafkaGoBatch(f, attrs, sampleRecords()...))
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, recordbatch.HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		if len(b) >= recordbatch.HeaderSize {
			fixed := bytes.Clone(b)
			fixed[16] = recordbatch.Magic
			binary.BigEndian.PutUint32(fixed[8:], uint32(len(fixed)-recordbatch.LogOverhead))
			binary.BigEndian.PutUint32(fixed[17:], recordbatch.Checksum(fixed))
			check(t, fixed)
		}
	})
}

func check(t *testing.T, b []byte) {
	t.Helper()
	_, _ = recordbatch.Split(b)
	if recordbatch.Validate(b) != nil {
		return
	}
	h, err := recordbatch.ParseHeader(b)
	if err != nil {
		t.Fatalf("Validate accepted what ParseHeader refuses: %v", err)
	}
	recs, err := recordbatch.Records(b)
	if err != nil {
		return
	}
	if len(recs) != int(h.RecordCount) {
		t.Fatalf("%d records decoded, header says %d", len(recs), h.RecordCount)
	}
	// What decodes re-encodes to a batch that decodes to the same records.
	again, err := recordbatch.Records(recordbatch.Build(recordbatch.Header{FirstTimestamp: h.FirstTimestamp}, recs))
	if err != nil {
		t.Fatalf("re-encoded batch does not decode: %v", err)
	}
	for i := range recs {
		if !bytes.Equal(recs[i].Key, again[i].Key) || !bytes.Equal(recs[i].Value, again[i].Value) || (recs[i].Key == nil) != (again[i].Key == nil) || len(recs[i].Headers) != len(again[i].Headers) {
			t.Fatalf("record %d changed in a round trip", i)
		}
	}
}
