package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrCorruptRecord wraps every decoding failure of a redo record or catalog.
var ErrCorruptRecord = errors.New("storage: corrupt redo record")

// Redo record types. The log is logical: it records what a transaction wrote
// (put key=val into tree, delete key), not which bytes of which pages changed.
// Replaying a record is idempotent (a put overwrites, a delete of a missing
// key does nothing), which is what lets recovery start from a checkpoint that
// may already contain some of the records after it.
const (
	recCommit byte = 1
	recCreate byte = 2
	recDrop   byte = 3
)

const (
	opPut    byte = 1
	opDelete byte = 2
)

type op struct {
	kind byte
	tree string
	key  []byte
	val  []byte
}

type record struct {
	kind byte
	txn  uint64
	name string // create, drop
	ops  []op   // commit
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func encodeRecord(r record) []byte {
	b := []byte{r.kind}
	switch r.kind {
	case recCommit:
		b = binary.AppendUvarint(b, r.txn)
		b = binary.AppendUvarint(b, uint64(len(r.ops)))
		for _, o := range r.ops {
			b = append(b, o.kind)
			b = appendBytes(b, []byte(o.tree))
			b = appendBytes(b, o.key)
			if o.kind == opPut {
				b = appendBytes(b, o.val)
			}
		}
	default:
		b = appendBytes(b, []byte(r.name))
	}
	return b
}

// reader decodes fields with bounds checks: these bytes come from disk.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrCorruptRecord)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: field of %d bytes, %d left", ErrCorruptRecord, n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("%w: truncated", ErrCorruptRecord)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func decodeRecord(b []byte) (record, error) {
	r := &reader{b: b}
	rec := record{kind: r.byte()}
	switch rec.kind {
	case recCommit:
		rec.txn = r.uvarint()
		n := r.uvarint()
		if r.err == nil && n > uint64(len(r.b)) { // every op takes at least a byte
			return record{}, fmt.Errorf("%w: %d ops in %d bytes", ErrCorruptRecord, n, len(r.b))
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			o := op{kind: r.byte(), tree: string(r.bytes()), key: r.bytes()}
			switch o.kind {
			case opPut:
				o.val = r.bytes()
			case opDelete:
			default:
				if r.err == nil {
					r.err = fmt.Errorf("%w: op kind %d", ErrCorruptRecord, o.kind)
				}
			}
			rec.ops = append(rec.ops, o)
		}
	case recCreate, recDrop:
		rec.name = string(r.bytes())
	default:
		if r.err == nil {
			r.err = fmt.Errorf("%w: record type %d", ErrCorruptRecord, rec.kind)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrCorruptRecord, len(r.b))
	}
	if r.err != nil {
		return record{}, r.err
	}
	return rec, nil
}

// catalogEntry is one tree in the catalog, kept in the data file's meta page.
type catalogEntry struct {
	name  string
	root  uint64
	count int64
}

func encodeCatalog(entries []catalogEntry) []byte {
	slices.SortFunc(entries, func(a, b catalogEntry) int { return strings.Compare(a.name, b.name) })
	b := binary.AppendUvarint(nil, uint64(len(entries)))
	for _, e := range entries {
		b = appendBytes(b, []byte(e.name))
		b = binary.AppendUvarint(b, e.root)
		b = binary.AppendUvarint(b, uint64(e.count))
	}
	return b
}

func decodeCatalog(b []byte) ([]catalogEntry, error) {
	if len(b) == 0 {
		return nil, nil
	}
	r := &reader{b: b}
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: catalog of %d trees in %d bytes", ErrCorruptRecord, n, len(r.b))
	}
	var out []catalogEntry
	for i := uint64(0); i < n && r.err == nil; i++ {
		out = append(out, catalogEntry{name: string(r.bytes()), root: r.uvarint(), count: int64(r.uvarint())})
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}
