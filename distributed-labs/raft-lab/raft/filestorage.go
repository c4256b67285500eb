package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// FileStorage is a Storage in a directory: a write-ahead log of records
// (each Save is one record and one fsync) and a snapshot file replaced
// atomically. A record is [length u32][crc32c u32][payload]; a torn record
// at the tail (a crash mid-write, before the save returned) is cut off on
// open, and that loses nothing: its save never returned, so nothing was
// answered from it.
type FileStorage struct {
	dir string

	mu  sync.Mutex
	wal *os.File
}

const (
	walName  = "raft.wal"
	snapName = "raft.snap"
	// maxRecord bounds a record's claimed length, so a corrupt length
	// cannot make Load allocate gigabytes.
	maxRecord = 256 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt means a storage file holds bytes that are not what this
// package writes (other than a torn last record).
var ErrCorrupt = errors.New("raft: corrupt storage")

// OpenFileStorage opens (creating if needed) the storage in dir.
func OpenFileStorage(dir string) (*FileStorage, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raft: storage dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, walName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("raft: open wal: %w", err)
	}
	return &FileStorage{dir: dir, wal: f}, nil
}

// Close closes the log file.
func (s *FileStorage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wal.Close()
}

// Load reads the snapshot and replays the log, cutting off a torn tail.
func (s *FileStorage) Load() (HardState, Snapshot, []Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap Snapshot
	b, err := os.ReadFile(filepath.Join(s.dir, snapName))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return HardState{}, Snapshot{}, nil, fmt.Errorf("raft: read snapshot: %w", err)
	default:
		if snap, err = decodeSnapshotFile(b); err != nil {
			return HardState{}, Snapshot{}, nil, err
		}
	}
	if _, err := s.wal.Seek(0, io.SeekStart); err != nil {
		return HardState{}, Snapshot{}, nil, fmt.Errorf("raft: read wal: %w", err)
	}
	data, err := io.ReadAll(s.wal)
	if err != nil {
		return HardState{}, Snapshot{}, nil, fmt.Errorf("raft: read wal: %w", err)
	}
	hs, entries, good, err := replayWAL(data)
	if err != nil {
		return HardState{}, Snapshot{}, nil, err
	}
	if good < len(data) {
		if err := s.wal.Truncate(int64(good)); err != nil {
			return HardState{}, Snapshot{}, nil, fmt.Errorf("raft: cut torn wal tail: %w", err)
		}
	}
	if _, err := s.wal.Seek(int64(good), io.SeekStart); err != nil {
		return HardState{}, Snapshot{}, nil, fmt.Errorf("raft: wal: %w", err)
	}
	return hs, snap, entries, nil
}

// Save appends one record and fsyncs it.
func (s *FileStorage) Save(hs HardState, entries []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := appendRecord(nil, encodeSave(hs, entries))
	if _, err := s.wal.Write(rec); err != nil {
		return fmt.Errorf("raft: write wal: %w", err)
	}
	if err := s.wal.Sync(); err != nil {
		return fmt.Errorf("raft: fsync wal: %w", err)
	}
	return nil
}

// SaveSnapshot writes the snapshot, then a fresh log holding only hs and
// entries, each to a temporary file renamed into place, so a crash leaves
// either the old pair or the new one. (A crash between the two renames
// leaves the new snapshot with the old log; Load then drops the log's
// entries the snapshot covers.)
func (s *FileStorage) SaveSnapshot(hs HardState, snap Snapshot, entries []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeFileSync(s.dir, snapName, encodeSnapshotFile(snap)); err != nil {
		return err
	}
	if err := writeFileSync(s.dir, walName, appendRecord(nil, encodeSave(hs, entries))); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, walName), os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("raft: reopen wal: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		_ = f.Close()
		return fmt.Errorf("raft: reopen wal: %w", err)
	}
	_ = s.wal.Close()
	s.wal = f
	return nil
}

func writeFileSync(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("raft: write %s: %w", name, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("raft: write %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("raft: rename %s: %w", name, err)
	}
	// The rename is durable only once the directory is synced.
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("raft: sync dir: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("raft: sync dir: %w", err)
	}
	return nil
}

func appendRecord(b, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload))) //nolint:gosec // bounded by maxRecord on read
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, crcTable))
	return append(b, payload...)
}

// encodeSave is a Save's payload: term, vote, then the entries (each
// index, term, length, data), all uvarints.
func encodeSave(hs HardState, entries []Entry) []byte {
	b := binary.AppendUvarint(nil, hs.Term)
	b = binary.AppendUvarint(b, uint64(hs.Vote)) //nolint:gosec // IDs are > 0
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = binary.AppendUvarint(b, e.Index)
		b = binary.AppendUvarint(b, e.Term)
		if e.Data == nil {
			b = binary.AppendUvarint(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(e.Data))+1) // 0 is a no-op's nil
		b = append(b, e.Data...)
	}
	return b
}

// replayWAL applies every whole record in data and returns how many
// bytes they span; a bad record at the tail ends the replay there.
func replayWAL(data []byte) (HardState, []Entry, int, error) {
	var hs HardState
	var entries []Entry
	off := 0
	for off+8 <= len(data) {
		n := binary.LittleEndian.Uint32(data[off:])
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n > maxRecord || off+8+int(n) > len(data) {
			break
		}
		payload := data[off+8 : off+8+int(n)]
		if crc32.Checksum(payload, crcTable) != sum {
			break
		}
		rhs, es, err := decodeSave(payload)
		if err != nil {
			// The checksum matched, so these are bytes we wrote: a bug,
			// not a torn write.
			return HardState{}, nil, 0, err
		}
		hs = rhs
		if len(es) > 0 {
			first := es[0].Index
			if len(entries) > 0 && first > entries[len(entries)-1].Index+1 {
				return HardState{}, nil, 0, fmt.Errorf("%w: wal jumps from entry %d to %d", ErrCorrupt, entries[len(entries)-1].Index, first)
			}
			keep := 0
			for keep < len(entries) && entries[keep].Index < first {
				keep++
			}
			entries = append(entries[:keep], es...)
		}
		off += 8 + int(n)
	}
	return hs, entries, off, nil
}

func decodeSave(b []byte) (HardState, []Entry, error) {
	r := reader{b: b}
	hs := HardState{Term: r.uvarint()}
	vote := r.uvarint()
	count := r.uvarint()
	if r.err != nil || vote > 1<<31 || count > uint64(len(b)) {
		return HardState{}, nil, fmt.Errorf("%w: wal record header", ErrCorrupt)
	}
	hs.Vote = int(vote)
	entries := make([]Entry, 0, count)
	for range count {
		e := Entry{Index: r.uvarint(), Term: r.uvarint()}
		if n := r.uvarint(); n > 0 {
			e.Data = r.bytes(n - 1)
		}
		if r.err != nil {
			return HardState{}, nil, fmt.Errorf("%w: wal entry", ErrCorrupt)
		}
		if len(entries) > 0 && e.Index != entries[len(entries)-1].Index+1 {
			return HardState{}, nil, fmt.Errorf("%w: wal entries %d then %d", ErrCorrupt, entries[len(entries)-1].Index, e.Index)
		}
		entries = append(entries, e)
	}
	if r.off != len(b) {
		return HardState{}, nil, fmt.Errorf("%w: wal record has %d trailing bytes", ErrCorrupt, len(b)-r.off)
	}
	return hs, entries, nil
}

func encodeSnapshotFile(s Snapshot) []byte {
	p := binary.AppendUvarint(nil, s.Index)
	p = binary.AppendUvarint(p, s.Term)
	p = append(p, s.Data...)
	return appendRecord(nil, p)
}

func decodeSnapshotFile(b []byte) (Snapshot, error) {
	if len(b) < 8 {
		return Snapshot{}, fmt.Errorf("%w: snapshot file of %d bytes", ErrCorrupt, len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	payload := b[8:]
	if int(n) != len(payload) || crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(b[4:]) {
		return Snapshot{}, fmt.Errorf("%w: snapshot checksum", ErrCorrupt)
	}
	r := reader{b: payload}
	s := Snapshot{Index: r.uvarint(), Term: r.uvarint()}
	if r.err != nil {
		return Snapshot{}, fmt.Errorf("%w: snapshot header", ErrCorrupt)
	}
	s.Data = append([]byte(nil), payload[r.off:]...)
	return s, nil
}

// reader decodes uvarints and byte strings, remembering the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	r.off += n
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	out := append([]byte{}, r.b[r.off:r.off+int(n)]...)
	r.off += int(n)
	return out
}
