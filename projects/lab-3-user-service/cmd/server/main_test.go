package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	goleak.VerifyTestMain(m)
}

// TestServeAndShutDown starts the real program on loopback, uses it, and stops it the way SIGTERM
// does: run returns nil, and requests in flight when the signal came are answered.
func TestServeAndShutDown(t *testing.T) {
	t.Setenv("JWT_KEYS", "")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	args := []string{"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-sqlite-path", filepath.Join(t.TempDir(), "u.db"),
		"-mysql-dsn", "", "-postgres-dsn", "", "-redis-addr", "", "-auth-addr", ""}
	go func() { done <- run(ctx, args, ready) }()
	var base, metrics string
	select {
	case a := <-ready:
		base, metrics = "http://"+a[0], "http://"+a[1]+"/metrics"
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	post := func(path, body string) *http.Response {
		r, err := http.Post(base+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		return r
	}
	r := post("/v1/auth/register", `{"email":"s@example.com","password":"correct-horse-battery","name":"S"}`)
	require.Equal(t, http.StatusAccepted, r.StatusCode)
	r.Body.Close()

	// Four logins whose bodies are still being sent: their handlers are running (blocked reading
	// the body) when the server is told to stop. Shutdown must wait for them.
	type result struct {
		code int
		err  error
	}
	results := make(chan result, 4)
	var writers []*io.PipeWriter
	for range 4 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/auth/login", pr)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			results <- result{code: resp.StatusCode}
		}()
	}
	require.Eventually(t, func() bool { return inFlight(metrics) == 4 }, 20*time.Second, 5*time.Millisecond, "the logins never reached the handler")
	cancel()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond, "shutdown did not close the listener")
	for _, pw := range writers {
		_, _ = pw.Write([]byte(`{"email":"s@example.com","password":"correct-horse-battery"}`))
		_ = pw.Close()
	}
	for range 4 {
		res := <-results
		require.NoError(t, res.err, "an in-flight request was dropped")
		require.Equal(t, http.StatusOK, res.code)
	}
	require.NoError(t, <-done)
	http.DefaultClient.CloseIdleConnections()
	resp, err := http.Get(base + "/healthz")
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the listener is closed")
}

func TestBadFlag(t *testing.T) {
	err := run(context.Background(), []string{"-faults", "bogus", "-addr", "127.0.0.1:0"}, nil)
	require.ErrorContains(t, err, "expected slow-request, db-overload or thread-exhaustion")
}

func inFlight(metricsURL string) int {
	r, err := http.Get(metricsURL)
	if err != nil {
		return 0
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "lab3_http_in_flight_requests "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}
