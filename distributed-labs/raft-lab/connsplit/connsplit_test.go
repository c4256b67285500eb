package connsplit_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/connsplit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConnectionsGoToTheirProtocol(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := connsplit.New(ln)
	defer s.Close()
	tests := []struct {
		name  string
		first []byte
		half  net.Listener
	}{
		{"HTTP starts with a method name", []byte("GET / HTTP/1.1\r\n"), s.HTTP()},
		{"hashicorp/raft starts with an RPC type", []byte{0, 1, 2}, s.Raft()},
		{"raftnet starts with 0x10", []byte{0x10, 'R', 'F', 'T', '1'}, s.Raft()},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		_, err = c.Write(tt.first)
		require.NoError(t, err)
		got, err := tt.half.Accept()
		require.NoError(t, err, tt.name)
		buf := make([]byte, len(tt.first))
		require.NoError(t, got.SetReadDeadline(time.Now().Add(time.Second)))
		_, err = io.ReadFull(got, buf)
		require.NoError(t, err)
		assert.Equal(t, tt.first, buf, "%s: the peeked byte is not lost", tt.name)
		_ = got.Close()
		_ = c.Close()
	}
	require.NoError(t, s.Close())
	_, err = s.HTTP().Accept()
	assert.ErrorIs(t, err, net.ErrClosed)
}
