package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"
)

// RawHTTP is a minimal HTTP/1.1 keep-alive GET client for measuring servers at rates where
// net/http's client would be the bottleneck. It does what wrk does per request: one write of a
// pre-built request and a read of the response, with no per-request goroutine hand-offs, header
// maps or allocations. It speaks only plain-text HTTP/1.1 GET on keep-alive connections, reads
// bodies framed by Content-Length, chunked encoding or connection close, and returns a
// *StatusError for statuses of 400 and above. For anything richer (TLS, methods with bodies,
// custom headers, redirects) use HTTP with a net/http client.
//
// Like net/http, a request that fails on a reused connection before any response byte arrived
// (the server closed it while idle) is retried once on a fresh connection.
//
// Its Get method is a Target: loadgen.Run(ctx, cfg, raw.Get). Close it when done.
type RawHTTP struct {
	addr   string
	req    []byte
	dialer net.Dialer

	mu     sync.Mutex
	idle   []*rawConn
	closed bool
}

type rawConn struct {
	nc net.Conn
	br *bufio.Reader
	// ctx is the context the cancellation hook below watches; stop unregisters it.
	ctx   context.Context
	stop  func() bool
	fired chan struct{} // closed once the hook for ctx has run
	// deadline is the one last set on nc; the hook for an ended context overrides it, and the
	// context change resets it below.
	deadline time.Time
	used     bool
}

// errRawClosed is returned by Get after Close.
var errRawClosed = errors.New("loadgen: raw client closed")

// aLongTimeAgo is a deadline in the past, used to interrupt a blocked read or write.
var aLongTimeAgo = time.Unix(1, 0)

// NewRawHTTP prepares a client for GET rawURL. The URL must be http:// with a host.
func NewRawHTTP(rawURL string) (*RawHTTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: bad url %q: %w", rawURL, err)
	}
	if u.Scheme == "https" {
		return nil, fmt.Errorf("loadgen: bad url %q: the raw client speaks plain http:// only; use HTTP with net/http for https", rawURL)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("loadgen: bad url %q: want an http:// URL", rawURL)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("loadgen: bad url %q: no host", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	req := fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: labkit-loadgen\r\nAccept: */*\r\n\r\n", u.RequestURI(), u.Host)
	return &RawHTTP{
		addr:   addr,
		req:    req,
		dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
	}, nil
}

// Get sends one GET and reads the whole response. It is safe for concurrent use; each
// concurrent caller gets its own connection.
func (c *RawHTTP) Get(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := c.get(ctx)
	if err != nil {
		return err
	}
	reused := conn.used
	status, err := c.roundTrip(ctx, conn)
	if err != nil && reused && status == 0 && ctx.Err() == nil && isStaleConn(err) {
		// The server closed the idle connection under us; one fresh try, as net/http does.
		conn, err = c.dial(ctx)
		if err != nil {
			return err
		}
		status, err = c.roundTrip(ctx, conn)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
			// The connection's deadline (set from ctx) fired a hair before ctx noticed.
			return context.DeadlineExceeded
		}
		return err
	}
	if status >= 400 {
		return &StatusError{Code: status}
	}
	return nil
}

// roundTrip writes the request and reads the response on conn, then returns conn to the pool or
// closes it. status is 0 when no response was parsed.
func (c *RawHTTP) roundTrip(ctx context.Context, conn *rawConn) (int, error) {
	if err := conn.watch(ctx); err != nil {
		conn.close()
		return 0, err
	}
	conn.used = true
	if _, err := conn.nc.Write(c.req); err != nil {
		conn.close()
		return 0, err
	}
	status, keepAlive, err := readResponse(conn.br)
	if err != nil || !keepAlive {
		conn.close()
		return status, err
	}
	c.put(conn)
	return status, nil
}

// watch makes ctx's deadline and cancellation interrupt I/O on the connection. The hook is
// registered once per context, not per request: a run passes the same context every time.
func (rc *rawConn) watch(ctx context.Context) error {
	if rc.ctx != ctx {
		if rc.stop != nil && !rc.stop() {
			// The previous context ended and its hook poisoned the deadline (or is about to):
			// wait for it, so the deadline set below is the last word.
			<-rc.fired
		}
		nc, fired := rc.nc, make(chan struct{})
		rc.ctx, rc.fired = ctx, fired
		rc.deadline = aLongTimeAgo // unknown after a hook fired: force the SetDeadline below
		rc.stop = context.AfterFunc(ctx, func() {
			_ = nc.SetDeadline(aLongTimeAgo)
			close(fired)
		})
	}
	dl, _ := ctx.Deadline() // zero when there is none, which clears an earlier deadline
	if dl.Equal(rc.deadline) {
		return nil // a run passes the same deadline every time; resetting timers costs
	}
	rc.deadline = dl
	return rc.nc.SetDeadline(dl)
}

func (rc *rawConn) close() {
	if rc.stop != nil {
		rc.stop()
	}
	_ = rc.nc.Close()
}

func (c *RawHTTP) get(ctx context.Context) (*rawConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errRawClosed
	}
	if n := len(c.idle); n > 0 {
		conn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return conn, nil
	}
	c.mu.Unlock()
	return c.dial(ctx)
}

func (c *RawHTTP) dial(ctx context.Context) (*rawConn, error) {
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

func (c *RawHTTP) put(conn *rawConn) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		conn.close()
		return
	}
	c.idle = append(c.idle, conn)
	c.mu.Unlock()
}

// Close closes idle connections; connections in use are closed when their request ends.
func (c *RawHTTP) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, conn := range idle {
		conn.close()
	}
	return nil
}

func isStaleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Response parsing. Limits keep a hostile or broken server from making the client allocate or
// loop without bound: header lines must fit the bufio buffer, and there are at most maxHeaders.
const maxHeaders = 128

// ErrMalformedResponse is wrapped by every parse failure of readResponse.
var ErrMalformedResponse = errors.New("malformed HTTP response")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedResponse}, args...)...)
}

// readResponse reads one response to a GET from br, discarding the body. keepAlive reports
// whether the connection may carry another request.
func readResponse(br *bufio.Reader) (status int, keepAlive bool, err error) {
	line, err := readLine(br)
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK": version, space, three digits, then a space or the end.
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return 0, false, malformed("status line %q", truncate(line))
	}
	minor := line[7]
	if minor != '0' && minor != '1' {
		return 0, false, malformed("version in %q", truncate(line))
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, malformed("status code in %q", truncate(line))
		}
		status = status*10 + int(d-'0')
	}
	if status < 200 {
		// A GET without Expect: 100-continue gets no interim response; 101 would switch
		// protocols. Neither can be measured as a request.
		return 0, false, malformed("unexpected status %d", status)
	}
	keepAlive = minor == '1'
	contentLength := int64(-1)
	chunked := false
	for i := 0; ; i++ {
		if i == maxHeaders {
			return status, false, malformed("more than %d header lines", maxHeaders)
		}
		line, err := readLine(br)
		if err != nil {
			return status, false, err
		}
		if len(line) == 0 {
			break
		}
		colon := indexByte(line, ':')
		if colon <= 0 {
			return status, false, malformed("header line %q", truncate(line))
		}
		name, value := line[:colon], trimSpace(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			n, ok := parseDecimal(value)
			if !ok || (contentLength >= 0 && n != contentLength) {
				return status, false, malformed("Content-Length %q", truncate(value))
			}
			contentLength = n
		case equalFold(name, "transfer-encoding"):
			if !equalFold(value, "chunked") {
				return status, false, malformed("unsupported Transfer-Encoding %q", truncate(value))
			}
			chunked = true
		case equalFold(name, "connection"):
			if equalFold(value, "close") {
				keepAlive = false
			} else if equalFold(value, "keep-alive") {
				keepAlive = true
			}
		}
	}
	switch {
	case status == 204 || status == 304:
		return status, keepAlive, nil
	case chunked:
		return status, keepAlive, discardChunked(br)
	case contentLength >= 0:
		if _, err := br.Discard(int(contentLength)); err != nil {
			return status, false, unexpectedEOF(err)
		}
		return status, keepAlive, nil
	default:
		// No framing: the body runs to the end of the connection.
		if _, err := io.Copy(io.Discard, br); err != nil {
			return status, false, err
		}
		return status, false, nil
	}
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := readLine(br)
		if err != nil {
			return unexpectedEOF(err)
		}
		if i := indexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		line = trimSpace(line)
		size, ok := parseHex(line)
		if !ok {
			return malformed("chunk size %q", truncate(line))
		}
		if size == 0 {
			// Trailers, then the blank line that ends the message.
			for i := 0; ; i++ {
				if i == maxHeaders {
					return malformed("more than %d trailer lines", maxHeaders)
				}
				line, err := readLine(br)
				if err != nil {
					return unexpectedEOF(err)
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(size)); err != nil {
			return unexpectedEOF(err)
		}
		line, err = readLine(br)
		if err != nil {
			return unexpectedEOF(err)
		}
		if len(line) != 0 {
			return malformed("missing CRLF after chunk")
		}
	}
}

// readLine returns the next line without its CRLF (or bare LF). The slice is only valid until
// the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, malformed("line longer than %d bytes", br.Size())
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares b with the lower-case ASCII string s, ignoring case, without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// maxBody bounds a declared body or chunk size (1 TiB): larger is treated as malformed, which
// also keeps the int conversions for Discard in range.
const maxBody = 1 << 40

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 13 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= maxBody
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | int64(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, n <= maxBody
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
