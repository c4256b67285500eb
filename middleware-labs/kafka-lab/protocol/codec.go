// Package protocol is the Kafka wire format for the requests this broker
// serves: size-prefixed frames, the request and response headers, and the
// body of each API at the versions the broker advertises in ApiVersions.
//
// Every version here is a non-flexible one (no compact arrays, no tagged
// fields). The broker advertises only these, so kafka-go and librdkafka pick
// them, and a decoder for fixed-width fields stays small enough to read in
// one sitting.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every decoding error: the bytes are not what the
// header's API and version promise.
var ErrMalformed = errors.New("malformed kafka frame")

// Decoder reads big-endian Kafka primitives from one frame. The first error
// sticks: later reads return zero values, so a message decoder reads every
// field and checks Err once, as encoding/binary users do with bufio.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining is how many bytes are left.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: expected %s at byte %d of %d", ErrMalformed, what, d.off, len(d.b))
	}
}

func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || d.Remaining() < n {
		d.fail(what)
		return nil
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	return b
}

// Int8 reads one byte.
func (d *Decoder) Int8() int8 {
	b := d.take(1, "int8")
	if b == nil {
		return 0
	}
	return int8(b[0])
}

// Bool reads a one-byte boolean.
func (d *Decoder) Bool() bool { return d.Int8() != 0 }

// Int16 reads a big-endian int16.
func (d *Decoder) Int16() int16 {
	b := d.take(2, "int16")
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

// Int32 reads a big-endian int32.
func (d *Decoder) Int32() int32 {
	b := d.take(4, "int32")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Int64 reads a big-endian int64.
func (d *Decoder) Int64() int64 {
	b := d.take(8, "int64")
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// String reads an int16-length string; a null string (-1) reads as "".
func (d *Decoder) String() string {
	s, _ := d.NullableString()
	return s
}

// NullableString reads an int16-length string and whether it was non-null.
func (d *Decoder) NullableString() (string, bool) {
	n := d.Int16()
	if d.err != nil || n == -1 {
		return "", false
	}
	if n < -1 {
		d.fail("string length >= -1")
		return "", false
	}
	return string(d.take(int(n), "string bytes")), true
}

// Bytes reads int32-length bytes; null (-1) reads as nil. The result
// aliases the frame: callers that keep it past the request copy it.
func (d *Decoder) Bytes() []byte {
	n := d.Int32()
	if d.err != nil || n == -1 {
		return nil
	}
	if n < -1 {
		d.fail("bytes length >= -1")
		return nil
	}
	b := d.take(int(n), "bytes")
	if b == nil {
		return nil
	}
	return b
}

// ArrayLen reads an int32 array length; null (-1) reads as -1. A length
// that could not fit in what is left of the frame (each element takes at
// least minElem bytes) is malformed, so a hostile length cannot make the
// decoder allocate gigabytes.
func (d *Decoder) ArrayLen(minElem int) int {
	n := d.Int32()
	if d.err != nil {
		return 0
	}
	if n == -1 {
		return -1
	}
	if n < 0 || int(n)*max(minElem, 1) > d.Remaining() {
		d.fail("array length that fits the frame")
		return 0
	}
	return int(n)
}

// Encoder appends big-endian Kafka primitives to a buffer.
type Encoder struct{ b []byte }

// Bytes is what was written.
func (e *Encoder) Bytes() []byte { return e.b }

// Int8 appends one byte.
func (e *Encoder) Int8(v int8) { e.b = append(e.b, byte(v)) }

// Bool appends a one-byte boolean.
func (e *Encoder) Bool(v bool) {
	if v {
		e.Int8(1)
		return
	}
	e.Int8(0)
}

// Int16 appends a big-endian int16.
func (e *Encoder) Int16(v int16) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }

// Int32 appends a big-endian int32.
func (e *Encoder) Int32(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }

// Int64 appends a big-endian int64.
func (e *Encoder) Int64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }

// String appends an int16-length string.
func (e *Encoder) String(s string) {
	e.Int16(int16(len(s)))
	e.b = append(e.b, s...)
}

// NullableString appends a string, or null when ok is false.
func (e *Encoder) NullableString(s string, ok bool) {
	if !ok {
		e.Int16(-1)
		return
	}
	e.String(s)
}

// BytesField appends int32-length bytes; nil is written as null.
func (e *Encoder) BytesField(b []byte) {
	if b == nil {
		e.Int32(-1)
		return
	}
	e.Int32(int32(len(b)))
	e.b = append(e.b, b...)
}

// ArrayLen appends an array length.
func (e *Encoder) ArrayLen(n int) { e.Int32(int32(n)) }
