// Package mysqlproto is the MySQL client/server protocol as the lab's server speaks it: packet
// framing, length-encoded integers and strings, the v10 handshake with mysql_native_password, OK,
// ERR and EOF packets, text and binary result sets, and the COM_STMT_EXECUTE parameter block.
// Every reader takes bytes from the network, so each returns an error on malformed input, never
// panics, and bounds what it allocates.
package mysqlproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxPayload is the largest payload of one physical packet; a longer logical packet is split.
const MaxPayload = 1<<24 - 1

// ErrMalformed wraps every decoding error of client bytes.
var ErrMalformed = errors.New("malformed packet")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Conn frames packets on a byte stream and keeps the sequence id.
type Conn struct {
	r        *bufio.Reader
	w        *bufio.Writer
	seq      byte
	maxTotal int
}

// NewConn wraps rw. maxPacket bounds a logical packet the client may send (max_allowed_packet).
func NewConn(rw io.ReadWriter, maxPacket int) *Conn {
	return &Conn{r: bufio.NewReaderSize(rw, 16<<10), w: bufio.NewWriterSize(rw, 16<<10), maxTotal: maxPacket}
}

// ResetSeq starts a new command: the client's command packet has sequence id 0.
func (c *Conn) ResetSeq() { c.seq = 0 }

// ReadPacket reads one logical packet, joining 16 MiB fragments.
func (c *Conn) ReadPacket() ([]byte, error) {
	var payload []byte
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, malformed("truncated packet header")
			}
			return nil, err
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		if hdr[3] != c.seq {
			return nil, malformed("sequence id %d, expected %d", hdr[3], c.seq)
		}
		c.seq++
		if len(payload)+n > c.maxTotal {
			return nil, malformed("packet of %d bytes exceeds max_allowed_packet %d", len(payload)+n, c.maxTotal)
		}
		start := len(payload)
		payload = append(payload, make([]byte, n)...)
		if _, err := io.ReadFull(c.r, payload[start:]); err != nil {
			return nil, malformed("truncated packet body: %v", err)
		}
		if n < MaxPayload {
			return payload, nil
		}
	}
}

// WritePacket buffers one logical packet; Flush sends it.
func (c *Conn) WritePacket(payload []byte) error {
	for {
		n := min(len(payload), MaxPayload)
		hdr := [4]byte{byte(n), byte(n >> 8), byte(n >> 16), c.seq}
		c.seq++
		if _, err := c.w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := c.w.Write(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < MaxPayload {
			return nil
		}
	}
}

// Flush sends buffered packets.
func (c *Conn) Flush() error { return c.w.Flush() }

// AppendLenEncInt appends a length-encoded integer.
func AppendLenEncInt(b []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
}

// AppendLenEncString appends a length-encoded string.
func AppendLenEncString(b []byte, s string) []byte {
	return append(AppendLenEncInt(b, uint64(len(s))), s...)
}

// reader decodes a payload; the first error sticks and every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = malformed("truncated %s", what)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.fail(what)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte1(what string) byte {
	b := r.bytes(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) uint16(what string) uint16 {
	b := r.bytes(2, what)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *reader) uint32(what string) uint32 {
	b := r.bytes(4, what)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) uint64(what string) uint64 {
	b := r.bytes(8, what)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *reader) lenEncInt(what string) uint64 {
	first := r.byte1(what)
	switch first {
	case 0xfc:
		return uint64(r.uint16(what))
	case 0xfd:
		b := r.bytes(3, what)
		if b == nil {
			return 0
		}
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16
	case 0xfe:
		return r.uint64(what)
	case 0xfb, 0xff:
		if r.err == nil {
			r.err = malformed("%s: 0x%x is not a length", what, first)
		}
		return 0
	}
	return uint64(first)
}

func (r *reader) lenEncString(what string) string {
	n := r.lenEncInt(what)
	if n > uint64(len(r.b)) {
		r.fail(what)
		return ""
	}
	return string(r.bytes(int(n), what))
}

func (r *reader) nulString(what string) string {
	if r.err != nil {
		return ""
	}
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	r.fail(what + " (no NUL terminator)")
	return ""
}
