package raft

import "fmt"

// Entry is one slot of the replicated log. An entry with nil Data is the
// no-op a new leader appends to commit the entries of earlier terms (the
// Figure 8 rule counts replicas only for entries of the current term).
type Entry struct {
	Index uint64
	Term  uint64
	Data  []byte
}

// HardState is what a node must remember across a crash besides its log:
// the latest term it has seen and whom it voted for in that term. Vote 0
// means no vote; node IDs start at 1.
type HardState struct {
	Term uint64
	Vote int
}

// Snapshot is the state machine as of Index, whose entry had Term. The log
// up to Index can be discarded once a snapshot covers it.
type Snapshot struct {
	Index uint64
	Term  uint64
	Data  []byte
}

// MsgType names the messages of Raft; heartbeats are appends with no
// entries, and the answer to a snapshot is an append answer. PreVote is
// the thesis's §9.6: a trial election that changes no term.
type MsgType uint8

// The message types.
const (
	MsgVote MsgType = iota + 1
	MsgVoteResp
	MsgApp
	MsgAppResp
	MsgSnap
	MsgPreVote
	MsgPreVoteResp
)

func (t MsgType) String() string {
	switch t {
	case MsgVote:
		return "Vote"
	case MsgVoteResp:
		return "VoteResp"
	case MsgApp:
		return "App"
	case MsgAppResp:
		return "AppResp"
	case MsgSnap:
		return "Snap"
	case MsgPreVote:
		return "PreVote"
	case MsgPreVoteResp:
		return "PreVoteResp"
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Message is every message nodes exchange. Raft here is message passing,
// not RPC: an answer is a message of its own, so a lost, late or duplicated
// message of any kind is just a message the receiver may ignore.
//
// The fields mean, per type:
//
//	Vote:     Index/LogTerm = the candidate's last entry.
//	VoteResp: Reject = vote refused.
//	PreVote:  as Vote, with Term = the term the candidate would stand in.
//	PreVoteResp: granted: Term echoes that term; refused: the voter's own term.
//	App:      Index/LogTerm = the entry before Entries; Commit = leader's commit;
//	          Context = the leader's heartbeat round (ReadIndex confirmations).
//	AppResp:  accepted: Index = the follower's last entry known to match the leader;
//	          rejected: Index = where the leader should retry from and
//	          LogTerm = the term of the follower's conflicting entry (0 if its log is short);
//	          Context = the round echoed back.
//	Snap:     Snapshot = the leader's snapshot.
type Message struct {
	Type     MsgType
	From     int
	To       int
	Term     uint64
	LogTerm  uint64
	Index    uint64
	Commit   uint64
	Context  uint64
	Reject   bool
	Entries  []Entry
	Snapshot *Snapshot
}

func (m Message) String() string {
	return fmt.Sprintf("%s %d→%d t%d idx%d lt%d c%d ctx%d rej=%v n=%d", m.Type, m.From, m.To, m.Term,
		m.Index, m.LogTerm, m.Commit, m.Context, m.Reject, len(m.Entries))
}

// ApplyMsg is what the node hands to the state machine, in log order: a
// committed entry, or a snapshot that replaces the whole state (sent by the
// leader, or loaded from storage on restart). A nil Command is a leader's
// no-op; the state machine skips it but may note its index.
type ApplyMsg struct {
	Index    uint64
	Term     uint64
	Command  []byte
	Snapshot *Snapshot
}

// Role is a node's part in the current term.
type Role uint8

// The roles.
const (
	Follower Role = iota
	PreCandidate
	Candidate
	Leader
)

func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case PreCandidate:
		return "pre-candidate"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Status is a consistent view of a node, for metrics, logs and tests.
type Status struct {
	ID        int
	Role      Role
	Term      uint64
	Leader    int // 0 if unknown
	Commit    uint64
	LastIndex uint64
	SnapIndex uint64
}
