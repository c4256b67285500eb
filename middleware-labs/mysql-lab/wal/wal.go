// Package wal is a redo log: records appended in order, each with a sequence
// number (LSN) and a CRC32C, made durable by fsync with group commit, kept in
// segment files so that a checkpoint can drop the ones it no longer needs.
package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrCorrupt is a damaged record before the log's tail.
var ErrCorrupt = errors.New("wal: corrupt record")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("wal: log closed")

// MaxRecord bounds one record's payload, so a damaged length cannot make a
// reader allocate gigabytes.
const MaxRecord = 64 << 20

// recordHeader is len(u32) crc(u32) lsn(u64); the CRC covers the LSN and the payload.
const recordHeader = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log is an open redo log directory. Append and Sync are safe for concurrent use.
type Log struct {
	dir string

	mu       sync.Mutex
	f        *os.File
	segFirst uint64 // first LSN of the open segment
	segSize  int64
	next     uint64 // the LSN the next Append gets
	written  uint64 // every LSN below this is written to the file (not yet durable)
	durable  uint64 // every LSN below this is fsynced
	syncing  bool
	cond     *sync.Cond
	closed   bool
	err      error // a failed write or fsync: the log refuses everything after it

	fsyncs, appends uint64
}

// Open opens the log in dir, creating it if needed. The tail of the last
// segment after its last intact record (a write torn by a crash) is cut off, so
// the next Append follows a good record.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	segs, err := segments(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, next: 1}
	l.cond = sync.NewCond(&l.mu)
	if len(segs) == 0 {
		if err := l.openSegment(1); err != nil {
			return nil, err
		}
		return l, nil
	}
	last := segs[len(segs)-1]
	f, err := os.OpenFile(segPath(dir, last), os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	next, good, err := scan(f, last, nil)
	if err != nil && !errors.Is(err, errTail) {
		_ = f.Close()
		return nil, err
	}
	if err := f.Truncate(good); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("wal: cut torn tail: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("wal: %w", err)
	}
	l.f, l.segFirst, l.segSize = f, last, good
	l.next, l.written, l.durable = next, next, next
	return l, nil
}

func segPath(dir string, first uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.wal", first))
}

func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

func (l *Log) openSegment(first uint64) error {
	f, err := os.OpenFile(segPath(l.dir, first), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	// The new file's name must survive a crash too: fsync the directory.
	if d, err := os.Open(l.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	l.f, l.segFirst, l.segSize = f, first, 0
	return nil
}

// errTail marks the end of the intact records: a torn write, or a zeroed tail.
var errTail = errors.New("wal: end of intact records")

// scan reads records from r, whose first record has LSN first, calling fn for
// each. It returns the LSN after the last intact record and its end offset.
func scan(r io.ReaderAt, first uint64, fn func(lsn uint64, payload []byte) error) (next uint64, end int64, err error) {
	next = first
	var hdr [recordHeader]byte
	var buf []byte
	for {
		if _, err := r.ReadAt(hdr[:], end); err != nil {
			if errors.Is(err, io.EOF) {
				return next, end, nil
			}
			return next, end, fmt.Errorf("wal: read: %w", err)
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		lsn := binary.LittleEndian.Uint64(hdr[8:16])
		if n > MaxRecord || lsn != next {
			return next, end, errTail
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := r.ReadAt(buf, end+recordHeader); err != nil {
			if errors.Is(err, io.EOF) {
				return next, end, errTail
			}
			return next, end, fmt.Errorf("wal: read: %w", err)
		}
		crc := crc32.Update(crc32.Checksum(hdr[8:16], castagnoli), castagnoli, buf)
		if crc != binary.LittleEndian.Uint32(hdr[4:8]) {
			return next, end, errTail
		}
		if fn != nil {
			if err := fn(lsn, buf); err != nil {
				return next, end, err
			}
		}
		next++
		end += recordHeader + int64(n)
	}
}

// Append writes a record and returns its LSN. It is not durable until Sync.
func (l *Log) Append(payload []byte) (uint64, error) {
	if len(payload) > MaxRecord {
		return 0, fmt.Errorf("wal: record of %d bytes exceeds %d", len(payload), MaxRecord)
	}
	rec := make([]byte, recordHeader+len(payload))
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	copy(rec[recordHeader:], payload)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	lsn := l.next
	binary.LittleEndian.PutUint64(rec[8:16], lsn)
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Update(crc32.Checksum(rec[8:16], castagnoli), castagnoli, payload))
	if _, err := l.f.Write(rec); err != nil {
		l.err = fmt.Errorf("wal: write: %w", err)
		return 0, l.err
	}
	l.next++
	l.written = l.next
	l.segSize += int64(len(rec))
	l.appends++
	return lsn, nil
}

// Sync returns once record lsn is durable. Concurrent callers share fsyncs:
// one caller (the leader) fsyncs everything written so far while the others
// wait, and each fsync covers every record appended before it started. That
// is group commit: N commits arriving during one fsync cost two fsyncs, not N.
func (l *Log) Sync(ctx context.Context, lsn uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.durable <= lsn {
		if l.err != nil {
			return l.err
		}
		if l.closed {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			// The record may still become durable; the caller must treat the
			// outcome as unknown, as a client whose COMMIT timed out does.
			return fmt.Errorf("wal: waiting for fsync: %w", err)
		}
		if l.syncing {
			l.cond.Wait()
			continue
		}
		l.syncing = true
		target, f := l.written, l.f
		l.mu.Unlock()
		err := f.Sync()
		l.mu.Lock()
		l.syncing = false
		l.fsyncs++
		if err != nil {
			l.err = fmt.Errorf("wal: fsync: %w", err)
		} else if target > l.durable {
			l.durable = target
		}
		l.cond.Broadcast()
	}
	return nil
}

// Next is the LSN the next Append will get.
func (l *Log) Next() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Counts returns records appended and fsyncs done since Open.
func (l *Log) Counts() (appends, fsyncs uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appends, l.fsyncs
}

// Size is the bytes of all segments on disk.
func (l *Log) Size() (int64, error) {
	segs, err := segments(l.dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, s := range segs {
		st, err := os.Stat(segPath(l.dir, s))
		if err != nil {
			return 0, fmt.Errorf("wal: %w", err)
		}
		total += st.Size()
	}
	return total, nil
}

// Replay calls fn for every record with LSN >= from, in order.
func (l *Log) Replay(from uint64, fn func(lsn uint64, payload []byte) error) error {
	segs, err := segments(l.dir)
	if err != nil {
		return err
	}
	for i, s := range segs {
		if i+1 < len(segs) && segs[i+1] <= from {
			continue // every record of this segment is below from
		}
		f, err := os.Open(segPath(l.dir, s))
		if err != nil {
			return fmt.Errorf("wal: %w", err)
		}
		next, _, err := scan(f, s, func(lsn uint64, p []byte) error {
			if lsn < from {
				return nil
			}
			return fn(lsn, p)
		})
		_ = f.Close()
		if errors.Is(err, errTail) {
			if i+1 < len(segs) {
				return fmt.Errorf("%w: segment %d ends at LSN %d, next segment starts at %d", ErrCorrupt, s, next, segs[i+1])
			}
			err = nil
		}
		if err != nil {
			return err
		}
		if i+1 < len(segs) && next != segs[i+1] {
			return fmt.Errorf("%w: segment %d ends at LSN %d, next segment starts at %d", ErrCorrupt, s, next, segs[i+1])
		}
	}
	return nil
}

// Truncate starts a new segment and deletes every segment whose records are
// all below keep (a checkpoint has put them into the data file).
func (l *Log) Truncate(keep uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.segSize > 0 {
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("wal: fsync: %w", err)
		}
		if err := l.f.Close(); err != nil {
			return fmt.Errorf("wal: %w", err)
		}
		if err := l.openSegment(l.next); err != nil {
			l.err = err
			return err
		}
	}
	segs, err := segments(l.dir)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(segs); i++ {
		if segs[i+1] <= keep && segs[i] != l.segFirst {
			if err := os.Remove(segPath(l.dir, segs[i])); err != nil {
				return fmt.Errorf("wal: drop segment: %w", err)
			}
		}
	}
	return nil
}

// Close fsyncs and closes the open segment; waiting Syncs return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.cond.Broadcast()
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
