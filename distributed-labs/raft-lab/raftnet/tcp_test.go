package raftnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// node is one Raft node on loopback: its listener, transport, ticker and
// apply loop.
type node struct {
	id    int
	raft  *raft.Node
	tcp   *TCP
	stop  context.CancelFunc
	wg    sync.WaitGroup
	state *applied
}

// applied is a node's state machine: what it applied at each index. It
// outlives a restart of the node, so a re-applied index is checked.
type applied struct {
	mu sync.Mutex
	m  map[uint64]string
	// conflicts counts entries applied at an index that already held
	// another command: a broken log.
	conflicts int
}

func newApplied() *applied { return &applied{m: map[uint64]string{}} }

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func startNode(t *testing.T, id int, ln net.Listener, addrs map[int]string, store raft.Storage) *node {
	t.Helper()
	return startNodeWith(t, id, ln, addrs, store, newApplied())
}

// startNodeWith starts a node whose applied state begins as state: what
// it applied before a restart, so a re-applied index is checked against it.
func startNodeWith(t *testing.T, id int, ln net.Listener, addrs map[int]string, store raft.Storage, state *applied) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tcp, err := NewTCP(ctx, id, addrs, Options{})
	require.NoError(t, err)
	ids := make([]int, 0, len(addrs))
	for pid := range addrs {
		ids = append(ids, pid)
	}
	rn, err := raft.New(raft.Config{ID: id, Peers: ids, Storage: store, Transport: tcp, ElectionTicks: 10})
	require.NoError(t, err)
	n := &node{id: id, raft: rn, tcp: tcp, stop: cancel, state: state}
	n.wg.Add(3)
	go func() { defer n.wg.Done(); _ = tcp.Serve(ctx, ln, rn) }()
	go func() { defer n.wg.Done(); rn.Run(ctx, 5*time.Millisecond) }()
	go func() {
		defer n.wg.Done()
		for m := range rn.Apply() {
			if m.Command != nil {
				state.mu.Lock()
				if prev, ok := state.m[m.Index]; ok && prev != string(m.Command) {
					state.conflicts++
				}
				state.m[m.Index] = string(m.Command)
				state.mu.Unlock()
			}
		}
	}()
	return n
}

func (n *node) close() {
	n.stop()
	n.raft.Stop()
	_ = n.tcp.Close()
	n.wg.Wait()
}

func (n *node) has(index uint64) (string, bool) {
	n.state.mu.Lock()
	defer n.state.mu.Unlock()
	v, ok := n.state.m[index]
	return v, ok
}

func leaderOf(nodes []*node) *node {
	for _, n := range nodes {
		if n == nil {
			continue
		}
		if _, ok := n.raft.State(); ok {
			return n
		}
	}
	return nil
}

// TestThreeNodesOnLoopback elects a leader over real sockets, replicates
// commands, kills the leader and checks that the other two carry on.
func TestThreeNodesOnLoopback(t *testing.T) {
	lns := map[int]net.Listener{}
	addrs := map[int]string{}
	for id := 1; id <= 3; id++ {
		lns[id] = listen(t)
		addrs[id] = lns[id].Addr().String()
	}
	nodes := make([]*node, 4)
	for id := 1; id <= 3; id++ {
		nodes[id] = startNode(t, id, lns[id], addrs, raft.NewMemoryStorage())
	}
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.close()
			}
		}
	}()

	propose := func(cmd string, want []*node) uint64 {
		t.Helper()
		var index uint64
		require.Eventually(t, func() bool {
			l := leaderOf(want)
			if l == nil {
				return false
			}
			idx, _, ok := l.raft.Propose([]byte(cmd))
			if !ok {
				return false
			}
			index = idx
			return true
		}, 5*time.Second, 10*time.Millisecond, "no leader took %q", cmd)
		require.Eventually(t, func() bool {
			for _, n := range want {
				if n == nil {
					continue
				}
				if v, ok := n.has(index); !ok || v != cmd {
					return false
				}
			}
			return true
		}, 5*time.Second, 5*time.Millisecond, "%q at %d not applied everywhere", cmd, index)
		return index
	}

	for i := range 20 {
		propose(fmt.Sprintf("put-%d", i), nodes)
	}
	l := leaderOf(nodes)
	require.NotNil(t, l)
	index, err := l.raft.ReadIndex(context.Background())
	require.NoError(t, err)
	assert.Positive(t, index)

	// Kill the leader: the others elect a new one and keep committing.
	nodes[l.id].close()
	nodes[l.id] = nil
	propose("after-crash", nodes)
	st := leaderOf(nodes).tcp.Stats()
	assert.Positive(t, st.Sent)
	assert.Positive(t, st.Received)
}

// TestSendNeverBlocks: a peer that does not exist costs drops, not a stuck
// caller.
func TestSendNeverBlocks(t *testing.T) {
	ln := listen(t)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	tcp, err := NewTCP(context.Background(), 1, map[int]string{1: "unused", 2: dead}, Options{QueueLen: 8})
	require.NoError(t, err)
	defer func() { _ = tcp.Close() }()
	start := time.Now()
	for range 1000 {
		tcp.Send([]raft.Message{{Type: raft.MsgApp, From: 1, To: 2, Term: 1}, {Type: raft.MsgApp, From: 1, To: 9}})
	}
	assert.Less(t, time.Since(start), time.Second)
	assert.Positive(t, tcp.Stats().Dropped)
}

// TestServeRejectsStrangers: a connection that does not open with the
// preamble, or lies about its sender, is closed.
func TestServeRejectsStrangers(t *testing.T) {
	tests := []struct {
		name  string
		bytes func() []byte
	}{
		{"http", func() []byte { return []byte("GET / HTTP/1.1\r\n\r\n") }},
		{"huge frame", func() []byte {
			return append(append(append([]byte{}, Preamble...), 2), 0xff, 0xff, 0xff, 0xff)
		}},
		{"spoofed sender", func() []byte {
			b := append(append([]byte{}, Preamble...), 2)
			msg := AppendMessage(nil, raft.Message{Type: raft.MsgApp, From: 3, To: 1, Term: 1})
			return append(append(b, 0, 0, 0, byte(len(msg))), msg...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := listen(t)
			tcp, err := NewTCP(context.Background(), 1, map[int]string{}, Options{})
			require.NoError(t, err)
			got := &recorder{}
			done := make(chan error, 1)
			go func() { done <- tcp.Serve(context.Background(), ln, got) }()
			c, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			_, err = c.Write(tt.bytes())
			require.NoError(t, err)
			// The transport closes the connection: the read ends.
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			_, err = c.Read(make([]byte, 1))
			require.Error(t, err)
			var ne net.Error
			if errors.As(err, &ne) {
				assert.False(t, ne.Timeout(), "the connection was left open")
			}
			_ = c.Close()
			require.NoError(t, tcp.Close())
			require.NoError(t, <-done)
			assert.Zero(t, got.count())
			assert.Positive(t, tcp.Stats().Rejected)
		})
	}
}

type recorder struct {
	mu   sync.Mutex
	msgs []raft.Message
}

func (r *recorder) Step(m raft.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}
