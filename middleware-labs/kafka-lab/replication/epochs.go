package replication

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// EpochEntry says: leader epoch Epoch wrote its first record at StartOffset.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// EpochEnd answers OffsetForLeaderEpoch: the largest epoch at or below the one asked for, and the
// offset where it ended (the next epoch's start, or the log end for the current epoch).
// Epoch -1 and EndOffset -1 mean the leader knows no such epoch.
type EpochEnd struct {
	Epoch     int32
	EndOffset int64
}

// UndefinedEpochEnd is the answer for an epoch older than anything in the log.
var UndefinedEpochEnd = EpochEnd{Epoch: -1, EndOffset: -1}

// EpochCache is the leader-epoch history of a log (Kafka's leader-epoch-checkpoint): which epoch
// wrote which offsets. A follower that rejoins asks the leader where its own last epoch ended and
// truncates there. Truncating to the high watermark instead, as Kafka did before KIP-101, can
// either drop committed records or keep a diverged tail; the epoch says exactly where logs part.
type EpochCache struct {
	mu      sync.Mutex
	entries []EpochEntry // ascending in both fields
}

// LoadEpochs rebuilds the cache from the PartitionLeaderEpoch stamped on every batch. Kafka keeps
// a checkpoint file instead; a scan keeps this lab to one source of truth at the cost of reading
// the log once when a partition opens.
func LoadEpochs(ctx context.Context, log *commitlog.Log) (*EpochCache, error) {
	c := &EpochCache{}
	err := log.Scan(ctx, log.StartOffset(), func(h recordbatch.Header, _ []byte) error {
		c.Assign(h.PartitionLeaderEpoch, h.BaseOffset)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replication: load leader epochs: %w", err)
	}
	return c, nil
}

// Assign records that epoch starts at offset, if it is newer than the latest known epoch.
func (c *EpochCache) Assign(epoch int32, offset int64) {
	if epoch < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.entries); n > 0 {
		last := c.entries[n-1]
		if epoch <= last.Epoch {
			return
		}
		if offset < last.StartOffset {
			offset = last.StartOffset
		}
	}
	c.entries = append(c.entries, EpochEntry{Epoch: epoch, StartOffset: offset})
}

// Latest is the newest epoch, ok false when none is known.
func (c *EpochCache) Latest() (EpochEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) == 0 {
		return EpochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

// Entries is a copy of the history, oldest first.
func (c *EpochCache) Entries() []EpochEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]EpochEntry(nil), c.entries...)
}

// EndOffsetFor answers OffsetForLeaderEpoch for epoch, given this log's end offset.
func (c *EpochCache) EndOffsetFor(epoch int32, logEnd int64) EpochEnd {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The first entry with a larger epoch: everything before it is at or below epoch.
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].Epoch > epoch })
	if i == 0 {
		return UndefinedEpochEnd
	}
	end := logEnd
	if i < len(c.entries) {
		end = c.entries[i].StartOffset
	}
	return EpochEnd{Epoch: c.entries[i-1].Epoch, EndOffset: end}
}

// TruncateFromEnd forgets epochs that start at or after offset, after the log was cut there.
func (c *EpochCache) TruncateFromEnd(offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].StartOffset >= offset })
	c.entries = c.entries[:i]
}
