package discovery_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/discovery"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type storeKV struct{ s *kv.Store }

func (k storeKV) do(c kv.Command) kv.Result {
	b, _ := c.Encode()
	return k.s.Apply(b).(kv.Result)
}

func (k storeKV) Put(_ context.Context, key, value string) (kv.Result, error) {
	return k.do(kv.Command{Op: kv.OpPut, Key: key, Value: value}), nil
}

func (k storeKV) Delete(_ context.Context, key string) (kv.Result, error) {
	return k.do(kv.Command{Op: kv.OpDelete, Key: key}), nil
}

func (k storeKV) List(_ context.Context, prefix string) (map[string]kv.Entry, error) {
	return k.s.List(prefix), nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestLeasesDropCrashedInstances(t *testing.T) {
	tests := []struct {
		name     string
		ttl      time.Duration
		wantLive int // after a crash and a long wait
	}{
		{"with a lease the crashed instance leaves", time.Second, 1},
		{"without a lease it stays: a zombie", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{now: time.Now()}
			r := &discovery.Registry{KV: storeKV{kv.New()}, Now: clk.Now}
			a := discovery.Instance{Service: "echo", ID: "a", Addr: "127.0.0.1:1"}
			b := discovery.Instance{Service: "echo", ID: "b", Addr: "127.0.0.1:2"}
			ra, err := r.Register(ctx, a, tt.ttl)
			require.NoError(t, err)
			rb, err := r.Register(ctx, b, tt.ttl)
			require.NoError(t, err)
			live, err := r.Live(ctx, "echo")
			require.NoError(t, err)
			assert.Len(t, live, 2)
			rb.Stop() // b crashes: no more heartbeats, no deregistration
			clk.add(5 * time.Second)
			if tt.ttl > 0 {
				// a renews by its own clock; let one heartbeat land.
				require.NoError(t, r.Deregister(ctx, ra, a))
				ra, err = r.Register(ctx, a, tt.ttl)
				require.NoError(t, err)
			}
			live, err = r.Live(ctx, "echo")
			require.NoError(t, err)
			assert.Len(t, live, tt.wantLive)
			ra.Stop()
		})
	}
	_, err := (&discovery.Registry{KV: storeKV{kv.New()}}).Register(context.Background(), discovery.Instance{}, time.Second)
	assert.ErrorContains(t, err, "expected a service, an id and an address")
}

func TestWatchAndBalancer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &discovery.Registry{KV: storeKV{kv.New()}}
	a := discovery.Instance{Service: "echo", ID: "a", Addr: "127.0.0.1:1"}
	b := discovery.Instance{Service: "echo", ID: "b", Addr: "127.0.0.1:2"}
	ra, err := r.Register(ctx, a, 90*time.Millisecond)
	require.NoError(t, err)
	defer ra.Stop()
	rb, err := r.Register(ctx, b, 90*time.Millisecond)
	require.NoError(t, err)
	bal := discovery.NewBalancer(r.Watch(ctx, "echo", 5*time.Millisecond), time.Second, nil)
	require.Eventually(t, func() bool {
		x, err1 := bal.Pick()
		y, err2 := bal.Pick()
		return err1 == nil && err2 == nil && x.ID != y.ID
	}, time.Second, 5*time.Millisecond, "round robin over both")
	rb.Stop() // b crashes
	require.Eventually(t, func() bool {
		for range 4 {
			if inst, _ := bal.Pick(); inst.ID == "b" {
				return false
			}
		}
		return true
	}, 2*time.Second, 10*time.Millisecond, "the balancer drops b once its lease ends")
	bal.Done(a, errors.New("refused"))
	bal.Done(a, nil)
}
