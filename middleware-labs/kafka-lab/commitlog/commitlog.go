// Package commitlog is one partition's log on disk, the way Kafka keeps it: a directory of
// append-only segment files named by their base offset, each with a sparse offset index and a
// time index; a new segment when the active one is full; old segments deleted by size or by age;
// fsync after every batch or on an interval; and, on open, recovery of the newest segment, which
// cuts a batch torn by a crash so that the log ends at the last whole batch.
//
// The log stores record batches (package recordbatch) exactly as the producer sent them, with only
// the base offset rewritten; a read returns whole batches, as Fetch does.
package commitlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// FsyncPolicy says when appended bytes are forced to disk.
type FsyncPolicy int

const (
	// FsyncEveryBatch syncs before Append returns: an acknowledged batch survives power loss.
	FsyncEveryBatch FsyncPolicy = iota
	// FsyncInterval syncs every Options.FsyncInterval: Append returns once the bytes are in the
	// page cache, which survives kill -9 but not power loss. Kafka's default is weaker still: it
	// leaves flushing to the OS and relies on replication.
	FsyncInterval
)

func (p FsyncPolicy) String() string {
	switch p {
	case FsyncEveryBatch:
		return "every-batch"
	case FsyncInterval:
		return "interval"
	}
	return "fsync(" + strconv.Itoa(int(p)) + ")"
}

// Options configure a Log. Zero values take the defaults noted.
type Options struct {
	// SegmentBytes is the size at which the active segment is rolled (default 16 MiB, at most 2 GiB
	// because index entries hold 32-bit positions). Kafka: segment.bytes.
	SegmentBytes int64
	// IndexIntervalBytes is how many log bytes go by between index entries (default 4096).
	// Kafka: index.interval.bytes.
	IndexIntervalBytes int
	// RetentionBytes deletes the oldest segments while the rest still hold this much (0: keep all).
	// Kafka: retention.bytes.
	RetentionBytes int64
	// RetentionAge deletes segments whose newest record is older than this (0: keep all).
	// Kafka: retention.ms.
	RetentionAge time.Duration
	// Fsync is the durability policy, FsyncEveryBatch by default.
	Fsync FsyncPolicy
	// FsyncInterval is the period for FsyncInterval (default 100 ms).
	FsyncInterval time.Duration
	// SegmentAge rolls the active segment once it is this old and not empty (0: only by size), so
	// that retention by age can delete the records of a slow topic too: it never deletes the
	// active segment. The age counts from when this process created or opened the segment.
	// Kafka: segment.ms.
	SegmentAge time.Duration
	// RetentionCheckInterval runs ApplyRetention in the background this often (0: only after a
	// roll, or when the caller calls it). Kafka: log.retention.check.interval.ms.
	RetentionCheckInterval time.Duration
	// Now is the clock retention and SegmentAge read (default time.Now); tests pass a fake.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 16 << 20
	}
	o.SegmentBytes = min(o.SegmentBytes, 2<<30)
	if o.IndexIntervalBytes <= 0 {
		o.IndexIntervalBytes = 4096
	}
	if o.FsyncInterval <= 0 {
		o.FsyncInterval = 100 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Errors callers branch on.
var (
	// ErrOffsetOutOfRange is Kafka's OFFSET_OUT_OF_RANGE (error code 1).
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrNoTimestamp says no record is as late as the timestamp asked for; ListOffsets answers -1.
	ErrNoTimestamp = errors.New("no record at or after the timestamp")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("log closed")
)

// Recovery is what Open found in the newest segment.
type Recovery struct {
	Segments     int   // segments opened
	TruncatedAt  int64 // offset the log ended at after recovery
	TruncatedCut int64 // bytes of torn or corrupt tail removed (0 after a clean shutdown)
}

// SegmentInfo describes one segment, oldest first, for metrics and tests.
type SegmentInfo struct {
	BaseOffset   int64
	NextOffset   int64
	Bytes        int64
	MaxTimestamp int64
	IndexEntries int
}

// Log is one partition's log. It is safe for concurrent use: appends are serialized, reads run in
// parallel with each other and with appends, and fsync happens outside the lock readers take.
type Log struct {
	dir  string
	opts Options

	mu       sync.RWMutex
	segs     []*segment // oldest first; the last one is active
	closed   bool
	appended chan struct{} // closed and replaced on every append, for Wait
	recovery Recovery

	appends         atomic.Int64
	syncs           atomic.Int64
	retentionErrors atomic.Int64

	stop    chan struct{} // closed by Close: ends the background goroutine
	bgDone  chan struct{}
	syncErr error // a failed background fsync, reported by every later Append; guarded by mu
}

// Open opens the log in dir, creating it if needed, and recovers its newest segment.
func Open(dir string, opts Options) (*Log, error) {
	opts = opts.withDefaults()
	if opts.Fsync != FsyncEveryBatch && opts.Fsync != FsyncInterval {
		return nil, fmt.Errorf("commitlog: fsync policy %d, want every-batch (0) or interval (1)", opts.Fsync)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("commitlog: %w", err)
	}
	bases, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, appended: make(chan struct{})}
	for i, base := range bases {
		s, cut, err := openSegment(dir, base, i == len(bases)-1, opts.IndexIntervalBytes, &l.syncs)
		if err != nil {
			_ = l.closeSegments() // the open error is the one to report
			return nil, fmt.Errorf("commitlog %s: %w", dir, err)
		}
		if n := len(l.segs); n > 0 && l.segs[n-1].next != s.base {
			s.closeFiles()
			_ = l.closeSegments() // the open error is the one to report
			return nil, fmt.Errorf("commitlog %s: segment %d ends at offset %d but the next one starts at %d",
				dir, l.segs[n-1].base, l.segs[n-1].next, s.base)
		}
		l.segs = append(l.segs, s)
		l.recovery.TruncatedCut += cut
	}
	if len(l.segs) == 0 {
		s, err := createSegment(dir, 0, opts.IndexIntervalBytes, &l.syncs)
		if err != nil {
			return nil, fmt.Errorf("commitlog %s: %w", dir, err)
		}
		l.segs = append(l.segs, s)
	}
	l.recovery.Segments = len(l.segs)
	l.recovery.TruncatedAt = l.active().next
	if l.recovery.TruncatedCut > 0 {
		if err := l.active().syncAll(); err != nil {
			_ = l.closeSegments() // the open error is the one to report
			return nil, err
		}
	}
	l.active().created = opts.Now()
	if opts.Fsync == FsyncInterval || opts.RetentionCheckInterval > 0 {
		l.stop, l.bgDone = make(chan struct{}), make(chan struct{})
		go l.background()
	}
	return l, nil
}

// listSegments returns the base offsets of the .log files in dir, in order.
func listSegments(dir string) ([]int64, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+logSuffix))
	if err != nil {
		return nil, fmt.Errorf("commitlog: %w", err)
	}
	var bases []int64
	for _, n := range names {
		base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(n), logSuffix), 10, 64)
		if err != nil || base < 0 {
			return nil, fmt.Errorf("commitlog: %s is not a segment (want <20-digit base offset>%s)", n, logSuffix)
		}
		bases = append(bases, base)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// Dir is the directory the log lives in.
func (l *Log) Dir() string { return l.dir }

// Recovery reports what Open cut from the log's tail.
func (l *Log) Recovery() Recovery {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.recovery
}

// StartOffset is the first offset still in the log (Kafka's log start offset).
func (l *Log) StartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.segs[0].base
}

// EndOffset is the offset the next appended record gets (Kafka's log end offset, LEO).
func (l *Log) EndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.active().next
}

// Size is the bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Stats counts what the log did since Open, for metrics.
type Stats struct {
	Appends int64 // batches appended
	Fsyncs  int64 // fsyncs of log data by appends and the interval policy (group commit makes it fewer than Appends)
	// RetentionErrors counts background retention checks that failed to delete a segment.
	RetentionErrors int64
}

// Stats reports the log's counters.
func (l *Log) Stats() Stats {
	return Stats{Appends: l.appends.Load(), Fsyncs: l.syncs.Load(), RetentionErrors: l.retentionErrors.Load()}
}

// Segments describes the segments, oldest first.
func (l *Log) Segments() []SegmentInfo {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]SegmentInfo, len(l.segs))
	for i, s := range l.segs {
		out[i] = SegmentInfo{BaseOffset: s.base, NextOffset: s.next, Bytes: s.size, MaxTimestamp: s.maxTS, IndexEntries: len(s.idx)}
	}
	return out
}

// Append validates one record batch, gives it the next offsets (rewriting its base offset in
// place, in the caller's slice) and writes it to the active segment, rolling first if the segment
// is full. Under FsyncEveryBatch it returns once the batch is on disk.
func (l *Log) Append(batch []byte) (int64, error) {
	return l.append(batch, true, l.opts.Fsync == FsyncEveryBatch)
}

// AppendReplica appends a batch copied from the leader, keeping the leader's offsets: its base
// offset must be this log's end offset, or the follower's log has diverged and must be truncated
// first (ErrOffsetMismatch).
func (l *Log) AppendReplica(batch []byte) error {
	_, err := l.append(batch, false, l.opts.Fsync == FsyncEveryBatch)
	return err
}

// AppendReplicas appends every batch of a record set copied from the leader (AppendReplica
// rules), skipping batches this log already holds, and under FsyncEveryBatch fsyncs once at the
// end rather than once a batch: a follower's fetch often brings many batches. It returns how many
// batches it appended.
func (l *Log) AppendReplicas(set []byte) (int, error) {
	batches, err := recordbatch.Split(set)
	if err != nil {
		return 0, fmt.Errorf("commitlog append: %w", err)
	}
	n := 0
	for _, b := range batches {
		h, _ := recordbatch.ParseHeader(b)
		if h.NextOffset() <= l.EndOffset() {
			continue
		}
		if _, err := l.append(b, false, false); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 && l.opts.Fsync == FsyncEveryBatch {
		if err := l.Sync(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ErrOffsetMismatch says a replicated batch does not start where this log ends.
var ErrOffsetMismatch = errors.New("batch does not start at the log end offset")

func (l *Log) append(batch []byte, assign, sync bool) (int64, error) {
	if err := recordbatch.Validate(batch); err != nil {
		return 0, fmt.Errorf("commitlog append: %w", err)
	}
	h, _ := recordbatch.ParseHeader(batch)
	if h.Size() != len(batch) {
		return 0, fmt.Errorf("commitlog append: %d bytes after the batch, want exactly one batch", len(batch)-h.Size())
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if err := l.syncErr; err != nil {
		l.mu.Unlock()
		return 0, fmt.Errorf("commitlog append: earlier fsync failed: %w", err)
	}
	if !assign && h.BaseOffset != l.active().next {
		next := l.active().next
		l.mu.Unlock()
		return 0, fmt.Errorf("commitlog append: batch at %d, log ends at %d: %w", h.BaseOffset, next, ErrOffsetMismatch)
	}
	s := l.active()
	full := s.size+int64(len(batch)) > l.opts.SegmentBytes
	old := l.opts.SegmentAge > 0 && l.opts.Now().Sub(s.created) >= l.opts.SegmentAge
	if s.size > 0 && (full || old) {
		if err := l.roll(); err != nil {
			l.mu.Unlock()
			return 0, err
		}
		s = l.active()
	}
	base := s.next
	recordbatch.SetBaseOffset(batch, base)
	h.BaseOffset = base
	if _, err := s.log.WriteAt(batch, s.size); err != nil {
		// Cut whatever part of the batch reached the file, so the next append does not follow
		// a torn batch. If even that fails, recovery at the next Open cuts it.
		_ = s.log.Truncate(s.size)
		l.mu.Unlock()
		return 0, fmt.Errorf("commitlog append at offset %d: %w", base, err)
	}
	if err := s.indexBatch(h, s.size, l.opts.IndexIntervalBytes); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	s.size += int64(len(batch))
	s.written.Store(s.size)
	end := s.size
	s.next = h.NextOffset()
	s.maxTS = max(s.maxTS, h.MaxTimestamp)
	s.lastBatchBase = base
	close(l.appended)
	l.appended = make(chan struct{})
	l.mu.Unlock()
	l.appends.Add(1)

	if sync {
		// Outside the lock: readers need not wait for the disk, and appenders that arrive while
		// an fsync runs share the next one (group commit).
		if err := s.syncLog(end); err != nil {
			l.mu.Lock()
			l.syncErr = err // sticky, as in background: see there
			l.mu.Unlock()
			return 0, fmt.Errorf("commitlog append at offset %d: %w", base, err)
		}
	}
	return base, nil
}

// roll seals the active segment and starts a new one at the end offset. Called with mu held.
func (l *Log) roll() error {
	old := l.active()
	if err := old.seal(); err != nil {
		return err
	}
	s, err := createSegment(l.dir, old.next, l.opts.IndexIntervalBytes, &l.syncs)
	if err != nil {
		return fmt.Errorf("commitlog roll: %w", err)
	}
	s.created = l.opts.Now()
	l.segs = append(l.segs, s)
	_, err = l.applyRetention()
	return err
}

// Sync forces everything appended so far to disk.
func (l *Log) Sync() error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	s := l.active()
	l.mu.RUnlock()
	return s.syncLog(s.written.Load())
}

// background fsyncs on the interval policy and applies retention on its timer, until Close.
func (l *Log) background() {
	defer close(l.bgDone)
	var syncC, retainC <-chan time.Time
	if l.opts.Fsync == FsyncInterval {
		t := time.NewTicker(l.opts.FsyncInterval)
		defer t.Stop()
		syncC = t.C
	}
	if l.opts.RetentionCheckInterval > 0 {
		t := time.NewTicker(l.opts.RetentionCheckInterval)
		defer t.Stop()
		retainC = t.C
	}
	for {
		select {
		case <-l.stop:
			return
		case <-syncC:
			if err := l.Sync(); err != nil && !errors.Is(err, ErrClosed) {
				// Sticky, and reported by every later Append: after a failed fsync the page
				// cache may have dropped the dirty pages, so a retry that succeeds proves nothing.
				l.mu.Lock()
				l.syncErr = err
				l.mu.Unlock()
			}
		case <-retainC:
			if _, err := l.ApplyRetention(); err != nil && !errors.Is(err, ErrClosed) {
				// A segment that could not be deleted is retried at the next check; the data
				// is safe, only the disk fills. Counted in Stats for an alert.
				l.retentionErrors.Add(1)
			}
		}
	}
}

// Wait returns once the log's end offset is beyond offset, or ctx is done. A follower's fetch
// long-polls on it.
func (l *Log) Wait(ctx context.Context, offset int64) error {
	for {
		l.mu.RLock()
		if l.closed {
			l.mu.RUnlock()
			return ErrClosed
		}
		next, ch := l.active().next, l.appended
		l.mu.RUnlock()
		if next > offset {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("commitlog wait for offset %d: %w", offset, ctx.Err())
		case <-ch:
		}
	}
}

// Read returns whole batches starting with the one that holds offset, up to maxBytes in total,
// from one segment. The first batch is returned even when it alone exceeds maxBytes, so a consumer
// always makes progress (Kafka does the same since KIP-74). At the end offset it returns no bytes.
func (l *Log) Read(ctx context.Context, offset int64, maxBytes int) ([]byte, error) {
	return l.ReadBefore(ctx, offset, -1, maxBytes)
}

// ReadBefore is Read limited to batches that end below the offset before (-1: no limit): the high
// watermark for a consumer, the last stable offset for a read_committed one.
func (l *Log) ReadBefore(ctx context.Context, offset, before int64, maxBytes int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("commitlog read: %w", err)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	start, end := l.segs[0].base, l.active().next
	if offset < start || offset > end {
		return nil, fmt.Errorf("commitlog read at %d: %w: the log holds %d..%d", offset, ErrOffsetOutOfRange, start, end)
	}
	if before < 0 || before > end {
		before = end
	}
	if offset >= before {
		return nil, nil
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	s := l.segs[i]
	pos, h, ok, err := s.find(offset)
	if err != nil || !ok {
		return nil, err
	}
	if h.NextOffset() > before {
		return nil, nil
	}
	// One read of up to maxBytes, then trimmed to the last whole batch below before.
	n := max(int64(maxBytes), int64(h.Size()))
	n = min(n, s.size-pos)
	buf := make([]byte, n)
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return nil, fmt.Errorf("commitlog read segment %d at %d: %w", s.base, pos, err)
	}
	used := 0
	for used < len(buf) {
		bh, err := recordbatch.ParseHeader(buf[used:])
		if err != nil || used+bh.Size() > len(buf) || bh.NextOffset() > before {
			break
		}
		used += bh.Size()
	}
	return buf[:used:used], nil
}

// Scan calls fn for every batch from offset to the end, in order; a broker rebuilds producer
// and transaction state from it when it opens a partition. fn must not keep batch.
func (l *Log) Scan(ctx context.Context, offset int64, fn func(h recordbatch.Header, batch []byte) error) error {
	for {
		b, err := l.Read(ctx, offset, 1<<20)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return nil
		}
		for len(b) > 0 {
			h, err := recordbatch.ParseHeader(b)
			if err != nil {
				return fmt.Errorf("commitlog scan at %d: %w", offset, err)
			}
			if err := fn(h, b[:h.Size()]); err != nil {
				return err
			}
			offset = h.NextOffset()
			b = b[h.Size():]
		}
	}
}

// OffsetForTime returns the offset of the first record whose timestamp is at least ms: the time
// index finds the segment and a starting batch, a scan finds the batch, and decoding it finds the
// record. ErrNoTimestamp when every record is older.
func (l *Log) OffsetForTime(ms int64) (int64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, ErrClosed
	}
	for _, s := range l.segs {
		if s.maxTS < ms {
			continue
		}
		pos, _, ok, err := s.find(s.timeLookup(ms))
		if err != nil {
			return 0, err
		}
		for ok && pos < s.size {
			var hdr [recordbatch.HeaderSize]byte
			if _, err := s.log.ReadAt(hdr[:], pos); err != nil {
				return 0, fmt.Errorf("commitlog segment %d at %d: %w", s.base, pos, err)
			}
			h, err := recordbatch.ParseHeader(hdr[:])
			if err != nil {
				return 0, fmt.Errorf("commitlog segment %d at %d: %w", s.base, pos, err)
			}
			if h.MaxTimestamp >= ms {
				return l.firstRecordAt(s, pos, h, ms)
			}
			pos += int64(h.Size())
		}
	}
	return 0, fmt.Errorf("commitlog offset for time %d: %w", ms, ErrNoTimestamp)
}

func (l *Log) firstRecordAt(s *segment, pos int64, h recordbatch.Header, ms int64) (int64, error) {
	buf := make([]byte, h.Size())
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return 0, fmt.Errorf("commitlog segment %d at %d: %w", s.base, pos, err)
	}
	// A batch whose records do not decode still answers at batch granularity.
	if recs, err := recordbatch.Records(buf); err == nil {
		for _, r := range recs {
			if r.Timestamp >= ms {
				return r.Offset, nil
			}
		}
	}
	return h.BaseOffset, nil
}

// TruncateTo removes every record at offset off and beyond, as a follower does when a new leader's
// log is shorter than its own. A batch holding off is removed whole, so the log may end before off;
// EndOffset says where it ends. Truncating below the start offset empties the log and restarts it
// at off.
func (l *Log) TruncateTo(off int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if off >= l.active().next {
		return nil
	}
	keep := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base >= off })
	if off <= l.segs[0].base {
		keep = 0
	}
	for _, s := range l.segs[keep:] {
		if err := s.remove(); err != nil {
			return fmt.Errorf("commitlog truncate to %d: %w", off, err)
		}
	}
	l.segs = l.segs[:keep]
	if len(l.segs) == 0 {
		s, err := createSegment(l.dir, off, l.opts.IndexIntervalBytes, &l.syncs)
		if err != nil {
			return fmt.Errorf("commitlog truncate to %d: %w", off, err)
		}
		s.created = l.opts.Now()
		l.segs = append(l.segs, s)
		return nil
	}
	s := l.active()
	pos, _, ok, err := s.find(off)
	if err != nil {
		return fmt.Errorf("commitlog truncate to %d: %w", off, err)
	}
	if ok {
		if err := s.log.Truncate(pos); err != nil {
			return fmt.Errorf("commitlog truncate to %d: %w", off, err)
		}
		s.resize(pos)
	}
	// Rare enough that rebuilding the segment's indexes from its bytes is the simple, safe choice.
	if _, err := s.rebuild(l.opts.IndexIntervalBytes); err != nil {
		return fmt.Errorf("commitlog truncate to %d: %w", off, err)
	}
	return s.syncAll()
}

// Reset empties the log and restarts it at start: a follower whose log ends before the leader's
// log start offset cannot catch up by fetching and starts over from there.
func (l *Log) Reset(start int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	for _, s := range l.segs {
		if err := s.remove(); err != nil {
			return fmt.Errorf("commitlog reset to %d: %w", start, err)
		}
	}
	s, err := createSegment(l.dir, start, l.opts.IndexIntervalBytes, &l.syncs)
	if err != nil {
		l.segs = nil
		return fmt.Errorf("commitlog reset to %d: %w", start, err)
	}
	s.created = l.opts.Now()
	l.segs = []*segment{s}
	return nil
}

// ApplyRetention deletes old segments by age and then by size, never the active one, and returns
// how many it deleted. Append runs it after every roll; a broker may also call it on a timer.
func (l *Log) ApplyRetention() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	return l.applyRetention()
}

func (l *Log) applyRetention() (int, error) {
	deleted := 0
	if age := l.opts.RetentionAge; age > 0 {
		cutoff := l.opts.Now().Add(-age).UnixMilli()
		for len(l.segs) > 1 && l.segs[0].maxTS < cutoff {
			if err := l.dropOldest(); err != nil {
				return deleted, err
			}
			deleted++
		}
	}
	if limit := l.opts.RetentionBytes; limit > 0 {
		var total int64
		for _, s := range l.segs {
			total += s.size
		}
		for len(l.segs) > 1 && total-l.segs[0].size >= limit {
			total -= l.segs[0].size
			if err := l.dropOldest(); err != nil {
				return deleted, err
			}
			deleted++
		}
	}
	return deleted, nil
}

func (l *Log) dropOldest() error {
	s := l.segs[0]
	l.segs = l.segs[1:]
	if err := s.remove(); err != nil {
		return fmt.Errorf("commitlog retention: %w", err)
	}
	return nil
}

// Close syncs and closes every segment and stops the background fsync.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.appended) // wake waiters so they see closed
	l.mu.Unlock()
	if l.stop != nil {
		close(l.stop)
		<-l.bgDone
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closeSegments()
}

func (l *Log) closeSegments() error {
	var err error
	for _, s := range l.segs {
		err = errors.Join(err, s.close())
	}
	return err
}
