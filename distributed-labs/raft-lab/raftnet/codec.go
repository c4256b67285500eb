// Package raftnet carries raft.Messages between node processes over TCP.
//
// Each node dials each peer once and keeps the connection: one
// long-lived stream per direction per pair, so a node's messages to a
// peer travel in order on one link, and a network-fault proxy on that
// link (labkit/netfault) sees exactly one connection to cut, delay or
// heal. Frames are length-prefixed binary, not JSON or HTTP: a heartbeat
// is ~20 bytes, an HTTP request for it would be ten times that and a
// syscall-heavy round trip on two cores, and Raft wants no answer to a
// message anyway (answers are messages of their own).
//
// A connection opens with the preamble 0x10 'R' 'F' '1' and the sender's
// node ID (uvarint), then frames of [length u32 big-endian][message].
// The first byte is a control byte, so a listener shared with HTTP can
// tell them apart by it.
package raftnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/raft"
)

// Preamble opens every connection.
var Preamble = []byte{0x10, 'R', 'F', '1'}

// MaxFrame bounds one message (a snapshot is the big one), so a corrupt
// or hostile length cannot make the reader allocate without limit.
const MaxFrame = 64 << 20

// ErrBadMessage is wrapped by every decoding error.
var ErrBadMessage = errors.New("raftnet: bad message")

const (
	flagReject   = 1
	flagSnapshot = 2
)

// AppendMessage appends m's encoding to b.
func AppendMessage(b []byte, m raft.Message) []byte {
	b = append(b, byte(m.Type))
	b = binary.AppendUvarint(b, uint64(m.From)) //nolint:gosec // IDs are > 0
	b = binary.AppendUvarint(b, uint64(m.To))   //nolint:gosec // IDs are > 0
	for _, v := range []uint64{m.Term, m.LogTerm, m.Index, m.Commit, m.Context} {
		b = binary.AppendUvarint(b, v)
	}
	var flags byte
	if m.Reject {
		flags |= flagReject
	}
	if m.Snapshot != nil {
		flags |= flagSnapshot
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(m.Entries)))
	for _, e := range m.Entries {
		b = binary.AppendUvarint(b, e.Index)
		b = binary.AppendUvarint(b, e.Term)
		b = appendData(b, e.Data)
	}
	if m.Snapshot != nil {
		b = binary.AppendUvarint(b, m.Snapshot.Index)
		b = binary.AppendUvarint(b, m.Snapshot.Term)
		b = appendData(b, m.Snapshot.Data)
	}
	return b
}

// appendData writes len+1, so that nil (a no-op entry) survives the trip.
func appendData(b, data []byte) []byte {
	if data == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(data))+1)
	return append(b, data...)
}

// DecodeMessage decodes one message; it never panics on bad input.
func DecodeMessage(b []byte) (raft.Message, error) {
	d := decoder{b: b}
	var m raft.Message
	m.Type = raft.MsgType(d.byte())
	from, to := d.uvarint(), d.uvarint()
	m.Term, m.LogTerm, m.Index, m.Commit, m.Context = d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()
	flags := d.byte()
	count := d.uvarint()
	if d.err != nil {
		return raft.Message{}, fmt.Errorf("%w: header: %w", ErrBadMessage, d.err)
	}
	if m.Type < raft.MsgVote || m.Type > raft.MsgPreVoteResp {
		return raft.Message{}, fmt.Errorf("%w: type %d: expected 1..7", ErrBadMessage, m.Type)
	}
	if from == 0 || to == 0 || from > 1<<20 || to > 1<<20 {
		return raft.Message{}, fmt.Errorf("%w: node IDs %d→%d: expected 1..2^20", ErrBadMessage, from, to)
	}
	if flags&^(flagReject|flagSnapshot) != 0 {
		return raft.Message{}, fmt.Errorf("%w: flags %#x", ErrBadMessage, flags)
	}
	// Each entry takes at least 3 bytes, which bounds count by the input.
	if count > uint64(len(b)/3) {
		return raft.Message{}, fmt.Errorf("%w: %d entries in %d bytes", ErrBadMessage, count, len(b))
	}
	m.From, m.To, m.Reject = int(from), int(to), flags&flagReject != 0
	if count > 0 {
		m.Entries = make([]raft.Entry, count)
		for i := range m.Entries {
			m.Entries[i] = raft.Entry{Index: d.uvarint(), Term: d.uvarint(), Data: d.data()}
		}
	}
	if flags&flagSnapshot != 0 {
		m.Snapshot = &raft.Snapshot{Index: d.uvarint(), Term: d.uvarint(), Data: d.data()}
	}
	if d.err != nil {
		return raft.Message{}, fmt.Errorf("%w: body: %w", ErrBadMessage, d.err)
	}
	if d.off != len(b) {
		return raft.Message{}, fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, len(b)-d.off)
	}
	return m, nil
}

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.err = io.ErrUnexpectedEOF
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = io.ErrUnexpectedEOF
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) data() []byte {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	n--
	if n > uint64(len(d.b)-d.off) {
		d.err = io.ErrUnexpectedEOF
		return nil
	}
	out := make([]byte, n)
	copy(out, d.b[d.off:])
	d.off += int(n)
	return out
}
