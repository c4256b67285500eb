package recordbatch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/segmentio/kafka-go/compress"
)

// Record is one message inside a batch. Offset and Timestamp are absolute: Records adds the
// batch's base offset and first timestamp to the deltas stored on the wire.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Offset         int64
	Timestamp      int64
	Key            []byte // nil is a null key (length -1), distinct from an empty one
	Value          []byte // nil is a null value: a tombstone in a compacted topic
	Headers        []RecordHeader
}

// RecordHeader is one key/value pair of a record's headers.
type RecordHeader struct {
	Key   string
	Value []byte
}

// maxDecompressed bounds what a compressed batch may expand to: a zip bomb is bad input too.
const maxDecompressed = MaxBatchSize

// Records decodes the records of the batch at the start of b. It validates the batch first, so
// every length it trusts has passed the CRC; a record that still does not fit is ErrRecord.
// For an uncompressed batch the keys, values and header values alias b, without copying: copy
// them before reusing b.
func Records(b []byte) ([]Record, error) {
	if err := Validate(b); err != nil {
		return nil, err
	}
	h, _ := ParseHeader(b)
	body := b[HeaderSize:h.Size()]
	if c := h.Compression(); c != None {
		raw, err := decompress(c, body)
		if err != nil {
			return nil, err
		}
		body = raw
	}
	// A record takes at least 7 bytes, so a count beyond that is a lie: refuse before allocating.
	if int(h.RecordCount) > len(body)/7+1 {
		return nil, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrRecord, h.RecordCount, len(body))
	}
	recs := make([]Record, 0, h.RecordCount)
	d := decoder{b: body}
	for i := int32(0); i < h.RecordCount; i++ {
		r, err := d.record()
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if r.OffsetDelta < 0 || r.OffsetDelta > h.LastOffsetDelta {
			return nil, fmt.Errorf("record %d: %w: offset delta %d outside 0..%d", i, ErrRecord, r.OffsetDelta, h.LastOffsetDelta)
		}
		r.Offset = h.BaseOffset + int64(r.OffsetDelta)
		r.Timestamp = h.FirstTimestamp + r.TimestampDelta
		recs = append(recs, r)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrRecord, len(d.b))
	}
	return recs, nil
}

// decompress opens a compressed records section with kafka-go's codecs (gzip, xerial-framed
// snappy, lz4 frames, zstd): the codecs are not this lab's lesson, the batch format is.
func decompress(c Compression, body []byte) ([]byte, error) {
	codec := compress.Compression(c).Codec()
	if codec == nil {
		return nil, fmt.Errorf("%w: %s", ErrCompression, c)
	}
	zr := codec.NewReader(bytes.NewReader(body))
	defer func() { _ = zr.Close() }()
	raw, err := io.ReadAll(io.LimitReader(zr, maxDecompressed+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRecord, c, err)
	}
	if len(raw) > maxDecompressed {
		return nil, fmt.Errorf("%w: %s expands beyond %d bytes", ErrRecord, c, maxDecompressed)
	}
	return raw, nil
}

// decoder reads varint fields off the front of a byte slice; every read checks what is left.
type decoder struct{ b []byte }

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", ErrRecord)
	}
	d.b = d.b[n:]
	return v, nil
}

// bytes reads a varint length and that many bytes; -1 is null.
func (d *decoder) bytes() ([]byte, error) {
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n == -1 {
		return nil, nil
	}
	if n < 0 || n > int64(len(d.b)) {
		return nil, fmt.Errorf("%w: length %d with %d bytes left", ErrRecord, n, len(d.b))
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) record() (Record, error) {
	length, err := d.varint()
	if err != nil {
		return Record{}, err
	}
	if length < 0 || length > int64(len(d.b)) {
		return Record{}, fmt.Errorf("%w: record length %d with %d bytes left", ErrRecord, length, len(d.b))
	}
	rest := d.b[length:]
	rd := decoder{b: d.b[:length]}
	d.b = rest
	if len(rd.b) < 1 {
		return Record{}, fmt.Errorf("%w: empty record", ErrRecord)
	}
	var r Record
	r.Attributes = int8(rd.b[0])
	rd.b = rd.b[1:]
	if r.TimestampDelta, err = rd.varint(); err != nil {
		return Record{}, err
	}
	od, err := rd.varint()
	if err != nil {
		return Record{}, err
	}
	if od < 0 || od > 1<<31-1 {
		return Record{}, fmt.Errorf("%w: offset delta %d", ErrRecord, od)
	}
	r.OffsetDelta = int32(od)
	if r.Key, err = rd.bytes(); err != nil {
		return Record{}, err
	}
	if r.Value, err = rd.bytes(); err != nil {
		return Record{}, err
	}
	nh, err := rd.varint()
	if err != nil {
		return Record{}, err
	}
	// A header takes at least 2 bytes (two lengths).
	if nh < 0 || nh > int64(len(rd.b))/2 {
		return Record{}, fmt.Errorf("%w: %d headers with %d bytes left", ErrRecord, nh, len(rd.b))
	}
	if nh > 0 {
		r.Headers = make([]RecordHeader, 0, nh)
	}
	for range nh {
		k, err := rd.bytes()
		if err != nil {
			return Record{}, err
		}
		if k == nil {
			return Record{}, fmt.Errorf("%w: null header key", ErrRecord)
		}
		v, err := rd.bytes()
		if err != nil {
			return Record{}, err
		}
		r.Headers = append(r.Headers, RecordHeader{Key: string(k), Value: v})
	}
	if len(rd.b) != 0 {
		return Record{}, fmt.Errorf("%w: %d bytes after the record's headers", ErrRecord, len(rd.b))
	}
	return r, nil
}

// Build encodes records as one uncompressed v2 batch. The caller sets the producer fields in h
// (ProducerID, ProducerEpoch, BaseSequence, Attributes, BaseOffset, PartitionLeaderEpoch); Build
// derives the rest. Records get consecutive offset deltas 0..n-1; a record's Timestamp is absolute
// (0 means h.FirstTimestamp), and FirstTimestamp defaults to the first record's.
func Build(h Header, records []Record) []byte {
	first := h.FirstTimestamp
	if first == 0 && len(records) > 0 {
		first = records[0].Timestamp
	}
	maxTS := first
	body := make([]byte, 0, len(records)*32)
	var rec []byte
	for i, r := range records {
		ts := r.Timestamp
		if ts == 0 {
			ts = first
		}
		maxTS = max(maxTS, ts)
		rec = rec[:0]
		rec = append(rec, byte(r.Attributes))
		rec = binary.AppendVarint(rec, ts-first)
		rec = binary.AppendVarint(rec, int64(i))
		rec = appendBytes(rec, r.Key)
		rec = appendBytes(rec, r.Value)
		rec = binary.AppendVarint(rec, int64(len(r.Headers)))
		for _, hd := range r.Headers {
			rec = appendBytes(rec, []byte(hd.Key))
			rec = appendBytes(rec, hd.Value)
		}
		body = binary.AppendVarint(body, int64(len(rec)))
		body = append(body, rec...)
	}
	b := make([]byte, HeaderSize, HeaderSize+len(body))
	b = append(b, body...)
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead))
	be.PutUint32(b[offLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[offMagic] = Magic
	// Build writes uncompressed records, whatever codec bits the caller left in Attributes.
	be.PutUint16(b[offAttributes:], uint16(h.Attributes&^CompressionMask))
	be.PutUint32(b[offLastOffsetDelta:], uint32(max(len(records)-1, 0)))
	be.PutUint64(b[offFirstTimestamp:], uint64(first))
	be.PutUint64(b[offMaxTimestamp:], uint64(maxTS))
	be.PutUint64(b[offProducerID:], uint64(h.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.BaseSequence))
	be.PutUint32(b[offRecordCount:], uint32(len(records)))
	be.PutUint32(b[offCRC:], Checksum(b))
	return b
}

func appendBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	b = binary.AppendVarint(b, int64(len(v)))
	return append(b, v...)
}

// ControlType is what a transaction marker says.
type ControlType int16

// The two transaction markers.
const (
	ControlAbort  ControlType = controlRecordAbort
	ControlCommit ControlType = controlRecordCommit
)

// BuildControl encodes a transaction marker: a control batch holding one record whose key is
// (version 0, type) and whose value is (version 0, coordinator epoch). The transaction
// coordinator writes one to every partition a transaction touched when it commits or aborts.
func BuildControl(producerID int64, producerEpoch int16, t ControlType, coordinatorEpoch int32, timestamp int64) []byte {
	key := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 0), uint16(t))
	val := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint16(nil, 0), uint32(coordinatorEpoch))
	return Build(Header{
		Attributes:    TransactionalBit | ControlBit,
		ProducerID:    producerID,
		ProducerEpoch: producerEpoch,
		BaseSequence:  NoSequence,
	}, []Record{{Key: key, Value: val, Timestamp: timestamp}})
}

// ParseControl reads the marker type out of a control record's key.
func ParseControl(r Record) (ControlType, error) {
	if len(r.Key) < 4 {
		return 0, fmt.Errorf("%w: control key of %d bytes, want 4", ErrRecord, len(r.Key))
	}
	t := ControlType(binary.BigEndian.Uint16(r.Key[2:]))
	if t != ControlAbort && t != ControlCommit {
		return 0, fmt.Errorf("%w: control type %d, want 0 (abort) or 1 (commit)", ErrRecord, t)
	}
	return t, nil
}
