package pager

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
)

// The doublewrite file, as InnoDB's doublewrite buffer: a batch of pages is
// written and fsynced here first, then written in place. A crash during the
// in-place writes can tear a page (half old, half new: a 16 KiB page is many
// disk sectors); at the next Open the intact copies here overwrite them. A crash
// while this file is written leaves it with a bad checksum, and then the data
// file was not touched yet. The file is: magic, page count, CRC32C of the rest,
// then (page id, page bytes) per page.
const dwMagic = "LAB4DBLW"

// WriteBatch writes pages (id → sealed or unsealed page bytes) and the current
// Meta as page 0 atomically with respect to crashes: after it returns all are on
// disk; after a crash during it, the next Open sees either all or none of them.
func (p *Pager) WriteBatch(pages map[uint64][]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	meta := make([]byte, p.pageSize)
	if err := EncodeMeta(meta, p.meta); err != nil {
		return err
	}
	pages[0] = meta
	ids := make([]uint64, 0, len(pages))
	for id, b := range pages {
		if len(b) != p.pageSize {
			return fmt.Errorf("pager: page %d has %d bytes, want %d", id, len(b), p.pageSize)
		}
		Seal(b)
		ids = append(ids, id)
	}
	slices.Sort(ids)

	body := make([]byte, 0, len(ids)*(8+p.pageSize))
	for _, id := range ids {
		body = binary.LittleEndian.AppendUint64(body, id)
		body = append(body, pages[id]...)
	}
	hdr := make([]byte, 0, 20)
	hdr = append(hdr, dwMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(ids)))
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(body, castagnoli))
	if err := writeFileSync(p.dwPath, append(hdr, body...)); err != nil {
		return fmt.Errorf("pager: doublewrite: %w", err)
	}
	for _, id := range ids {
		if _, err := p.f.WriteAt(pages[id], int64(id)*int64(p.pageSize)); err != nil {
			return fmt.Errorf("pager: write page %d: %w", id, err)
		}
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("pager: fsync data file: %w", err)
	}
	p.writes += uint64(len(ids))
	return nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// recoverDoublewrite copies an intact doublewrite batch into the data file.
// Copying it again after a batch that completed is harmless: the pages are
// the same bytes. A torn doublewrite file is ignored: the in-place writes
// had not started.
func (p *Pager) recoverDoublewrite() error {
	b, err := os.ReadFile(p.dwPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pager: read doublewrite file: %w", err)
	}
	pages, err := DecodeDoublewrite(b, p.pageSize)
	if err != nil {
		return nil //nolint:nilerr // a torn doublewrite file is the expected leftover of a crash while writing it
	}
	for _, pg := range pages {
		if _, err := p.f.WriteAt(pg.Data, int64(pg.ID)*int64(p.pageSize)); err != nil {
			return fmt.Errorf("pager: restore page %d from doublewrite: %w", pg.ID, err)
		}
	}
	return p.f.Sync()
}

// DWPage is one page of a doublewrite batch.
type DWPage struct {
	ID   uint64
	Data []byte
}

// DecodeDoublewrite parses a doublewrite file; any damage is an ErrCorrupt error.
func DecodeDoublewrite(b []byte, pageSize int) ([]DWPage, error) {
	if len(b) < 16 || string(b[:8]) != dwMagic {
		return nil, fmt.Errorf("%w: doublewrite header", ErrCorrupt)
	}
	n := int(binary.LittleEndian.Uint32(b[8:12]))
	body := b[16:]
	if n < 0 || len(body) != n*(8+pageSize) {
		return nil, fmt.Errorf("%w: doublewrite holds %d bytes for %d pages", ErrCorrupt, len(body), n)
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[12:16]) {
		return nil, fmt.Errorf("%w: doublewrite checksum", ErrCorrupt)
	}
	pages := make([]DWPage, 0, n)
	for i := 0; i < n; i++ {
		rec := body[i*(8+pageSize):]
		pg := DWPage{ID: binary.LittleEndian.Uint64(rec[:8]), Data: rec[8 : 8+pageSize]}
		if err := Verify(pg.Data); err != nil {
			return nil, fmt.Errorf("doublewrite page %d: %w", pg.ID, err)
		}
		pages = append(pages, pg)
	}
	return pages, nil
}
