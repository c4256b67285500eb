package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time source for TTL tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestInstancesExpireWithoutHeartbeats(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	s := NewServer()
	s.now = clk.Now
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Timeout: time.Second, HTTP: srv.Client()}
	ctx := context.Background()

	require.NoError(t, c.Register(ctx, "users", "users-a", "127.0.0.1:1", 1500*time.Millisecond))
	require.NoError(t, c.Register(ctx, "users", "users-b", "127.0.0.1:2", 3*time.Second))
	list, err := c.Lookup(ctx, "users")
	require.NoError(t, err)
	assert.Equal(t, []Instance{{ID: "users-a", Addr: "127.0.0.1:1"}, {ID: "users-b", Addr: "127.0.0.1:2"}}, list)

	clk.Add(2 * time.Second) // a missed its renewals; b is still within its TTL
	list, err = c.Lookup(ctx, "users")
	require.NoError(t, err)
	assert.Equal(t, []Instance{{ID: "users-b", Addr: "127.0.0.1:2"}}, list)

	require.NoError(t, c.Register(ctx, "users", "users-b", "127.0.0.1:2", 3*time.Second)) // a renewal
	clk.Add(2 * time.Second)
	list, err = c.Lookup(ctx, "users")
	require.NoError(t, err)
	assert.Len(t, list, 1, "a renewal restarts the TTL")

	require.NoError(t, c.Deregister(ctx, "users", "users-b"))
	_, err = c.Lookup(ctx, "users")
	assert.ErrorIs(t, err, ErrNoInstances)
}

func TestBadRegistrationsAreRefused(t *testing.T) {
	h := NewServer().Handler()
	for name, tc := range map[string]struct{ path, body string }{
		"not JSON":        {"/v1/services/users/a", "addr=1"},
		"unknown field":   {"/v1/services/users/a", `{"addr":"x:1","ttl_ms":100,"weight":3}`},
		"no addr":         {"/v1/services/users/a", `{"ttl_ms":100}`},
		"zero TTL":        {"/v1/services/users/a", `{"addr":"x:1","ttl_ms":0}`},
		"TTL over a min":  {"/v1/services/users/a", `{"addr":"x:1","ttl_ms":3600000}`},
		"bad service":     {"/v1/services/Users%20X/a", `{"addr":"x:1","ttl_ms":100}`},
		"bad instance id": {"/v1/services/users/..%2F", `{"addr":"x:1","ttl_ms":100}`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, tc.path, strings.NewReader(tc.body)))
		assert.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", name, rec.Body)
		assert.Contains(t, rec.Body.String(), "expected", name)
	}
}

// TestWatcherKeepsTheLastListWhileTheRegistryIsDown: a registry outage freezes membership.
func TestWatcherKeepsTheLastListWhileTheRegistryIsDown(t *testing.T) {
	srv := httptest.NewServer(NewServer().Handler())
	c := &Client{BaseURL: srv.URL, Timeout: 200 * time.Millisecond, HTTP: &http.Client{}}
	ctx := context.Background()
	require.NoError(t, c.Register(ctx, "authd", "authd-1", "127.0.0.1:9", time.Minute))
	w := c.Watch(ctx, "authd", 20*time.Millisecond)
	defer w.Close()
	list, err := w.Instances()
	require.NoError(t, err)
	require.Len(t, list, 1)

	srv.Close()
	<-w.Updated()
	<-w.Updated()
	list, err = w.Instances()
	assert.Error(t, err, "the lookup failed")
	assert.Equal(t, []Instance{{ID: "authd-1", Addr: "127.0.0.1:9"}}, list, "and the last list is kept")
}

func TestHeartbeatRenewsAndLeaves(t *testing.T) {
	s := NewServer()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Timeout: time.Second, HTTP: srv.Client()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Heartbeat(ctx, "users", "users-1", "127.0.0.1:5", 450*time.Millisecond, nil); close(done) }()
	require.Eventually(t, func() bool { return len(s.Lookup("users")) == 1 }, time.Second, 5*time.Millisecond)
	time.Sleep(time.Second) // more than two TTLs: only renewals keep it listed
	assert.Len(t, s.Lookup("users"), 1)
	cancel()
	<-done
	assert.Empty(t, s.Lookup("users"), "a graceful exit deregisters at once")
}

// FuzzRegister feeds arbitrary registration bodies to the handler: a 204 or a 400, never a panic.
func FuzzRegister(f *testing.F) {
	for _, s := range []string{`{"addr":"127.0.0.1:1","ttl_ms":1500}`, `{"addr":"","ttl_ms":-1}`, `{`, `null`, `{"addr":1}`, `{"addr":"a","ttl_ms":1e99}`} {
		f.Add(s)
	}
	h := NewServer().Handler()
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/v1/services/users/a", strings.NewReader(body)))
		if rec.Code != http.StatusNoContent && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
