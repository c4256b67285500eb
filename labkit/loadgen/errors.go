package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// Error kinds Classify returns. A Go-function target can add its own by returning an error that
// has a Kind() string method (see KindError).
const (
	KindTimeout           = "timeout"
	KindCanceled          = "canceled"
	KindConnectionReset   = "connection reset"
	KindConnectionRefused = "connection refused"
	KindBrokenPipe        = "broken pipe"
	KindEOF               = "EOF"
	KindStatus4xx         = "status 4xx"
	KindStatus5xx         = "status 5xx"
	KindMalformed         = "malformed response" // RawHTTP could not parse the response
	KindBadRequest        = "bad request"        // HTTP's newRequest returned an error
	KindOther             = "other"
)

// StatusError is what the HTTP target returns for a response with status 400 or above.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("http status %d", e.Code) }

// Kind groups statuses by class so a burst of 503s and 502s reads as one line.
func (e *StatusError) Kind() string {
	if e.Code >= 500 {
		return KindStatus5xx
	}
	return KindStatus4xx
}

// KindError lets a Go-function target name the kind of its failure.
type KindError struct {
	K   string
	Err error
}

func (e *KindError) Error() string {
	if e.Err == nil {
		return e.K
	}
	return e.K + ": " + e.Err.Error()
}

// Kind returns the kind the target chose.
func (e *KindError) Kind() string { return e.K }

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *KindError) Unwrap() error { return e.Err }

// Classify maps an error to a small, fixed set of kinds so ErrorKinds stays low-cardinality.
// An error in the chain with a Kind() string method wins; then the network and context
// conditions are checked; anything else is "other".
func Classify(err error) string {
	if err == nil {
		return ""
	}
	var k interface{ Kind() string }
	if errors.As(err, &k) && k.Kind() != "" {
		return k.Kind()
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, syscall.ECONNRESET):
		return KindConnectionReset
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindConnectionRefused
	case errors.Is(err, syscall.EPIPE):
		return KindBrokenPipe
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindEOF
	case errors.Is(err, ErrMalformedResponse):
		return KindMalformed
	}
	return KindOther
}
