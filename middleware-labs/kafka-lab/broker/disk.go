package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/replication"
)

// DiskLogs opens each partition as a commitlog under root/<topic>-<n>, led
// by this broker with an ISR of itself alone (a single-broker cluster).
func DiskLogs(root string, nodeID int32, opts commitlog.Options) OpenLog {
	return func(topic string, index int32) (Log, error) {
		dir := filepath.Join(root, topic+"-"+strconv.Itoa(int(index)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("broker: partition dir: %w", err)
		}
		l, err := commitlog.Open(dir, opts)
		if err != nil {
			return nil, fmt.Errorf("broker: open %s-%d: %w", topic, index, err)
		}
		p, err := replication.NewPartition(l, []int32{nodeID}, nodeID, 1,
			replication.WithHighWatermark(l.EndOffset())) // alone in its ISR: all of it is committed
		if err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("broker: partition %s-%d: %w", topic, index, err)
		}
		return &leaderLog{p: p}, nil
	}
}

// leaderLog is a replication.Partition led here, as the broker's Log.
type leaderLog struct{ p *replication.Partition }

func (l *leaderLog) Append(ctx context.Context, batch []byte, acks int16) (int64, error) {
	return l.p.AppendAsLeader(ctx, batch, acks)
}

func (l *leaderLog) Read(ctx context.Context, offset int64, maxBytes int) ([]byte, error) {
	return l.p.ReadCommitted(ctx, offset, maxBytes)
}

func (l *leaderLog) HighWatermark() int64 { return l.p.HighWatermark() }
func (l *leaderLog) StartOffset() int64   { return l.p.Log().StartOffset() }

func (l *leaderLog) OffsetForTime(ms int64) (int64, error) {
	off, err := l.p.Log().OffsetForTime(ms)
	if errors.Is(err, commitlog.ErrNoTimestamp) {
		return -1, nil // ListOffsets answers -1: nothing that recent
	}
	return off, err
}

func (l *leaderLog) Close() error { return l.p.Log().Close() }

// DiskTopics lists the topics already under root (directories named
// <topic>-<partition>) with their partition counts, so a restarted broker
// serves what it served before.
func DiskTopics(root string) (map[string]int32, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int32{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("broker: list %s: %w", root, err)
	}
	topics := map[string]int32{}
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndexByte(name, '-')
		if !e.IsDir() || i <= 0 {
			continue
		}
		n, err := strconv.Atoi(name[i+1:])
		if err != nil || n < 0 {
			continue
		}
		topics[name[:i]] = max(topics[name[:i]], int32(n)+1)
	}
	return topics, nil
}
