package scenarios

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// shipper is the access log's downstream in the sync-logging scenario: a log
// shipper (fluent-bit, vector, a sidecar) reading the service's log from a
// named pipe and forwarding it to a collector no faster than its link
// allows. Here the collector is access.log in the evidence folder, and the
// link is a byte rate: the one wait in this scenario, and it stands for the
// dependency's speed, not for the defect. The pipe's kernel buffer (64 KiB
// on Linux) is the only slack between the two; the symptom does not depend
// on any disk, so it is the same on tmpfs.
type shipper struct {
	bytesPerSec float64
	shipped     atomic.Int64 // bytes forwarded
	done        chan error
}

// startShipper makes the pipe at pipePath and forwards what is written to it
// into out at bytesPerSec until the writer closes the pipe.
func startShipper(pipePath, out string, bytesPerSec float64) (*shipper, error) {
	if err := mkfifo(pipePath); err != nil {
		return nil, fmt.Errorf("log shipper: make the pipe %s: %w", pipePath, err)
	}
	s := &shipper{bytesPerSec: bytesPerSec, done: make(chan error, 1)}
	go func() { s.done <- s.run(pipePath, out) }()
	return s, nil
}

func (s *shipper) run(pipePath, out string) (err error) {
	// Opening a pipe for reading waits for its writer: the server's sink.
	in, err := os.Open(pipePath)
	if err != nil {
		return fmt.Errorf("log shipper: %w", err)
	}
	// The read end: closing it can fail only in ways that lose nothing.
	defer func() { _ = in.Close() }()
	dst, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("log shipper: %w", err)
	}
	// The collector's copy is the evidence the scenario reads; a failed Close
	// may mean lines never reached it, so it fails the run.
	defer func() {
		if cerr := dst.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("log shipper: %w", cerr))
		}
	}()
	buf := make([]byte, 4<<10)
	start := time.Now()
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return fmt.Errorf("log shipper: %w", werr)
			}
			// The link: the next read happens once these bytes have had
			// time to leave.
			sent := s.shipped.Add(int64(n))
			time.Sleep(time.Until(start.Add(time.Duration(float64(sent) / s.bytesPerSec * float64(time.Second)))))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("log shipper: %w", err)
		}
	}
}

// wait returns once the writer has closed the pipe and the shipper has
// forwarded the rest.
func (s *shipper) wait() error { return <-s.done }
