package storage

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRecordsRoundTrip(t *testing.T) {
	for _, rec := range []record{
		{kind: recCommit, txn: 7, ops: []op{{kind: opPut, tree: "t", key: []byte("k"), val: []byte("v")}, {kind: opDelete, tree: "t.idx", key: []byte{0, 1}}}},
		{kind: recCreate, name: "orders.PRIMARY"},
		{kind: recDrop, name: "orders.PRIMARY"},
	} {
		got, err := decodeRecord(encodeRecord(rec))
		require.NoError(t, err)
		require.Equal(t, rec.kind, got.kind)
		require.Equal(t, rec.name, got.name)
		require.Len(t, got.ops, len(rec.ops))
		for i := range rec.ops {
			require.Equal(t, rec.ops[i].tree, got.ops[i].tree)
			require.Equal(t, string(rec.ops[i].key), string(got.ops[i].key))
			require.Equal(t, string(rec.ops[i].val), string(got.ops[i].val))
		}
	}
	cat := []catalogEntry{{name: "b", root: 9, count: 3}, {name: "a", root: 4, count: 0}}
	got, err := decodeCatalog(encodeCatalog(cat))
	require.NoError(t, err)
	require.Equal(t, []catalogEntry{{name: "a", root: 4, count: 0}, {name: "b", root: 9, count: 3}}, got)
}

// FuzzDecodeRecord: a redo record or catalog read back from disk, damaged in
// any way, is an ErrCorruptRecord, never a panic or a huge allocation.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(record{kind: recCommit, txn: 1, ops: []op{{kind: opPut, tree: "t", key: []byte("k"), val: []byte("v")}}}))
	f.Add(encodeRecord(record{kind: recCreate, name: "t"}))
	f.Add([]byte{recCommit, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(encodeCatalog([]catalogEntry{{name: "t", root: 1, count: 2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if rec, err := decodeRecord(b); err == nil {
			again, err := decodeRecord(encodeRecord(rec))
			if err != nil || len(again.ops) != len(rec.ops) {
				t.Fatalf("a decoded record does not round-trip: %v", err)
			}
		}
		_, _ = decodeCatalog(b)
	})
}
