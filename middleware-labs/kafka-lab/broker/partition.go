package broker

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

// partition is one partition of a topic on this broker: its log and the
// idempotent producers' sequence state.
type partition struct {
	topic string
	index int32
	log   Log

	// mu orders appends: a producer's sequence check and the append that
	// assigns its offsets happen as one step, so two in-flight batches of
	// one producer cannot land out of their sequence order.
	mu        sync.Mutex
	producers map[int64]*producerState
}

// producerState is what the partition remembers of an idempotent producer:
// its epoch and its last few batches, to answer a retried batch with the
// offset it already got instead of writing it twice.
type producerState struct {
	epoch   int16
	recent  []appended // the last maxRecent batches, oldest first
	lastSeq int32
}

type appended struct {
	firstSeq, lastSeq int32
	baseOffset        int64
}

// maxRecent is max.in.flight.requests.per.connection's ceiling with
// idempotence: a producer never has more unacknowledged batches than this.
const maxRecent = 5

func newPartition(topic string, index int32, l Log) *partition {
	return &partition{topic: topic, index: index, log: l, producers: map[int64]*producerState{}}
}

// errDuplicate is a retried batch the log already holds; base is its offset.
type errDuplicate struct{ base int64 }

func (e errDuplicate) Error() string { return "duplicate batch" }

// checkSequence decides whether a batch of an idempotent producer is the
// next one (nil), a retry of one already written (errDuplicate), or out of
// order (a protocol error code).
func (p *partition) checkSequence(h recordbatch.Header) (protocol.ErrorCode, error) {
	st, ok := p.producers[h.ProducerID]
	lastSeq := h.LastSequence()
	switch {
	case !ok && h.BaseSequence != 0:
		return protocol.OutOfOrderSequenceNumber, nil
	case !ok:
		return protocol.None, nil
	case h.ProducerEpoch < st.epoch:
		return protocol.InvalidProducerEpoch, nil
	case h.ProducerEpoch > st.epoch:
		if h.BaseSequence != 0 {
			return protocol.OutOfOrderSequenceNumber, nil
		}
		return protocol.None, nil
	}
	for _, a := range st.recent {
		if a.firstSeq == h.BaseSequence && a.lastSeq == lastSeq {
			return protocol.None, errDuplicate{base: a.baseOffset}
		}
	}
	if int64(h.BaseSequence) != (int64(st.lastSeq)+1)%(1<<31) { // sequences wrap at MaxInt32
		return protocol.OutOfOrderSequenceNumber, nil
	}
	return protocol.None, nil
}

func (p *partition) remember(h recordbatch.Header, base int64) {
	st, ok := p.producers[h.ProducerID]
	if !ok || h.ProducerEpoch > st.epoch {
		st = &producerState{epoch: h.ProducerEpoch}
		p.producers[h.ProducerID] = st
	}
	st.lastSeq = h.LastSequence()
	st.recent = append(st.recent, appended{firstSeq: h.BaseSequence, lastSeq: st.lastSeq, baseOffset: base})
	if len(st.recent) > maxRecent {
		st.recent = st.recent[1:]
	}
}

// append validates and writes the batches of one partition's produce
// request and returns the first base offset.
func (b *Broker) appendBatches(ctx context.Context, p *partition, records []byte, acks int16) (int64, protocol.ErrorCode) {
	batches, err := recordbatch.Split(records)
	if err != nil {
		b.log.Warn("produce: rejected records", zap.String("topic", p.topic), zap.Int32("partition", p.index), zap.Error(err))
		return -1, protocol.CorruptMessage
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	first := int64(-1)
	for _, batch := range batches {
		h, err := recordbatch.ParseHeader(batch)
		if err != nil {
			b.log.Warn("produce: rejected batch", zap.String("topic", p.topic), zap.Int32("partition", p.index), zap.Error(err))
			return first, protocol.CorruptMessage
		}
		if h.ProducerID >= 0 {
			code, err := p.checkSequence(h)
			var dup errDuplicate
			if errors.As(err, &dup) {
				b.stats.DuplicateBatches.Add(1)
				if first < 0 {
					first = dup.base
				}
				continue
			}
			if code != protocol.None {
				return first, code
			}
		}
		base, err := p.log.Append(ctx, batch, acks)
		if err != nil {
			b.log.Warn("produce: append failed", zap.String("topic", p.topic), zap.Int32("partition", p.index), zap.Error(err))
			return first, appendErrorCode(err)
		}
		if h.ProducerID >= 0 {
			p.remember(h, base)
		}
		if first < 0 {
			first = base
		}
		b.stats.ProducedBatches.Add(1)
		b.stats.ProducedRecords.Add(int64(h.RecordCount))
	}
	b.signalAppend()
	return first, protocol.None
}

// appendErrorCode is the code a Produce response carries for err (the
// replication layer's NOT_ENOUGH_REPLICAS, a timeout, a corrupt batch).
func appendErrorCode(err error) protocol.ErrorCode {
	return protocol.ErrorCode(replication.ErrorCode(err))
}

func (b *Broker) produce(ctx context.Context, r *protocol.ProduceRequest) *protocol.ProduceResponse {
	if r.TimeoutMs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(r.TimeoutMs)*time.Millisecond)
		defer cancel()
	}
	res := &protocol.ProduceResponse{}
	for _, t := range r.Topics {
		tr := protocol.ProduceTopicResponse{Name: t.Name}
		for _, rp := range t.Partitions {
			pr := protocol.ProducePartitionResponse{Partition: rp.Partition, BaseOffset: -1, LogAppendTime: -1}
			if p := b.partition(t.Name, rp.Partition); p == nil {
				pr.ErrorCode = protocol.UnknownTopicOrPartition
			} else {
				pr.BaseOffset, pr.ErrorCode = b.appendBatches(ctx, p, rp.Records, r.Acks)
			}
			tr.Partitions = append(tr.Partitions, pr)
		}
		res.Topics = append(res.Topics, tr)
	}
	return res
}

// signalAppend wakes every long-polling Fetch: one broadcast for the whole
// broker keeps the wait simple; a woken fetch that finds nothing new for
// its partitions waits again.
func (b *Broker) signalAppend() {
	b.appendMu.Lock()
	close(b.appendCh)
	b.appendCh = make(chan struct{})
	b.appendMu.Unlock()
}

func (b *Broker) appendSignal() <-chan struct{} {
	b.appendMu.Lock()
	defer b.appendMu.Unlock()
	return b.appendCh
}

// fetch is a long poll: it answers at once when min_bytes are there or a
// partition has an error to report (waiting would not change either), else
// waits for appends until max_wait passes.
func (b *Broker) fetch(ctx context.Context, r *protocol.FetchRequest) *protocol.FetchResponse {
	deadline := time.Now().Add(time.Duration(r.MaxWaitMs) * time.Millisecond)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		signal := b.appendSignal() // before reading, so no append is missed
		res := b.readFetch(ctx, r)
		if res.Size() >= int(max(r.MinBytes, 1)) || res.HasError() || r.MaxWaitMs <= 0 || !time.Now().Before(deadline) {
			return res
		}
		select {
		case <-signal:
		case <-timer.C:
			return b.readFetch(ctx, r)
		case <-ctx.Done():
			return res
		}
	}
}

func (b *Broker) readFetch(ctx context.Context, r *protocol.FetchRequest) *protocol.FetchResponse {
	res := &protocol.FetchResponse{}
	budget := int(r.MaxBytes)
	if budget <= 0 {
		budget = 50 << 20
	}
	for _, t := range r.Topics {
		tr := protocol.FetchTopicResponse{Name: t.Name}
		for _, rp := range t.Partitions {
			pr := protocol.FetchPartitionResponse{Partition: rp.Partition, HighWatermark: -1, LastStableOffset: -1, LogStartOffset: -1}
			p := b.partition(t.Name, rp.Partition)
			if p == nil {
				pr.ErrorCode = protocol.UnknownTopicOrPartition
				tr.Partitions = append(tr.Partitions, pr)
				continue
			}
			hw, start := p.log.HighWatermark(), p.log.StartOffset()
			pr.HighWatermark, pr.LastStableOffset, pr.LogStartOffset = hw, hw, start
			switch {
			case rp.FetchOffset < start || rp.FetchOffset > hw:
				pr.ErrorCode = protocol.OffsetOutOfRange
			case rp.FetchOffset < hw && budget > 0:
				limit := min(int(rp.MaxBytes), budget)
				data, err := p.log.Read(ctx, rp.FetchOffset, max(limit, 1))
				if errors.Is(err, commitlog.ErrOffsetOutOfRange) {
					pr.ErrorCode = protocol.OffsetOutOfRange // retention moved the start since
					break
				}
				if err != nil {
					b.log.Warn("fetch: read failed", zap.String("topic", t.Name), zap.Int32("partition", rp.Partition), zap.Error(err))
					pr.ErrorCode = protocol.UnknownServerError
					break
				}
				pr.Records = data
				budget -= len(data)
			}
			tr.Partitions = append(tr.Partitions, pr)
		}
		res.Topics = append(res.Topics, tr)
	}
	return res
}
