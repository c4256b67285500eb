package protocol_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	kproto "github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/apiversions"
	"github.com/segmentio/kafka-go/protocol/createtopics"
	"github.com/segmentio/kafka-go/protocol/fetch"
	"github.com/segmentio/kafka-go/protocol/findcoordinator"
	"github.com/segmentio/kafka-go/protocol/heartbeat"
	"github.com/segmentio/kafka-go/protocol/initproducerid"
	"github.com/segmentio/kafka-go/protocol/joingroup"
	"github.com/segmentio/kafka-go/protocol/leavegroup"
	"github.com/segmentio/kafka-go/protocol/listoffsets"
	"github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/segmentio/kafka-go/protocol/offsetcommit"
	"github.com/segmentio/kafka-go/protocol/offsetfetch"
	"github.com/segmentio/kafka-go/protocol/produce"
	"github.com/segmentio/kafka-go/protocol/syncgroup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// encoded is a request as kafka-go's own encoder writes it, without the
// size prefix: what the broker's connection loop hands DecodeRequest.
func encoded(t testing.TB, v int16, msg kproto.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, kproto.WriteRequest(&buf, v, 7, "test-client", msg))
	return buf.Bytes()[4:]
}

type requestCase struct {
	name  string
	v     int16
	msg   kproto.Message
	check func(t *testing.T, r protocol.Request)
}

func requestCases() []requestCase {
	return []requestCase{
		{"ApiVersions v0", 0, &apiversions.Request{}, func(t *testing.T, r protocol.Request) {
			assert.IsType(t, &protocol.ApiVersionsRequest{}, r)
		}},
		{"Metadata v1", 1, &metadata.Request{TopicNames: []string{"a", "b"}}, func(t *testing.T, r protocol.Request) {
			assert.Equal(t, []string{"a", "b"}, r.(*protocol.MetadataRequest).Topics)
		}},
		{"CreateTopics v0", 0, &createtopics.Request{Topics: []createtopics.RequestTopic{{Name: "t", NumPartitions: 3, ReplicationFactor: 1}}, TimeoutMs: 100},
			func(t *testing.T, r protocol.Request) {
				ct := r.(*protocol.CreateTopicsRequest)
				assert.Equal(t, []protocol.CreateTopic{{Name: "t", NumPartitions: 3, ReplicationFactor: 1}}, ct.Topics)
			}},
		{"Produce v3", 3, &produce.Request{Acks: -1, Timeout: 500, Topics: []produce.RequestTopic{{Topic: "t", Partitions: []produce.RequestPartition{{
			Partition: 2, RecordSet: kproto.RecordSet{Version: 2, Records: kproto.NewRecordReader(kproto.Record{Value: kproto.NewBytes([]byte("v"))})}}}}}},
			func(t *testing.T, r protocol.Request) {
				p := r.(*protocol.ProduceRequest)
				assert.Equal(t, int16(-1), p.Acks)
				assert.Equal(t, int32(2), p.Topics[0].Partitions[0].Partition)
				assert.Greater(t, len(p.Topics[0].Partitions[0].Records), 61, "a whole v2 batch")
			}},
		{"Fetch v5", 5, &fetch.Request{ReplicaID: -1, MaxWaitTime: 250, MinBytes: 1, MaxBytes: 1 << 20, Topics: []fetch.RequestTopic{{Topic: "t",
			Partitions: []fetch.RequestPartition{{Partition: 1, FetchOffset: 42, LogStartOffset: -1, PartitionMaxBytes: 1024}}}}},
			func(t *testing.T, r protocol.Request) {
				f := r.(*protocol.FetchRequest)
				assert.Equal(t, int32(250), f.MaxWaitMs)
				assert.Equal(t, protocol.FetchPartition{Partition: 1, FetchOffset: 42, LogStartOffset: -1, MaxBytes: 1024}, f.Topics[0].Partitions[0])
			}},
		{"ListOffsets v1", 1, &listoffsets.Request{ReplicaID: -1, Topics: []listoffsets.RequestTopic{{Topic: "t", Partitions: []listoffsets.RequestPartition{{Partition: 0, Timestamp: -2}}}}},
			func(t *testing.T, r protocol.Request) {
				assert.Equal(t, int64(-2), r.(*protocol.ListOffsetsRequest).Topics[0].Partitions[0].Timestamp)
			}},
		{"FindCoordinator v1", 1, &findcoordinator.Request{Key: "g"}, func(t *testing.T, r protocol.Request) {
			assert.Equal(t, "g", r.(*protocol.FindCoordinatorRequest).Key)
		}},
		{"JoinGroup v2", 2, &joingroup.Request{GroupID: "g", SessionTimeoutMS: 6000, RebalanceTimeoutMS: 9000, ProtocolType: "consumer",
			Protocols: []joingroup.RequestProtocol{{Name: "range", Metadata: []byte{1, 2}}}},
			func(t *testing.T, r protocol.Request) {
				j := r.(*protocol.JoinGroupRequest)
				assert.Equal(t, int32(9000), j.RebalanceTimeoutMs)
				assert.Equal(t, []protocol.GroupProtocol{{Name: "range", Metadata: []byte{1, 2}}}, j.Protocols)
			}},
		{"SyncGroup v1", 1, &syncgroup.Request{GroupID: "g", GenerationID: 3, MemberID: "m", Assignments: []syncgroup.RequestAssignment{{MemberID: "m", Assignment: []byte{9}}}},
			func(t *testing.T, r protocol.Request) {
				assert.Equal(t, map[string][]byte{"m": {9}}, r.(*protocol.SyncGroupRequest).Assignments)
			}},
		{"Heartbeat v1", 1, &heartbeat.Request{GroupID: "g", GenerationID: 3, MemberID: "m"}, func(t *testing.T, r protocol.Request) {
			assert.Equal(t, &protocol.HeartbeatRequest{GroupID: "g", GenerationID: 3, MemberID: "m"}, r)
		}},
		{"LeaveGroup v1", 1, &leavegroup.Request{GroupID: "g", MemberID: "m"}, func(t *testing.T, r protocol.Request) {
			assert.Equal(t, &protocol.LeaveGroupRequest{GroupID: "g", MemberID: "m"}, r)
		}},
		{"OffsetCommit v2", 2, &offsetcommit.Request{GroupID: "g", GenerationID: 3, MemberID: "m", RetentionTimeMs: -1,
			Topics: []offsetcommit.RequestTopic{{Name: "t", Partitions: []offsetcommit.RequestPartition{{PartitionIndex: 1, CommittedOffset: 10}}}}},
			func(t *testing.T, r protocol.Request) {
				assert.Equal(t, int64(10), r.(*protocol.OffsetCommitRequest).Topics[0].Partitions[0].Offset)
			}},
		{"OffsetFetch v3", 3, &offsetfetch.Request{GroupID: "g", Topics: []offsetfetch.RequestTopic{{Name: "t", PartitionIndexes: []int32{0, 1}}}},
			func(t *testing.T, r protocol.Request) {
				assert.Equal(t, []int32{0, 1}, r.(*protocol.OffsetFetchRequest).Topics[0].Partitions)
			}},
		{"InitProducerId v1", 1, &initproducerid.Request{TransactionalID: "", TransactionTimeoutMs: 1000}, func(t *testing.T, r protocol.Request) {
			assert.Equal(t, int32(1000), r.(*protocol.InitProducerIDRequest).TimeoutMs)
		}},
	}
}

func TestDecodesWhatKafkaGoEncodes(t *testing.T) {
	for _, tc := range requestCases() {
		t.Run(tc.name, func(t *testing.T) {
			h, r, err := protocol.DecodeRequest(encoded(t, tc.v, tc.msg))
			require.NoError(t, err)
			assert.Equal(t, int32(7), h.CorrelationID)
			assert.Equal(t, "test-client", h.ClientID)
			tc.check(t, r)
		})
	}
}

func TestBadRequestsAreErrorsNamingWhatWasExpected(t *testing.T) {
	heartbeatV1 := encoded(t, 1, &heartbeat.Request{GroupID: "g", MemberID: "m"})
	flexible := encoded(t, 4, &heartbeat.Request{GroupID: "g", MemberID: "m"})
	hugeArray := append(append([]byte{}, encoded(t, 1, &metadata.Request{})[:len(encoded(t, 1, &metadata.Request{}))-4]...), 0x7f, 0xff, 0xff, 0xff)
	tests := []struct {
		name  string
		frame []byte
		is    error
		text  string
	}{
		{"empty", nil, protocol.ErrMalformed, "expected int16"},
		{"truncated body", heartbeatV1[:len(heartbeatV1)-3], protocol.ErrMalformed, "expected"},
		{"trailing bytes", append(append([]byte{}, heartbeatV1...), 0), protocol.ErrMalformed, "past its body"},
		{"unsupported version", flexible, protocol.ErrUnsupportedVersion, "supported: v0..v1"},
		{"array longer than the frame", hugeArray, protocol.ErrMalformed, "array length that fits the frame"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := protocol.DecodeRequest(tc.frame)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.is), "%v is %v", err, tc.is)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}

func TestReadFrameRefusesSizesOutOfRange(t *testing.T) {
	for _, size := range []int32{-1, 3, protocol.MaxFrame + 1} {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(size))
		_, err := protocol.ReadFrame(bytes.NewReader(b[:]), nil)
		assert.ErrorIs(t, err, protocol.ErrFrameTooLarge, "size %d", size)
	}
}

// decodeWithKafkaGo reads a framed response the way kafka-go's client does.
func decodeWithKafkaGo(t *testing.T, key kproto.ApiKey, v int16, res protocol.Response) kproto.Message {
	t.Helper()
	id, msg, err := kproto.ReadResponse(bytes.NewReader(protocol.Frame(11, res.Encode(v))), key, v)
	require.NoError(t, err)
	assert.Equal(t, int32(11), id)
	return msg
}

func TestKafkaGoDecodesOurResponses(t *testing.T) {
	md := decodeWithKafkaGo(t, kproto.Metadata, 1, &protocol.MetadataResponse{
		Brokers:      []protocol.BrokerInfo{{NodeID: 1, Host: "127.0.0.1", Port: 9192}},
		ControllerID: 1,
		Topics: []protocol.TopicMetadata{{Name: "t", Partitions: []protocol.PartitionMetadata{
			{Partition: 0, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}}}}},
	}).(*metadata.Response)
	assert.Equal(t, int32(9192), md.Brokers[0].Port)
	assert.Equal(t, []int32{1}, md.Topics[0].Partitions[0].IsrNodes)

	jg := decodeWithKafkaGo(t, kproto.JoinGroup, 2, &protocol.JoinGroupResponse{GenerationID: 4, Protocol: "range", LeaderID: "a", MemberID: "a",
		Members: []protocol.GroupMember{{MemberID: "a", Metadata: []byte{1}}}}).(*joingroup.Response)
	assert.Equal(t, int32(4), jg.GenerationID)
	assert.Equal(t, "a", jg.Members[0].MemberID)

	of := decodeWithKafkaGo(t, kproto.OffsetFetch, 3, &protocol.OffsetFetchResponse{Topics: []protocol.OffsetFetchTopicResponse{{Name: "t",
		Partitions: []protocol.OffsetFetchPartitionResponse{{Partition: 2, Offset: 99}}}}}).(*offsetfetch.Response)
	assert.Equal(t, int64(99), of.Topics[0].Partitions[0].CommittedOffset)

	pr := decodeWithKafkaGo(t, kproto.Produce, 3, &protocol.ProduceResponse{Topics: []protocol.ProduceTopicResponse{{Name: "t",
		Partitions: []protocol.ProducePartitionResponse{{Partition: 1, ErrorCode: protocol.OutOfOrderSequenceNumber, BaseOffset: -1}}}}}).(*produce.Response)
	assert.Equal(t, int16(protocol.OutOfOrderSequenceNumber), pr.Topics[0].Partitions[0].ErrorCode)

	av := decodeWithKafkaGo(t, kproto.ApiVersions, 2, &protocol.ApiVersionsResponse{Versions: protocol.SupportedVersions()}).(*apiversions.Response)
	assert.Len(t, av.ApiKeys, len(protocol.SupportedVersions()))
}
