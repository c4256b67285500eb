package kvnode_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvnode"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

func TestBadFlagsAreOneLineErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-backend=etcd"}, "expected hashicorp or own"},
		{[]string{"-reads=maybe"}, "expected linearizable or local"},
		{[]string{"-ack=sometimes"}, "expected commit or early"},
		{[]string{"-tick=1ms"}, "expected at least 10ms"},
		{[]string{"-register-ttl=5ms"}, "expected 0 (no lease) or at least 30ms"},
		{[]string{"-bogus"}, "expected -backend=hashicorp|own"},
	}
	for _, tt := range tests {
		_, err := kvnode.ParseFlags(tt.args)
		require.Error(t, err, tt.args)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), "\n")
	}
	o, err := kvnode.ParseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, kvnode.Options{Backend: "hashicorp", Reads: "linearizable", Ack: "commit",
		Tick: o.Tick, LockTTL: o.LockTTL, RegisterTTL: o.RegisterTTL}, o, "the safe paths are the defaults")
}

func TestPeers(t *testing.T) {
	named, err := kvnode.Peers(&node.Self{ID: 2, Peers: []string{"node1=127.0.0.1:1", "node3=127.0.0.1:3"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"node1": "127.0.0.1:1", "node3": "127.0.0.1:3"}, named)
	bare, err := kvnode.Peers(&node.Self{ID: 2, Peers: []string{"127.0.0.1:1", "127.0.0.1:3"}})
	require.NoError(t, err)
	assert.Equal(t, named, bare, "bare peers are the other nodes in order")
	_, err = kvnode.Peers(&node.Self{ID: 1, Peers: []string{"node2=a", "node2=b"}})
	assert.ErrorContains(t, err, "expected distinct name=addr pairs")
}
