package timingwheel

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fired replays advance and returns (id, tick) pairs in firing order.
type firing struct{ id, tick int64 }

func advanceAll(w *wheel, to int64, ids map[*Timer]int64) []firing {
	var out []firing
	for w.now < to {
		next := w.now + 1
		w.advance(next, func(t *Timer) { out = append(out, firing{ids[t], w.now}) })
	}
	return out
}

func TestCoreFiresAtExpiryAcrossLevels(t *testing.T) {
	tests := []struct {
		name   string
		start  int64
		expire int64
	}{
		{"next tick", 0, 1},
		{"end of level 0", 0, 255},
		{"first of level 1", 0, 256},
		{"mid level 1", 10, 10 + 1000},
		{"level 2", 7, 7 + 70_000},
		{"unaligned start", 250, 513},
		{"exact level-1 boundary from offset", 255, 255 + 65_535},
		{"already due fires next tick", 100, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWheel(tt.start)
			tm := &Timer{expire: tt.expire}
			w.add(tm)
			got := advanceAll(w, max(tt.expire, tt.start+1)+300, map[*Timer]int64{tm: 1})
			want := max(tt.expire, tt.start+1)
			require.Len(t, got, 1)
			assert.Equal(t, want, got[0].tick)
			assert.Equal(t, 0, w.count)
		})
	}
}

func TestCoreOverflowBeyondTopLevel(t *testing.T) {
	w := newWheel(0)
	far := &Timer{expire: maxDelta + 5000}
	w.add(far)
	var at int64 = -1
	// advance skips the empty stretches, so crossing 2^32 ticks takes a few hundred iterations.
	w.advance(maxDelta-10, func(*Timer) { at = -2 })
	require.Equal(t, int64(-1), at, "not early")
	w.advance(maxDelta+6000, func(*Timer) { at = w.now })
	assert.Equal(t, int64(maxDelta+5000), at)
}

func TestCoreCancelAndOrder(t *testing.T) {
	w := newWheel(0)
	ids := map[*Timer]int64{}
	var timers []*Timer
	for i, e := range []int64{300, 5, 70_000, 5, 256, 1} {
		tm := &Timer{expire: e}
		ids[tm] = int64(i)
		timers = append(timers, tm)
		w.add(tm)
	}
	w.remove(timers[4]) // cancel the 256
	got := advanceAll(w, 80_000, ids)
	assert.Equal(t, []firing{{5, 1}, {1, 5}, {3, 5}, {0, 300}, {2, 70_000}}, got)
}

// TestCoreMatchesModel is the property test: random adds, cancels and advances against a model that
// knows each timer's due tick. Every pending timer fires exactly once, at max(expire, tick added+1),
// never early, and firings come out in non-decreasing tick order.
func TestCoreMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		w := newWheel(int64(r.IntN(1 << 20)))
		due := map[*Timer]int64{}
		var pending []*Timer
		var last int64
		for range 400 {
			switch op := r.IntN(10); {
			case op < 5: // add, delays spread over every level
				d := int64(r.IntN(1 << (4 * (1 + r.IntN(6)))))
				tm := &Timer{expire: w.now + d}
				w.add(tm)
				due[tm] = max(tm.expire, w.now+1)
				pending = append(pending, tm)
			case op < 7 && len(pending) > 0: // cancel
				i := r.IntN(len(pending))
				tm := pending[i]
				w.remove(tm)
				delete(due, tm)
				pending = slices.Delete(pending, i, i+1)
			default: // advance by a random amount
				to := w.now + int64(r.IntN(1<<(2*(1+r.IntN(6)))))
				w.advance(to, func(tm *Timer) {
					want, ok := due[tm]
					require.True(t, ok, "round %d: fired a cancelled or unknown timer", round)
					require.Equal(t, want, w.now, "round %d: fired at the wrong tick", round)
					require.GreaterOrEqual(t, w.now, last, "round %d: out of order", round)
					last = w.now
					delete(due, tm)
					i := slices.Index(pending, tm)
					pending = slices.Delete(pending, i, i+1)
				})
				for tm, d := range due {
					require.Greater(t, d, w.now, "round %d: timer due at %d not fired by %d", round, d, w.now)
					_ = tm
				}
			}
			require.Equal(t, len(due), w.count)
		}
	}
}

func FuzzCore(f *testing.F) {
	f.Add([]byte{0, 10, 0, 200, 2, 255, 1, 0, 2, 100})
	f.Add([]byte{0, 255, 0, 255, 0, 1, 2, 255, 2, 255, 2, 255})
	f.Fuzz(func(t *testing.T, ops []byte) {
		w := newWheel(0)
		due := map[*Timer]int64{}
		var pending []*Timer
		for i := 0; i+1 < len(ops); i += 2 {
			arg := int64(ops[i+1])
			switch ops[i] % 3 {
			case 0:
				tm := &Timer{expire: w.now + arg*arg*arg}
				w.add(tm)
				due[tm] = max(tm.expire, w.now+1)
				pending = append(pending, tm)
			case 1:
				if len(pending) > 0 {
					j := int(arg) % len(pending)
					w.remove(pending[j])
					delete(due, pending[j])
					pending = slices.Delete(pending, j, j+1)
				}
			case 2:
				w.advance(w.now+arg*arg, func(tm *Timer) {
					if due[tm] != w.now {
						t.Fatalf("timer due at %d fired at %d", due[tm], w.now)
					}
					delete(due, tm)
					j := slices.Index(pending, tm)
					pending = slices.Delete(pending, j, j+1)
				})
			}
			for _, d := range due {
				if d <= w.now {
					t.Fatalf("timer due at %d still pending at %d", d, w.now)
				}
			}
		}
	})
}
