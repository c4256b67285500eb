// Package logsink decides how access-log lines leave the process, which is
// where the sync-logging fault lives.
//
// A log line is written on every request, so whatever the sink does, every
// request pays for. The downstream of an access log is rarely as fast as
// memory: a disk that must fsync, or, in most deployments, a pipe or socket
// to a log shipper (fluent-bit, vector, a sidecar) that forwards the lines
// over the network and reads no faster than it can send.
//
// SyncFile is the defect: each line is written (and, to a file, fsynced)
// while holding one lock, so the request path runs at the speed of the
// slowest thing downstream. When the shipper falls behind, the pipe fills,
// the write blocks with the lock held, and every request queues on it.
//
// Async is the fix: the request path copies its line into a bounded
// in-memory buffer and returns; one goroutine writes the buffer downstream
// (and fsyncs a file once a second). When the buffer is full the line is
// dropped and counted: a request is worth more than its log line, and a
// counter that pages is better than a service that stalls. The price, paid
// deliberately: a crash may lose up to a second of lines, and a downstream
// slower than the load loses the lines it cannot take.
package logsink

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
)

// Sink is where the access logger writes.
type Sink interface {
	zapcore.WriteSyncer
	Close() error
	// Dropped is the number of lines the sink refused rather than block.
	Dropped() int64
}

// File is what a sink writes to: an *os.File, or a fake in tests.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// Open opens path for appending ("" means stderr) behind the chosen sink.
// path may be a named pipe read by a log shipper.
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
	// exercise:begin sync-logging
	return NewAsync(f, DefaultBuffer), nil
	// exercise:stub
	// return NewSync(f), nil
	// exercise:end
}

// SyncFile writes, and fsyncs, every line under one mutex.
type SyncFile struct {
	mu    sync.Mutex
	f     File
	fsync bool
}

// NewSync returns the synchronous sink (the fault).
func NewSync(f File) *SyncFile { return &SyncFile{f: f, fsync: syncable(f)} }

// Write appends p and waits for the downstream to take it: for a file, until
// the disk confirms it; for a pipe, until the reader has made room. Every
// concurrent request queues on mu meanwhile: the culprit the mutex profile
// shows.
func (s *SyncFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("logsink: write: %w", err)
	}
	if s.fsync {
		if err := s.f.Sync(); err != nil {
			return n, fmt.Errorf("logsink: fsync: %w", err)
		}
	}
	return n, nil
}

// Sync is a no-op: every Write already synced.
func (s *SyncFile) Sync() error { return nil }

// Dropped is always 0: this sink blocks instead.
func (s *SyncFile) Dropped() int64 { return 0 }

// Close closes the file unless it is stderr.
func (s *SyncFile) Close() error { return closeUnlessStd(s.f) }

// DefaultBuffer is the number of lines Async holds: enough to ride out a
// shipper's pause of about a second at a thousand requests a second, small
// enough (a few hundred KiB) that a downstream which stays behind costs
// dropped lines, never memory without bound.
const DefaultBuffer = 1024

// flushEvery is how often Async fsyncs a file: the crash-loss window.
const flushEvery = time.Second

// Async buffers lines in a bounded queue and writes them from one goroutine.
type Async struct {
	lines   chan []byte
	done    chan struct{}
	f       File
	fsync   bool
	dropped atomic.Int64

	mu     sync.RWMutex // held for reading by Write, for writing by Close
	closed bool

	errMu sync.Mutex
	err   error // the first write error, returned by Close
}

// NewAsync returns the asynchronous sink (the fix), holding up to buffer
// lines.
func NewAsync(f File, buffer int) *Async {
	a := &Async{lines: make(chan []byte, max(buffer, 1)), done: make(chan struct{}), f: f, fsync: syncable(f)}
	go a.run()
	return a
}

// Write copies p into the buffer, or drops and counts it if the buffer is
// full. It never waits for the downstream.
func (a *Async) Write(p []byte) (int, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.dropped.Add(1)
		return len(p), nil
	}
	select {
	case a.lines <- append([]byte(nil), p...): // zap reuses p once Write returns
	default:
		a.dropped.Add(1)
	}
	return len(p), nil
}

func (a *Async) run() {
	defer close(a.done)
	w := bufio.NewWriterSize(a.f, 64<<10)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case line, ok := <-a.lines:
			if !ok {
				a.keep(w.Flush())
				if dirty && a.fsync {
					a.keep(a.f.Sync())
				}
				return
			}
			_, err := w.Write(line)
			a.keep(err)
			// Take what else is waiting, then hand the batch downstream in
			// one write.
			for more := true; more; {
				select {
				case line, ok := <-a.lines:
					if !ok {
						more = false
						continue
					}
					_, err := w.Write(line)
					a.keep(err)
				default:
					more = false
				}
			}
			a.keep(w.Flush())
			dirty = true
		case <-tick.C:
			if dirty && a.fsync {
				a.keep(a.f.Sync())
				dirty = false
			}
		}
	}
}

func (a *Async) keep(err error) {
	if err == nil {
		return
	}
	a.errMu.Lock()
	if a.err == nil {
		a.err = fmt.Errorf("logsink: %w", err)
	}
	a.errMu.Unlock()
}

// Sync is a no-op: lines are flushed as soon as the writer takes them, and
// fsynced within flushEvery.
func (a *Async) Sync() error { return nil }

// Dropped is the number of lines refused because the buffer was full (or the
// sink closed).
func (a *Async) Dropped() int64 { return a.dropped.Load() }

// Close writes what is buffered, fsyncs it, closes the file and returns the
// first error the writer met. Lines written after Close are dropped.
func (a *Async) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errors.New("logsink: already closed")
	}
	a.closed = true
	close(a.lines)
	a.mu.Unlock()
	<-a.done
	a.errMu.Lock()
	err := a.err
	a.errMu.Unlock()
	return errors.Join(err, closeUnlessStd(a.f))
}

func closeUnlessStd(f File) error {
	if f == os.Stderr || f == os.Stdout {
		return nil
	}
	return f.Close()
}

// syncable: fsync on a terminal or pipe fails with EINVAL and means nothing;
// only files are fsynced.
func syncable(f File) bool {
	st, ok := f.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return true
	}
	fi, err := st.Stat()
	return err != nil || fi.Mode()&(os.ModeCharDevice|os.ModeNamedPipe) == 0
}
