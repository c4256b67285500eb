package mysqlproto

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // mysql_native_password is defined with SHA-1
	"crypto/subtle"
	"encoding/binary"
)

// Capability flags the server announces and the ones it reads from the client.
const (
	ClientLongPassword     = 0x00000001
	ClientFoundRows        = 0x00000002
	ClientLongFlag         = 0x00000004
	ClientConnectWithDB    = 0x00000008
	ClientProtocol41       = 0x00000200
	ClientTransactions     = 0x00002000
	ClientSecureConnection = 0x00008000
	ClientMultiResults     = 0x00020000
	ClientPSMultiResults   = 0x00040000
	ClientPluginAuth       = 0x00080000
	ClientConnectAttrs     = 0x00100000
	ClientPluginAuthLenenc = 0x00200000
	ClientSSL              = 0x00000800

	// ServerCapabilities is what the lab's server supports (no TLS, no compression, no
	// multi-statements, no CLIENT_DEPRECATE_EOF: result sets end with EOF packets).
	ServerCapabilities = ClientLongPassword | ClientFoundRows | ClientLongFlag | ClientConnectWithDB |
		ClientProtocol41 | ClientTransactions | ClientSecureConnection | ClientMultiResults |
		ClientPSMultiResults | ClientPluginAuth | ClientConnectAttrs | ClientPluginAuthLenenc
)

// Status flags of OK and EOF packets.
const (
	StatusInTrans    = 0x0001
	StatusAutocommit = 0x0002
)

// NativePassword is the only authentication plugin the lab implements.
const NativePassword = "mysql_native_password"

// Handshake is the server's initial HandshakeV10 packet.
func Handshake(version string, connID uint32, scramble [20]byte, status uint16) []byte {
	b := []byte{10}
	b = append(b, version...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, connID)
	b = append(b, scramble[:8]...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(ServerCapabilities&0xffff))
	b = append(b, 45) // utf8mb4_general_ci
	b = binary.LittleEndian.AppendUint16(b, status)
	b = binary.LittleEndian.AppendUint16(b, uint16(ServerCapabilities>>16))
	b = append(b, 21)
	b = append(b, make([]byte, 10)...)
	b = append(b, scramble[8:]...)
	b = append(b, 0)
	b = append(b, NativePassword...)
	return append(b, 0)
}

// HandshakeResponse is the client's HandshakeResponse41.
type HandshakeResponse struct {
	Capabilities uint32
	MaxPacket    uint32
	Charset      byte
	User         string
	AuthResponse []byte
	Database     string
	Plugin       string
	WantsSSL     bool
}

// ParseHandshakeResponse decodes HandshakeResponse41 (or the SSLRequest prefix of one).
func ParseHandshakeResponse(p []byte) (*HandshakeResponse, error) {
	r := &reader{b: p}
	h := &HandshakeResponse{}
	h.Capabilities = r.uint32("capabilities")
	if r.err == nil && h.Capabilities&ClientProtocol41 == 0 {
		return nil, malformed("pre-4.1 clients are not supported (CLIENT_PROTOCOL_41 not set)")
	}
	h.MaxPacket = r.uint32("max packet size")
	h.Charset = r.byte1("character set")
	r.bytes(23, "filler")
	if r.err == nil && len(r.b) == 0 && h.Capabilities&ClientSSL != 0 {
		h.WantsSSL = true
		return h, nil
	}
	h.User = r.nulString("user name")
	switch {
	case h.Capabilities&ClientPluginAuthLenenc != 0:
		n := r.lenEncInt("auth response length")
		if n > uint64(len(r.b)) {
			r.fail("auth response")
		} else {
			h.AuthResponse = r.bytes(int(n), "auth response")
		}
	case h.Capabilities&ClientSecureConnection != 0:
		n := r.byte1("auth response length")
		h.AuthResponse = r.bytes(int(n), "auth response")
	default:
		h.AuthResponse = []byte(r.nulString("auth response"))
	}
	if h.Capabilities&ClientConnectWithDB != 0 && len(r.b) > 0 {
		h.Database = r.nulString("database")
	}
	if h.Capabilities&ClientPluginAuth != 0 && len(r.b) > 0 {
		h.Plugin = r.nulString("auth plugin name")
	}
	// Connection attributes follow; the lab does not need them.
	if r.err != nil {
		return nil, r.err
	}
	return h, nil
}

// NativePasswordOK checks a mysql_native_password response:
// SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). An empty password expects an empty response.
func NativePasswordOK(password string, scramble [20]byte, response []byte) bool {
	if password == "" {
		return len(response) == 0
	}
	if len(response) != 20 {
		return false
	}
	want := ScrambleNative(password, scramble)
	return subtle.ConstantTimeCompare(want, response) == 1
}

// ScrambleNative computes the client's mysql_native_password response.
func ScrambleNative(password string, scramble [20]byte) []byte {
	h1 := sha1.Sum([]byte(password)) //nolint:gosec // the protocol's hash
	h2 := sha1.Sum(h1[:])            //nolint:gosec
	h := sha1.New()                  //nolint:gosec
	h.Write(scramble[:])
	h.Write(h2[:])
	h3 := h.Sum(nil)
	out := make([]byte, 20)
	for i := range out {
		out[i] = h1[i] ^ h3[i]
	}
	return out
}

// AuthSwitchRequest asks a client that offered another plugin to answer with mysql_native_password.
func AuthSwitchRequest(scramble [20]byte) []byte {
	b := append([]byte{0xfe}, NativePassword...)
	b = append(b, 0)
	b = append(b, scramble[:]...)
	return append(b, 0)
}

// TrimAuthData drops the NUL some clients append to an auth-switch response.
func TrimAuthData(b []byte) []byte { return bytes.TrimSuffix(b, []byte{0}) }
