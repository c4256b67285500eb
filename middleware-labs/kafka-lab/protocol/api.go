package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ApiKey names a request type.
type ApiKey int16

// The APIs this broker serves.
const (
	Produce         ApiKey = 0
	Fetch           ApiKey = 1
	ListOffsets     ApiKey = 2
	Metadata        ApiKey = 3
	OffsetCommit    ApiKey = 8
	OffsetFetch     ApiKey = 9
	FindCoordinator ApiKey = 10
	JoinGroup       ApiKey = 11
	Heartbeat       ApiKey = 12
	LeaveGroup      ApiKey = 13
	SyncGroup       ApiKey = 14
	ApiVersions     ApiKey = 18
	CreateTopics    ApiKey = 19
	InitProducerID  ApiKey = 22
)

// VersionRange is the versions of one API the broker decodes.
type VersionRange struct {
	Key      ApiKey
	Min, Max int16
}

// Supported is what ApiVersions advertises. Each maximum is the last version
// before the API went flexible (or the one kafka-go's Conn negotiates), so
// kafka-go v0.4.51 and librdkafka settle on these without tagged fields:
// kafka-go's Conn asks Fetch for v2/v5/v10 and gets 5, Metadata for v1/v6 and
// gets 1, JoinGroup for v1/v2 and gets 2, and hard-codes FindCoordinator v0,
// SyncGroup v0, Heartbeat v0, LeaveGroup v0, OffsetCommit v2, OffsetFetch v1,
// ListOffsets v1.
var supported = []VersionRange{
	{Produce, 3, 3},
	{Fetch, 4, 5},
	{ListOffsets, 1, 1},
	{Metadata, 1, 1},
	{OffsetCommit, 2, 3},
	{OffsetFetch, 1, 3},
	{FindCoordinator, 0, 1},
	{JoinGroup, 1, 2},
	{Heartbeat, 0, 1},
	{LeaveGroup, 0, 1},
	{SyncGroup, 0, 1},
	{ApiVersions, 0, 2},
	{CreateTopics, 0, 0},
	{InitProducerID, 0, 1},
}

// SupportedVersions is a copy of the advertised version ranges.
func SupportedVersions() []VersionRange { return append([]VersionRange(nil), supported...) }

// Supports reports whether the broker decodes key at version v.
func Supports(key ApiKey, v int16) bool {
	for _, r := range supported {
		if r.Key == key {
			return v >= r.Min && v <= r.Max
		}
	}
	return false
}

// ErrorCode is a Kafka protocol error code.
type ErrorCode int16

// The error codes this broker returns.
const (
	None                      ErrorCode = 0
	OffsetOutOfRange          ErrorCode = 1
	CorruptMessage            ErrorCode = 2
	UnknownTopicOrPartition   ErrorCode = 3
	NotLeaderForPartition     ErrorCode = 6
	RequestTimedOut           ErrorCode = 7
	CoordinatorNotAvailable   ErrorCode = 15
	NotCoordinator            ErrorCode = 16
	InvalidTopic              ErrorCode = 17
	NotEnoughReplicas         ErrorCode = 19
	NotEnoughReplicasAfter    ErrorCode = 20
	IllegalGeneration         ErrorCode = 22
	InconsistentGroupProtocol ErrorCode = 23
	InvalidGroupID            ErrorCode = 24
	UnknownMemberID           ErrorCode = 25
	InvalidSessionTimeout     ErrorCode = 26
	RebalanceInProgress       ErrorCode = 27
	UnsupportedVersion        ErrorCode = 35
	TopicAlreadyExists        ErrorCode = 36
	InvalidPartitions         ErrorCode = 37
	InvalidReplicationFactor  ErrorCode = 38
	InvalidRequest            ErrorCode = 42
	OutOfOrderSequenceNumber  ErrorCode = 45
	DuplicateSequenceNumber   ErrorCode = 46
	InvalidProducerEpoch      ErrorCode = 47
	UnknownProducerID         ErrorCode = 59
	UnknownServerError        ErrorCode = -1
	MemberIDRequired          ErrorCode = 79
	InvalidRecord             ErrorCode = 87
)

// MaxFrame bounds one request. Kafka's socket.request.max.bytes defaults to
// 100 MiB; a lab broker refuses anything past 16 MiB before allocating it.
const MaxFrame = 16 << 20

// ErrFrameTooLarge is a size prefix beyond MaxFrame (or negative).
var ErrFrameTooLarge = errors.New("kafka frame size out of range")

// ReadFrame reads one size-prefixed frame. io.EOF before the first byte is a
// clean close; anything else short is io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 8 || n > MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes (want 8..%d)", ErrFrameTooLarge, n, MaxFrame)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// Header is a request header (v1: key, version, correlation id, client id).
type Header struct {
	Key           ApiKey
	Version       int16
	CorrelationID int32
	ClientID      string
}

// DecodeHeader reads the request header and returns a decoder positioned at
// the body. A flexible request (header v2, e.g. librdkafka's ApiVersions v3)
// carries tagged fields after the client id; the caller learns from the
// version that it cannot decode the body and answers UNSUPPORTED_VERSION.
func DecodeHeader(frame []byte) (Header, *Decoder, error) {
	d := NewDecoder(frame)
	h := Header{Key: ApiKey(d.Int16()), Version: d.Int16(), CorrelationID: d.Int32()}
	h.ClientID = d.String()
	if err := d.Err(); err != nil {
		return h, nil, fmt.Errorf("request header: %w", err)
	}
	return h, d, nil
}

// Frame wraps a response body in its size prefix and response header v0.
func Frame(correlationID int32, body []byte) []byte {
	out := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(out, uint32(4+len(body)))
	binary.BigEndian.PutUint32(out[4:], uint32(correlationID))
	return append(out, body...)
}
