package kvhttp_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus/ownraft"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

func init() {
	backends = append(backends, backend{name: "own", start: startOwn})
}

// mesh is an in-process network for the own Raft: each node has an inbox
// drained by one goroutine, so Send never blocks and never calls back.
type mesh struct {
	mu      sync.Mutex
	inboxes map[int]chan raft.Message
	nodes   map[int]*ownraft.Node
	wg      sync.WaitGroup
}

func (m *mesh) Send(msgs []raft.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range msgs {
		if in, ok := m.inboxes[msg.To]; ok {
			select {
			case in <- msg:
			default: // a full inbox drops, as a real network may
			}
		}
	}
}

// remove cuts a node off: what is sent to it is dropped.
func (m *mesh) remove(id int) {
	m.mu.Lock()
	in, ok := m.inboxes[id]
	delete(m.inboxes, id)
	m.mu.Unlock()
	if ok {
		close(in)
	}
}

func startOwn(t testing.TB, ids []string, stores []*kv.Store) []consensus.Node {
	t.Helper()
	m := &mesh{inboxes: map[int]chan raft.Message{}, nodes: map[int]*ownraft.Node{}}
	var peers []int
	for i := range ids {
		peers = append(peers, i+1)
	}
	nodes := make([]consensus.Node, len(ids))
	for i := range ids {
		id := i + 1
		n, err := ownraft.New(ownraft.Config{ID: id, Peers: peers, Storage: raft.NewMemoryStorage(), Transport: m,
			Tick: 10 * time.Millisecond, Name: func(id int) string { return "node" + strconv.Itoa(id) }}, stores[i])
		require.NoError(t, err)
		in := make(chan raft.Message, 1024)
		m.mu.Lock()
		m.inboxes[id], m.nodes[id] = in, n
		m.mu.Unlock()
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for msg := range in {
				n.Step(msg)
			}
		}()
		nodes[i] = &meshNode{Node: n, mesh: m, id: id}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			_ = n.Close()
		}
		m.wg.Wait()
	})
	return nodes
}

// meshNode leaves the mesh when it closes, so its inbox goroutine ends.
type meshNode struct {
	*ownraft.Node
	mesh *mesh
	id   int
	once sync.Once
}

func (n *meshNode) Close() error {
	var err error
	n.once.Do(func() {
		n.mesh.remove(n.id)
		err = n.Node.Close()
	})
	return err
}
