package replication

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// FetchResult is the leader's answer to a follower's fetch: whole batches from the fetch offset,
// and the offsets the follower needs to stay consistent. On ErrOffsetOutOfRange the offsets are
// still set, so the follower can tell whether it is ahead of the leader or behind its log start.
type FetchResult struct {
	Records        []byte
	HighWatermark  int64
	LogStartOffset int64
	LogEndOffset   int64
}

// LeaderClient is what a follower needs from its partition's leader. A broker implements it with
// a Fetch request carrying its replica id and an OffsetForLeaderEpoch request (API key 23);
// LocalLeader implements it in process.
type LeaderClient interface {
	FetchAsFollower(ctx context.Context, replica int32, offset int64, maxBytes int) (FetchResult, error)
	OffsetForLeaderEpoch(ctx context.Context, epoch int32) (EpochEnd, error)
}

// HandleFollowerFetch serves a follower's fetch on the leader: it records the follower's LEO
// (FollowerFetch), waits up to maxWait for data when the follower is caught up, and returns whole
// batches from offset. A broker's Fetch handler calls it when the request's replica id is >= 0.
func (p *Partition) HandleFollowerFetch(ctx context.Context, replica int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error) {
	res := FetchResult{LogStartOffset: p.log.StartOffset(), LogEndOffset: p.log.EndOffset()}
	if err := p.FollowerFetch(replica, offset); err != nil {
		res.HighWatermark = p.HighWatermark()
		return res, err
	}
	if offset == res.LogEndOffset && maxWait > 0 {
		wctx, cancel := context.WithTimeout(ctx, maxWait)
		err := p.log.Wait(wctx, offset)
		cancel()
		if err != nil && ctx.Err() != nil {
			return res, fmt.Errorf("replication: follower fetch: %w", ctx.Err())
		}
	}
	b, err := p.log.Read(ctx, offset, maxBytes)
	res.Records = b
	res.HighWatermark = p.HighWatermark()
	res.LogStartOffset, res.LogEndOffset = p.log.StartOffset(), p.log.EndOffset()
	return res, err
}

// OffsetForLeaderEpoch answers a follower that asks where epoch ended in the leader's log.
func (p *Partition) OffsetForLeaderEpoch(epoch int32) (EpochEnd, error) {
	p.mu.Lock()
	leader := p.isLeader
	p.mu.Unlock()
	if !leader {
		return UndefinedEpochEnd, ErrNotLeader
	}
	return p.epochs.EndOffsetFor(epoch, p.log.EndOffset()), nil
}

// LocalLeader serves followers from a leader Partition in the same process: a broker's network
// client without the network, for tests and single-process clusters.
type LocalLeader struct {
	Partition *Partition
	MaxWait   time.Duration
}

// FetchAsFollower implements LeaderClient.
func (l LocalLeader) FetchAsFollower(ctx context.Context, replica int32, offset int64, maxBytes int) (FetchResult, error) {
	return l.Partition.HandleFollowerFetch(ctx, replica, offset, maxBytes, l.MaxWait)
}

// OffsetForLeaderEpoch implements LeaderClient.
func (l LocalLeader) OffsetForLeaderEpoch(_ context.Context, epoch int32) (EpochEnd, error) {
	return l.Partition.OffsetForLeaderEpoch(epoch)
}

// FollowerOption configures a Follower.
type FollowerOption func(*Follower)

// WithFetchMaxBytes bounds each fetch (default 1 MiB; the leader still sends one whole batch).
func WithFetchMaxBytes(n int) FollowerOption { return func(f *Follower) { f.maxBytes = n } }

// WithRetryBackoff is the pause after a failed fetch (default 100 ms; replica.fetch.backoff.ms).
func WithRetryBackoff(d time.Duration) FollowerOption { return func(f *Follower) { f.backoff = d } }

// WithFollowerHighWatermark starts the follower's HW at a checkpointed value.
func WithFollowerHighWatermark(hw int64) FollowerOption { return func(f *Follower) { f.hw = hw } }

// Follower copies one partition from its leader into a local log. Before its first fetch, and
// again whenever the logs are found to disagree, it reconciles: it asks the leader where its own
// latest epoch ended and truncates there, so a tail the new leader never had (records a dead
// leader acknowledged with acks=1) is cut rather than kept.
type Follower struct {
	log      *commitlog.Log
	replica  int32
	leader   LeaderClient
	epochs   *EpochCache
	maxBytes int
	backoff  time.Duration

	mu         sync.Mutex
	hw         int64
	reconciled bool
	truncated  int64 // records cut by reconciliation, in total
}

// NewFollower makes replica a follower of leader for the partition in log. epochs is the log's
// epoch history (LoadEpochs, or the Epochs of the Partition this broker led before).
func NewFollower(log *commitlog.Log, replica int32, leader LeaderClient, epochs *EpochCache, opts ...FollowerOption) *Follower {
	f := &Follower{log: log, replica: replica, leader: leader, epochs: epochs, maxBytes: 1 << 20, backoff: 100 * time.Millisecond}
	if f.epochs == nil {
		f.epochs = &EpochCache{}
	}
	for _, o := range opts {
		o(f)
	}
	f.hw = min(f.hw, log.EndOffset())
	return f
}

// HighWatermark is what the leader last said is committed, capped at this log's end.
func (f *Follower) HighWatermark() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hw
}

// Truncated is how many records reconciliation has cut from this log.
func (f *Follower) Truncated() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.truncated
}

// Epochs is the follower's epoch history, kept as it copies batches.
func (f *Follower) Epochs() *EpochCache { return f.epochs }

// Run fetches until ctx is done, pausing after errors. It returns nil when ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	for {
		if _, err := f.FetchOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(f.backoff):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// FetchOnce reconciles if needed, fetches once from the log end and appends what came back. It
// returns the number of batches appended.
func (f *Follower) FetchOnce(ctx context.Context) (int, error) {
	f.mu.Lock()
	reconciled := f.reconciled
	f.mu.Unlock()
	if !reconciled {
		if err := f.reconcile(ctx); err != nil {
			return 0, err
		}
	}
	offset := f.log.EndOffset()
	res, err := f.leader.FetchAsFollower(ctx, f.replica, offset, f.maxBytes)
	if errors.Is(err, commitlog.ErrOffsetOutOfRange) {
		if offset < res.LogStartOffset {
			// Retention removed what we would fetch next: start over at the leader's start.
			if err := f.log.Reset(res.LogStartOffset); err != nil {
				return 0, err
			}
			f.epochs.TruncateFromEnd(0)
			return 0, nil
		}
		f.setReconciled(false) // we are ahead of the leader: our tail diverged
		return 0, fmt.Errorf("replication: follower %d at %d, leader ends at %d: %w", f.replica, offset, res.LogEndOffset, err)
	}
	if err != nil {
		return 0, fmt.Errorf("replication: follower %d fetch at %d: %w", f.replica, offset, err)
	}
	batches, err := recordbatch.Split(res.Records)
	if err != nil {
		return 0, fmt.Errorf("replication: follower %d: leader sent %w", f.replica, err)
	}
	n, err := f.log.AppendReplicas(res.Records)
	// The epoch history follows what reached the log (Assign ignores epochs already known).
	for _, b := range batches {
		if h, _ := recordbatch.ParseHeader(b); h.BaseOffset < f.log.EndOffset() {
			f.epochs.Assign(h.PartitionLeaderEpoch, h.BaseOffset)
		}
	}
	if err != nil {
		f.setReconciled(false)
		return n, fmt.Errorf("replication: follower %d: %w", f.replica, err)
	}
	f.mu.Lock()
	f.hw = max(f.hw, min(res.HighWatermark, f.log.EndOffset()))
	f.mu.Unlock()
	return n, nil
}

func (f *Follower) setReconciled(v bool) {
	f.mu.Lock()
	f.reconciled = v
	f.mu.Unlock()
}

// reconcile truncates this log to where it stops agreeing with the leader's, by leader epoch.
func (f *Follower) reconcile(ctx context.Context) error {
	leo := f.log.EndOffset()
	target := leo
	if latest, ok := f.epochs.Latest(); ok {
		end, err := f.leader.OffsetForLeaderEpoch(ctx, latest.Epoch)
		if err != nil {
			return fmt.Errorf("replication: follower %d: offset for leader epoch %d: %w", f.replica, latest.Epoch, err)
		}
		if end.EndOffset < 0 {
			target = f.HighWatermark() // the leader knows nothing this old: keep only what was committed
		} else {
			// The leader's answer is for the largest epoch it has at or below ours; our log may
			// hold less of that epoch than the leader's does.
			ours := f.epochs.EndOffsetFor(end.Epoch, leo).EndOffset
			if ours < 0 {
				ours = leo
			}
			target = min(end.EndOffset, ours, leo)
		}
	} else if leo > f.HighWatermark() {
		// No epochs in our log (batches from before epochs were stamped): the pre-KIP-101 rule.
		target = f.HighWatermark()
	}
	if target < leo {
		if err := f.log.TruncateTo(target); err != nil {
			return err
		}
		f.epochs.TruncateFromEnd(f.log.EndOffset())
	}
	f.mu.Lock()
	f.truncated += leo - f.log.EndOffset()
	f.hw = min(f.hw, f.log.EndOffset())
	f.reconciled = true
	f.mu.Unlock()
	return nil
}

// Promote turns a stopped follower into the leader of a new epoch (the controller chose it),
// carrying over its log, HW and epoch history. Stop Run before calling it.
func (f *Follower) Promote(replicas []int32, epoch int32, minISR int, opts ...Option) (*Partition, error) {
	opts = append([]Option{WithLeaderEpoch(epoch), WithHighWatermark(f.HighWatermark()), WithEpochCache(f.epochs)}, opts...)
	return NewPartition(f.log, replicas, f.replica, minISR, opts...)
}
