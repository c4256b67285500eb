package bufpool

import (
	"container/list"
	"time"
)

// replacer is a replacement policy over frame indexes. The pool calls it under
// its own mutex.
type replacer interface {
	// touch records a reference to frame f; fresh means the page was just loaded into it.
	touch(f int, now time.Time, fresh bool)
	// victim picks the frame to evict among those evictable allows, or -1.
	victim(evictable func(int) bool) int
	// remove forgets frame f (its page was freed).
	remove(f int)
}

func newReplacer(o Options) replacer {
	switch o.Policy {
	case LRUK:
		return &lruK{k: o.K, corr: o.OldBlocksTime, hist: make([][]time.Time, o.Frames), last: make([]time.Time, o.Frames)}
	case Midpoint:
		return &midpoint{window: o.OldBlocksTime, oldPct: o.OldPercent, young: list.New(), old: list.New(),
			elem: make([]*list.Element, o.Frames), inOld: make([]bool, o.Frames), loaded: make([]time.Time, o.Frames)}
	default:
		return &lru{l: list.New(), elem: make([]*list.Element, o.Frames)}
	}
}

// lru: most recent at the front, victims from the back.
type lru struct {
	l    *list.List
	elem []*list.Element
}

func (r *lru) touch(f int, _ time.Time, _ bool) {
	if e := r.elem[f]; e != nil {
		r.l.MoveToFront(e)
		return
	}
	r.elem[f] = r.l.PushFront(f)
}

func (r *lru) victim(evictable func(int) bool) int {
	for e := r.l.Back(); e != nil; e = e.Prev() {
		if f := e.Value.(int); evictable(f) {
			return f
		}
	}
	return -1
}

func (r *lru) remove(f int) {
	if e := r.elem[f]; e != nil {
		r.l.Remove(e)
		r.elem[f] = nil
	}
}

// lruK keeps the times of each frame's last K uncorrelated references
// (O'Neil, O'Neil and Weikum, 1993). References closer than corr to the
// previous one are one correlated burst (the rows of one page read by one scan)
// and count once. The victim is the frame whose K-th most recent reference is
// oldest; frames with fewer than K references have an infinite distance and go
// first, least recently referenced first.
type lruK struct {
	k    int
	corr time.Duration
	hist [][]time.Time // hist[f][0] is the most recent uncorrelated reference
	last []time.Time   // the most recent reference of any kind
}

func (r *lruK) touch(f int, now time.Time, fresh bool) {
	if fresh || r.hist[f] == nil {
		r.hist[f] = append(make([]time.Time, 0, r.k), now)
		r.last[f] = now
		return
	}
	if now.Sub(r.last[f]) > r.corr {
		h := r.hist[f]
		if len(h) < r.k {
			h = append(h, time.Time{})
		}
		copy(h[1:], h[:len(h)-1])
		h[0] = now
		r.hist[f] = h
	}
	r.last[f] = now
}

func (r *lruK) victim(evictable func(int) bool) int {
	best, bestInf := -1, false
	var bestT time.Time
	for f, h := range r.hist {
		if h == nil || !evictable(f) {
			continue
		}
		inf := len(h) < r.k
		t := h[len(h)-1] // the K-th most recent reference when it exists
		if inf {
			t = r.last[f]
		}
		switch {
		case best < 0, inf && !bestInf, inf == bestInf && t.Before(bestT):
			best, bestInf, bestT = f, inf, t
		}
	}
	return best
}

func (r *lruK) remove(f int) { r.hist[f] = nil }

// midpoint is InnoDB's buffer pool LRU: one list split at a midpoint into a
// young head and an old tail holding oldPct percent of the pages. A page read
// from disk enters at the head of the old sublist; it is made young only when it
// is referenced again at least window after it was read (innodb_old_blocks_time),
// so a scan that reads each page once, or in one burst, cycles through the old
// sublist and never displaces the young pages.
type midpoint struct {
	window     time.Duration
	oldPct     int
	young, old *list.List
	elem       []*list.Element
	inOld      []bool
	loaded     []time.Time
}

func (r *midpoint) touch(f int, now time.Time, fresh bool) {
	if fresh || r.elem[f] == nil {
		r.remove(f)
		r.rebalance(1)
		r.elem[f], r.inOld[f], r.loaded[f] = r.old.PushFront(f), true, now
		return
	}
	if !r.inOld[f] {
		r.young.MoveToFront(r.elem[f])
		return
	}
	if now.Sub(r.loaded[f]) >= r.window {
		r.old.Remove(r.elem[f])
		r.elem[f], r.inOld[f] = r.young.PushFront(f), false
		r.rebalance(0)
	}
}

// rebalance moves pages across the midpoint so the old sublist keeps its share
// with adding more pages about to enter it.
func (r *midpoint) rebalance(adding int) {
	total := r.young.Len() + r.old.Len() + adding
	target := total * r.oldPct / 100
	for r.old.Len()+adding < target && r.young.Len() > 0 {
		e := r.young.Back()
		f := r.young.Remove(e).(int)
		r.elem[f], r.inOld[f] = r.old.PushFront(f), true
	}
	for r.old.Len()+adding > target+1 && r.old.Len() > 0 {
		e := r.old.Front()
		f := r.old.Remove(e).(int)
		r.elem[f], r.inOld[f] = r.young.PushBack(f), false
	}
}

func (r *midpoint) victim(evictable func(int) bool) int {
	for _, l := range []*list.List{r.old, r.young} {
		for e := l.Back(); e != nil; e = e.Prev() {
			if f := e.Value.(int); evictable(f) {
				return f
			}
		}
	}
	return -1
}

func (r *midpoint) remove(f int) {
	if e := r.elem[f]; e != nil {
		if r.inOld[f] {
			r.old.Remove(e)
		} else {
			r.young.Remove(e)
		}
		r.elem[f] = nil
	}
}
