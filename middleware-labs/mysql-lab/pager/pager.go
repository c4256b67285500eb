// Package pager is a data file of fixed-size pages: page 0 holds the file's
// metadata, every page carries a CRC32C of its bytes, and batches of pages are
// written through a doublewrite file so a crash mid-write never leaves a torn page.
package pager

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// Page types, stored in byte 4 of every page.
const (
	TypeMeta     byte = 1
	TypeLeaf     byte = 2
	TypeInternal byte = 3
	TypeFree     byte = 4
)

// HeaderSize is the bytes every page starts with: a CRC32C (4) and the type (1), padded.
const HeaderSize = 8

// DefaultPageSize is InnoDB's.
const DefaultPageSize = 16 << 10

// MinPageSize keeps a page large enough for the meta page and four B+tree entries.
const MinPageSize = 512

// ErrCorrupt wraps every decoding failure of bytes read from disk.
var ErrCorrupt = errors.New("pager: corrupt page")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const metaMagic = "LAB4PAGE"
const metaVersion = 1

// Meta is page 0: what the file needs to be reopened.
type Meta struct {
	PageSize      int
	PageCount     uint64 // pages in the file, page 0 included
	FreeHead      uint64 // first page of the free list; 0 = empty
	CheckpointLSN uint64 // redo starts at this LSN: every earlier record is in the pages
	Catalog       []byte // the engine's tree catalog, opaque here
}

// Pager reads and writes pages of one file. ReadPage may run concurrently with
// itself; WriteBatch excludes everything else.
type Pager struct {
	mu       sync.RWMutex
	f        *os.File
	dwPath   string
	pageSize int
	meta     Meta
	reads    uint64
	writes   uint64
}

// Open opens the data file at path, creating it with pageSize pages if it does
// not exist, and first repairs it from the doublewrite file if a crash
// interrupted a batch.
func Open(path string, pageSize int) (*Pager, error) {
	if pageSize < MinPageSize || pageSize > 1<<16 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("pager: page size %d: want a power of two from %d to 65536", pageSize, MinPageSize)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pager: open data file: %w", err)
	}
	p := &Pager{f: f, dwPath: path + ".dblwr", pageSize: pageSize}
	if err := p.recoverDoublewrite(); err != nil {
		_ = f.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("pager: stat: %w", err)
	}
	if st.Size() == 0 {
		p.meta = Meta{PageSize: pageSize, PageCount: 1}
		buf := make([]byte, pageSize)
		if err := EncodeMeta(buf, p.meta); err != nil {
			_ = f.Close()
			return nil, err
		}
		if err := p.WriteBatch(map[uint64][]byte{0: buf}); err != nil {
			_ = f.Close()
			return nil, err
		}
		return p, nil
	}
	// The page size is in the meta page, but reading it needs the page size:
	// read the fixed-offset field first, then the whole page.
	var hdr [24]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("pager: read meta: %w", err)
	}
	if got := int(binary.LittleEndian.Uint32(hdr[20:24])); got != pageSize {
		_ = f.Close()
		return nil, fmt.Errorf("pager: file has %d-byte pages, opened with %d", got, pageSize)
	}
	buf := make([]byte, pageSize)
	if err := p.ReadPage(0, buf); err != nil {
		_ = f.Close()
		return nil, err
	}
	m, err := DecodeMeta(buf)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	p.meta = m
	return p, nil
}

// PageSize is the size of every page.
func (p *Pager) PageSize() int { return p.pageSize }

// Meta returns the metadata as the caller last set it (it reaches disk with the next batch).
func (p *Pager) Meta() Meta {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m := p.meta
	m.Catalog = append([]byte(nil), p.meta.Catalog...)
	return m
}

// PageCount is the number of pages, allocated ones included.
func (p *Pager) PageCount() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.meta.PageCount
}

// SetMeta replaces the in-memory metadata; WriteBatch persists it.
func (p *Pager) SetMeta(m Meta) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m.PageSize = p.pageSize
	p.meta = m
}

// Grow reserves a new page id at the end of the file. The page reaches disk
// when a batch writes it.
func (p *Pager) Grow() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.meta.PageCount
	p.meta.PageCount++
	return id
}

// Counts returns pages read and written since Open.
func (p *Pager) Counts() (reads, writes uint64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.reads, p.writes
}

// ReadPage reads page id into buf and verifies its checksum.
func (p *Pager) ReadPage(id uint64, buf []byte) error {
	if len(buf) != p.pageSize {
		return fmt.Errorf("pager: buffer of %d bytes for %d-byte pages", len(buf), p.pageSize)
	}
	p.mu.Lock()
	p.reads++
	p.mu.Unlock()
	n, err := p.f.ReadAt(buf, int64(id)*int64(p.pageSize))
	if err != nil && (!errors.Is(err, io.EOF) || n != len(buf)) {
		return fmt.Errorf("pager: read page %d: %w", id, err)
	}
	if err := Verify(buf); err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	return nil
}

// Seal writes the checksum of page into its first four bytes.
func Seal(page []byte) {
	binary.LittleEndian.PutUint32(page[0:4], crc32.Checksum(page[4:], castagnoli))
}

// Verify checks a page's checksum and type.
func Verify(page []byte) error {
	if len(page) < MinPageSize {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, len(page))
	}
	if got, want := binary.LittleEndian.Uint32(page[0:4]), crc32.Checksum(page[4:], castagnoli); got != want {
		return fmt.Errorf("%w: checksum %08x, computed %08x", ErrCorrupt, got, want)
	}
	if t := page[4]; t < TypeMeta || t > TypeFree {
		return fmt.Errorf("%w: page type %d", ErrCorrupt, t)
	}
	return nil
}

// EncodeMeta writes m as page 0 into buf (sealed).
func EncodeMeta(buf []byte, m Meta) error {
	if 52+len(m.Catalog) > len(buf) {
		return fmt.Errorf("pager: catalog of %d bytes does not fit a %d-byte meta page", len(m.Catalog), len(buf))
	}
	clear(buf)
	buf[4] = TypeMeta
	copy(buf[8:16], metaMagic)
	binary.LittleEndian.PutUint32(buf[16:20], metaVersion)
	binary.LittleEndian.PutUint32(buf[20:24], uint32(len(buf)))
	binary.LittleEndian.PutUint64(buf[24:32], m.PageCount)
	binary.LittleEndian.PutUint64(buf[32:40], m.FreeHead)
	binary.LittleEndian.PutUint64(buf[40:48], m.CheckpointLSN)
	binary.LittleEndian.PutUint32(buf[48:52], uint32(len(m.Catalog)))
	copy(buf[52:], m.Catalog)
	Seal(buf)
	return nil
}

// DecodeMeta reads page 0. Every field is checked: these bytes come from disk.
func DecodeMeta(buf []byte) (Meta, error) {
	if err := Verify(buf); err != nil {
		return Meta{}, err
	}
	if buf[4] != TypeMeta || string(buf[8:16]) != metaMagic {
		return Meta{}, fmt.Errorf("%w: not a meta page", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(buf[16:20]); v != metaVersion {
		return Meta{}, fmt.Errorf("%w: meta version %d, want %d", ErrCorrupt, v, metaVersion)
	}
	m := Meta{
		PageSize:      int(binary.LittleEndian.Uint32(buf[20:24])),
		PageCount:     binary.LittleEndian.Uint64(buf[24:32]),
		FreeHead:      binary.LittleEndian.Uint64(buf[32:40]),
		CheckpointLSN: binary.LittleEndian.Uint64(buf[40:48]),
	}
	if m.PageSize != len(buf) {
		return Meta{}, fmt.Errorf("%w: meta says %d-byte pages in a %d-byte page", ErrCorrupt, m.PageSize, len(buf))
	}
	if m.PageCount == 0 || m.FreeHead >= m.PageCount {
		return Meta{}, fmt.Errorf("%w: page count %d, free head %d", ErrCorrupt, m.PageCount, m.FreeHead)
	}
	n := int(binary.LittleEndian.Uint32(buf[48:52]))
	if n > len(buf)-52 {
		return Meta{}, fmt.Errorf("%w: catalog of %d bytes in a %d-byte page", ErrCorrupt, n, len(buf))
	}
	m.Catalog = append([]byte(nil), buf[52:52+n]...)
	return m, nil
}

// EncodeFree turns buf into a free-list page pointing at next.
func EncodeFree(buf []byte, next uint64) {
	clear(buf)
	buf[4] = TypeFree
	binary.LittleEndian.PutUint64(buf[8:16], next)
	Seal(buf)
}

// DecodeFree reads the next pointer of a free-list page.
func DecodeFree(buf []byte) (uint64, error) {
	if len(buf) < 16 || buf[4] != TypeFree {
		return 0, fmt.Errorf("%w: not a free page", ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(buf[8:16]), nil
}

// Sync fsyncs the data file.
func (p *Pager) Sync() error { return p.f.Sync() }

// Close closes the data file.
func (p *Pager) Close() error { return p.f.Close() }

// UpdateMeta changes the in-memory metadata under the pager's lock.
func (p *Pager) UpdateMeta(fn func(m *Meta)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.meta)
	p.meta.PageSize = p.pageSize
}
