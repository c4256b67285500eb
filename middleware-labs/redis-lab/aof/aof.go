// Package aof is the mini Redis append-only file: every write command is appended in RESP form
// and replayed at start.
//
// Durability follows Redis's appendfsync policies:
//   - always: the batch's commands are written and fsynced before any of its replies leave the
//     server, so an acknowledged write survives a crash (kill -9, power loss).
//   - everysec: written before the replies, fsynced once a second by a background goroutine, so
//     a power loss may lose up to about a second (a process crash loses nothing: the bytes are in
//     the kernel).
//   - no: written before the replies, fsynced whenever the kernel decides.
//
// A crash can leave a truncated last command. Like Redis with aof-load-truncated yes (the
// default), Load truncates the file to the end of the last complete command and carries on; a
// malformed command in the middle of the file is an error instead, because silently skipping it
// would lose acknowledged writes.
package aof

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
)

// Policy is the fsync policy.
type Policy int

// The fsync policies.
const (
	EverySec Policy = iota
	Always
	No
)

// ParsePolicy parses "always", "everysec" or "no".
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "always":
		return Always, nil
	case "everysec":
		return EverySec, nil
	case "no":
		return No, nil
	}
	return 0, fmt.Errorf("aof: expected appendfsync always, everysec or no, got %q", s)
}

func (p Policy) String() string {
	switch p {
	case Always:
		return "always"
	case No:
		return "no"
	}
	return "everysec"
}

// File is an open append-only file. Append and Flush are called by the command executor (one at
// a time); Sync may run concurrently from the everysec goroutine.
type File struct {
	policy Policy
	buf    []byte
	mu     sync.Mutex // guards f against the concurrent everysec fsync
	f      *os.File
	dirty  bool
}

// Open opens (creating) path for appending.
func Open(path string, policy Policy) (*File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("aof: open %s: %w", path, err)
	}
	return &File{policy: policy, f: f}, nil
}

// Policy returns the fsync policy.
func (a *File) Policy() Policy { return a.policy }

// Append buffers one command.
func (a *File) Append(args [][]byte) {
	a.buf = append(a.buf, '*')
	a.buf = strconv.AppendInt(a.buf, int64(len(args)), 10)
	a.buf = append(a.buf, '\r', '\n')
	for _, arg := range args {
		a.buf = append(a.buf, '$')
		a.buf = strconv.AppendInt(a.buf, int64(len(arg)), 10)
		a.buf = append(a.buf, '\r', '\n')
		a.buf = append(a.buf, arg...)
		a.buf = append(a.buf, '\r', '\n')
	}
}

// Flush writes the buffered commands, and fsyncs them under the always policy. The server calls
// it before sending the replies of the commands it holds.
func (a *File) Flush() error {
	if len(a.buf) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(a.buf); err != nil {
		return fmt.Errorf("aof: write: %w", err)
	}
	if cap(a.buf) > 1<<20 {
		a.buf = nil
	} else {
		a.buf = a.buf[:0]
	}
	if a.policy == Always {
		if err := a.f.Sync(); err != nil {
			return fmt.Errorf("aof: fsync: %w", err)
		}
		return nil
	}
	a.dirty = true
	return nil
}

// Sync fsyncs written data (the everysec background job).
func (a *File) Sync() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.dirty {
		return nil
	}
	a.dirty = false
	return a.f.Sync()
}

// RunEverySec fsyncs once a second until ctx ends; it returns nothing for other policies.
func (a *File) RunEverySec(ctx context.Context, onErr func(error)) {
	if a.policy != EverySec {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Sync(); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// Close syncs and closes the file.
func (a *File) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.f.Sync()
	return errors.Join(err, a.f.Close())
}

// ErrBadFormat is a malformed command before the end of the file. The text is redis-server's own
// message, lower-cased as Go error strings are, because Load wraps it mid-sentence.
var ErrBadFormat = errors.New("bad file format reading the append only file (make a backup of your AOF file, then use ./redis-check-aof --fix <filename>)")

// LoadResult describes a replay.
type LoadResult struct {
	Commands  int
	Truncated bool  // an incomplete tail was cut off
	ValidLen  int64 // bytes of complete commands
	FileLen   int64
}

// Load replays path through apply. A missing file is an empty log. An incomplete final command
// (or a MULTI without its EXEC at the end) is truncated away; a malformed command earlier in the
// file returns ErrBadFormat.
func Load(path string, apply func(args [][]byte) error) (LoadResult, error) {
	var res LoadResult
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("aof: open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return res, fmt.Errorf("aof: stat %s: %w", path, err)
	}
	res.FileLen = st.Size()
	r := resp.NewReader(f, resp.Limits{})
	r.MultibulkOnly = true
	var txn [][][]byte
	inTxn := false
	var good int64
	for {
		args, err := r.ReadCommand()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			res.Truncated = true
			break
		}
		if err != nil {
			f.Close()
			return res, fmt.Errorf("aof: %s at offset %d: %w", path, r.Offset(), ErrBadFormat)
		}
		switch {
		case resp.Equal(args[0], "multi"):
			inTxn, txn = true, nil
			continue
		case resp.Equal(args[0], "exec") && inTxn:
			for _, a := range txn {
				if err := apply(a); err != nil {
					f.Close()
					return res, err
				}
				res.Commands++
			}
			inTxn, txn = false, nil
			good = r.Offset()
			continue
		case inTxn:
			txn = append(txn, args)
			continue
		}
		if err := apply(args); err != nil {
			f.Close()
			return res, err
		}
		res.Commands++
		good = r.Offset()
	}
	f.Close()
	if inTxn {
		res.Truncated = true
	}
	res.ValidLen = good
	if res.Truncated || good < res.FileLen {
		res.Truncated = true
		if err := os.Truncate(path, good); err != nil {
			return res, fmt.Errorf("aof: truncate %s to %d: %w", path, good, err)
		}
	}
	return res, nil
}
