// Package consensus is the small interface the KV service needs from a
// replicated log, so the same state machine runs on hashicorp/raft
// (consensus/hashiraft) and on the Raft written in this lab (consensus/ownraft).
//
// It is four things: propose a command and wait until it is applied, read
// the state machine linearizably, say who leads, and stop.
package consensus

import (
	"context"
	"errors"
	"fmt"
)

// FSM is the replicated state machine. Apply must be deterministic: every
// node applies the same commands in the same order and must end in the same
// state. Apply, Snapshot and Restore are never called concurrently with each
// other by the adapters.
type FSM interface {
	Apply(cmd []byte) any
	Snapshot() ([]byte, error)
	Restore(snapshot []byte) error
}

// Status is what a node knows about the cluster's leadership.
type Status struct {
	ID       string `json:"id"`
	Leader   bool   `json:"leader"`
	LeaderID string `json:"leader_id"` // "" while no leader is known
	Term     uint64 `json:"term"`
	Applied  uint64 `json:"applied"` // last log index applied to the FSM here
}

// Node is one member of a replicated log driving an FSM.
type Node interface {
	// Propose appends cmd to the log and returns what FSM.Apply returned for
	// it on this node, once the entry is committed and applied. Only the
	// leader accepts proposals; others return a *NotLeaderError.
	Propose(ctx context.Context, cmd []byte) (any, error)
	// LinearRead runs read against the local FSM so that it observes every
	// write acknowledged before LinearRead was called: the node confirms with
	// a quorum that it still leads (ReadIndex or a leader check) and that its
	// FSM has applied everything committed. read runs under the FSM's own
	// locking, not the adapter's.
	LinearRead(ctx context.Context, read func()) error
	// Status is this node's view of leadership, without a round trip.
	Status() Status
	// Close stops the node and releases its storage.
	Close() error
}

// NotLeaderError is returned by a node that cannot serve a request because
// it does not lead; Leader is the leader's ID when it knows one.
type NotLeaderError struct {
	Leader string
}

func (e *NotLeaderError) Error() string {
	if e.Leader == "" {
		return "consensus: not the leader, and no leader is known"
	}
	return fmt.Sprintf("consensus: not the leader; the leader is %s", e.Leader)
}

// Is makes errors.Is(err, ErrNotLeader) true for any *NotLeaderError.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// ErrNotLeader matches every *NotLeaderError with errors.Is.
var ErrNotLeader = errors.New("consensus: not the leader")

// ErrLostLeadership is returned by LinearRead and Propose when leadership
// could not be confirmed or was lost while the request was in flight: the
// outcome of a proposal is then unknown to the caller.
var ErrLostLeadership = errors.New("consensus: leadership lost or not confirmed by a quorum")
