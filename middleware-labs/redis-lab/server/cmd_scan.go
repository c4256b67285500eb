package server

import (
	"cmp"
	"container/heap"
	"slices"
	"strconv"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// HSCAN, SSCAN and ZSCAN walk one key's elements with SCAN's cursor contract. As in Redis, a
// value small enough for a compact encoding (listpack, intset) is returned whole with cursor 0;
// a bigger one is walked in COUNT-sized steps of a 63-bit hash space, so an element present for
// the whole walk is returned at least once. The price is that every step hashes the whole
// value, O(n) under the lock (plus O(n log COUNT) to pick the step): Redis walks its own hash
// table's buckets instead, and a Go map exposes no stable order to walk.

type scanElem struct {
	name  string
	value []byte  // the field's value (HSCAN); nil otherwise
	score float64 // the member's score (ZSCAN), formatted only if the member is returned
	pos   uint64
}

// elemPos is the element's place in the walk: FNV-1a of its name (inline, so a step over a big
// value does not allocate per element), in [1, 2^63].
func elemPos(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h>>1 + 1
}

// maxHeap keeps the smallest positions seen, largest on top.
type maxHeap []uint64

func (h maxHeap) Len() int           { return len(h) }
func (h maxHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h maxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *maxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// scanStep keeps the elements of one step: the count smallest positions at or past cursor,
// with every element sharing the last one's position, in position order. next is the smallest
// position left for the following step, or 0 when none is. It selects with a count-sized heap
// rather than sorting everything past the cursor: O(n log count), not O(n log n).
func scanStep(elems []scanElem, cursor uint64, count int) (step []scanElem, next uint64) {
	top := make(maxHeap, 0, count)
	for i := range elems {
		e := &elems[i]
		if e.pos = elemPos(e.name); e.pos < cursor {
			continue
		}
		if len(top) < count {
			heap.Push(&top, e.pos)
		} else if e.pos < top[0] {
			top[0] = e.pos
			heap.Fix(&top, 0)
		}
	}
	if len(top) == 0 {
		return elems[:0], 0
	}
	limit := top[0]
	step = elems[:0]
	for _, e := range elems {
		switch {
		case e.pos < cursor:
		case e.pos <= limit:
			step = append(step, e)
		case next == 0 || e.pos < next:
			next = e.pos
		}
	}
	slices.SortFunc(step, func(a, b scanElem) int { return cmp.Compare(a.pos, b.pos) })
	return step, next
}

// scanOptions are the options the SCAN family shares: COUNT and MATCH, and
// TYPE, which only SCAN takes.
type scanOptions struct {
	count   int
	pattern []byte
	typ     string
}

// parseScanOptions reads opts as name/value pairs, as Redis does: a name
// without its value, an unknown name or a COUNT below 1 is a syntax error.
// It returns the error reply to send, or "".
func parseScanOptions(opts [][]byte, withType bool) (scanOptions, string) {
	o := scanOptions{count: 10}
	for i := 0; i < len(opts); i += 2 {
		if i+1 >= len(opts) {
			return o, errSyntax
		}
		switch {
		case resp.Equal(opts[i], "count"):
			n, ok := parseInt(opts[i+1])
			if !ok {
				return o, errNotInt
			}
			if n < 1 {
				return o, errSyntax
			}
			// A huge COUNT is a hint, not a promise; capping it keeps one
			// call from building an enormous reply under the lock.
			o.count = int(min(n, 1<<20))
		case resp.Equal(opts[i], "match"):
			o.pattern = opts[i+1]
		case withType && resp.Equal(opts[i], "type"):
			o.typ = resp.Lower(opts[i+1])
		default:
			return o, errSyntax
		}
	}
	return o, ""
}

func cmdElemScan(s *Server, c *client, args [][]byte) {
	kind := store.KindZSet
	switch {
	case resp.Equal(args[0], "hscan"):
		kind = store.KindHash
	case resp.Equal(args[0], "sscan"):
		kind = store.KindSet
	}
	cursor, err := strconv.ParseUint(string(args[2]), 10, 64)
	if err != nil {
		c.err("ERR invalid cursor")
		return
	}
	opts, errReply := parseScanOptions(args[3:], false)
	if errReply != "" {
		c.err(errReply)
		return
	}
	count, pattern := opts.count, opts.pattern
	v, ok := s.lookupKind(c, args[1], kind, false)
	if !ok {
		return
	}
	var elems []scanElem
	compact := false
	if v != nil {
		enc := s.encoding(v)
		compact = enc == "listpack" || enc == "intset"
		switch kind {
		case store.KindHash:
			elems = make([]scanElem, 0, len(v.Hash))
			for f, val := range v.Hash {
				elems = append(elems, scanElem{name: f, value: val})
			}
		case store.KindSet:
			elems = make([]scanElem, 0, len(v.Set))
			for m := range v.Set {
				elems = append(elems, scanElem{name: m})
			}
		case store.KindZSet:
			elems = make([]scanElem, 0, v.ZSet.Len())
			for _, m := range v.ZSet.RangeByRank(0, v.ZSet.Len()-1, false) {
				elems = append(elems, scanElem{name: m.Name, score: m.Score})
			}
		}
	}
	var next uint64
	if !compact {
		elems, next = scanStep(elems, cursor, count)
	}
	// MATCH filters after the step, as in Redis: a step may return nothing and a non-zero cursor.
	out := elems[:0]
	for _, e := range elems {
		if pattern == nil || globMatch(pattern, []byte(e.name)) {
			out = append(out, e)
		}
	}
	c.w.Array(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	if kind == store.KindSet {
		c.w.Array(len(out))
	} else {
		c.w.Array(2 * len(out))
	}
	for _, e := range out {
		c.w.BulkString(e.name)
		switch kind {
		case store.KindHash:
			c.w.Bulk(e.value)
		case store.KindZSet:
			c.w.Bulk(strconv.AppendFloat(nil, e.score, 'g', 17, 64))
		}
	}
}
