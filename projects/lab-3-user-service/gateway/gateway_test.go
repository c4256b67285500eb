package gateway

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/registry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// static is a fixed instance list.
type static []registry.Instance

func (s static) Instances() ([]registry.Instance, error) { return s, nil }

// backend answers with its name and echoes the body it received.
func backend(t *testing.T, name string, delay time.Duration) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend", name)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// refused is an address nothing listens on.
func refused(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func send(t *testing.T, g http.Handler, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/auth/login", strings.NewReader(body)))
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), rec.Body.String())
	return b.Error.Code
}

func TestRoundRobinAndRetryOnRefusedConnection(t *testing.T) {
	a, b := backend(t, "a", 0), backend(t, "b", 0)
	g, err := New(Config{Upstream: static{{ID: "a", Addr: a}, {ID: "dead", Addr: refused(t)}, {ID: "b", Addr: b}}})
	require.NoError(t, err)
	seen := map[string]int{}
	for range 30 {
		rec := send(t, g, `{"email":"x"}`)
		require.Equal(t, http.StatusOK, rec.Code, "a refused connection is retried on another instance: %s", rec.Body)
		assert.Equal(t, `{"email":"x"}`, rec.Body.String(), "the body reaches the instance, also on the retry")
		seen[rec.Header().Get("X-Backend")]++
	}
	assert.Positive(t, seen["a"])
	assert.Positive(t, seen["b"])
}

func TestFailuresInTheOneErrorShape(t *testing.T) {
	slow := backend(t, "slow", time.Second)
	for name, tc := range map[string]struct {
		up     Instances
		status int
		code   string
	}{
		"no instance registered": {static{}, http.StatusServiceUnavailable, "unavailable"},
		"every instance refuses": {static{{ID: "x", Addr: refused(t)}, {ID: "y", Addr: refused(t)}}, http.StatusBadGateway, "bad_gateway"},
		"instance too slow":      {static{{ID: "s", Addr: slow}}, http.StatusGatewayTimeout, "deadline_exceeded"},
	} {
		g, err := New(Config{Upstream: tc.up, Timeout: 200 * time.Millisecond})
		require.NoError(t, err)
		start := time.Now()
		rec := send(t, g, `{}`)
		assert.Equal(t, tc.status, rec.Code, "%s: %s", name, rec.Body)
		assert.Equal(t, tc.code, errorCode(t, rec), name)
		assert.Less(t, time.Since(start), 2*time.Second, "%s fails fast", name)
	}
}

func TestFailedInstanceLeavesRotation(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		// Hijack and drop the connection: the request was sent, so it must not be retried.
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = c.Close()
		}
	}))
	defer flaky.Close()
	good := backend(t, "good", 0)
	g, err := New(Config{Upstream: static{{ID: "f", Addr: strings.TrimPrefix(flaky.URL, "http://")}, {ID: "g", Addr: good}}, Eject: time.Minute})
	require.NoError(t, err)
	failed := 0
	for range 20 {
		if send(t, g, `{}`).Code == http.StatusBadGateway {
			failed++
		}
	}
	assert.Equal(t, 1, failed, "one request saw the broken instance, which then left the rotation")
	mu.Lock()
	assert.Equal(t, 1, hits, "a request that reached an instance is not retried")
	mu.Unlock()
}
