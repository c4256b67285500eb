package btree

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
)

// FuzzDecodeNode feeds arbitrary bytes as a B+tree page — what a corrupted
// data file hands the tree — through every read path: decoding, binary search,
// child lookup and a leaf scan. Each must return an error, never panic or
// read outside the page.
func FuzzDecodeNode(f *testing.F) {
	page := func(n *node) []byte {
		b := make([]byte, pager.MinPageSize)
		n.encode(b)
		return b
	}
	leaf := page(&node{leaf: true, keys: [][]byte{[]byte("a"), []byte("m"), []byte("z")}, vals: [][]byte{[]byte("1"), nil, []byte("333")}, next: 7})
	internal := page(&node{keys: [][]byte{[]byte("k")}, children: []uint64{3, 4}})
	f.Add(leaf)
	f.Add(internal)
	torn := append([]byte(nil), leaf...)
	copy(torn[pager.MinPageSize/2:], make([]byte, pager.MinPageSize/2)) // the second half of a torn write
	f.Add(torn)
	badSlot := append([]byte(nil), leaf...)
	badSlot[nodeHeader] = 0xff
	badSlot[nodeHeader+1] = 0xff
	f.Add(badSlot)
	f.Add(make([]byte, pager.MinPageSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := make([]byte, pager.MinPageSize)
		copy(p, b)
		if n, err := decode(p); err == nil {
			// A page that decodes must encode back to something that decodes the same.
			if n.size() <= len(p) {
				q := make([]byte, len(p))
				n.encode(q)
				m, err := decode(q)
				if err != nil || len(m.keys) != len(n.keys) {
					t.Fatalf("re-encoded page does not decode back: %v", err)
				}
			}
		}
		v, err := newView(p)
		if err != nil {
			return
		}
		for _, key := range [][]byte{nil, []byte("m"), []byte("\xff\xff")} {
			_, _, _ = v.search(key)
			if !v.leaf {
				_, _ = v.childFor(key)
			}
		}
		_, _, _ = scanLeaf(p, nil, nil, func(_, _ []byte) bool { return true })
	})
}
