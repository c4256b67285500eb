package commitlog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/commitlog"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// FuzzRecover opens a log whose newest segment and offset index hold arbitrary bytes, as a disk
// after a crash (or a bad block) may: Open must recover to whole valid batches or fail with an
// error, never panic, and what it recovered must read back and accept appends.
func FuzzRecover(f *testing.F) {
	good := append(batchOf(0, 2, 1), batchOf(2, 3, 2)...)
	recordbatch.SetBaseOffset(good[len(batchOf(0, 2, 1)):], 2)
	f.Add(good, []byte{})
	f.Add(good[:len(good)-3], []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(append(good, 0xff, 0xff), []byte{0, 0, 0, 9, 0, 0, 1, 0})
	f.Add([]byte{}, []byte{1})
	f.Fuzz(func(t *testing.T, segment, index []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000000.log"), segment, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000000.index"), index, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := commitlog.Open(dir, commitlog.Options{IndexIntervalBytes: 64})
		if err != nil {
			return
		}
		defer func() { _ = l.Close() }()
		var n int64
		if err := l.Scan(context.Background(), l.StartOffset(), func(h recordbatch.Header, b []byte) error {
			if err := recordbatch.Validate(b); err != nil {
				t.Fatalf("recovered an invalid batch at %d: %v", h.BaseOffset, err)
			}
			n += int64(h.LastOffsetDelta) + 1
			return nil
		}); err != nil {
			t.Fatalf("recovered log does not read: %v", err)
		}
		if n != l.EndOffset()-l.StartOffset() {
			t.Fatalf("batches hold %d offsets, log spans %d..%d", n, l.StartOffset(), l.EndOffset())
		}
		if _, err := l.Append(batchOf(l.EndOffset(), 1, 1)); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
	})
}
