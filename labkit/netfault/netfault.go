// Package netfault puts a TCP proxy on every link of a cluster (client to
// node, node to node) and breaks the links on demand: latency and jitter,
// dropped connections, resets, a bandwidth cap, a partition both ways or one
// way, and heal. It runs in the scenario's process, unprivileged, on
// loopback.
//
// The proxy is this package's own (proxy.go, two pumps per connection),
// not github.com/Shopify/toxiproxy/v2: toxiproxy v2.12.0 leaks a goroutine
// (toxics.(*NoopToxic).Pipe, blocked on a channel send) whenever a
// connection's far end closes while bytes are in flight, which a kill or a
// client timeout does all the time; its jitter and toxicity also draw from
// the global math/rand, which no seed replays. Here every connection ends
// when either side does, and every random choice comes from the seed.
//
// A link is directional: Link("node1", "node2", addr) is the proxy node1
// dials to reach node2, and its two streams are node1's bytes going up and
// node2's coming back. So a one-way partition is a blackhole on one stream
// of each of the pair's two links, and a node that dials its peers only
// through their proxies cannot get around a fault.
//
//	net := netfault.New(ctx, env.Seed, env)
//	defer net.Close()
//	p, _ := net.Link("node1", "node2", node2Addr) // give node1 p as node2's address
//	net.Partition([]string{"node3"}, []string{"node1", "node2"})
//	net.Heal()
package netfault

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Events is where the network records what it did, at the time it did it.
// *runner.Env is one; nil records nothing.
type Events interface {
	Event(kind, detail string)
}

// Event kinds the network records.
const (
	EventPartition = "partition"
	EventHeal      = "heal"
	EventDelay     = "delay"
	EventDrop      = "drop"
	EventReset     = "reset"
	EventBandwidth = "bandwidth"
)

// ErrNoLink is returned when a fault names a link that was never made.
var ErrNoLink = errors.New("netfault: no such link")

// Network is the set of proxied links of one scenario.
type Network struct {
	events Events
	stop   func() bool

	mu     sync.Mutex
	rand   *rand.Rand // seeds each link, in the order links are made
	links  map[link]*proxy
	closed bool
}

type link struct{ from, to string }

func (l link) String() string { return l.from + "→" + l.to }

// New returns a network with no links. Its proxies stop when ctx ends or
// Close is called. seed drives every random choice a fault makes (jitter,
// which connections drop).
func New(ctx context.Context, seed uint64, events Events) *Network {
	n := &Network{
		events: events,
		rand:   rand.New(rand.NewPCG(seed, 0x6e6574666175)),
		links:  map[link]*proxy{},
	}
	n.stop = context.AfterFunc(ctx, func() { _ = n.Close() })
	return n
}

// Link starts the proxy that from dials to reach to, which forwards to
// target, and returns its address on 127.0.0.1.
func (n *Network) Link(from, to, target string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return "", errors.New("netfault: the network is closed")
	}
	l := link{from, to}
	if _, ok := n.links[l]; ok {
		return "", fmt.Errorf("netfault: link %s already exists", l)
	}
	p, err := startProxy(l.String(), target, n.rand.Uint64())
	if err != nil {
		return "", fmt.Errorf("netfault: start proxy for %s: %w", l, err)
	}
	n.links[l] = p
	return p.addr(), nil
}

// Addr is the proxy address of the link from → to.
func (n *Network) Addr(from, to string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.links[link{from, to}]
	if !ok {
		return "", fmt.Errorf("%w: %s→%s", ErrNoLink, from, to)
	}
	return p.addr(), nil
}

// change is one fault on one stream of one link.
type change struct {
	link   link
	stream int
	set    func(*faults)
}

// apply makes every change, or none: a fault half applied would be a
// different fault from the one the event names.
func (n *Network) apply(kind, detail string, cs []change) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netfault: the network is closed")
	}
	for _, c := range cs {
		if _, ok := n.links[c.link]; !ok {
			return fmt.Errorf("%w: %s", ErrNoLink, c.link)
		}
	}
	for _, c := range cs {
		n.links[c.link].set(c.stream, c.set)
	}
	if n.events != nil {
		n.events.Event(kind, detail)
	}
	return nil
}

// blackhole swallows every byte on a stream; existing connections stay open
// and silent, which is what a partition looks like from either end.
func blackhole(l link, stream int) change {
	return change{link: l, stream: stream, set: func(f *faults) { f.blackhole = true }}
}

// Partition cuts every link between a node of a and a node of b, both ways.
// Links that were never made are skipped; a partition that cuts nothing is
// an error.
func (n *Network) Partition(a, b []string) error {
	var cs []change
	for _, l := range n.between(a, b) {
		cs = append(cs, blackhole(l, up), blackhole(l, down))
	}
	if len(cs) == 0 {
		return fmt.Errorf("%w between %v and %v", ErrNoLink, a, b)
	}
	return n.apply(EventPartition, fmt.Sprintf("%s | %s", strings.Join(a, " "), strings.Join(b, " ")), cs)
}

// Isolate partitions node from every other endpoint of the network.
func (n *Network) Isolate(node string) error {
	return n.Partition([]string{node}, n.others(node))
}

// PartitionOneWay stops from's bytes reaching to, and lets to's bytes reach
// from: the requests from sends to to vanish, and so do from's answers to
// to's requests, while to's requests still arrive at from.
func (n *Network) PartitionOneWay(from, to string) error {
	var cs []change
	if n.has(link{from, to}) {
		cs = append(cs, blackhole(link{from, to}, up))
	}
	if n.has(link{to, from}) {
		cs = append(cs, blackhole(link{to, from}, down))
	}
	if len(cs) == 0 {
		return fmt.Errorf("%w between %s and %s", ErrNoLink, from, to)
	}
	return n.apply(EventPartition, fmt.Sprintf("one-way %s ↛ %s", from, to), cs)
}

// Delay adds d ± jitter to each direction of the link from → to, so a round
// trip over it takes about 2d longer.
func (n *Network) Delay(from, to string, d, jitter time.Duration) error {
	if d < 0 || jitter < 0 || jitter > d {
		return fmt.Errorf("netfault: delay %s ± %s: expected 0 <= jitter <= delay", d, jitter)
	}
	l := link{from, to}
	set := func(f *faults) { f.delay, f.jitter = d, jitter }
	return n.apply(EventDelay, fmt.Sprintf("%s %s±%s", l, d, jitter),
		[]change{{link: l, stream: up, set: set}, {link: l, stream: down, set: set}})
}

// Drop blackholes each new connection over from → to with probability p
// (drawn from the seed); p = 1 blackholes the link.
func (n *Network) Drop(from, to string, p float64) error {
	if p < 0 || p > 1 {
		return fmt.Errorf("netfault: drop probability %v: expected 0..1", p)
	}
	l := link{from, to}
	// Swallowing the dialer's bytes is enough: the request never arrives,
	// so no answer ever comes back.
	return n.apply(EventDrop, fmt.Sprintf("%s p=%.2f", l, p),
		[]change{{link: l, stream: up, set: func(f *faults) { f.drop = p }}})
}

// Reset makes the link from → to reset (TCP RST) every connection as soon
// as the dialer sends on it.
func (n *Network) Reset(from, to string) error {
	l := link{from, to}
	return n.apply(EventReset, l.String(),
		[]change{{link: l, stream: up, set: func(f *faults) { f.reset = true }}})
}

// Bandwidth caps each direction of the link from → to at kbps kilobytes a
// second.
func (n *Network) Bandwidth(from, to string, kbps int) error {
	if kbps <= 0 {
		return fmt.Errorf("netfault: bandwidth %d KB/s: expected a positive rate", kbps)
	}
	l := link{from, to}
	set := func(f *faults) { f.rate = kbps * 1024 }
	return n.apply(EventBandwidth, fmt.Sprintf("%s %d KB/s", l, kbps),
		[]change{{link: l, stream: up, set: set}, {link: l, stream: down, set: set}})
}

// Heal removes every fault from every link. A connection whose bytes were
// swallowed is closed (its stream has a hole, so nothing after it could be
// read correctly); clients dial again and the new connections are clean.
func (n *Network) Heal() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netfault: the network is closed")
	}
	for _, p := range n.links {
		p.heal()
	}
	if n.events != nil {
		n.events.Event(EventHeal, "all links")
	}
	return nil
}

// Close stops every proxy and closes every connection through them.
func (n *Network) Close() error {
	n.stop()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	for _, p := range n.links {
		p.stop()
	}
	return nil
}

func (n *Network) has(l link) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.links[l]
	return ok
}

// between lists the links from a node of a to a node of b and back, in a
// stable order.
func (n *Network) between(a, b []string) []link {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []link
	for l := range n.links {
		if (slices.Contains(a, l.from) && slices.Contains(b, l.to)) ||
			(slices.Contains(b, l.from) && slices.Contains(a, l.to)) {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (n *Network) others(node string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for l := range n.links {
		for _, e := range []string{l.from, l.to} {
			if e != node && !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	sort.Strings(out)
	return out
}
