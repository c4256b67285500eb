package mysqlproto

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPacketRoundTripAndFragments(t *testing.T) {
	var buf bytes.Buffer
	w := NewConn(&buf, 64<<20)
	small := []byte("hello")
	big := bytes.Repeat([]byte{'x'}, MaxPayload+10) // two physical packets
	require.NoError(t, w.WritePacket(small))
	require.NoError(t, w.WritePacket(big))
	require.NoError(t, w.Flush())

	r := NewConn(&buf, 64<<20)
	got, err := r.ReadPacket()
	require.NoError(t, err)
	assert.Equal(t, small, got)
	got, err = r.ReadPacket()
	require.NoError(t, err)
	assert.Equal(t, len(big), len(got))
}

func TestReadPacketRejectsBadFrames(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
	}{
		{"truncated header", []byte{5, 0}},
		{"truncated body", []byte{5, 0, 0, 0, 'a'}},
		{"wrong sequence", []byte{1, 0, 0, 7, 'a'}},
		{"over max_allowed_packet", []byte{0xff, 0xff, 0x0f, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewConn(bytes.NewBuffer(tc.in), 1024).ReadPacket()
			assert.True(t, errors.Is(err, ErrMalformed), "%v", err)
		})
	}
}

func handshakeResponse(user string, auth []byte, db string) []byte {
	b := []byte{}
	caps := uint32(ClientProtocol41 | ClientSecureConnection | ClientPluginAuth | ClientConnectWithDB | ClientPluginAuthLenenc)
	b = append(b, byte(caps), byte(caps>>8), byte(caps>>16), byte(caps>>24))
	b = append(b, 0, 0, 0, 1, 45)
	b = append(b, make([]byte, 23)...)
	b = append(b, user...)
	b = append(b, 0)
	b = AppendLenEncString(b, string(auth))
	b = append(b, db...)
	b = append(b, 0)
	b = append(b, NativePassword...)
	return append(b, 0)
}

func TestHandshakeResponseAndNativePassword(t *testing.T) {
	var scramble [20]byte
	copy(scramble[:], "abcdefghijklmnopqrst")
	auth := ScrambleNative("pw", scramble)
	h, err := ParseHandshakeResponse(handshakeResponse("root", auth, "test"))
	require.NoError(t, err)
	assert.Equal(t, "root", h.User)
	assert.Equal(t, "test", h.Database)
	assert.Equal(t, NativePassword, h.Plugin)
	assert.True(t, NativePasswordOK("pw", scramble, h.AuthResponse))
	assert.False(t, NativePasswordOK("other", scramble, h.AuthResponse))
	assert.True(t, NativePasswordOK("", scramble, nil))

	hs := Handshake("8.0-lab", 7, scramble, StatusAutocommit)
	assert.Equal(t, byte(10), hs[0], "protocol version 10")
	assert.Contains(t, string(hs), NativePassword)
}

func TestParseExecuteBindsTypedParameters(t *testing.T) {
	body := []byte{1, 0, 0, 0, 0, 1, 0, 0, 0} // id 1, flags, iterations
	body = append(body, 0b100)                // third parameter NULL
	body = append(body, 1)                    // types follow
	body = append(body, TypeLongLong, 0, TypeVarString, 0, TypeNull, 0)
	body = append(body, 42, 0, 0, 0, 0, 0, 0, 0)
	body = AppendLenEncString(body, "hi")
	e, err := ParseExecute(body, 3, nil)
	require.NoError(t, err)
	assert.Equal(t, []any{int64(42), "hi", nil}, e.Args)

	_, err = ParseExecute(body[:12], 3, nil)
	assert.True(t, errors.Is(err, ErrMalformed))
	_, err = ParseExecute([]byte{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, 3, nil)
	assert.True(t, errors.Is(err, ErrMalformed), "no types ever bound")
}

func TestResultPackets(t *testing.T) {
	assert.Equal(t, []byte{0x00, 2, 5, 2, 0, 0, 0}, OK(2, 5, StatusAutocommit, 0))
	errPkt := Err(1146, "42S02", "no such table")
	assert.Equal(t, byte(0xff), errPkt[0])
	assert.Equal(t, "#42S02", string(errPkt[3:9]))
	assert.Equal(t, []byte{3, 'a', 'b', 'c', 0xfb}, TextRow([]any{"abc", nil}))
	row := BinaryRow([]Column{{Type: TypeLongLong}, {Type: TypeVarString}}, []any{int64(1), nil})
	assert.Equal(t, []byte{0x00, 0b1000, 1, 0, 0, 0, 0, 0, 0, 0}, row)
}

// FuzzReadPacket feeds arbitrary bytes to the packet reader and the parsers behind it: every input
// is a packet, an error, or the end of the stream; never a panic or an unbounded allocation.
func FuzzReadPacket(f *testing.F) {
	var scramble [20]byte
	f.Add(append([]byte{byte(len(handshakeResponse("root", nil, "test"))), 0, 0, 0}, handshakeResponse("root", nil, "test")...))
	f.Add([]byte{1, 0, 0, 0, ComPing})
	f.Add([]byte{9, 0, 0, 0, ComQuery, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'})
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2, 3})
	f.Add([]byte{14, 0, 0, 0, ComStmtExecute, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 8, 0})
	f.Add(AuthSwitchRequest(scramble))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewConn(bytes.NewBuffer(in), 1<<20)
		for range 4 {
			p, err := c.ReadPacket()
			if err != nil {
				return
			}
			_, _ = ParseHandshakeResponse(p)
			if len(p) > 0 {
				_, _ = StmtID(p[1:])
				for n := range 4 {
					_, _ = ParseExecute(p[1:], n, nil)
					_, _ = ParseExecute(p[1:], n, []uint16{TypeLongLong, TypeVarString, TypeDatetime})
				}
			}
		}
	})
}
