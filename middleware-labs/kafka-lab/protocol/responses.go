package protocol

// Response is a response body the broker can encode at a request's version.
type Response interface {
	Encode(version int16) []byte
}

// ApiVersionsResponse lists the supported version ranges.
type ApiVersionsResponse struct {
	ErrorCode ErrorCode
	Versions  []VersionRange
}

// Encode writes v0..v2 (v0's layout also answers a version it cannot read).
func (r *ApiVersionsResponse) Encode(v int16) []byte {
	var e Encoder
	e.Int16(int16(r.ErrorCode))
	e.ArrayLen(len(r.Versions))
	for _, k := range r.Versions {
		e.Int16(int16(k.Key))
		e.Int16(k.Min)
		e.Int16(k.Max)
	}
	if v >= 1 {
		e.Int32(0)
	}
	return e.Bytes()
}

// MetadataResponse v1.
type MetadataResponse struct {
	Brokers      []BrokerInfo
	ControllerID int32
	Topics       []TopicMetadata
}

// BrokerInfo is one broker's address.
type BrokerInfo struct {
	NodeID int32
	Host   string
	Port   int32
}

// TopicMetadata is one topic's partitions and their leaders.
type TopicMetadata struct {
	ErrorCode  ErrorCode
	Name       string
	Partitions []PartitionMetadata
}

// PartitionMetadata is one partition's leader, replicas and ISR.
type PartitionMetadata struct {
	ErrorCode ErrorCode
	Partition int32
	Leader    int32
	Replicas  []int32
	ISR       []int32
}

// Encode writes v1.
func (r *MetadataResponse) Encode(int16) []byte {
	var e Encoder
	e.ArrayLen(len(r.Brokers))
	for _, b := range r.Brokers {
		e.Int32(b.NodeID)
		e.String(b.Host)
		e.Int32(b.Port)
		e.NullableString("", false)
	}
	e.Int32(r.ControllerID)
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.Int16(int16(t.ErrorCode))
		e.String(t.Name)
		e.Bool(false)
		e.ArrayLen(len(t.Partitions))
		for _, p := range t.Partitions {
			e.Int16(int16(p.ErrorCode))
			e.Int32(p.Partition)
			e.Int32(p.Leader)
			int32s(&e, p.Replicas)
			int32s(&e, p.ISR)
		}
	}
	return e.Bytes()
}

func int32s(e *Encoder, vs []int32) {
	e.ArrayLen(len(vs))
	for _, v := range vs {
		e.Int32(v)
	}
}

// CreateTopicsResponse v0.
type CreateTopicsResponse struct {
	Topics []TopicError
}

// TopicError is one topic's outcome.
type TopicError struct {
	Name      string
	ErrorCode ErrorCode
}

// Encode writes v0.
func (r *CreateTopicsResponse) Encode(int16) []byte {
	var e Encoder
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.String(t.Name)
		e.Int16(int16(t.ErrorCode))
	}
	return e.Bytes()
}

// ProduceResponse v3.
type ProduceResponse struct {
	Topics []ProduceTopicResponse
}

// ProduceTopicResponse is one topic's partitions.
type ProduceTopicResponse struct {
	Name       string
	Partitions []ProducePartitionResponse
}

// ProducePartitionResponse is where a partition's batch landed.
type ProducePartitionResponse struct {
	Partition     int32
	ErrorCode     ErrorCode
	BaseOffset    int64
	LogAppendTime int64
}

// Encode writes v3.
func (r *ProduceResponse) Encode(int16) []byte {
	var e Encoder
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.String(t.Name)
		e.ArrayLen(len(t.Partitions))
		for _, p := range t.Partitions {
			e.Int32(p.Partition)
			e.Int16(int16(p.ErrorCode))
			e.Int64(p.BaseOffset)
			e.Int64(p.LogAppendTime)
		}
	}
	e.Int32(0)
	return e.Bytes()
}

// FetchResponse v4..v5.
type FetchResponse struct {
	Topics []FetchTopicResponse
}

// FetchTopicResponse is one topic's partitions.
type FetchTopicResponse struct {
	Name       string
	Partitions []FetchPartitionResponse
}

// FetchPartitionResponse is one partition's record batches.
type FetchPartitionResponse struct {
	Partition        int32
	ErrorCode        ErrorCode
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	Records          []byte
}

// Size is roughly how many bytes the response carries, for min_bytes.
func (r *FetchResponse) Size() int {
	n := 0
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			n += len(p.Records)
		}
	}
	return n
}

// HasError reports whether any partition carries an error code.
func (r *FetchResponse) HasError() bool {
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != None {
				return true
			}
		}
	}
	return false
}

// Encode writes v4 or v5.
func (r *FetchResponse) Encode(v int16) []byte {
	var e Encoder
	e.Int32(0)
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.String(t.Name)
		e.ArrayLen(len(t.Partitions))
		for _, p := range t.Partitions {
			e.Int32(p.Partition)
			e.Int16(int16(p.ErrorCode))
			e.Int64(p.HighWatermark)
			e.Int64(p.LastStableOffset)
			if v >= 5 {
				e.Int64(p.LogStartOffset)
			}
			e.ArrayLen(0) // aborted transactions: none without transactions
			records := p.Records
			if records == nil {
				records = []byte{}
			}
			e.BytesField(records)
		}
	}
	return e.Bytes()
}

// ListOffsetsResponse v1.
type ListOffsetsResponse struct {
	Topics []ListOffsetsTopicResponse
}

// ListOffsetsTopicResponse is one topic's partitions.
type ListOffsetsTopicResponse struct {
	Name       string
	Partitions []ListOffsetsPartitionResponse
}

// ListOffsetsPartitionResponse is the offset found for a timestamp.
type ListOffsetsPartitionResponse struct {
	Partition int32
	ErrorCode ErrorCode
	Timestamp int64
	Offset    int64
}

// Encode writes v1.
func (r *ListOffsetsResponse) Encode(int16) []byte {
	var e Encoder
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.String(t.Name)
		e.ArrayLen(len(t.Partitions))
		for _, p := range t.Partitions {
			e.Int32(p.Partition)
			e.Int16(int16(p.ErrorCode))
			e.Int64(p.Timestamp)
			e.Int64(p.Offset)
		}
	}
	return e.Bytes()
}

// FindCoordinatorResponse v0..v1.
type FindCoordinatorResponse struct {
	ErrorCode ErrorCode
	Broker    BrokerInfo
}

// Encode writes v0 or v1.
func (r *FindCoordinatorResponse) Encode(v int16) []byte {
	var e Encoder
	if v >= 1 {
		e.Int32(0)
	}
	e.Int16(int16(r.ErrorCode))
	if v >= 1 {
		e.NullableString("", false)
	}
	e.Int32(r.Broker.NodeID)
	e.String(r.Broker.Host)
	e.Int32(r.Broker.Port)
	return e.Bytes()
}

// JoinGroupResponse v1..v2. Members is filled for the leader only.
type JoinGroupResponse struct {
	ErrorCode    ErrorCode
	GenerationID int32
	Protocol     string
	LeaderID     string
	MemberID     string
	Members      []GroupMember
}

// GroupMember is a member and the metadata it joined with.
type GroupMember struct {
	MemberID string
	Metadata []byte
}

// Encode writes v1 or v2.
func (r *JoinGroupResponse) Encode(v int16) []byte {
	var e Encoder
	if v >= 2 {
		e.Int32(0)
	}
	e.Int16(int16(r.ErrorCode))
	e.Int32(r.GenerationID)
	e.String(r.Protocol)
	e.String(r.LeaderID)
	e.String(r.MemberID)
	e.ArrayLen(len(r.Members))
	for _, m := range r.Members {
		e.String(m.MemberID)
		e.BytesField(m.Metadata)
	}
	return e.Bytes()
}

// SyncGroupResponse v0..v1.
type SyncGroupResponse struct {
	ErrorCode  ErrorCode
	Assignment []byte
}

// Encode writes v0 or v1.
func (r *SyncGroupResponse) Encode(v int16) []byte {
	var e Encoder
	if v >= 1 {
		e.Int32(0)
	}
	e.Int16(int16(r.ErrorCode))
	a := r.Assignment
	if a == nil {
		a = []byte{}
	}
	e.BytesField(a)
	return e.Bytes()
}

// ErrorResponse is a body that is only an error code: Heartbeat and
// LeaveGroup v0..v1.
type ErrorResponse struct {
	ErrorCode ErrorCode
}

// Encode writes v0 (code) or v1 (throttle, code).
func (r *ErrorResponse) Encode(v int16) []byte {
	var e Encoder
	if v >= 1 {
		e.Int32(0)
	}
	e.Int16(int16(r.ErrorCode))
	return e.Bytes()
}

// OffsetCommitResponse v2..v3.
type OffsetCommitResponse struct {
	Topics []OffsetCommitTopicResponse
}

// OffsetCommitTopicResponse is one topic's partitions.
type OffsetCommitTopicResponse struct {
	Name       string
	Partitions []PartitionError
}

// PartitionError is one partition's outcome.
type PartitionError struct {
	Partition int32
	ErrorCode ErrorCode
}

// Encode writes v2 or v3.
func (r *OffsetCommitResponse) Encode(v int16) []byte {
	var e Encoder
	if v >= 3 {
		e.Int32(0)
	}
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.String(t.Name)
		e.ArrayLen(len(t.Partitions))
		for _, p := range t.Partitions {
			e.Int32(p.Partition)
			e.Int16(int16(p.ErrorCode))
		}
	}
	return e.Bytes()
}

// OffsetFetchResponse v1..v3.
type OffsetFetchResponse struct {
	Topics    []OffsetFetchTopicResponse
	ErrorCode ErrorCode
}

// OffsetFetchTopicResponse is one topic's partitions.
type OffsetFetchTopicResponse struct {
	Name       string
	Partitions []OffsetFetchPartitionResponse
}

// OffsetFetchPartitionResponse is a committed offset (-1: none).
type OffsetFetchPartitionResponse struct {
	Partition int32
	Offset    int64
	Metadata  string
	ErrorCode ErrorCode
}

// Encode writes v1, v2 or v3.
func (r *OffsetFetchResponse) Encode(v int16) []byte {
	var e Encoder
	if v >= 3 {
		e.Int32(0)
	}
	e.ArrayLen(len(r.Topics))
	for _, t := range r.Topics {
		e.String(t.Name)
		e.ArrayLen(len(t.Partitions))
		for _, p := range t.Partitions {
			e.Int32(p.Partition)
			e.Int64(p.Offset)
			e.String(p.Metadata)
			e.Int16(int16(p.ErrorCode))
		}
	}
	if v >= 2 {
		e.Int16(int16(r.ErrorCode))
	}
	return e.Bytes()
}

// InitProducerIDResponse v0..v1.
type InitProducerIDResponse struct {
	ErrorCode     ErrorCode
	ProducerID    int64
	ProducerEpoch int16
}

// Encode writes v0 or v1.
func (r *InitProducerIDResponse) Encode(int16) []byte {
	var e Encoder
	e.Int32(0)
	e.Int16(int16(r.ErrorCode))
	e.Int64(r.ProducerID)
	e.Int16(r.ProducerEpoch)
	return e.Bytes()
}
