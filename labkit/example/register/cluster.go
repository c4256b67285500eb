package register

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/history"
	"github.com/architect-roadmap/architect-roadmap/labkit/netfault"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

// Client is the scenario side's name on the network: every link from the
// scenario's process to a node is "client"→"nodeN".
const Client = "client"

// Cluster is the register's nodes and the network between them.
type Cluster struct {
	Nodes *node.Cluster
	Net   *netfault.Network
}

// StartCluster starts n nodes of program (each with args) with a proxy on
// every link, node to node and client to node, so that every byte between
// two processes crosses a link netfault can break. The nodes, their
// profiles and the proxies belong to env: they are captured with the
// evidence window and closed after it.
func StartCluster(ctx context.Context, env *runner.Env, program string, n int, args ...string) (*Cluster, error) {
	nodes, err := node.New(node.Config{Program: program, Args: args, N: n, Dir: env.Dir, Env: env})
	if err != nil {
		return nil, err
	}
	nw := netfault.New(ctx, env.Seed, env)
	env.Cleanup(func() { _ = nw.Close() }) // runs before the nodes' close: cleanups run last first
	c := &Cluster{Nodes: nodes, Net: nw}
	// The listeners exist before any process does, so the proxies can point
	// at them and every node can be told its peers' proxies up front.
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
			peers = append(peers, addr)
		}
		from.SetPeers(peers)
		if _, err := nw.Link(Client, from.Name(), from.Addr()); err != nil {
			return nil, err
		}
	}
	if err := nodes.Start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Names are the nodes' names, node1 first.
func (c *Cluster) Names() []string {
	var out []string
	for _, n := range c.Nodes.Nodes() {
		out = append(out, n.Name())
	}
	return out
}

// Conn is one client of the register talking to one node, recording each
// operation in the scenario's history.
type Conn struct {
	id   int
	addr string
	http *http.Client
	h    *history.Recorder
}

// Conn returns client id's connection to the node called name, through the
// client's proxy to it.
func (c *Cluster) Conn(id int, name string, h *history.Recorder) (*Conn, error) {
	addr, err := c.Net.Addr(Client, name)
	if err != nil {
		return nil, err
	}
	// A client gives up after a second: long enough for a quorum under a
	// loaded machine, short enough that a partitioned node is noticed.
	return &Conn{id: id, addr: addr, http: &http.Client{Timeout: time.Second}, h: h}, nil
}

// Close releases the connection's idle connections.
func (c *Conn) Close() { c.http.CloseIdleConnections() }

// Write asks the node to set the register to v.
func (c *Conn) Write(ctx context.Context, v string) error {
	op := c.h.Invoke(c.id, "write", "", v)
	_, status, err := c.do(ctx, http.MethodPost, "/write?value="+url.QueryEscape(v))
	switch {
	case err == nil:
		op.OK("")
	case status == http.StatusMisdirectedRequest:
		op.Fail(err) // refused before anything was written
	default:
		op.Unknown(err) // no majority yet, or no answer: it may still be applied
	}
	return err
}

// Read asks the node for the register's value.
func (c *Conn) Read(ctx context.Context) (string, error) {
	op := c.h.Invoke(c.id, "read", "", "")
	st, _, err := c.do(ctx, http.MethodGet, "/read")
	if err != nil {
		op.Unknown(err) // a read that did not answer had no effect either way
		return "", err
	}
	op.OK(st.Value)
	return st.Value, nil
}

func (c *Conn) do(ctx context.Context, method, path string) (State, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+path, nil)
	if err != nil {
		return State{}, 0, fmt.Errorf("register: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return State{}, 0, fmt.Errorf("register: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return State{}, resp.StatusCode, fmt.Errorf("register: %s %s: %s: %s", method, path, resp.Status, msg)
	}
	var st State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return State{}, resp.StatusCode, fmt.Errorf("register: %s %s: %w", method, path, err)
	}
	return st, resp.StatusCode, nil
}

// ErrNoProgress is returned when the cluster did not get as far as a phase
// of the scenario needs within its deadline.
var ErrNoProgress = errors.New("register: no progress")
