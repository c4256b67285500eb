package steps_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/registry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/steps"
)

// assertUnavailable checks the answer a caller gets while a dependency is down.
func assertUnavailable(t *testing.T, c *client, token string) {
	t.Helper()
	r := c.do("GET", "/v1/me", "", token)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, r.Raw)
	assert.Equal(t, "unavailable", r.code())
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
}

// reads sends n profile reads and returns how many got each status, and the slowest.
func reads(c *client, token string, n int) (map[int]int, time.Duration) {
	codes := map[int]int{}
	var slowest time.Duration
	for range n {
		start := time.Now()
		codes[c.do("GET", "/v1/me", "", token).Status]++
		slowest = max(slowest, time.Since(start))
	}
	return codes, slowest
}

// TestSplitFailsFastWhenAuthdDies: with authd frozen, then gone, every authenticated request is a 503 with
// Retry-After within the client's deadlines, never a hang; the breaker makes the rest instant.
func TestSplitFailsFastWhenAuthdDies(t *testing.T) {
	d := start(t, steps.Split)
	c := &client{t: t, base: d.URL, http: &http.Client{Timeout: 10 * time.Second}}
	c.register("split@example.com")
	token, _ := c.login("split@example.com", goodPassword)
	codes, _ := reads(c, token, 5)
	require.Equal(t, map[int]int{http.StatusOK: 5}, codes)

	authd := d.Cluster(steps.Authd).Node(1)
	require.NoError(t, authd.Pause()) // its socket accepts; nothing answers
	codes, slowest := reads(c, token, 10)
	assert.Equal(t, map[int]int{http.StatusServiceUnavailable: 10}, codes, "authd frozen: 503, never a hang")
	assert.Less(t, slowest, 3*time.Second, "bounded by the client's per-attempt deadline (300 ms) and retries")
	assertUnavailable(t, c, token)

	require.NoError(t, authd.Kill())
	codes, slowest = reads(c, token, 20)
	assert.Equal(t, map[int]int{http.StatusServiceUnavailable: 20}, codes, "authd down: 503, never a 500 or a hang")
	assert.Less(t, slowest, 2*time.Second, "bounded by the client's deadline, retries and breaker")
	assertUnavailable(t, c, token)
}

// TestSeedlingOutages takes the seedling's processes away one by one: a registry outage
// freezes membership but traffic flows; a killed user service costs no request (refused
// connections are retried elsewhere) and leaves the registry at its TTL; with authd gone too,
// requests fail fast with 503.
func TestSeedlingOutages(t *testing.T) {
	d := start(t, steps.Seedling)
	c := &client{t: t, base: d.URL, http: &http.Client{Timeout: 10 * time.Second}}
	c.register("seed@example.com")
	token, _ := c.login("seed@example.com", goodPassword)
	codes, _ := reads(c, token, 10)
	require.Equal(t, map[int]int{http.StatusOK: 10}, codes)

	rc := registry.NewClient(d.Cluster(steps.Registry).Node(1).Addr())
	users := d.Cluster(steps.Users)
	require.NoError(t, users.Node(1).Kill()) // SIGKILL: no deregistration, only the TTL removes it
	killed := time.Now()
	codes, _ = reads(c, token, 20)
	assert.Equal(t, map[int]int{http.StatusOK: 20}, codes, "a dead instance costs no request")
	require.Eventually(t, func() bool {
		list, err := rc.Lookup(context.Background(), steps.Users)
		return err == nil && len(list) == 1 && list[0].Addr == users.Node(2).Addr()
	}, 5*time.Second, 50*time.Millisecond, "the registry drops the instance once its TTL runs out")
	t.Logf("killed instance delisted after %v (TTL 1.5 s)", time.Since(killed).Round(10*time.Millisecond))
	require.NoError(t, users.Node(1).Restart(context.Background()))
	require.Eventually(t, func() bool {
		list, err := rc.Lookup(context.Background(), steps.Users)
		return err == nil && len(list) == 2
	}, 5*time.Second, 50*time.Millisecond, "a restarted instance registers again")

	require.NoError(t, d.Cluster(steps.Registry).Node(1).Kill())
	codes, _ = reads(c, token, 20)
	assert.Equal(t, map[int]int{http.StatusOK: 20}, codes, "registry down: the last known instances keep serving")

	require.NoError(t, d.Cluster(steps.Authd).Node(1).Kill())
	codes, slowest := reads(c, token, 20)
	assert.Equal(t, map[int]int{http.StatusServiceUnavailable: 20}, codes, "authd down as well: 503")
	assert.Less(t, slowest, 2*time.Second)
	assertUnavailable(t, c, token)
}
