// Package recordbatch reads and writes Kafka's record batch, format v2 (magic 2): the unit a
// producer sends, a partition log stores and a consumer fetches, byte for byte. The broker never
// re-encodes a batch: it validates the header and CRC, rewrites the base offset in place (the
// CRC does not cover it, which is exactly why the field sits before the CRC) and appends the bytes.
//
// Layout (all integers big-endian):
//
//	offset  size  field
//	0       8     BaseOffset
//	8       4     BatchLength            (bytes after this field)
//	12      4     PartitionLeaderEpoch   (not covered by the CRC either: the leader sets it)
//	16      1     Magic                  (2)
//	17      4     CRC                    (CRC-32C of bytes 21..end)
//	21      2     Attributes             (compression, timestamp type, transactional, control)
//	23      4     LastOffsetDelta
//	27      8     FirstTimestamp
//	35      8     MaxTimestamp
//	43      8     ProducerID
//	51      2     ProducerEpoch
//	53      4     BaseSequence
//	57      4     RecordCount
//	61      ...   Records (varint encoded, possibly compressed)
package recordbatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Field offsets inside a batch. Named, because the broker patches some of them in place.
const (
	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// HeaderSize is the fixed part of a batch, before its records.
	HeaderSize = 61
	// LogOverhead is what precedes BatchLength's count: BaseOffset and BatchLength themselves.
	LogOverhead = 12
	// Magic is the only format version this package reads: v2, Kafka 0.11 and later.
	Magic = 2
	// MaxBatchSize bounds BatchLength so a corrupt length cannot make a reader allocate gigabytes.
	MaxBatchSize = 64 << 20
)

// Attribute bits.
const (
	CompressionMask     = 0x07
	TimestampTypeBit    = 0x08 // 0 CreateTime, 1 LogAppendTime
	TransactionalBit    = 0x10
	ControlBit          = 0x20
	DeleteHorizonBit    = 0x40
	NoProducerID        = -1
	NoSequence          = -1
	NoPartitionLeader   = -1
	compressionNone     = 0
	compressionGzip     = 1
	compressionSnappy   = 2
	compressionLZ4      = 3
	compressionZstd     = 4
	controlRecordAbort  = 0
	controlRecordCommit = 1
)

// Compression names a batch's codec.
type Compression int8

// The codecs Kafka defines. The broker validates and stores a batch of any codec without opening
// it; Records opens all of them.
const (
	None   Compression = compressionNone
	Gzip   Compression = compressionGzip
	Snappy Compression = compressionSnappy
	LZ4    Compression = compressionLZ4
	Zstd   Compression = compressionZstd
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", int8(c))
}

// Errors a malformed batch produces. Each is wrapped with the detail of what was found.
var (
	ErrShort       = errors.New("record batch: too short")
	ErrLength      = errors.New("record batch: bad batch length")
	ErrMagic       = errors.New("record batch: unsupported magic")
	ErrCRC         = errors.New("record batch: CRC mismatch")
	ErrRecord      = errors.New("record batch: malformed record")
	ErrCompression = errors.New("record batch: unsupported compression")
)

// Header is the fixed part of a v2 batch.
type Header struct {
	BaseOffset           int64
	BatchLength          int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
}

// Size is the number of bytes the whole batch occupies in a log.
func (h Header) Size() int { return LogOverhead + int(h.BatchLength) }

// LastOffset is the offset of the batch's last record.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset the batch after this one starts at.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// LastSequence is the producer sequence of the batch's last record (sequences wrap at MaxInt32).
func (h Header) LastSequence() int32 {
	if h.BaseSequence == NoSequence {
		return NoSequence
	}
	return int32((int64(h.BaseSequence) + int64(h.LastOffsetDelta)) % (1 << 31))
}

// Compression is the codec of the batch's records.
func (h Header) Compression() Compression { return Compression(h.Attributes & CompressionMask) }

// IsTransactional reports whether the batch belongs to a transaction.
func (h Header) IsTransactional() bool { return h.Attributes&TransactionalBit != 0 }

// IsControl reports whether the batch holds a transaction marker rather than data.
func (h Header) IsControl() bool { return h.Attributes&ControlBit != 0 }

// IsLogAppendTime reports whether the timestamps are the broker's, not the producer's.
func (h Header) IsLogAppendTime() bool { return h.Attributes&TimestampTypeBit != 0 }

// ParseHeader decodes the fixed part of the batch at the start of b. It checks only what it needs
// to decode safely (length, magic); Validate also checks the CRC and the record count.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrShort, len(b), HeaderSize)
	}
	h := Header{
		BaseOffset:           int64(binary.BigEndian.Uint64(b[offBaseOffset:])),
		BatchLength:          int32(binary.BigEndian.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  binary.BigEndian.Uint32(b[offCRC:]),
		Attributes:           int16(binary.BigEndian.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		FirstTimestamp:       int64(binary.BigEndian.Uint64(b[offFirstTimestamp:])),
		MaxTimestamp:         int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(binary.BigEndian.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(binary.BigEndian.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(binary.BigEndian.Uint32(b[offBaseSequence:])),
		RecordCount:          int32(binary.BigEndian.Uint32(b[offRecordCount:])),
	}
	if h.Magic != Magic {
		return h, fmt.Errorf("%w: %d, want %d", ErrMagic, h.Magic, Magic)
	}
	if h.BatchLength < HeaderSize-LogOverhead || h.BatchLength > MaxBatchSize {
		return h, fmt.Errorf("%w: %d, want %d..%d", ErrLength, h.BatchLength, HeaderSize-LogOverhead, MaxBatchSize)
	}
	return h, nil
}

// Validate checks that b starts with one complete, intact batch: its length fits in b, the magic
// is 2, the CRC-32C matches and the record count agrees with the offset range. A broker calls it
// on every batch a producer sends and on every batch it finds while recovering a log.
func Validate(b []byte) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	if h.Size() > len(b) {
		return fmt.Errorf("%w: batch needs %d bytes, have %d", ErrShort, h.Size(), len(b))
	}
	if got := Checksum(b[:h.Size()]); got != h.CRC {
		return fmt.Errorf("%w: header says %08x, bytes give %08x", ErrCRC, h.CRC, got)
	}
	if h.LastOffsetDelta < 0 || h.RecordCount < 0 || (h.RecordCount > 0 && h.LastOffsetDelta < h.RecordCount-1) {
		return fmt.Errorf("%w: %d records but last offset delta %d", ErrRecord, h.RecordCount, h.LastOffsetDelta)
	}
	return nil
}

// castagnoli is a lookup table, not mutable state: crc32.MakeTable returns the same table each call.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C a batch's header must carry: from Attributes to the end.
func Checksum(batch []byte) uint32 {
	return crc32.Checksum(batch[offAttributes:], castagnoli)
}

// SetBaseOffset rewrites the base offset of the batch at the start of b. The CRC stays valid,
// because it starts after PartitionLeaderEpoch: the broker assigns offsets without re-hashing.
func SetBaseOffset(b []byte, off int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch stamps the leader's epoch into the batch, also outside the CRC.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// Split cuts a record set (the bytes of a Produce request's records field, or of a log) into
// whole batches, validating each. A trailing partial batch is an error: a producer never sends one.
func Split(set []byte) ([][]byte, error) {
	var out [][]byte
	for len(set) > 0 {
		if err := Validate(set); err != nil {
			return nil, fmt.Errorf("batch %d: %w", len(out), err)
		}
		h, _ := ParseHeader(set)
		out = append(out, set[:h.Size():h.Size()])
		set = set[h.Size():]
	}
	return out, nil
}
