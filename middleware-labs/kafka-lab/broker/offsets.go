package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// OffsetLog keeps committed offsets in a log of their own, as Kafka's
// __consumer_offsets topic does: every commit is a record keyed by group,
// topic and partition, and a restarted broker replays the log, the last
// record of a key winning. (Kafka compacts that topic; this log is only
// trimmed by retention, which is fine for a lab's lifetime.)
type OffsetLog struct {
	mu  sync.Mutex
	log *commitlog.Log
}

// OpenOffsetLog opens the offsets log in dir.
func OpenOffsetLog(dir string) (*OffsetLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: offsets dir: %w", err)
	}
	l, err := commitlog.Open(dir, commitlog.Options{})
	if err != nil {
		return nil, fmt.Errorf("broker: open offsets log: %w", err)
	}
	return &OffsetLog{log: l}, nil
}

type offsetKey struct {
	Group     string `json:"g"`
	Topic     string `json:"t"`
	Partition int32  `json:"p"`
}

type offsetValue struct {
	Offset   int64  `json:"o"`
	Metadata string `json:"m,omitempty"`
}

// Save appends one commit, synced before it returns.
func (s *OffsetLog) Save(o group.Offset) error {
	key, err := json.Marshal(offsetKey{o.Group, o.Topic, o.Partition})
	if err != nil {
		return fmt.Errorf("broker: offset key: %w", err)
	}
	val, err := json.Marshal(offsetValue{o.Offset, o.Metadata})
	if err != nil {
		return fmt.Errorf("broker: offset value: %w", err)
	}
	batch := recordbatch.Build(recordbatch.Header{ProducerID: recordbatch.NoProducerID, BaseSequence: recordbatch.NoSequence},
		[]recordbatch.Record{{Key: key, Value: val, Timestamp: time.Now().UnixMilli()}})
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.log.Append(batch); err != nil {
		return fmt.Errorf("broker: save offset: %w", err)
	}
	return nil
}

// Load replays every commit in the log, oldest first.
func (s *OffsetLog) Load() ([]group.Offset, error) {
	var out []group.Offset
	err := s.log.Scan(context.Background(), s.log.StartOffset(), func(_ recordbatch.Header, batch []byte) error {
		recs, err := recordbatch.Records(batch)
		if err != nil {
			return err
		}
		for _, r := range recs {
			var k offsetKey
			var v offsetValue
			if err := json.Unmarshal(r.Key, &k); err != nil {
				return fmt.Errorf("offset record key: %w", err)
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				return fmt.Errorf("offset record value: %w", err)
			}
			out = append(out, group.Offset{Group: k.Group, Topic: k.Topic, Partition: k.Partition, Offset: v.Offset, Metadata: v.Metadata})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("broker: replay offsets: %w", err)
	}
	return out, nil
}

// Close closes the log.
func (s *OffsetLog) Close() error { return s.log.Close() }
