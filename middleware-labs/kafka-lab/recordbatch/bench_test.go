package recordbatch_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/segmentio/kafka-go/protocol"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// benchBatch is 100 records of 1 KiB, as kafka-go's producer encodes them.
func benchBatch(b *testing.B) []byte {
	recs := make([]protocol.Record, 100)
	for i := range recs {
		recs[i] = protocol.Record{Time: t0, Key: protocol.NewBytes([]byte("key")), Value: protocol.NewBytes(bytes.Repeat([]byte{byte(i)}, 1024))}
	}
	return kafkaGoBatch(b, 0, recs...)
}

// BenchmarkValidate is the broker's per-batch cost on produce: header, length, CRC-32C.
func BenchmarkValidate(b *testing.B) {
	batch := benchBatch(b)
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if err := recordbatch.Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode decodes every record of the batch with this package and, beside it, with
// kafka-go's reader (the well-kept implementation), so one run gives the ratio.
func BenchmarkDecode(b *testing.B) {
	batch := benchBatch(b)
	b.Run("impl=recordbatch", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		for b.Loop() {
			recs, err := recordbatch.Records(batch)
			if err != nil || len(recs) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=kafka-go", func(b *testing.B) {
		framed := append(binary.BigEndian.AppendUint32(nil, uint32(len(batch))), batch...)
		b.SetBytes(int64(len(batch)))
		for b.Loop() {
			var rs protocol.RecordSet
			if _, err := rs.ReadFrom(bytes.NewReader(framed)); err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				r, err := rs.Records.ReadRecord()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := protocol.ReadAll(r.Value); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != 100 {
				b.Fatalf("%d records", n)
			}
		}
	})
}
