package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cache"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/server"
)

// runHotKey drives a Zipf(s=1.6) read workload over 10k keys against a 3-node in-process mini
// Redis cluster. The hottest keys live on whatever node owns their slot, so with the fault every
// read of them is a network round trip to that one node (ClusterReader.fetch), which serves a
// large share of all traffic. The fix puts a near cache with a 1 s TTL in the client: a hot key
// is then fetched from its node about once a second per process, and the cluster sees only the
// long tail's reads, spread evenly over the nodes.
func runHotKey(ctx context.Context, env *runner.Env) error {
	const nodes, keys, workers = 3, 10_000, 8
	var addrs []string
	var lns []net.Listener
	for i := 0; i < nodes; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		env.Cleanup(func() { ln.Close() }) // a no-op once the node's Serve has closed it
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	srvs := make([]*server.Server, nodes)
	for i, ln := range lns {
		topo, err := cluster.Even(addrs, addrs[i])
		if err != nil {
			return err
		}
		// Each node serves on the listener bound above: the port is never released, so nothing
		// else can take it between the topology being built and the node starting.
		s, err := serveMini(env, "hot-key-"+strconv.Itoa(i), ln, server.Config{Cluster: topo})
		if err != nil {
			return err
		}
		srvs[i] = s
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, PoolSize: 16})
	env.Cleanup(func() { cc.Close() })
	pipe := cc.Pipeline()
	for i := 0; i < keys; i++ {
		pipe.Set(ctx, "item:"+strconv.Itoa(i), "value-"+strconv.Itoa(i), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("hot-key: load keys: %w", err)
	}
	var near *cache.NearCache
	if !env.FaultOn {
		near = cache.NewNearCache(time.Second)
	}
	reader := cache.NewClusterReader(cc, near)
	before := make([]int64, nodes)
	for i, s := range srvs {
		before[i] = s.CommandsProcessed()
		s := s
		b := before[i]
		env.Series("node"+strconv.Itoa(i)+"_commands", func() float64 { return float64(s.CommandsProcessed() - b) })
	}
	ctx, cancel := context.WithTimeout(ctx, env.Duration)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < workers; w++ {
		seed := env.Rand.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, 1))
			zipf := rand.NewZipf(rnd, 1.6, 1, keys-1)
			mine := runner.NewTraffic() // the worker's own tally: no shared lock
			defer env.Traffic().Merge(mine)
			for ctx.Err() == nil {
				t0 := time.Now()
				_, err := reader.Get(ctx, "item:"+strconv.FormatUint(zipf.Uint64(), 10))
				if ctx.Err() != nil {
					return // cut off by the window's end
				}
				mine.Observe(time.Since(t0), err)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	var total, maxN float64
	for i, s := range srvs {
		n := float64(s.CommandsProcessed() - before[i])
		total += n
		maxN = max(maxN, n)
		env.Record("node"+strconv.Itoa(i)+"_qps", n/env.Duration.Seconds())
	}
	if total == 0 {
		return fmt.Errorf("hot-key: no commands reached the cluster")
	}
	env.Record("node_qps_skew", maxN/(total/nodes)-1)
	return nil
}
