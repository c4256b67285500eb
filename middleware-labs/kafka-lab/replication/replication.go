// Package replication is the leader's bookkeeping for one partition, as Kafka's Partition class
// keeps it: each follower's log end offset (LEO), the in-sync replica set (ISR), the high
// watermark (HW) that consumers may read up to, and the acks a producer asked for.
//
// The rules, each one a place where data is lost if it is got wrong:
//   - HW is the smallest LEO in the ISR, and it only moves forward. A record below HW is on every
//     in-sync replica, so any of them can become leader without losing it.
//   - A follower's LEO is the offset it fetches from: it fetches offset N once it has 0..N-1.
//   - A follower leaves the ISR when it has not caught up with the leader's LEO for LagTime
//     (replica.lag.time.max.ms); it rejoins once its LEO reaches HW.
//   - acks=0 and acks=1 return once the leader's log has the batch; acks=-1 (all) waits until HW
//     passes it, and refuses up front when the ISR is smaller than min.insync.replicas.
//
// The follower side (follower.go) copies the leader's log and, when it rejoins after a leader
// change, truncates by leader epoch (epochs.go): that cut is where an acks=1 record acknowledged
// by a dead leader disappears. txn.go keeps the last stable offset and the aborted transactions
// that read_committed consumers need.
package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// Errors, each matching a Kafka error code; ErrorCode maps them.
var (
	ErrNotEnoughReplicas            = errors.New("NOT_ENOUGH_REPLICAS: the ISR is smaller than min.insync.replicas")           // 19
	ErrNotEnoughReplicasAfterAppend = errors.New("NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank below min.insync.replicas") // 20
	ErrNotLeader                    = errors.New("NOT_LEADER_OR_FOLLOWER: this broker does not lead the partition")            // 6
	ErrInvalidRequiredAcks          = errors.New("INVALID_REQUIRED_ACKS: acks must be -1, 0 or 1")                             // 21
	ErrUnknownReplica               = errors.New("UNKNOWN_REPLICA: not a replica of this partition")                           // 6 on the wire
	ErrFencedLeaderEpoch            = errors.New("FENCED_LEADER_EPOCH: the request's leader epoch is older than ours")         // 74
)

// Kafka error codes.
const (
	CodeNone                         int16 = 0
	CodeOffsetOutOfRange             int16 = 1
	CodeCorruptMessage               int16 = 2
	CodeNotLeaderOrFollower          int16 = 6
	CodeRequestTimedOut              int16 = 7
	CodeNotEnoughReplicas            int16 = 19
	CodeNotEnoughReplicasAfterAppend int16 = 20
	CodeInvalidRequiredAcks          int16 = 21
	CodeFencedLeaderEpoch            int16 = 74
	CodeUnknownServerError           int16 = -1
)

// ErrorCode is the Kafka error code a Produce or Fetch response carries for err.
func ErrorCode(err error) int16 {
	switch {
	case err == nil:
		return CodeNone
	case errors.Is(err, ErrNotEnoughReplicas):
		return CodeNotEnoughReplicas
	case errors.Is(err, ErrNotEnoughReplicasAfterAppend):
		return CodeNotEnoughReplicasAfterAppend
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrUnknownReplica):
		return CodeNotLeaderOrFollower
	case errors.Is(err, ErrInvalidRequiredAcks):
		return CodeInvalidRequiredAcks
	case errors.Is(err, ErrFencedLeaderEpoch):
		return CodeFencedLeaderEpoch
	case errors.Is(err, commitlog.ErrOffsetOutOfRange):
		return CodeOffsetOutOfRange
	case errors.Is(err, context.DeadlineExceeded):
		return CodeRequestTimedOut
	case errors.Is(err, recordbatch.ErrCRC), errors.Is(err, recordbatch.ErrShort), errors.Is(err, recordbatch.ErrLength),
		errors.Is(err, recordbatch.ErrMagic), errors.Is(err, recordbatch.ErrRecord):
		return CodeCorruptMessage
	}
	return CodeUnknownServerError
}

// DefaultLagTime is Kafka's replica.lag.time.max.ms default.
const DefaultLagTime = 30 * time.Second

// Option configures a Partition.
type Option func(*Partition)

// WithLagTime sets replica.lag.time.max.ms: how long a follower may go without catching up
// before it leaves the ISR.
func WithLagTime(d time.Duration) Option { return func(p *Partition) { p.lagTime = d } }

// WithClock replaces time.Now, so tests can move time by hand.
func WithClock(now func() time.Time) Option { return func(p *Partition) { p.now = now } }

// WithHighWatermark starts the HW at a checkpointed value (Kafka's replication-offset-checkpoint)
// instead of 0, after a restart.
func WithHighWatermark(hw int64) Option { return func(p *Partition) { p.hw = hw } }

// WithLeaderEpoch sets the epoch this leadership started with, stamped on every appended batch.
func WithLeaderEpoch(epoch int32) Option { return func(p *Partition) { p.epoch = epoch } }

// WithEpochCache hands the partition the log's leader-epoch history (LoadEpochs, or a promoted
// follower's); without it the partition starts an empty one.
func WithEpochCache(c *EpochCache) Option { return func(p *Partition) { p.epochs = c } }

// WithISRChange registers a callback run (outside the lock) after every ISR change, so a broker can
// tell its controller; it receives the new ISR, sorted.
func WithISRChange(fn func(isr []int32)) Option { return func(p *Partition) { p.onISRChange = fn } }

// follower is what the leader knows of one follower.
type follower struct {
	leo          int64 // -1 until its first fetch: unknown holds HW back
	lastCaughtUp time.Time
	// The leader's LEO and the time at the previous fetch: a follower that fetched everything
	// the leader had then was caught up then, even if the leader has grown since.
	lastFetchLeaderLEO int64
	lastFetchTime      time.Time
}

// Partition is one partition as its leader sees it. Safe for concurrent use.
type Partition struct {
	log         *commitlog.Log
	leader      int32
	minISR      int
	lagTime     time.Duration
	now         func() time.Time
	onISRChange func([]int32)
	epochs      *EpochCache

	mu               sync.Mutex
	isLeader         bool
	epoch            int32
	epochStartOffset int64 // the leader's LEO when its epoch began; a follower must reach it to join the ISR
	replicas         []int32
	followers        map[int32]*follower
	isr              map[int32]bool
	hw               int64
	txns             *txnState
	changed          chan struct{} // closed and replaced whenever HW, ISR or leadership changes
}

// NewPartition makes this broker (leader) the leader of the partition whose log is log. Every
// replica starts in the ISR with an unknown LEO, as after a clean election: the followers have
// LagTime to fetch before they are dropped, and HW does not move until each has fetched.
// replicas must contain leader; minISR is min.insync.replicas (at least 1).
func NewPartition(log *commitlog.Log, replicas []int32, leader int32, minISR int, opts ...Option) (*Partition, error) {
	if !slices.Contains(replicas, leader) {
		return nil, fmt.Errorf("replication: leader %d is not among the replicas %v", leader, replicas)
	}
	if minISR < 1 || minISR > len(replicas) {
		return nil, fmt.Errorf("replication: min.insync.replicas %d, want 1..%d", minISR, len(replicas))
	}
	p := &Partition{
		log:       log,
		leader:    leader,
		minISR:    minISR,
		lagTime:   DefaultLagTime,
		now:       time.Now,
		isLeader:  true,
		replicas:  slices.Clone(replicas),
		followers: make(map[int32]*follower),
		isr:       make(map[int32]bool),
		changed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(p)
	}
	now := p.now()
	// One scan of the log rebuilds what it implies: open and aborted transactions, and the epoch
	// history when the caller has none.
	p.txns = newTxnState()
	loadEpochs := p.epochs == nil
	if loadEpochs {
		p.epochs = &EpochCache{}
	}
	err := log.Scan(context.Background(), log.StartOffset(), func(h recordbatch.Header, b []byte) error {
		if loadEpochs {
			p.epochs.Assign(h.PartitionLeaderEpoch, h.BaseOffset)
		}
		return p.txns.observe(h, b)
	})
	if err != nil {
		return nil, fmt.Errorf("replication: load partition state: %w", err)
	}
	// This leadership's records start at the current end: the answer a follower of an older
	// epoch gets when it asks where its epoch ended.
	p.epochs.Assign(p.epoch, log.EndOffset())
	p.epochStartOffset = log.EndOffset()
	p.hw = min(p.hw, log.EndOffset())
	for _, r := range replicas {
		p.isr[r] = true
		if r != leader {
			p.followers[r] = &follower{leo: -1, lastCaughtUp: now, lastFetchLeaderLEO: -1}
		}
	}
	p.advanceHW()
	return p, nil
}

// Epochs is the partition's leader-epoch history.
func (p *Partition) Epochs() *EpochCache { return p.epochs }

// Log is the partition's log.
func (p *Partition) Log() *commitlog.Log { return p.log }

// Leader is the leader's broker id.
func (p *Partition) Leader() int32 { return p.leader }

// LeaderEpoch is the epoch of this leadership.
func (p *Partition) LeaderEpoch() int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.epoch
}

// Replicas is the assigned replica list.
func (p *Partition) Replicas() []int32 { return slices.Clone(p.replicas) }

// HighWatermark is the offset below which every record is on every in-sync replica.
func (p *Partition) HighWatermark() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hw
}

// LogEndOffset is the leader's LEO.
func (p *Partition) LogEndOffset() int64 { return p.log.EndOffset() }

// ISR is the in-sync replica set, sorted.
func (p *Partition) ISR() []int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.isrLocked()
}

func (p *Partition) isrLocked() []int32 {
	out := make([]int32, 0, len(p.isr))
	for r := range p.isr {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// FollowerLEO is what the leader knows of a follower's log end offset (-1: not fetched yet).
func (p *Partition) FollowerLEO(replica int32) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.followers[replica]
	if !ok {
		return 0, fmt.Errorf("replication: replica %d: %w", replica, ErrUnknownReplica)
	}
	return f.leo, nil
}

// AppendAsLeader appends one batch with the durability acks asks for and returns its base offset.
//   - acks=0 or 1: once the leader's log has it. A leader that dies before a follower copies it
//     takes the batch with it; the producer was told it was written.
//   - acks=-1: refused with ErrNotEnoughReplicas if the ISR is smaller than minISR; otherwise once
//     HW passes the batch, or ErrNotEnoughReplicasAfterAppend if by then the ISR shrank below
//     minISR (the batch is written but not as safely as asked), or ctx's error on timeout.
func (p *Partition) AppendAsLeader(ctx context.Context, batch []byte, acks int16) (int64, error) {
	base, next, err := p.AppendNoWait(batch, acks)
	if err != nil || acks != -1 {
		return base, err
	}
	return base, p.WaitForISR(ctx, next)
}

// AppendNoWait is the first half of AppendAsLeader: the checks (acks value, leadership,
// min.insync.replicas for acks=-1) and the append. It returns the batch's base offset and the
// offset after it, which WaitForISR takes for acks=-1. A broker that must append under its own
// lock (to check producer sequences, say) calls this under the lock and WaitForISR after
// releasing it, so one producer waiting for followers does not hold up every other producer.
func (p *Partition) AppendNoWait(batch []byte, acks int16) (base, next int64, err error) {
	if acks != -1 && acks != 0 && acks != 1 {
		return 0, 0, fmt.Errorf("replication: acks=%d: %w", acks, ErrInvalidRequiredAcks)
	}
	p.mu.Lock()
	if !p.isLeader {
		p.mu.Unlock()
		return 0, 0, ErrNotLeader
	}
	if acks == -1 && len(p.isr) < p.minISR {
		isr := p.isrLocked()
		p.mu.Unlock()
		return 0, 0, fmt.Errorf("replication: ISR %v, min.insync.replicas %d: %w", isr, p.minISR, ErrNotEnoughReplicas)
	}
	epoch := p.epoch
	p.mu.Unlock()

	if len(batch) >= recordbatch.HeaderSize {
		recordbatch.SetPartitionLeaderEpoch(batch, epoch)
	}
	base, err = p.log.Append(batch)
	if err != nil {
		return 0, 0, err
	}
	h, _ := recordbatch.ParseHeader(batch)

	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.txns.observe(h, batch); err != nil {
		// The batch is in the log, but its marker could not be read: refuse rather than
		// report a transaction state that is wrong.
		return base, h.NextOffset(), err
	}
	p.advanceHW() // an ISR of one (the leader alone) commits on append
	return base, h.NextOffset(), nil
}

// WaitForISR is the acks=-1 wait: it returns once HW reaches next (every in-sync replica has
// everything before next), with ErrNotEnoughReplicasAfterAppend if by then the ISR is smaller
// than min.insync.replicas, ErrNotLeader if leadership ends first, or ctx's error.
func (p *Partition) WaitForISR(ctx context.Context, next int64) error {
	p.mu.Lock()
	for {
		if !p.isLeader {
			p.mu.Unlock()
			return ErrNotLeader
		}
		if p.hw >= next {
			short := len(p.isr) < p.minISR
			isr := p.isrLocked()
			p.mu.Unlock()
			if short {
				return fmt.Errorf("replication: ISR %v, min.insync.replicas %d: %w", isr, p.minISR, ErrNotEnoughReplicasAfterAppend)
			}
			return nil
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("replication: waiting for the ISR to reach offset %d: %w", next, ctx.Err())
		case <-ch:
		}
		p.mu.Lock()
	}
}

// FollowerFetch records that replica fetched from fetchOffset: its LEO is fetchOffset, it may have
// caught up, it may rejoin the ISR, and HW may advance. The broker then reads the log from
// fetchOffset for it and sends HighWatermark along, so the follower knows what is committed.
func (p *Partition) FollowerFetch(replica int32, fetchOffset int64) error {
	p.mu.Lock()
	if !p.isLeader {
		p.mu.Unlock()
		return ErrNotLeader
	}
	f, ok := p.followers[replica]
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("replication: replica %d: %w", replica, ErrUnknownReplica)
	}
	leo := p.log.EndOffset()
	if fetchOffset < 0 || fetchOffset > leo {
		p.mu.Unlock()
		return fmt.Errorf("replication: replica %d fetches %d, leader holds ..%d: %w", replica, fetchOffset, leo, commitlog.ErrOffsetOutOfRange)
	}
	now := p.now()
	switch {
	case fetchOffset >= leo:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, now)
	case f.lastFetchLeaderLEO >= 0 && fetchOffset >= f.lastFetchLeaderLEO:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, f.lastFetchTime)
	}
	f.lastFetchLeaderLEO, f.lastFetchTime = leo, now
	f.leo = fetchOffset

	var isrChanged []int32
	if !p.isr[replica] && f.leo >= p.hw && f.leo >= p.epochStartOffset {
		p.isr[replica] = true
		isrChanged = p.isrLocked()
		p.notify()
	}
	p.advanceHW()
	p.mu.Unlock()
	if isrChanged != nil && p.onISRChange != nil {
		p.onISRChange(isrChanged)
	}
	return nil
}

// MaybeShrinkISR drops every follower that has not caught up for longer than LagTime, and
// returns the ones dropped. HW may advance as a result: it no longer waits for them.
func (p *Partition) MaybeShrinkISR() []int32 {
	p.mu.Lock()
	if !p.isLeader {
		p.mu.Unlock()
		return nil
	}
	now := p.now()
	var dropped []int32
	for r, f := range p.followers {
		if p.isr[r] && now.Sub(f.lastCaughtUp) > p.lagTime {
			delete(p.isr, r)
			dropped = append(dropped, r)
		}
	}
	var isr []int32
	if len(dropped) > 0 {
		slices.Sort(dropped)
		isr = p.isrLocked()
		p.notify()
		p.advanceHW()
	}
	p.mu.Unlock()
	if len(dropped) > 0 && p.onISRChange != nil {
		p.onISRChange(isr)
	}
	return dropped
}

// Run checks the ISR every LagTime/2 until ctx is done, as Kafka's isr-expiration task does.
func (p *Partition) Run(ctx context.Context) {
	t := time.NewTicker(max(p.lagTime/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.MaybeShrinkISR()
		}
	}
}

// advanceHW moves HW up to the smallest LEO in the ISR. Called with mu held.
func (p *Partition) advanceHW() {
	low := p.log.EndOffset()
	for r := range p.isr {
		if f, ok := p.followers[r]; ok {
			low = min(low, f.leo)
		}
	}
	if low > p.hw {
		p.hw = low
		p.notify()
	}
}

// notify wakes everything waiting on a change. Called with mu held.
func (p *Partition) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// WaitHighWatermark returns once HW is beyond offset, or ctx is done: a consumer's Fetch
// long-polls on it (max wait, min bytes).
func (p *Partition) WaitHighWatermark(ctx context.Context, offset int64) error {
	p.mu.Lock()
	for p.hw <= offset {
		if !p.isLeader {
			p.mu.Unlock()
			return ErrNotLeader
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("replication: waiting for offset %d: %w", offset, ctx.Err())
		case <-ch:
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	return nil
}

// ReadCommitted returns whole batches from offset that lie entirely below HW: what a consumer may
// see. (Kafka's read_committed isolation level is stricter still, below the last stable offset.)
func (p *Partition) ReadCommitted(ctx context.Context, offset int64, maxBytes int) ([]byte, error) {
	return p.log.ReadBefore(ctx, offset, p.HighWatermark(), maxBytes)
}

// Resign ends this leadership: waiting producers get ErrNotLeader.
func (p *Partition) Resign() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isLeader {
		p.isLeader = false
		p.notify()
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
