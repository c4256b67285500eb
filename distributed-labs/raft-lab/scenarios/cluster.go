package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvnode"
	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/netfault"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// client is the scenario side's name on the network: every link from the
// scenario's process to a node is "client"→"nodeN".
const client = "client"

// cluster is the KV's node processes and the network between them.
type cluster struct {
	nodes *node.Cluster
	net   *netfault.Network
	// addrs maps each node's name to the scenario's proxy to it.
	addrs map[string]string
	names []string
	http  *http.Client
}

// startCluster starts n KV nodes of program with a proxy on every link,
// node to node and client to node. Each node is told its peers as
// "name=proxy", because the proxy to node2 differs for node1 and node3.
func startCluster(ctx context.Context, env *runner.Env, program string, n int, args ...string) (*cluster, error) {
	args = append([]string{"-backend=" + Backend()}, args...)
	nodes, err := node.New(node.Config{Program: program, Args: args, N: n, Dir: env.Dir, Env: env})
	if err != nil {
		return nil, err
	}
	nw := netfault.New(ctx, env.Seed, env)
	env.Cleanup(func() { _ = nw.Close() }) // before the nodes' close: cleanups run last first
	c := &cluster{nodes: nodes, net: nw, addrs: map[string]string{}, http: &http.Client{Timeout: time.Second}}
	for _, from := range nodes.Nodes() {
		var peers []string
		for _, to := range nodes.Nodes() {
			if to == from {
				continue
			}
			addr, err := nw.Link(from.Name(), to.Name(), to.Addr())
			if err != nil {
				return nil, err
			}
			peers = append(peers, to.Name()+"="+addr)
		}
		from.SetPeers(peers)
		addr, err := nw.Link(client, from.Name(), from.Addr())
		if err != nil {
			return nil, err
		}
		c.addrs[from.Name()] = addr
		c.names = append(c.names, from.Name())
	}
	if err := nodes.Start(ctx); err != nil {
		return nil, err
	}
	env.Cleanup(c.http.CloseIdleConnections)
	return c, nil
}

// status asks one node for its view of leadership.
func (c *cluster) status(ctx context.Context, name string) (consensus.Status, error) {
	var st consensus.Status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addrs[name]+"/status", nil)
	if err != nil {
		return st, fmt.Errorf("scenarios: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return st, fmt.Errorf("scenarios: status of %s: %w", name, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("scenarios: status of %s: %w", name, err)
	}
	return st, nil
}

// leader waits until one of the nodes in among says it leads, and returns
// its name.
func (c *cluster) leader(ctx context.Context, among ...string) (string, error) {
	if len(among) == 0 {
		among = c.names
	}
	deadline := time.Now().Add(phaseTimeout)
	for time.Now().Before(deadline) {
		for _, name := range among {
			if st, err := c.status(ctx, name); err == nil && st.Leader {
				return name, nil
			}
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: no leader among %v within %s", errNoProgress, among, phaseTimeout)
}

// others are the node names except name.
func (c *cluster) others(name string) []string {
	var out []string
	for _, n := range c.names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// node is the named node.
func (c *cluster) node(name string) *node.Node {
	for _, n := range c.nodes.Nodes() {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// counter exports a count the scenario keeps as a Prometheus counter on the
// runner's /metrics, for the lab's alert rules.
func counter(env *runner.Env, name, help string, value func() float64) error {
	if err := env.Metrics.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value)); err != nil {
		return fmt.Errorf("scenarios: register %s: %w", name, err)
	}
	return nil
}

// The lab's common signals: what every scenario's clients did and how
// many of their operations failed or ended unknown, whatever the fault.
const (
	signalOps    = "client_ops"
	signalErrors = "client_errors"
)

func recordSignals(env *runner.Env, ops, errors int) {
	env.Record(signalOps, float64(ops))
	env.Record(signalErrors, float64(errors))
}

// recordHistorySignals records the signals from the scenario's history.
func recordHistorySignals(env *runner.Env) {
	ops := env.History().Ops()
	failed := 0
	for _, op := range ops {
		if op.Outcome != history.OK {
			failed++
		}
	}
	recordSignals(env, len(ops), failed)
}

// BackendEnv names the environment variable that picks the nodes' Raft:
// hashicorp (the default) or own.
const BackendEnv = "RAFT_BACKEND"

// Backend is the Raft the scenarios' nodes run.
func Backend() string {
	if b := os.Getenv(BackendEnv); b != "" {
		return b
	}
	return kvnode.BackendHashicorp
}

// checkBackend is the lab's preflight: a bad RAFT_BACKEND is a one-line
// error before any node starts.
func checkBackend(context.Context) (string, error) {
	switch b := Backend(); b {
	case kvnode.BackendHashicorp:
		return "raft: hashicorp/raft v1.8.0 with raft-boltdb (set RAFT_BACKEND=own for the lab's own Raft)", nil
	case kvnode.BackendOwn:
		return "raft: the lab's own (raft/, raftnet/) (RAFT_BACKEND=own)", nil
	default:
		return "", fmt.Errorf("%s=%q: expected hashicorp or own", BackendEnv, b)
	}
}

// phaseTimeout bounds one phase of a scenario: far beyond what a loaded
// machine needs, short of the runner's own deadline.
const phaseTimeout = 15 * time.Second

var errNoProgress = errors.New("scenarios: no progress")

// until polls cond until it holds, ctx ends or phaseTimeout passes.
func until(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(phaseTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s did not happen within %s", errNoProgress, what, phaseTimeout)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("scenarios: waiting for %s: %w", what, err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// every calls op(1), op(2), ... one at a time, at most once per period,
// until ctx ends.
func every(ctx context.Context, period time.Duration, op func(i int)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for i := 1; ctx.Err() == nil; i++ {
		op(i)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}
