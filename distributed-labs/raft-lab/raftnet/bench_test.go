package raftnet

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

// waiters lets a proposer wait for its entry to be applied on the leader.
// Propose can return after its entry was applied (the leader's own fsync
// runs inside it), so an entry applied before anyone waits for it is
// kept until someone does.
type waiters struct {
	mu      sync.Mutex
	byIndex map[uint64]chan uint64 // receives the applied entry's term
	early   map[uint64]uint64
}

func (w *waiters) wait(index uint64) chan uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan uint64, 1)
	if term, ok := w.early[index]; ok {
		delete(w.early, index)
		ch <- term
		return ch
	}
	w.byIndex[index] = ch
	return ch
}

func (w *waiters) done(m raft.ApplyMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.byIndex[m.Index]; ok {
		ch <- m.Term
		delete(w.byIndex, m.Index)
		return
	}
	if m.Command != nil {
		w.early[m.Index] = m.Term
	}
}

// benchCluster is 3 nodes over TCP on loopback, each with its own fsync'd
// file storage, as the node processes run.
type benchCluster struct {
	nodes  []*raft.Node
	tcps   []*TCP
	stores []*raft.FileStorage
	wait   []*waiters
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newBenchCluster(b *testing.B) *benchCluster {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &benchCluster{cancel: cancel}
	addrs := map[int]string{}
	lns := map[int]net.Listener{}
	for id := 1; id <= 3; id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(b, err)
		lns[id], addrs[id] = ln, ln.Addr().String()
	}
	for id := 1; id <= 3; id++ {
		fs, err := raft.OpenFileStorage(b.TempDir())
		require.NoError(b, err)
		tcp, err := NewTCP(ctx, id, addrs, Options{})
		require.NoError(b, err)
		n, err := raft.New(raft.Config{ID: id, Peers: []int{1, 2, 3}, Storage: fs, Transport: tcp, ElectionTicks: 10})
		require.NoError(b, err)
		w := &waiters{byIndex: map[uint64]chan uint64{}, early: map[uint64]uint64{}}
		c.nodes, c.tcps, c.stores, c.wait = append(c.nodes, n), append(c.tcps, tcp), append(c.stores, fs), append(c.wait, w)
		ln := lns[id]
		c.wg.Add(3)
		go func() { defer c.wg.Done(); _ = tcp.Serve(ctx, ln, n) }()
		go func() { defer c.wg.Done(); n.Run(ctx, 10*time.Millisecond) }()
		go func() {
			defer c.wg.Done()
			for m := range n.Apply() {
				w.done(m)
				// Keep the log short, as a KV service would.
				if m.Index%10000 == 0 {
					n.Snapshot(m.Index, []byte("state"))
				}
			}
		}()
	}
	return c
}

func (c *benchCluster) close() {
	c.cancel()
	for i, n := range c.nodes {
		n.Stop()
		_ = c.tcps[i].Close()
	}
	c.wg.Wait()
	for _, s := range c.stores {
		_ = s.Close()
	}
}

func (c *benchCluster) leader(b *testing.B) int {
	b.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range c.nodes {
			if _, ok := n.State(); ok {
				return i
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal("no leader")
	return 0
}

// BenchmarkPropose measures committed proposals per second through 3
// nodes over loopback TCP with fsync'd file storage, at 1, 16 and 64
// concurrent proposers, each waiting for its own entry to be applied on
// the leader (what a KV put waits for). It reports puts/s and p99.
func BenchmarkPropose(b *testing.B) {
	for _, conc := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("c=%d", conc), func(b *testing.B) {
			c := newBenchCluster(b)
			defer c.close()
			l := c.leader(b)
			leader, w := c.nodes[l], c.wait[l]
			cmd := make([]byte, 64)
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := (b.N + conc - 1) / conc
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := make([]time.Duration, 0, per)
					for range per {
						t0 := time.Now()
						index, term, ok := leader.Propose(cmd)
						if !ok {
							b.Error("leader lost office during the benchmark")
							return
						}
						ch := w.wait(index)
						select {
						case got := <-ch:
							if got != term {
								b.Error("proposal lost to another term")
								return
							}
						case <-time.After(5 * time.Second):
							for _, n := range c.nodes {
								b.Logf("%+v err=%v", n.Status(), n.Err())
							}
							b.Errorf("proposal %d not applied within 5 s", index)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if len(lat) == 0 {
				return
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "puts/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
