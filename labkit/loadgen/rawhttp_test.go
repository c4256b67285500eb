package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		status    int
		keepAlive bool
		err       error // nil: success; otherwise errors.Is target
		rest      string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokNEXT", 200, true, nil, "NEXT"},
		{"bare LF and odd case", "HTTP/1.1 200 OK\ncOnTeNt-LeNgTh:  5 \n\nhelloNEXT", 200, true, nil, "NEXT"},
		{"no reason phrase", "HTTP/1.1 204\r\n\r\nNEXT", 204, true, nil, "NEXT"},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: v\r\n\r\nNEXT", 200, true, nil, "NEXT"},
		{"connection close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 503, false, nil, ""},
		{"HTTP/1.0 defaults to close", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false, nil, ""},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 200, true, nil, ""},
		{"body to EOF", "HTTP/1.1 200 OK\r\n\r\nall of this", 200, false, nil, ""},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nNEXT", 304, true, nil, "NEXT"},
		{"empty", "", 0, false, io.EOF, ""},
		{"garbage status line", "HELLO\r\n\r\n", 0, false, ErrMalformedResponse, ""},
		{"HTTP/2 status line", "HTTP/2.0 200 OK\r\n\r\n", 0, false, ErrMalformedResponse, ""},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", 0, false, ErrMalformedResponse, ""},
		{"1xx", "HTTP/1.1 100 Continue\r\n\r\n", 0, false, ErrMalformedResponse, ""},
		{"header without colon", "HTTP/1.1 200 OK\r\nnope\r\n\r\n", 200, false, ErrMalformedResponse, ""},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 200, false, ErrMalformedResponse, ""},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 200, false, ErrMalformedResponse, ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 200, false, io.ErrUnexpectedEOF, ""},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 200, false, ErrMalformedResponse, ""},
		{"truncated chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", 200, false, io.ErrUnexpectedEOF, ""},
		{"gzip transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 200, false, ErrMalformedResponse, ""},
		{"header line too long", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", 200, false, ErrMalformedResponse, ""},
		{"too many headers", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxHeaders+1) + "\r\n", 200, false, ErrMalformedResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
			status, keepAlive, err := readResponse(br)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.keepAlive, keepAlive)
			rest, _ := io.ReadAll(br)
			assert.Equal(t, tt.rest, string(rest), "the body is consumed exactly")
		})
	}
}

// FuzzReadResponse: whatever a server sends, the parser returns (no panic, no hang) and never
// reports success for a response it did not fully consume the framing of.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
		"HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\nbody to EOF",
		"HTTP/1.1 204\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(strings.NewReader(string(data)), 4096)
		status, _, err := readResponse(br)
		if err == nil && (status < 200 || status > 999) {
			t.Fatalf("success with status %d", status)
		}
	})
}

func TestRawHTTPAgainstNetHTTPServer(t *testing.T) {
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { hits.Add(1); _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		// Unknown length and larger than the server's buffer: net/http sends it chunked.
		for range 100 {
			_, _ = w.Write([]byte(strings.Repeat("x", 1000)))
		}
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "nope", http.StatusInternalServerError)
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte("bye"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path  string
		kinds map[string]int64
	}{
		{"/ok", nil},
		{"/big", nil},
		{"/close", nil},
		{"/fail", map[string]int64{KindStatus5xx: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			hits.Store(0)
			raw, err := NewRawHTTP(srv.URL + tt.path)
			require.NoError(t, err)
			defer raw.Close()
			res, err := Run(context.Background(), Config{Workers: 4, MaxRequests: 200}, raw.Get)
			require.NoError(t, err)
			assert.Equal(t, int64(200), res.Requests)
			assert.Equal(t, int64(200), hits.Load(), "the server saw every request")
			assert.Equal(t, tt.kinds, res.ErrorKinds, "samples: %v", res.ErrorSamples)
		})
	}
}

// TestRawHTTPRetriesStaleConnection: the server closes each connection after one response
// without saying so. The next request on that pooled connection fails before any byte arrives;
// the client retries once on a fresh connection, so no request fails.
func TestRawHTTPRetriesStaleConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			_ = c.Close()
		}
	}()
	defer func() { _ = ln.Close(); wg.Wait() }()

	raw, err := NewRawHTTP("http://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	defer raw.Close()
	for range 5 {
		require.NoError(t, raw.Get(context.Background()))
	}
}

func TestRawHTTPHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	raw, err := NewRawHTTP(srv.URL)
	require.NoError(t, err)
	defer raw.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = raw.Get(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, KindTimeout, Classify(err))
	assert.Less(t, time.Since(start), 2*time.Second)

	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	err = raw.Get(ctx2)
	require.ErrorIs(t, err, context.Canceled)
}

// TestRawHTTPAcrossRuns: the pool outlives a run whose context ended; the next run reuses the
// connections without errors.
func TestRawHTTPAcrossRuns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	raw, err := NewRawHTTP(srv.URL)
	require.NoError(t, err)
	defer raw.Close()
	for range 3 {
		res, err := Run(context.Background(), Config{Workers: 4, Duration: 50 * time.Millisecond}, raw.Get)
		require.NoError(t, err)
		assert.Positive(t, res.Requests)
		assert.Zero(t, res.Errors, "samples: %v", res.ErrorSamples)
	}
}

// TestRawHTTPGetDoesNotAllocate backs the claim that the raw client allocates nothing per
// request once its connection exists. The server is a hand-written responder that allocates
// nothing either, because AllocsPerRun counts the whole process.
func TestRawHTTPGetDoesNotAllocate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		sep := []byte("\r\n\r\n")
		pending := make([]byte, 0, 8192)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.Index(pending, sep)
				if i < 0 {
					break
				}
				pending = pending[:copy(pending, pending[i+len(sep):])]
				if _, err := c.Write(resp); err != nil {
					return
				}
			}
		}
	}()
	defer func() { _ = ln.Close(); wg.Wait() }()

	raw, err := NewRawHTTP("http://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	defer raw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, raw.Get(ctx)) // dial and register the context hook once
	allocs := testing.AllocsPerRun(1000, func() {
		if err := raw.Get(ctx); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestRawHTTPMalformedResponseKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 4096))
			_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n\r\n")
			_ = c.Close()
		}
	}()
	defer func() { _ = ln.Close(); wg.Wait() }()
	raw, err := NewRawHTTP("http://" + ln.Addr().String() + "/")
	require.NoError(t, err)
	defer raw.Close()
	res, err := Run(context.Background(), Config{Workers: 1, MaxRequests: 3}, raw.Get)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{KindMalformed: 3}, res.ErrorKinds, "samples: %v", res.ErrorSamples)
}

func TestRawHTTPClosed(t *testing.T) {
	raw, err := NewRawHTTP("http://127.0.0.1:1/")
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	assert.True(t, errors.Is(raw.Get(context.Background()), errRawClosed))
}

func TestNewRawHTTPRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "https://example.com/", "http://", "://x", "ftp://h/"} {
		t.Run(u, func(t *testing.T) {
			_, err := NewRawHTTP(u)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "bad url")
		})
	}
}

// BenchmarkRawVsNetHTTP runs both HTTP clients against the same loopback handler in one process,
// so one `go test -bench RawVsNetHTTP` run gives their ratio.
func BenchmarkRawVsNetHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	raw, err := NewRawHTTP(srv.URL)
	require.NoError(b, err)
	defer raw.Close()
	std := NewHTTPClient(16)
	defer std.CloseIdleConnections()
	stdTarget, err := Get(std, srv.URL)
	require.NoError(b, err)
	for _, bc := range []struct {
		name   string
		target Target
	}{{"client=raw", raw.Get}, {"client=net-http", stdTarget}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			res, err := Run(context.Background(), Config{Workers: 16, MaxRequests: int64(b.N)}, bc.target)
			require.NoError(b, err)
			require.Zero(b, res.Errors)
			b.ReportMetric(res.Throughput, "req/s")
		})
	}
}
