package timingwheel

// The deterministic core: a hierarchical timing wheel counted in ticks, with no clock, goroutine
// or lock, so it can be tested tick by tick. Wheel wraps it with real time.
//
// Level 0 has one slot per tick for the next 256 ticks; level 1 one slot per 256 ticks for the
// next 65,536; level 2 per 65,536 ticks; level 3 per 16,777,216 ticks, so four levels cover 2^32
// ticks (49.7 days at 1 ms). Each level is the overflow wheel of the one below (Varghese and
// Lauck's scheme 7; Linux's classic timer wheel; Kafka's purgatory). A timer sits in the lowest
// level whose range holds it. Every 256 ticks the next slot of level 1 is emptied into level 0
// ("cascade"), and so on up, so a timer moves down at most three times in its life. Adding and
// cancelling are O(1): compute a slot, link or unlink a node in a doubly linked list.

const (
	slotBits = 8
	slots    = 1 << slotBits
	slotMask = slots - 1
	levels   = 4
	maxDelta = 1<<(slotBits*levels) - 1 // ticks a timer can be placed ahead; farther ones park at the top and re-cascade
)

type list struct{ head Timer } // sentinel: head.next first, head.prev last

func (l *list) init() { l.head.next, l.head.prev = &l.head, &l.head }

func (l *list) push(t *Timer) {
	t.prev = l.head.prev
	t.next = &l.head
	l.head.prev.next = t
	l.head.prev = t
}

// take detaches every timer in l and returns the first (nil-terminated chain via next).
func (l *list) take() *Timer {
	if l.head.next == &l.head {
		return nil
	}
	first := l.head.next
	l.head.prev.next = nil
	l.init()
	return first
}

type wheel struct {
	now     int64 // the last tick processed
	count   int
	inLevel [levels]int
	buckets [levels][slots]list
}

func newWheel(now int64) *wheel {
	w := &wheel{now: now}
	for l := range w.buckets {
		for s := range w.buckets[l] {
			w.buckets[l][s].init()
		}
	}
	return w
}

// add places t by its expiry tick. A timer already due fires on the next tick.
func (w *wheel) add(t *Timer) { w.place(t, max(t.expire, w.now+1)) }

// place links t into the slot for tick e (e >= w.now; e == w.now only while cascading at tick
// w.now, before its level-0 slot fires).
func (w *wheel) place(t *Timer, e int64) {
	delta := e - w.now
	if delta > maxDelta {
		e = w.now + maxDelta // park at the top level; cascading re-places it by t.expire
		delta = maxDelta
	}
	level := 0
	for delta >= 1<<(slotBits*(level+1)) {
		level++
	}
	t.level = int8(level)
	w.buckets[level][(e>>(slotBits*level))&slotMask].push(t)
	w.count++
	w.inLevel[level]++
}

// remove unlinks a pending timer.
func (w *wheel) remove(t *Timer) {
	t.prev.next = t.next
	t.next.prev = t.prev
	t.prev, t.next = nil, nil
	w.count--
	w.inLevel[t.level]--
}

// advance processes every tick up to and including to, calling fire for each timer that expires,
// in order of expiry tick (timers of one tick in the order they reached level 0). Runs of ticks
// with nothing to do are skipped in one step, so a jump of days costs a few iterations.
func (w *wheel) advance(to int64, fire func(*Timer)) {
	for w.now < to {
		if w.count == 0 {
			w.now = to
			return
		}
		// Skip to just before the next boundary at which anything can happen: the next tick when
		// level 0 has timers, else the next cascade of the lowest level that has some.
		if w.inLevel[0] == 0 {
			lowest := 1
			for w.inLevel[lowest] == 0 {
				lowest++
			}
			span := int64(1) << (slotBits * lowest)
			w.now = min(to, w.now|(span-1))
			if w.now == to {
				return
			}
		}
		w.now++
		// Cascade: at each level boundary, the slot of the level above that starts now moves down.
		for level := 1; level < levels; level++ {
			if (w.now>>(slotBits*(level-1)))&slotMask != 0 {
				break
			}
			slot := (w.now >> (slotBits * level)) & slotMask
			for t := w.buckets[level][slot].take(); t != nil; {
				next := t.next
				t.prev, t.next = nil, nil
				w.count--
				w.inLevel[level]--
				w.place(t, max(t.expire, w.now))
				t = next
			}
		}
		for t := w.buckets[0][w.now&slotMask].take(); t != nil; {
			next := t.next
			t.prev, t.next = nil, nil
			w.count--
			w.inLevel[0]--
			fire(t)
			t = next
		}
	}
}
