package protocol

import (
	"errors"
	"fmt"
)

// ErrUnsupportedVersion is a request at a version the broker does not
// advertise; the broker answers ApiVersions with UNSUPPORTED_VERSION and
// closes the connection for anything else, as Kafka does.
var ErrUnsupportedVersion = errors.New("unsupported api version")

// Request is a decoded request body.
type Request interface{ apiKey() ApiKey }

// DecodeRequest decodes one frame (without its size prefix).
func DecodeRequest(frame []byte) (Header, Request, error) {
	h, d, err := DecodeHeader(frame)
	if err != nil {
		return h, nil, err
	}
	if !Supports(h.Key, h.Version) {
		return h, nil, fmt.Errorf("%w: api key %d version %d (supported: %s)", ErrUnsupportedVersion, h.Key, h.Version, rangeOf(h.Key))
	}
	var req Request
	switch h.Key {
	case ApiVersions:
		req = &ApiVersionsRequest{}
	case Metadata:
		req = decodeMetadata(d)
	case CreateTopics:
		req = decodeCreateTopics(d)
	case Produce:
		req = decodeProduce(d)
	case Fetch:
		req = decodeFetch(d, h.Version)
	case ListOffsets:
		req = decodeListOffsets(d)
	case FindCoordinator:
		req = decodeFindCoordinator(d, h.Version)
	case JoinGroup:
		req = decodeJoinGroup(d)
	case SyncGroup:
		req = decodeSyncGroup(d)
	case Heartbeat:
		req = &HeartbeatRequest{GroupID: d.String(), GenerationID: d.Int32(), MemberID: d.String()}
	case LeaveGroup:
		req = &LeaveGroupRequest{GroupID: d.String(), MemberID: d.String()}
	case OffsetCommit:
		req = decodeOffsetCommit(d)
	case OffsetFetch:
		req = decodeOffsetFetch(d)
	case InitProducerID:
		id, ok := d.NullableString()
		req = &InitProducerIDRequest{TransactionalID: id, Transactional: ok, TimeoutMs: d.Int32()}
	}
	if err := d.Err(); err != nil {
		return h, nil, fmt.Errorf("api key %d v%d body: %w", h.Key, h.Version, err)
	}
	if d.Remaining() != 0 {
		return h, nil, fmt.Errorf("%w: api key %d v%d has %d bytes past its body", ErrMalformed, h.Key, h.Version, d.Remaining())
	}
	return h, req, nil
}

func rangeOf(k ApiKey) string {
	for _, r := range supported {
		if r.Key == k {
			return fmt.Sprintf("v%d..v%d", r.Min, r.Max)
		}
	}
	return "none"
}

// ApiVersionsRequest has no body at v0..v2.
type ApiVersionsRequest struct{}

// MetadataRequest v1. AllTopics is set for a null topic list.
type MetadataRequest struct {
	Topics    []string
	AllTopics bool
}

func decodeMetadata(d *Decoder) *MetadataRequest {
	n := d.ArrayLen(2)
	r := &MetadataRequest{AllTopics: n == -1}
	for range max(n, 0) {
		r.Topics = append(r.Topics, d.String())
	}
	return r
}

// CreateTopicsRequest v0.
type CreateTopicsRequest struct {
	Topics    []CreateTopic
	TimeoutMs int32
}

// CreateTopic is one topic to create. Manual assignments and configs are
// read and ignored: partitions live on this broker (or the static layout).
type CreateTopic struct {
	Name              string
	NumPartitions     int32
	ReplicationFactor int16
}

func decodeCreateTopics(d *Decoder) *CreateTopicsRequest {
	r := &CreateTopicsRequest{}
	for range max(d.ArrayLen(14), 0) {
		t := CreateTopic{Name: d.String(), NumPartitions: d.Int32(), ReplicationFactor: d.Int16()}
		for range max(d.ArrayLen(8), 0) {
			d.Int32()
			for range max(d.ArrayLen(4), 0) {
				d.Int32()
			}
		}
		for range max(d.ArrayLen(4), 0) {
			_ = d.String()
			d.NullableString()
		}
		r.Topics = append(r.Topics, t)
	}
	r.TimeoutMs = d.Int32()
	return r
}

// ProduceRequest v3.
type ProduceRequest struct {
	TransactionalID string
	Acks            int16
	TimeoutMs       int32
	Topics          []ProduceTopic
}

// ProduceTopic is one topic's partitions.
type ProduceTopic struct {
	Name       string
	Partitions []ProducePartition
}

// ProducePartition carries one partition's record batches, aliasing the frame.
type ProducePartition struct {
	Partition int32
	Records   []byte
}

func decodeProduce(d *Decoder) *ProduceRequest {
	r := &ProduceRequest{TransactionalID: d.String(), Acks: d.Int16(), TimeoutMs: d.Int32()}
	for range max(d.ArrayLen(6), 0) {
		t := ProduceTopic{Name: d.String()}
		for range max(d.ArrayLen(8), 0) {
			t.Partitions = append(t.Partitions, ProducePartition{Partition: d.Int32(), Records: d.Bytes()})
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// FetchRequest v4..v5.
type FetchRequest struct {
	ReplicaID      int32
	MaxWaitMs      int32
	MinBytes       int32
	MaxBytes       int32
	IsolationLevel int8
	Topics         []FetchTopic
}

// FetchTopic is one topic's partitions.
type FetchTopic struct {
	Name       string
	Partitions []FetchPartition
}

// FetchPartition is where to read one partition from.
type FetchPartition struct {
	Partition      int32
	FetchOffset    int64
	LogStartOffset int64
	MaxBytes       int32
}

func decodeFetch(d *Decoder, v int16) *FetchRequest {
	r := &FetchRequest{ReplicaID: d.Int32(), MaxWaitMs: d.Int32(), MinBytes: d.Int32(), MaxBytes: d.Int32(), IsolationLevel: d.Int8()}
	for range max(d.ArrayLen(6), 0) {
		t := FetchTopic{Name: d.String()}
		for range max(d.ArrayLen(16), 0) {
			p := FetchPartition{Partition: d.Int32(), FetchOffset: d.Int64(), LogStartOffset: -1}
			if v >= 5 {
				p.LogStartOffset = d.Int64()
			}
			p.MaxBytes = d.Int32()
			t.Partitions = append(t.Partitions, p)
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// ListOffsetsRequest v1. Timestamp -1 is the log end, -2 the log start.
type ListOffsetsRequest struct {
	ReplicaID int32
	Topics    []ListOffsetsTopic
}

// ListOffsetsTopic is one topic's partitions.
type ListOffsetsTopic struct {
	Name       string
	Partitions []ListOffsetsPartition
}

// ListOffsetsPartition asks for the offset at a timestamp.
type ListOffsetsPartition struct {
	Partition int32
	Timestamp int64
}

func decodeListOffsets(d *Decoder) *ListOffsetsRequest {
	r := &ListOffsetsRequest{ReplicaID: d.Int32()}
	for range max(d.ArrayLen(6), 0) {
		t := ListOffsetsTopic{Name: d.String()}
		for range max(d.ArrayLen(12), 0) {
			t.Partitions = append(t.Partitions, ListOffsetsPartition{Partition: d.Int32(), Timestamp: d.Int64()})
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// FindCoordinatorRequest v0..v1 (KeyType 0 is a group).
type FindCoordinatorRequest struct {
	Key     string
	KeyType int8
}

func decodeFindCoordinator(d *Decoder, v int16) *FindCoordinatorRequest {
	r := &FindCoordinatorRequest{Key: d.String()}
	if v >= 1 {
		r.KeyType = d.Int8()
	}
	return r
}

// JoinGroupRequest v1..v2.
type JoinGroupRequest struct {
	GroupID            string
	SessionTimeoutMs   int32
	RebalanceTimeoutMs int32
	MemberID           string
	ProtocolType       string
	Protocols          []GroupProtocol
}

// GroupProtocol is one assignor the member supports, with its metadata.
type GroupProtocol struct {
	Name     string
	Metadata []byte
}

func decodeJoinGroup(d *Decoder) *JoinGroupRequest {
	r := &JoinGroupRequest{GroupID: d.String(), SessionTimeoutMs: d.Int32(), RebalanceTimeoutMs: d.Int32(), MemberID: d.String(), ProtocolType: d.String()}
	for range max(d.ArrayLen(6), 0) {
		r.Protocols = append(r.Protocols, GroupProtocol{Name: d.String(), Metadata: clone(d.Bytes())})
	}
	return r
}

// SyncGroupRequest v0..v1; only the leader sends assignments.
type SyncGroupRequest struct {
	GroupID      string
	GenerationID int32
	MemberID     string
	Assignments  map[string][]byte
}

func decodeSyncGroup(d *Decoder) *SyncGroupRequest {
	r := &SyncGroupRequest{GroupID: d.String(), GenerationID: d.Int32(), MemberID: d.String(), Assignments: map[string][]byte{}}
	for range max(d.ArrayLen(6), 0) {
		m := d.String()
		r.Assignments[m] = clone(d.Bytes())
	}
	return r
}

// HeartbeatRequest v0..v1.
type HeartbeatRequest struct {
	GroupID      string
	GenerationID int32
	MemberID     string
}

// LeaveGroupRequest v0..v1.
type LeaveGroupRequest struct {
	GroupID  string
	MemberID string
}

// OffsetCommitRequest v2..v3.
type OffsetCommitRequest struct {
	GroupID      string
	GenerationID int32
	MemberID     string
	RetentionMs  int64
	Topics       []OffsetCommitTopic
}

// OffsetCommitTopic is one topic's committed offsets.
type OffsetCommitTopic struct {
	Name       string
	Partitions []OffsetCommitPartition
}

// OffsetCommitPartition is the next offset to consume, and client metadata.
type OffsetCommitPartition struct {
	Partition int32
	Offset    int64
	Metadata  string
}

func decodeOffsetCommit(d *Decoder) *OffsetCommitRequest {
	r := &OffsetCommitRequest{GroupID: d.String(), GenerationID: d.Int32(), MemberID: d.String(), RetentionMs: d.Int64()}
	for range max(d.ArrayLen(6), 0) {
		t := OffsetCommitTopic{Name: d.String()}
		for range max(d.ArrayLen(14), 0) {
			t.Partitions = append(t.Partitions, OffsetCommitPartition{Partition: d.Int32(), Offset: d.Int64(), Metadata: d.String()})
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// OffsetFetchRequest v1..v3. AllTopics is a null topic list (v2+).
type OffsetFetchRequest struct {
	GroupID   string
	Topics    []OffsetFetchTopic
	AllTopics bool
}

// OffsetFetchTopic names the partitions whose offsets are wanted.
type OffsetFetchTopic struct {
	Name       string
	Partitions []int32
}

func decodeOffsetFetch(d *Decoder) *OffsetFetchRequest {
	r := &OffsetFetchRequest{GroupID: d.String()}
	n := d.ArrayLen(6)
	r.AllTopics = n == -1
	for range max(n, 0) {
		t := OffsetFetchTopic{Name: d.String()}
		for range max(d.ArrayLen(4), 0) {
			t.Partitions = append(t.Partitions, d.Int32())
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// InitProducerIDRequest v0..v1.
type InitProducerIDRequest struct {
	TransactionalID string
	Transactional   bool
	TimeoutMs       int32
}

func (*ApiVersionsRequest) apiKey() ApiKey     { return ApiVersions }
func (*MetadataRequest) apiKey() ApiKey        { return Metadata }
func (*CreateTopicsRequest) apiKey() ApiKey    { return CreateTopics }
func (*ProduceRequest) apiKey() ApiKey         { return Produce }
func (*FetchRequest) apiKey() ApiKey           { return Fetch }
func (*ListOffsetsRequest) apiKey() ApiKey     { return ListOffsets }
func (*FindCoordinatorRequest) apiKey() ApiKey { return FindCoordinator }
func (*JoinGroupRequest) apiKey() ApiKey       { return JoinGroup }
func (*SyncGroupRequest) apiKey() ApiKey       { return SyncGroup }
func (*HeartbeatRequest) apiKey() ApiKey       { return Heartbeat }
func (*LeaveGroupRequest) apiKey() ApiKey      { return LeaveGroup }
func (*OffsetCommitRequest) apiKey() ApiKey    { return OffsetCommit }
func (*OffsetFetchRequest) apiKey() ApiKey     { return OffsetFetch }
func (*InitProducerIDRequest) apiKey() ApiKey  { return InitProducerID }

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
