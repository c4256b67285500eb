package commitlog_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// modelBatch is what the model remembers of one appended batch.
type modelBatch struct {
	base, next int64
	ts         int64
}

// TestAgainstModel drives a log with random appends, truncations, reopens and retention, small
// segments and a tight index interval, and after every step compares it with a plain slice of
// batches: start and end offsets, what a read at a random offset returns, and OffsetForTime.
// The seed is printed; LOGSEED=<seed> replays a failure.
func TestAgainstModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LOGSEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seed = v
	}
	t.Logf("seed=%d (LOGSEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	dir := t.TempDir()
	one := len(batchOf(1000, 3, 1))
	opts := commitlog.Options{SegmentBytes: int64(4 * one), IndexIntervalBytes: one, RetentionBytes: int64(12 * one), Fsync: commitlog.FsyncInterval}
	l, err := commitlog.Open(dir, opts)
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	var model []modelBatch
	var ts int64
	for step := range 400 {
		switch op := rng.IntN(20); {
		case op < 12:
			n := 1 + rng.IntN(3)
			ts += int64(rng.IntN(3)) // timestamps repeat sometimes, never go back
			base, err := l.Append(batchOf(l.EndOffset(), n, ts))
			require.NoError(t, err, "step %d", step)
			model = append(model, modelBatch{base: base, next: base + int64(n), ts: ts})
		case op < 14 && len(model) > 0:
			i := rng.IntN(len(model))
			to := model[i].base + int64(rng.IntN(int(model[i].next-model[i].base)))
			require.NoError(t, l.TruncateTo(to), "step %d", step)
			model = model[:i] // a batch holding the offset goes whole
		case op < 16:
			require.NoError(t, l.Close())
			l, err = commitlog.Open(dir, opts)
			require.NoError(t, err, "step %d", step)
			require.Zero(t, l.Recovery().TruncatedCut, "step %d: a clean close leaves nothing to cut", step)
		case op < 17:
			_, err := l.ApplyRetention()
			require.NoError(t, err)
			segs := l.Segments()
			require.True(t, len(segs) == 1 || l.Size()-segs[0].Bytes < opts.RetentionBytes,
				"step %d: retention left %d bytes over %d segments", step, l.Size(), len(segs))
		}
		// Retention deletes from the front; follow it.
		for len(model) > 0 && model[0].base < l.StartOffset() {
			model = model[1:]
		}
		wantEnd := l.StartOffset()
		if len(model) > 0 {
			require.Equal(t, model[0].base, l.StartOffset(), "step %d: start", step)
			wantEnd = model[len(model)-1].next
		}
		require.Equal(t, wantEnd, l.EndOffset(), "step %d: end", step)
		if len(model) == 0 {
			continue
		}
		i := rng.IntN(len(model))
		off := model[i].base + int64(rng.IntN(int(model[i].next-model[i].base)))
		b, err := l.Read(ctx, off, 1)
		require.NoError(t, err, "step %d: read %d", step, off)
		h, err := recordbatch.ParseHeader(b)
		require.NoError(t, err)
		require.Equal(t, model[i].base, h.BaseOffset, "step %d: read %d", step, off)
		offsetsIn(t, b) // the values name their offsets: checks the bytes are the right batch's

		// OffsetForTime: the first batch whose timestamp reaches target.
		target := model[rng.IntN(len(model))].ts
		got, err := l.OffsetForTime(target)
		require.NoError(t, err)
		for _, m := range model {
			if m.ts >= target {
				require.Equal(t, m.base, got, "step %d: offset for time %d", step, target)
				break
			}
		}
	}
}
