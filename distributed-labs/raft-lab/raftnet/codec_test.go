package raftnet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

func TestCodecRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		m    raft.Message
	}{
		{"vote", raft.Message{Type: raft.MsgVote, From: 1, To: 2, Term: 7, LogTerm: 6, Index: 99}},
		{"rejected vote", raft.Message{Type: raft.MsgVoteResp, From: 2, To: 1, Term: 7, Reject: true}},
		{"heartbeat", raft.Message{Type: raft.MsgApp, From: 1, To: 3, Term: 7, Index: 5, LogTerm: 7, Commit: 5, Context: 42}},
		{"append with a no-op and an empty command", raft.Message{Type: raft.MsgApp, From: 1, To: 3, Term: 7,
			Entries: []raft.Entry{{Index: 6, Term: 7}, {Index: 7, Term: 7, Data: []byte{}}, {Index: 8, Term: 7, Data: []byte("put k v")}}}},
		{"append answer", raft.Message{Type: raft.MsgAppResp, From: 3, To: 1, Term: 7, Index: 4, LogTerm: 3, Reject: true, Context: 42}},
		{"snapshot", raft.Message{Type: raft.MsgSnap, From: 1, To: 2, Term: 9,
			Snapshot: &raft.Snapshot{Index: 100, Term: 8, Data: []byte("state")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMessage(AppendMessage(nil, tt.m))
			require.NoError(t, err)
			assert.Equal(t, tt.m, got)
		})
	}
}

func TestCodecRejectsBadBytes(t *testing.T) {
	good := AppendMessage(nil, raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 1,
		Entries: []raft.Entry{{Index: 1, Term: 1, Data: []byte("x")}}})
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown type", append([]byte{9}, good[1:]...)},
		{"zero sender", append([]byte{good[0], 0}, good[2:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte{}, good...), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeMessage(tt.b)
			require.ErrorIs(t, err, ErrBadMessage)
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(AppendMessage(nil, raft.Message{Type: raft.MsgVote, From: 1, To: 2, Term: 3}))
	f.Add(AppendMessage(nil, raft.Message{Type: raft.MsgApp, From: 1, To: 2, Term: 3,
		Entries: []raft.Entry{{Index: 1, Term: 1}, {Index: 2, Term: 3, Data: []byte("cmd")}}}))
	f.Add(AppendMessage(nil, raft.Message{Type: raft.MsgSnap, From: 1, To: 2, Term: 3,
		Snapshot: &raft.Snapshot{Index: 4, Term: 2, Data: []byte("s")}}))
	f.Add([]byte{3, 1, 2, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to a message that decodes the same.
		again, err := DecodeMessage(AppendMessage(nil, m))
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
