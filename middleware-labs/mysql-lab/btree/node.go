package btree

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
)

// A node page, after the pager's 8-byte header (checksum, type):
//
//	8..10  number of entries (u16)
//	10..12 where the cells start (u16): the end of the free space
//	16..24 leaf: the next leaf's page id (0 = last); internal: the leftmost child
//	24..   slot array: one u16 offset per entry, in key order
//	...    free space, then the cells, packed against the end of the page
//
// A leaf cell is uvarint(len key) uvarint(len val) key val. An internal cell is
// uvarint(len key) key child(u64): child holds the keys >= key (and < the next
// cell's key); the leftmost child holds the keys below the first cell's key.
// Slots keep the order, so an insert in the middle moves two bytes per later
// entry rather than the cells; this code re-encodes the whole node on a change
// anyway, which is simpler and, at one page per level, cheap.
const (
	nodeHeader = 24
	slotSize   = 2
)

type node struct {
	leaf     bool
	keys     [][]byte
	vals     [][]byte // leaf only
	children []uint64 // internal only: len(keys)+1
	next     uint64   // leaf only
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func leafCellSize(k, v []byte) int {
	return slotSize + uvarintLen(uint64(len(k))) + uvarintLen(uint64(len(v))) + len(k) + len(v)
}

func internalCellSize(k []byte) int { return slotSize + uvarintLen(uint64(len(k))) + len(k) + 8 }

func (n *node) size() int {
	s := nodeHeader
	for i, k := range n.keys {
		if n.leaf {
			s += leafCellSize(k, n.vals[i])
		} else {
			s += internalCellSize(k)
		}
	}
	return s
}

// encode writes n into page (which it fits: the caller checked size).
func (n *node) encode(page []byte) {
	clear(page)
	page[4] = pager.TypeInternal
	first := uint64(0)
	if n.leaf {
		page[4] = pager.TypeLeaf
		first = n.next
	} else {
		first = n.children[0]
	}
	binary.LittleEndian.PutUint16(page[8:10], uint16(len(n.keys)))
	defer func() { binary.LittleEndian.PutUint16(page[10:12], uint16(cellStart(page, len(n.keys)))) }()
	binary.LittleEndian.PutUint64(page[16:24], first)
	end := len(page)
	for i, k := range n.keys {
		var cell []byte
		cell = binary.AppendUvarint(cell, uint64(len(k)))
		if n.leaf {
			cell = binary.AppendUvarint(cell, uint64(len(n.vals[i])))
			cell = append(cell, k...)
			cell = append(cell, n.vals[i]...)
		} else {
			cell = append(cell, k...)
			cell = binary.LittleEndian.AppendUint64(cell, n.children[i+1])
		}
		end -= len(cell)
		copy(page[end:], cell)
		binary.LittleEndian.PutUint16(page[nodeHeader+slotSize*i:], uint16(end))
	}
}

// view reads a node page without copying; every offset is checked, because
// the bytes came from disk.
type view struct {
	page []byte
	leaf bool
	n    int
}

func newView(page []byte) (view, error) {
	if len(page) < pager.MinPageSize {
		return view{}, fmt.Errorf("%w: %d-byte page", pager.ErrCorrupt, len(page))
	}
	t := page[4]
	if t != pager.TypeLeaf && t != pager.TypeInternal {
		return view{}, fmt.Errorf("%w: page type %d is not a B+tree node", pager.ErrCorrupt, t)
	}
	n := int(binary.LittleEndian.Uint16(page[8:10]))
	if nodeHeader+slotSize*n > len(page) {
		return view{}, fmt.Errorf("%w: %d slots in a %d-byte page", pager.ErrCorrupt, n, len(page))
	}
	return view{page: page, leaf: t == pager.TypeLeaf, n: n}, nil
}

func (v view) first() uint64 { return binary.LittleEndian.Uint64(v.page[16:24]) }

// cell returns entry i: its key, and its value (leaf) or child (internal).
func (v view) cell(i int) (key, val []byte, child uint64, err error) {
	off := int(binary.LittleEndian.Uint16(v.page[nodeHeader+slotSize*i:]))
	lo := nodeHeader + slotSize*v.n
	if off < lo || off >= len(v.page) {
		return nil, nil, 0, fmt.Errorf("%w: slot %d points at %d", pager.ErrCorrupt, i, off)
	}
	b := v.page[off:]
	kl, m := binary.Uvarint(b)
	if m <= 0 {
		return nil, nil, 0, fmt.Errorf("%w: key length of entry %d", pager.ErrCorrupt, i)
	}
	b = b[m:]
	if v.leaf {
		vl, m := binary.Uvarint(b)
		if m <= 0 {
			return nil, nil, 0, fmt.Errorf("%w: value length of entry %d", pager.ErrCorrupt, i)
		}
		b = b[m:]
		if kl > uint64(len(b)) || vl > uint64(len(b))-kl {
			return nil, nil, 0, fmt.Errorf("%w: entry %d overruns the page", pager.ErrCorrupt, i)
		}
		return b[:kl], b[kl : kl+vl], 0, nil
	}
	if kl > uint64(len(b)) || uint64(len(b))-kl < 8 {
		return nil, nil, 0, fmt.Errorf("%w: entry %d overruns the page", pager.ErrCorrupt, i)
	}
	return b[:kl], nil, binary.LittleEndian.Uint64(b[kl : kl+8]), nil
}

// search returns the first index whose key is >= key, and whether it is equal.
func (v view) search(key []byte) (int, bool, error) {
	lo, hi := 0, v.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		k, _, _, err := v.cell(mid)
		if err != nil {
			return 0, false, err
		}
		if bytes.Compare(k, key) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < v.n {
		k, _, _, err := v.cell(lo)
		if err != nil {
			return 0, false, err
		}
		return lo, bytes.Equal(k, key), nil
	}
	return lo, false, nil
}

// childFor returns the child of an internal node that covers key.
func (v view) childFor(key []byte) (uint64, error) {
	i, eq, err := v.search(key)
	if err != nil {
		return 0, err
	}
	if eq {
		i++
	}
	// keys[i-1] <= key < keys[i]: child i, where child 0 is the leftmost.
	if i == 0 {
		return v.first(), nil
	}
	_, _, c, err := v.cell(i - 1)
	return c, err
}

// cellStart computes where the cells begin from the slots.
func cellStart(page []byte, n int) int {
	lo := len(page)
	for i := 0; i < n; i++ {
		lo = min(lo, int(binary.LittleEndian.Uint16(page[nodeHeader+slotSize*i:])))
	}
	return lo
}

// insertInPlace adds key=val to a leaf when the cell fits in the free space,
// or replaces a value of the same length. done=false asks for the slow path
// (decode, change, re-encode), which also compacts the holes deletes and
// replacements leave.
func (v view) insertInPlace(key, val []byte) (done, replaced bool, err error) {
	i, eq, err := v.search(key)
	if err != nil {
		return false, false, err
	}
	if eq {
		_, old, _, err := v.cell(i)
		if err != nil || len(old) != len(val) {
			return false, false, err
		}
		copy(old, val)
		return true, true, nil
	}
	start := int(binary.LittleEndian.Uint16(v.page[10:12]))
	slotsEnd := nodeHeader + slotSize*v.n
	if start > len(v.page) || start < slotsEnd || v.n >= 0xffff {
		return false, false, nil // let the slow path decode (and judge) the page
	}
	size := leafCellSize(key, val)
	if start-slotsEnd < size {
		return false, false, nil
	}
	off := start - (size - slotSize)
	w := off + binary.PutUvarint(v.page[off:], uint64(len(key)))
	w += binary.PutUvarint(v.page[w:], uint64(len(val)))
	w += copy(v.page[w:], key)
	copy(v.page[w:], val)
	slots := v.page[nodeHeader : slotsEnd+slotSize]
	copy(slots[slotSize*(i+1):], slots[slotSize*i:slotSize*v.n])
	binary.LittleEndian.PutUint16(slots[slotSize*i:], uint16(off))
	binary.LittleEndian.PutUint16(v.page[8:10], uint16(v.n+1))
	binary.LittleEndian.PutUint16(v.page[10:12], uint16(off))
	return true, false, nil
}

// decode copies the whole node out of the page, checking that keys ascend.
func decode(page []byte) (*node, error) {
	v, err := newView(page)
	if err != nil {
		return nil, err
	}
	n := &node{leaf: v.leaf, keys: make([][]byte, v.n)}
	if v.leaf {
		n.next = v.first()
		n.vals = make([][]byte, v.n)
	} else {
		n.children = make([]uint64, v.n+1)
		n.children[0] = v.first()
	}
	for i := 0; i < v.n; i++ {
		k, val, c, err := v.cell(i)
		if err != nil {
			return nil, err
		}
		if i > 0 && bytes.Compare(n.keys[i-1], k) >= 0 {
			return nil, fmt.Errorf("%w: keys out of order at entry %d", pager.ErrCorrupt, i)
		}
		n.keys[i] = append([]byte(nil), k...)
		if v.leaf {
			n.vals[i] = append([]byte(nil), val...)
		} else {
			n.children[i+1] = c
		}
	}
	if !v.leaf && v.n == 0 && n.children[0] == 0 {
		return nil, fmt.Errorf("%w: internal node without children", pager.ErrCorrupt)
	}
	return n, nil
}

// split cuts an overfull node in two halves by bytes. For a leaf the separator
// is copied up (it stays as the right half's first key); for an internal node
// it moves up.
func (n *node) split() (left, right *node, sep []byte) {
	total := n.size() - nodeHeader
	acc, m := 0, 0
	for m = 0; m < len(n.keys)-1; m++ {
		if n.leaf {
			acc += leafCellSize(n.keys[m], n.vals[m])
		} else {
			acc += internalCellSize(n.keys[m])
		}
		if acc >= total/2 {
			m++
			break
		}
	}
	if m < 1 {
		m = 1
	}
	if n.leaf {
		left = &node{leaf: true, keys: n.keys[:m:m], vals: n.vals[:m:m]}
		right = &node{leaf: true, keys: n.keys[m:], vals: n.vals[m:], next: n.next}
		return left, right, right.keys[0]
	}
	if m > len(n.keys)-2 {
		m = max(len(n.keys)-2, 0) // keep a key on the right of the one that moves up
	}
	left = &node{keys: n.keys[:m:m], children: n.children[: m+1 : m+1]}
	right = &node{keys: n.keys[m+1:], children: n.children[m+1:]}
	return left, right, n.keys[m]
}

func insertAt[T any](s []T, i int, v T) []T {
	s = append(s, v)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

func removeAt[T any](s []T, i int) []T { return append(s[:i], s[i+1:]...) }
