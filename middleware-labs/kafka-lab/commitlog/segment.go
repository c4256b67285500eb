package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// File names follow Kafka's: the base offset, zero-padded to 20 digits, so `ls` sorts them.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"

	indexEntrySize     = 8  // relative offset uint32, file position uint32
	timeIndexEntrySize = 12 // max timestamp so far int64, relative offset uint32
)

func segmentPath(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// indexEntry says: the batch whose base offset is segment base + rel starts at byte pos.
type indexEntry struct {
	rel uint32
	pos uint32
}

// timeEntry says: no batch before the one at segment base + rel has a timestamp above ts.
type timeEntry struct {
	ts  int64
	rel uint32
}

// segment is one log file and its two sparse indexes. The indexes are plain files, appended to as
// the log grows and read into memory when the segment is opened. One entry per IndexIntervalBytes
// keeps them small (a 1 GiB segment at 4 KiB intervals is 2 MiB of offset index), so a slice
// binary-searched in memory is as fast as a memory map and has none of its hazards: no SIGBUS
// when a file is truncated under a reader, no pre-sizing and re-mapping, no platform syscalls.
type segment struct {
	dir  string
	base int64

	log, index, timeIndex *os.File

	// Guarded by the Log's mutex.
	next            int64 // offset after the last batch; base when empty
	size            int64 // bytes of log
	maxTS           int64 // largest batch MaxTimestamp; -1 when empty
	idx             []indexEntry
	tidx            []timeEntry
	bytesSinceIndex int
	lastBatchBase   int64
	created         time.Time // for Options.SegmentAge

	syncs *atomic.Int64 // the Log's fsync counter

	// written is size as appenders publish it for syncLog, which runs outside the Log's mutex.
	written atomic.Int64

	// syncMu orders fsync against close, so an appender that syncs after another one rolled the
	// segment finds it already synced rather than a closed file. synced is how many bytes the last
	// fsync covered: an appender whose batch ends below it has nothing left to wait for.
	syncMu sync.Mutex
	synced int64
	closed bool
}

func createSegment(dir string, base int64, interval int, syncs *atomic.Int64) (*segment, error) {
	s := &segment{dir: dir, base: base, next: base, maxTS: -1, bytesSinceIndex: interval, lastBatchBase: base, syncs: syncs}
	if err := s.openFiles(os.O_CREATE | os.O_EXCL); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *segment) openFiles(flag int) error {
	var err error
	open := func(suffix string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.OpenFile(segmentPath(s.dir, s.base, suffix), os.O_RDWR|flag, 0o644)
		return f
	}
	s.log = open(logSuffix)
	s.index = open(indexSuffix)
	s.timeIndex = open(timeIndexSuffix)
	if err != nil {
		s.closeFiles()
		return fmt.Errorf("open segment %d: %w", s.base, err)
	}
	return nil
}

func (s *segment) closeFiles() {
	for _, f := range []*os.File{s.log, s.index, s.timeIndex} {
		if f != nil {
			_ = f.Close()
		}
	}
}

// openSegment opens an existing segment. A segment other than the newest was synced when it was
// rolled, so its indexes are trusted if they are consistent; the newest one (recover=true) may end
// in a torn write and is rebuilt by scanning every batch.
func openSegment(dir string, base int64, recover bool, interval int, syncs *atomic.Int64) (*segment, int64, error) {
	s := &segment{dir: dir, base: base, next: base, maxTS: -1, syncs: syncs}
	if err := s.openFiles(os.O_CREATE); err != nil {
		return nil, 0, err
	}
	fi, err := s.log.Stat()
	if err != nil {
		s.closeFiles()
		return nil, 0, fmt.Errorf("stat segment %d: %w", base, err)
	}
	s.resize(fi.Size())
	if !recover {
		if err := s.loadIndexes(); err == nil {
			// The batches after the last index entry are at most one interval: scan them for the
			// segment's end offset and its last timestamps.
			from := int64(0)
			if n := len(s.idx); n > 0 {
				from = int64(s.idx[n-1].pos)
			}
			end, err := s.scan(from, nil)
			if err == nil && end == s.size {
				return s, 0, nil
			}
		}
		// Inconsistent indexes or a damaged tail in an old segment: rebuild it like the newest.
	}
	cut, err := s.rebuild(interval)
	if err != nil {
		s.closeFiles()
		return nil, 0, err
	}
	return s, cut, nil
}

// loadIndexes reads both index files and checks that they describe this log.
func (s *segment) loadIndexes() error {
	raw, err := io.ReadAll(io.NewSectionReader(s.index, 0, 1<<40))
	if err != nil {
		return fmt.Errorf("read index of segment %d: %w", s.base, err)
	}
	if len(raw)%indexEntrySize != 0 {
		return fmt.Errorf("index of segment %d: %d bytes is not a whole number of entries", s.base, len(raw))
	}
	for i := 0; i < len(raw); i += indexEntrySize {
		e := indexEntry{rel: binary.BigEndian.Uint32(raw[i:]), pos: binary.BigEndian.Uint32(raw[i+4:])}
		if n := len(s.idx); (n > 0 && (e.rel <= s.idx[n-1].rel || e.pos <= s.idx[n-1].pos)) || int64(e.pos) >= s.size {
			return fmt.Errorf("index of segment %d: entry %d out of order", s.base, n)
		}
		s.idx = append(s.idx, e)
	}
	if s.size > 0 && (len(s.idx) == 0 || s.idx[0].pos != 0) {
		return fmt.Errorf("index of segment %d: first batch not indexed", s.base)
	}
	raw, err = io.ReadAll(io.NewSectionReader(s.timeIndex, 0, 1<<40))
	if err != nil {
		return fmt.Errorf("read time index of segment %d: %w", s.base, err)
	}
	if len(raw)%timeIndexEntrySize != 0 {
		return fmt.Errorf("time index of segment %d: %d bytes is not a whole number of entries", s.base, len(raw))
	}
	for i := 0; i < len(raw); i += timeIndexEntrySize {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(raw[i:])), rel: binary.BigEndian.Uint32(raw[i+8:])}
		if n := len(s.tidx); n > 0 && (e.ts <= s.tidx[n-1].ts || e.rel < s.tidx[n-1].rel) {
			return fmt.Errorf("time index of segment %d: entry %d out of order", s.base, n)
		}
		s.tidx = append(s.tidx, e)
		s.maxTS = max(s.maxTS, e.ts)
	}
	return nil
}

// rebuild scans the whole log, cuts it at the first batch that is torn, corrupt or out of
// sequence, and rewrites both indexes from what survived. It returns the bytes cut.
func (s *segment) rebuild(interval int) (int64, error) {
	s.idx, s.tidx = nil, nil
	s.next, s.maxTS, s.bytesSinceIndex, s.lastBatchBase = s.base, -1, interval, s.base
	if err := s.index.Truncate(0); err != nil {
		return 0, fmt.Errorf("reset index of segment %d: %w", s.base, err)
	}
	if err := s.timeIndex.Truncate(0); err != nil {
		return 0, fmt.Errorf("reset time index of segment %d: %w", s.base, err)
	}
	end, err := s.scan(0, func(h recordbatch.Header, pos int64) error {
		return s.indexBatch(h, pos, interval)
	})
	if err != nil {
		return 0, err
	}
	cut := s.size - end
	if cut > 0 {
		if err := s.log.Truncate(end); err != nil {
			return 0, fmt.Errorf("cut torn tail of segment %d at byte %d: %w", s.base, end, err)
		}
		s.resize(end)
	}
	return cut, nil
}

// scan walks the batches from byte from, checking each one's CRC and that offsets are contiguous,
// and returns the position where the valid batches end. It updates next and maxTS as it goes.
func (s *segment) scan(from int64, each func(h recordbatch.Header, pos int64) error) (int64, error) {
	pos := from
	var buf []byte
	expect := int64(-1)
	if from == 0 {
		expect = s.base
	}
	for pos < s.size {
		if s.size-pos < recordbatch.HeaderSize {
			break
		}
		var hdr [recordbatch.HeaderSize]byte
		if _, err := s.log.ReadAt(hdr[:], pos); err != nil {
			return 0, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
		}
		h, err := recordbatch.ParseHeader(hdr[:])
		if err != nil || int64(h.Size()) > s.size-pos {
			break
		}
		if cap(buf) < h.Size() {
			buf = make([]byte, h.Size())
		}
		buf = buf[:h.Size()]
		if _, err := s.log.ReadAt(buf, pos); err != nil {
			return 0, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
		}
		if recordbatch.Validate(buf) != nil {
			break
		}
		if (expect >= 0 && h.BaseOffset != expect) || h.BaseOffset < s.base || h.LastOffset()-s.base > 1<<31 {
			break
		}
		if each != nil {
			if err := each(h, pos); err != nil {
				return 0, err
			}
		}
		expect = h.NextOffset()
		s.next = h.NextOffset()
		s.maxTS = max(s.maxTS, h.MaxTimestamp)
		s.lastBatchBase = h.BaseOffset
		pos += int64(h.Size())
	}
	return pos, nil
}

// indexBatch adds index entries for the batch at pos when an interval's worth of bytes has gone
// by since the last entry. The first batch of a segment is always indexed.
func (s *segment) indexBatch(h recordbatch.Header, pos int64, interval int) error {
	if s.bytesSinceIndex >= interval {
		rel := uint32(h.BaseOffset - s.base)
		var b [timeIndexEntrySize]byte
		binary.BigEndian.PutUint32(b[0:], rel)
		binary.BigEndian.PutUint32(b[4:], uint32(pos))
		if _, err := s.index.WriteAt(b[:indexEntrySize], int64(len(s.idx))*indexEntrySize); err != nil {
			return fmt.Errorf("write index of segment %d: %w", s.base, err)
		}
		s.idx = append(s.idx, indexEntry{rel: rel, pos: uint32(pos)})
		s.bytesSinceIndex = 0
		// The time index entry records the largest timestamp of the batches before this one.
		if s.maxTS >= 0 && (len(s.tidx) == 0 || s.maxTS > s.tidx[len(s.tidx)-1].ts) {
			if err := s.appendTimeEntry(timeEntry{ts: s.maxTS, rel: uint32(s.lastBatchBase - s.base)}); err != nil {
				return err
			}
		}
	}
	s.bytesSinceIndex += h.Size()
	return nil
}

func (s *segment) appendTimeEntry(e timeEntry) error {
	var b [timeIndexEntrySize]byte
	binary.BigEndian.PutUint64(b[0:], uint64(e.ts))
	binary.BigEndian.PutUint32(b[8:], e.rel)
	if _, err := s.timeIndex.WriteAt(b[:], int64(len(s.tidx))*timeIndexEntrySize); err != nil {
		return fmt.Errorf("write time index of segment %d: %w", s.base, err)
	}
	s.tidx = append(s.tidx, e)
	return nil
}

// seal runs when the segment stops being the active one: a final time index entry, so the time
// index alone knows the segment's largest timestamp, then everything to disk.
func (s *segment) seal() error {
	if s.maxTS >= 0 && (len(s.tidx) == 0 || s.maxTS > s.tidx[len(s.tidx)-1].ts) {
		if err := s.appendTimeEntry(timeEntry{ts: s.maxTS, rel: uint32(s.lastBatchBase - s.base)}); err != nil {
			return err
		}
	}
	return s.syncAll()
}

func (s *segment) syncAll() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.closed {
		return nil
	}
	target := s.written.Load()
	for _, f := range []*os.File{s.log, s.index, s.timeIndex} {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync segment %d: %w", s.base, err)
		}
	}
	s.synced = target
	return nil
}

// syncLog makes the log's first upTo bytes durable (the indexes can be rebuilt from the log).
// This is group commit: an fsync covers every byte written before it started, so appenders
// that queued behind it find their batch already durable and return without an fsync of their own.
func (s *segment) syncLog(upTo int64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.closed || s.synced >= upTo {
		return nil // closed segments were synced by seal or close
	}
	target := s.written.Load()
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("fsync segment %d: %w", s.base, err)
	}
	s.syncs.Add(1)
	s.synced = target
	return nil
}

// resize records a new length after the log was cut: the next fsync must not be skipped on the
// strength of one that covered bytes no longer there.
func (s *segment) resize(n int64) {
	s.size = n
	s.written.Store(n)
	s.syncMu.Lock()
	s.synced = min(s.synced, n)
	s.syncMu.Unlock()
}

func (s *segment) close() error {
	err := s.syncAll()
	s.syncMu.Lock()
	s.closed = true
	s.syncMu.Unlock()
	s.closeFiles()
	return err
}

func (s *segment) remove() error {
	err := s.close()
	for _, suffix := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if rerr := os.Remove(segmentPath(s.dir, s.base, suffix)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove segment %d: %w", s.base, rerr))
		}
	}
	return err
}

// lookup returns the position of the last indexed batch at or before offset: where a scan for
// offset starts.
func (s *segment) lookup(offset int64) int64 {
	rel := uint32(offset - s.base)
	i := sort.Search(len(s.idx), func(i int) bool { return s.idx[i].rel > rel })
	if i == 0 {
		return 0
	}
	return int64(s.idx[i-1].pos)
}

// find returns the position and header of the batch holding offset, scanning headers from the
// index's entry. ok is false when offset is at or beyond the segment's end.
func (s *segment) find(offset int64) (int64, recordbatch.Header, bool, error) {
	pos := s.lookup(offset)
	var hdr [recordbatch.HeaderSize]byte
	for pos < s.size {
		if _, err := s.log.ReadAt(hdr[:], pos); err != nil {
			return 0, recordbatch.Header{}, false, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
		}
		h, err := recordbatch.ParseHeader(hdr[:])
		if err != nil {
			return 0, recordbatch.Header{}, false, fmt.Errorf("segment %d at %d: %w", s.base, pos, err)
		}
		if h.LastOffset() >= offset {
			return pos, h, true, nil
		}
		pos += int64(h.Size())
	}
	return pos, recordbatch.Header{}, false, nil
}

// timeLookup returns the offset to start scanning from for the first batch whose timestamp
// reaches ts: the batch of the last time index entry below ts, since everything before it is older.
func (s *segment) timeLookup(ts int64) int64 {
	i := sort.Search(len(s.tidx), func(i int) bool { return s.tidx[i].ts >= ts })
	if i == 0 {
		return s.base
	}
	return s.base + int64(s.tidx[i-1].rel)
}
