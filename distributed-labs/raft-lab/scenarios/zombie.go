package scenarios

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/discovery"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// registerTTL is each instance's lease on the fixed path; zombieGrace is how
// long after a kill the registry must have dropped the instance (two
// leases: expiry, plus a watch poll and a heartbeat's worth of slack).
const (
	registerTTL = 600 * time.Millisecond
	zombieGrace = 2 * registerTTL
	// measureAfterGrace is how long requests are counted once the grace is over.
	measureAfterGrace = time.Second
)

// runZombies: every node registers itself as an instance of "echo"; a
// client-side balancer in the scenario follows the registry and spreads
// requests over the instances. One instance is killed with -9: it never
// deregisters. With leases the registry drops it when its lease ends;
// without them it is listed, and sent requests, for as long as anyone looks.
func runZombies(ctx context.Context, env *runner.Env, program string) error {
	started := time.Now()
	ttl := registerTTL
	if env.FaultOn {
		ttl = 0
	}
	c, err := startCluster(ctx, env, program, 3, "-tick=250ms", "-register=echo", "-register-ttl="+ttl.String())
	if err != nil {
		return err
	}
	cl := kvhttp.NewClient("discovery", c.addrs, 500*time.Millisecond)
	defer cl.Close()
	reg := &discovery.Registry{KV: cl}
	load, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	bal := discovery.NewBalancer(reg.Watch(load, "echo", 50*time.Millisecond), zombieGrace, env.Log)
	if err := until(ctx, "three registered instances", func() bool {
		insts, err := reg.Live(ctx, "echo")
		return err == nil && len(insts) == 3
	}); err != nil {
		return err
	}

	hc := &http.Client{Timeout: 300 * time.Millisecond}
	defer hc.CloseIdleConnections()
	var (
		ok, failed, toDead, toDeadLate atomic.Int64
		victim                         atomic.Value // string: the killed instance's ID
		killedAt                       atomic.Int64 // unix nanos
	)
	if err := counter(env, "raftlab_requests_to_dead_instances_total", "Requests the balancer sent to an instance after it was killed.",
		func() float64 { return float64(toDead.Load()) }); err != nil {
		return err
	}
	env.Series("requests_failed", func() float64 { return float64(failed.Load()) })
	env.Series("requests_to_dead_instances", func() float64 { return float64(toDead.Load()) })
	for range 4 {
		wg.Go(func() {
			every(load, 5*time.Millisecond, func(int) {
				inst, err := bal.Pick()
				if err != nil {
					failed.Add(1)
					return
				}
				err = echo(load, hc, inst.Addr)
				bal.Done(inst, err)
				if err != nil {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
				if v, _ := victim.Load().(string); v == inst.ID {
					toDead.Add(1)
					if time.Since(time.Unix(0, killedAt.Load())) > zombieGrace {
						toDeadLate.Add(1)
					}
				}
			})
		})
	}
	if err := until(ctx, "requests to every instance", func() bool { return ok.Load() >= 60 }); err != nil {
		return err
	}
	// Kill a follower, so the KV (and the registry in it) stays up.
	leader, err := c.leader(ctx)
	if err != nil {
		return err
	}
	name := c.others(leader)[0]
	killedAt.Store(time.Now().UnixNano())
	victim.Store(name)
	if err := c.node(name).Kill(); err != nil {
		return err
	}
	wait := zombieGrace + measureAfterGrace
	if rest := env.Duration - time.Since(started); rest > wait {
		wait = rest
	}
	if err := sleep(ctx, wait); err != nil {
		return err
	}
	stop()
	wg.Wait()
	recordSignals(env, int(ok.Load()+failed.Load()), int(failed.Load()))
	env.Record("requests_to_dead_after_lease", float64(toDeadLate.Load()))
	env.Record("requests_to_dead_instances", float64(toDead.Load()))
	env.Record("requests_failed", float64(failed.Load()))
	env.Record("requests_ok", float64(ok.Load()))
	return nil
}

func echo(ctx context.Context, hc *http.Client, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/echo", nil)
	if err != nil {
		return fmt.Errorf("scenarios: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("scenarios: echo at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("scenarios: echo at %s: %s", addr, resp.Status)
	}
	return nil
}
