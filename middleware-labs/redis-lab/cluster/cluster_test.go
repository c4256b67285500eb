package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlot(t *testing.T) {
	// Values from the Redis Cluster specification and `redis-cli CLUSTER KEYSLOT` on Redis 7.0.
	tests := []struct {
		key  string
		slot int
	}{
		{"123456789", 12739}, // the spec's CRC16 check value 0x31C3
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", Slot([]byte("foo{}{bar}"))},
		{"foo{{bar}}zap", Slot([]byte("{bar"))},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.slot, Slot([]byte(tc.key)), tc.key)
	}
	assert.Equal(t, []byte("foo{}{bar}"), HashTag([]byte("foo{}{bar}")))
	assert.Equal(t, []byte("{bar"), HashTag([]byte("foo{{bar}}zap")))
}

func TestEven(t *testing.T) {
	topo, err := Even([]string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}, "127.0.0.1:7002")
	require.NoError(t, err)
	assert.Equal(t, 5461, topo.Nodes[1].Start)
	assert.Equal(t, 16383, topo.Nodes[2].End)
	assert.True(t, topo.Mine(6000))
	assert.Equal(t, 7003, topo.Owner(16000).Port)
	_, err = Even([]string{"127.0.0.1:7001"}, "127.0.0.1:9")
	require.Error(t, err)
	_, err = Even([]string{"nope"}, "nope")
	require.EqualError(t, err, `cluster: expected host:port, got "nope"`)
}
