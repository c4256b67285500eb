package resp

import (
	"bufio"
	"io"
	"math"
	"strconv"
)

// Writer encodes replies. Proto selects RESP2 (2) or RESP3 (3); RESP3-only types degrade to their
// RESP2 forms exactly as Redis does (maps become flat arrays, doubles become bulk strings, null
// becomes $-1 or *-1).
//
// The encoding methods return nothing: bufio.Writer's errors are sticky, so the first failed write
// turns every later one into a no-op and Flush reports it. Callers must check Flush.
type Writer struct {
	bw    *bufio.Writer
	Proto int
	num   [32]byte
}

// NewWriter returns a RESP2 writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{bw: bufio.NewWriterSize(w, 16*1024), Proto: 2} }

// Reset discards unflushed output and writes to w from now on.
func (w *Writer) Reset(dst io.Writer) { w.bw.Reset(dst) }

// Flush sends buffered replies and reports the first write error since the writer was created or
// Reset.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Buffered reports the bytes waiting to be flushed.
func (w *Writer) Buffered() int { return w.bw.Buffered() }

func (w *Writer) prefixed(p byte, n int64) {
	w.bw.WriteByte(p)
	w.bw.Write(strconv.AppendInt(w.num[:0], n, 10))
	w.bw.WriteString("\r\n")
}

// Simple writes +s.
func (w *Writer) Simple(s string) {
	w.bw.WriteByte('+')
	w.bw.WriteString(s)
	w.bw.WriteString("\r\n")
}

// OK writes +OK.
func (w *Writer) OK() { w.bw.WriteString("+OK\r\n") }

// Error writes -msg; msg must already carry its code ("ERR ...", "WRONGTYPE ...").
func (w *Writer) Error(msg string) {
	w.bw.WriteByte('-')
	for i := 0; i < len(msg); i++ { // a reply line cannot contain CR or LF
		if c := msg[i]; c == '\r' || c == '\n' {
			w.bw.WriteByte(' ')
		} else {
			w.bw.WriteByte(c)
		}
	}
	w.bw.WriteString("\r\n")
}

// Int writes :n.
func (w *Writer) Int(n int64) { w.prefixed(':', n) }

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.prefixed('$', int64(len(b)))
	w.bw.Write(b)
	w.bw.WriteString("\r\n")
}

// BulkString writes a bulk string from a Go string.
func (w *Writer) BulkString(s string) {
	w.prefixed('$', int64(len(s)))
	w.bw.WriteString(s)
	w.bw.WriteString("\r\n")
}

// Verbatim writes a RESP3 verbatim string (=) or a RESP2 bulk string.
func (w *Writer) Verbatim(format, s string) {
	if w.Proto < 3 {
		w.BulkString(s)
		return
	}
	w.prefixed('=', int64(len(s)+4))
	w.bw.WriteString(format)
	w.bw.WriteByte(':')
	w.bw.WriteString(s)
	w.bw.WriteString("\r\n")
}

// Null writes a null bulk ($-1) or RESP3 null (_).
func (w *Writer) Null() {
	if w.Proto >= 3 {
		w.bw.WriteString("_\r\n")
		return
	}
	w.bw.WriteString("$-1\r\n")
}

// NullArray writes a null array (*-1) or RESP3 null (_).
func (w *Writer) NullArray() {
	if w.Proto >= 3 {
		w.bw.WriteString("_\r\n")
		return
	}
	w.bw.WriteString("*-1\r\n")
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.prefixed('*', int64(n)) }

// Map writes a map header of n pairs (RESP2: an array of 2n).
func (w *Writer) Map(n int) {
	if w.Proto >= 3 {
		w.prefixed('%', int64(n))
		return
	}
	w.prefixed('*', int64(2*n))
}

// Set writes a set header (RESP2: an array).
func (w *Writer) Set(n int) {
	if w.Proto >= 3 {
		w.prefixed('~', int64(n))
		return
	}
	w.prefixed('*', int64(n))
}

// Push writes an out-of-band push header (RESP2: an array), used by pub/sub messages.
func (w *Writer) Push(n int) {
	if w.Proto >= 3 {
		w.prefixed('>', int64(n))
		return
	}
	w.prefixed('*', int64(n))
}

// Double writes a RESP3 double or a RESP2 bulk string.
func (w *Writer) Double(f float64) {
	s := FormatFloat(f)
	if w.Proto >= 3 {
		w.bw.WriteByte(',')
		w.bw.WriteString(s)
		w.bw.WriteString("\r\n")
		return
	}
	w.BulkString(s)
}

// Bool writes a RESP3 boolean or a RESP2 integer 0/1.
func (w *Writer) Bool(b bool) {
	if w.Proto >= 3 {
		if b {
			w.bw.WriteString("#t\r\n")
		} else {
			w.bw.WriteString("#f\r\n")
		}
		return
	}
	if b {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Raw writes pre-encoded bytes (used to relay already-encoded replies).
func (w *Writer) Raw(b []byte) { w.bw.Write(b) }

// FormatFloat formats a score as Redis does: shortest round-trip form, inf/-inf.
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// FloatInf returns +Inf (a helper for callers that format scores).
func FloatInf() float64 { return math.Inf(1) }
