package broker

import (
	"encoding/binary"
	"fmt"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// batchHeader is the part of a record batch v2 header the broker acts on.
type batchHeader struct {
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	LastOffsetDelta int32
	RecordCount     int32
}

// batchOverhead is a v2 batch header's size: everything before the records.
const batchOverhead = 61

// splitBatches cuts a produce request's records field into whole batches
// by their length prefixes.
func splitBatches(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, fmt.Errorf("%w: %d trailing bytes are not a batch header", protocol.ErrMalformed, len(b))
		}
		n := int64(binary.BigEndian.Uint32(b[8:12]))
		if n < batchOverhead-12 || n > int64(len(b)-12) {
			return nil, fmt.Errorf("%w: batch length %d with %d bytes left", protocol.ErrMalformed, n, len(b)-12)
		}
		out = append(out, b[:12+n])
		b = b[12+n:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: produce request with no record batch", protocol.ErrMalformed)
	}
	return out, nil
}

func parseBatch(b []byte) (batchHeader, error) {
	if len(b) < batchOverhead {
		return batchHeader{}, fmt.Errorf("%w: batch of %d bytes is shorter than its header", protocol.ErrMalformed, len(b))
	}
	if magic := int8(b[16]); magic != 2 {
		return batchHeader{}, fmt.Errorf("%w: record batch magic %d, want 2", protocol.ErrMalformed, magic)
	}
	return batchHeader{
		LastOffsetDelta: int32(binary.BigEndian.Uint32(b[23:27])),
		ProducerID:      int64(binary.BigEndian.Uint64(b[43:51])),
		ProducerEpoch:   int16(binary.BigEndian.Uint16(b[51:53])),
		BaseSequence:    int32(binary.BigEndian.Uint32(b[53:57])),
		RecordCount:     int32(binary.BigEndian.Uint32(b[57:61])),
	}, nil
}
