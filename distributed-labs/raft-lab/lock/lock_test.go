package lock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/lock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// storeKV is a one-node KV: the lock's logic without the network.
type storeKV struct{ s *kv.Store }

func (k storeKV) Get(_ context.Context, key string) (kvhttp.GetReply, error) {
	e, found, rev := k.s.GetAt(key)
	return kvhttp.GetReply{Value: e.Value, Found: found, Rev: e.ModRev, StoreRev: rev}, nil
}

func (k storeKV) CAS(_ context.Context, key, expect string, absent bool, value string) (kv.Result, error) {
	b, _ := kv.Command{Op: kv.OpCAS, Key: key, Expect: expect, ExpectAbsent: absent, Value: value}.Encode()
	return k.s.Apply(b).(kv.Result), nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestLeaseAndFencing(t *testing.T) {
	ctx := context.Background()
	store := storeKV{kv.New()}
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	a := &lock.Locker{KV: store, Key: "lock/x", Owner: "a", TTL: time.Second, Now: clk.Now}
	b := &lock.Locker{KV: store, Key: "lock/x", Owner: "b", TTL: time.Second, Now: clk.Now}

	la, ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = b.TryAcquire(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "a live lease keeps b out")

	clk.add(600 * time.Millisecond)
	require.NoError(t, a.KeepAlive(ctx, &la), "renewal within the TTL")
	clk.add(600 * time.Millisecond)
	_, ok, _ = b.TryAcquire(ctx)
	assert.False(t, ok, "the renewal moved the end")

	clk.add(2 * time.Second) // a stops renewing: a pause
	lb, ok, err := b.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok, "an ended lease is free")
	assert.Greater(t, lb.Token, la.Token, "the later holder has the larger token")
	require.ErrorIs(t, a.KeepAlive(ctx, &la), lock.ErrLeaseLost)

	tests := []struct {
		name      string
		fenced    bool
		wantErr   error
		wantStale int
	}{
		{"fenced storage refuses the old holder", true, lock.ErrStaleToken, 0},
		{"unfenced storage takes it: two writers interleave", false, nil, 1},
	}
	for _, tt := range tests {
		s := lock.NewStorage(tt.fenced, nil)
		require.NoError(t, s.Write(lb.Token, "b", "new"))
		err := s.Write(la.Token, "a", "old")
		if tt.wantErr != nil {
			require.ErrorIs(t, err, tt.wantErr, tt.name)
		} else {
			require.NoError(t, err, tt.name)
		}
		assert.Equal(t, tt.wantStale, s.Counts().StaleAccepted, tt.name)
	}
}

func TestSessionEndsWhenTheLeaseIsTaken(t *testing.T) {
	store := storeKV{kv.New()}
	a := &lock.Locker{KV: store, Key: "lock/y", Owner: "a", TTL: 60 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lease, err := a.Acquire(ctx, 5*time.Millisecond)
	require.NoError(t, err)
	sess := a.Hold(ctx, lease)
	time.Sleep(150 * time.Millisecond)
	assert.True(t, sess.Held(), "keep-alives hold it past several TTLs")
	// Someone else's lease replaces it: the next renewal fails.
	cur, _ := store.Get(ctx, "lock/y")
	_, err = store.CAS(ctx, "lock/y", cur.Value, false, `{"owner":"b","ends_ms":99999999999999}`)
	require.NoError(t, err)
	select {
	case <-sess.Done():
	case <-time.After(time.Second):
		t.Fatal("the session did not notice the lost lease")
	}
	require.ErrorIs(t, sess.Err(), lock.ErrLeaseLost)
	sess.Wait()
}
