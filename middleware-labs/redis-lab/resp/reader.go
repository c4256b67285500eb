// Package resp reads and writes the Redis serialization protocol: RESP2 requests (multibulk and
// inline), and RESP2/RESP3 replies.
//
// The reader is written for untrusted input: every length is bounded before anything is
// allocated, lines are bounded, and malformed input yields a *ProtocolError whose text is the one
// Redis itself sends (see networking.c, processMultibulkBuffer/processInlineBuffer).
package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits bound what one request may make the server allocate.
type Limits struct {
	// MaxInline is the longest inline command or multibulk header line (Redis: 64 KiB).
	MaxInline int
	// MaxArgs is the largest multibulk count accepted (Redis: 1024*1024 for unauthenticated
	// clients, INT_MAX otherwise).
	MaxArgs int
	// MaxBulk is the largest single argument (Redis proto-max-bulk-len: 512 MiB).
	MaxBulk int
}

// DefaultLimits mirrors Redis's defaults.
var DefaultLimits = Limits{MaxInline: 64 * 1024, MaxArgs: 1024 * 1024, MaxBulk: 512 * 1024 * 1024}

// ProtocolError is a malformed request. Redis replies "-ERR Protocol error: ..." and closes the
// connection; Error() returns the text after "ERR ".
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// IsProtocolError reports whether err is a *ProtocolError.
func IsProtocolError(err error) bool {
	var pe *ProtocolError
	return errors.As(err, &pe)
}

// Reader parses client requests.
type Reader struct {
	br     *bufio.Reader
	cnt    *countingReader
	limits Limits
	// MultibulkOnly rejects inline commands (the AOF holds only multibulk requests).
	MultibulkOnly bool
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewReader returns a Reader over r with the given limits (zero fields take DefaultLimits).
func NewReader(r io.Reader, limits Limits) *Reader {
	if limits.MaxInline <= 0 {
		limits.MaxInline = DefaultLimits.MaxInline
	}
	if limits.MaxArgs <= 0 {
		limits.MaxArgs = DefaultLimits.MaxArgs
	}
	if limits.MaxBulk <= 0 {
		limits.MaxBulk = DefaultLimits.MaxBulk
	}
	cnt := &countingReader{r: r}
	return &Reader{br: bufio.NewReaderSize(cnt, 16*1024), cnt: cnt, limits: limits}
}

// Buffered is the number of bytes already read from the connection but not yet parsed. The server
// uses it to execute a whole pipeline under one lock acquisition and flush replies once.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Offset is the number of bytes consumed by the commands parsed so far. The AOF loader uses it
// to truncate an incomplete tail at the end of the last complete command.
func (r *Reader) Offset() int64 { return r.cnt.n - int64(r.br.Buffered()) }

// ReadCommand returns the next request's arguments. Empty inline lines are skipped, as Redis does.
// The returned slices are owned by the caller.
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		b, err := r.br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] == '*' {
			args, err := r.readMultibulk()
			if err != nil || len(args) > 0 {
				return args, err
			}
			continue
		}
		if r.MultibulkOnly {
			return nil, &ProtocolError{fmt.Sprintf("expected '*', got '%c'", b[0])}
		}
		args, err := r.readInline()
		if err != nil {
			return nil, err
		}
		if len(args) > 0 {
			return args, nil
		}
	}
}

// readLine returns one line without its terminator. tooBig is the protocol error for an
// over-long line. Inline commands may end in a bare \n, as in Redis.
// The returned slice may alias the read buffer: it is valid until the next read.
func (r *Reader) readLine(tooBig string) ([]byte, error) {
	frag, err := r.br.ReadSlice('\n')
	if err == nil { // the common case: the whole line is in the buffer, no copy
		if len(frag) > r.limits.MaxInline+2 {
			return nil, &ProtocolError{tooBig}
		}
		return trimEOL(frag), nil
	}
	line := append([]byte(nil), frag...)
	if !errors.Is(err, bufio.ErrBufferFull) {
		if err == io.EOF && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > r.limits.MaxInline {
		return nil, &ProtocolError{tooBig}
	}
	for {
		frag, err := r.br.ReadSlice('\n')
		if err == nil {
			if len(line)+len(frag) > r.limits.MaxInline+2 {
				return nil, &ProtocolError{tooBig}
			}
			line = append(line, frag...)
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line)+len(frag) > r.limits.MaxInline {
				return nil, &ProtocolError{tooBig}
			}
			line = append(line, frag...)
			continue
		}
		if err == io.EOF && len(line)+len(frag) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return trimEOL(line), nil
}

func trimEOL(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

func (r *Reader) readInline() ([][]byte, error) {
	line, err := r.readLine("too big inline request")
	if err != nil {
		return nil, err
	}
	args, ok := SplitArgs(line)
	if !ok {
		return nil, &ProtocolError{"unbalanced quotes in request"}
	}
	return args, nil
}

func (r *Reader) readMultibulk() ([][]byte, error) {
	line, err := r.readLine("too big mbulk count string")
	if err != nil {
		return nil, err
	}
	n, ok := parseInt(line[1:])
	if !ok || n > int64(r.limits.MaxArgs) {
		return nil, &ProtocolError{"invalid multibulk length"}
	}
	if n <= 0 {
		return nil, nil
	}
	// Never trust the declared count for the allocation: a 12-byte header must not reserve
	// megabytes.
	args := make([][]byte, 0, min(n, 64))
	for i := int64(0); i < n; i++ {
		hdr, err := r.readLine("too big bulk count string")
		if err != nil {
			return nil, err
		}
		if len(hdr) == 0 || hdr[0] != '$' {
			got := byte(' ')
			if len(hdr) > 0 {
				got = hdr[0]
			}
			return nil, &ProtocolError{fmt.Sprintf("expected '$', got '%c'", got)}
		}
		size, ok := parseInt(hdr[1:])
		if !ok || size < 0 || size > int64(r.limits.MaxBulk) {
			return nil, &ProtocolError{"invalid bulk length"}
		}
		arg, err := r.readBulk(int(size))
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
	}
	return args, nil
}

// readBulk reads size bytes plus CRLF, growing the buffer as data actually arrives so a lying
// length costs the sender the bytes, not us the memory.
func (r *Reader) readBulk(size int) ([]byte, error) {
	const chunk = 64 * 1024
	buf := make([]byte, 0, min(size, chunk))
	for len(buf) < size {
		want := min(size-len(buf), chunk)
		if cap(buf)-len(buf) < want {
			nb := make([]byte, len(buf), min(size, max(2*cap(buf), len(buf)+want)))
			copy(nb, buf)
			buf = nb
		}
		n, err := io.ReadFull(r.br, buf[len(buf):len(buf)+want])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	var crlf [2]byte
	if _, err := io.ReadFull(r.br, crlf[:]); err != nil {
		return nil, unexpected(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return nil, &ProtocolError{"invalid bulk length"}
	}
	return buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseInt parses a strict decimal integer as Redis's string2ll does: optional '-', no '+',
// no spaces, no leading zeros.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) > 1 && b[0] == '0' {
		return 0, false
	}
	if b[0] == '+' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

// SplitArgs splits an inline command the way Redis's sdssplitargs does: whitespace separates
// arguments, "double quotes" understand \n \r \t \b \a \\ \" and \xHH, 'single quotes' only \'.
// A closing quote must be followed by whitespace or the end. ok is false on unbalanced quotes.
func SplitArgs(line []byte) (args [][]byte, ok bool) {
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, true
		}
		var cur []byte
		inDQ, inSQ, done := false, false, false
		cur = []byte{}
		for !done {
			switch {
			case inDQ:
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			case inSQ:
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			default:
				if i >= len(line) {
					done = true
					break
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDQ = true
				case '\'':
					inSQ = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		args = append(args, cur)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0 }
func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Equal reports whether an argument equals a lower-case ASCII word, ignoring case.
func Equal(arg []byte, lower string) bool {
	if len(arg) != len(lower) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Lower returns a lower-cased copy of b (ASCII only).
func Lower(b []byte) string { return string(bytes.ToLower(b)) }
