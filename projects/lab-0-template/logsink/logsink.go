// Package logsink decides how access-log lines reach the disk, which is where
// the sync-logging fault lives.
//
// A log line is written on every request, so whatever the sink does, every
// request pays for. Sync is the defect: each line is written and fsynced while
// holding one lock, so the request path serialises on the disk's flush
// latency (about a millisecond here) and p99 grows with concurrency.
// Buffered is the fix: lines go into an in-memory buffer that a background
// goroutine flushes every second or when it fills, as zap's
// BufferedWriteSyncer does; a crash may lose up to a second of access log,
// a trade production services make deliberately.
package logsink

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// Sink is where the access logger writes.
type Sink interface {
	zapcore.WriteSyncer
	Close() error
}

// Open opens path for appending ("" means stderr) behind the chosen sink.
func Open(path string, synchronous bool) (Sink, error) {
	var f *os.File
	if path == "" {
		f = os.Stderr
	} else {
		var err error
		if f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return nil, fmt.Errorf("logsink: %w", err)
		}
	}
	if synchronous {
		return NewSync(f), nil
	}
	return NewBuffered(f), nil
}

// SyncFile writes and fsyncs every line under one mutex.
type SyncFile struct {
	mu sync.Mutex
	f  *os.File
}

// NewSync returns the synchronous sink (the fault).
func NewSync(f *os.File) *SyncFile { return &SyncFile{f: f} }

// Write appends p and waits for the disk to confirm it. Every concurrent
// request queues on mu for the duration of an fsync: the culprit the mutex
// profile shows.
func (s *SyncFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("logsink: write: %w", err)
	}
	if err := s.f.Sync(); err != nil && !isUnsyncable(s.f) {
		return n, fmt.Errorf("logsink: fsync: %w", err)
	}
	return n, nil
}

// Sync is a no-op: every Write already synced.
func (s *SyncFile) Sync() error { return nil }

// Close closes the file unless it is stderr.
func (s *SyncFile) Close() error { return closeUnlessStd(s.f) }

// Buffered batches lines in memory and flushes them in the background.
type Buffered struct {
	ws *zapcore.BufferedWriteSyncer
	f  *os.File
}

// NewBuffered returns the buffered sink (the fix).
func NewBuffered(f *os.File) *Buffered {
	var ws zapcore.WriteSyncer = f
	if isUnsyncable(f) {
		ws = zapcore.AddSync(writerOnly{f}) // stderr on a terminal or pipe: flush, never fsync
	}
	b := &Buffered{f: f, ws: &zapcore.BufferedWriteSyncer{WS: ws, Size: 256 << 10, FlushInterval: time.Second}}
	// BufferedWriteSyncer starts its flush goroutine on the first Write, and
	// its Stop does nothing before that. Start it now, so Close always stops
	// it, even when a straggling request logs after Close.
	_, _ = b.ws.Write(nil)
	return b
}

// writerOnly hides *os.File's Sync method from zapcore.AddSync.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// Write copies p into the buffer; it only touches the disk when it is full.
func (b *Buffered) Write(p []byte) (int, error) { return b.ws.Write(p) }

// Sync flushes the buffer.
func (b *Buffered) Sync() error { return b.ws.Sync() }

// Close flushes, stops the background flusher and closes the file.
func (b *Buffered) Close() error {
	err := b.ws.Stop()
	if cerr := closeUnlessStd(b.f); err == nil {
		err = cerr
	}
	return err
}

func closeUnlessStd(f *os.File) error {
	if f == os.Stderr || f == os.Stdout {
		return nil
	}
	return f.Close()
}

// isUnsyncable: fsync on a terminal or pipe fails with EINVAL; that is not a
// lost log line.
func isUnsyncable(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&(os.ModeCharDevice|os.ModeNamedPipe) != 0
}
