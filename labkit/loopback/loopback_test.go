package loopback_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cleanups collects what the helper registers, to run them when the test
// says (a *testing.T would run them after the assertions).
type cleanups []func()

func (c *cleanups) Cleanup(f func()) { *c = append(*c, f) }

func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

func TestHTTPServesUntilCleanup(t *testing.T) {
	var c cleanups
	base, err := loopback.HTTP(&c, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(base)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "ok", string(body))

	c.run()
	resp, err = client.Get(base)
	if err == nil {
		_ = resp.Body.Close() // a bug still answering must not leak its connection
	}
	assert.Error(t, err, "the server is gone after cleanup")
}

func TestServeWaitsForTheServer(t *testing.T) {
	var c cleanups
	returned := false
	stop := make(chan struct{})
	addr, err := loopback.Serve(&c, func(ln net.Listener) error {
		<-stop
		returned = true
		return ln.Close()
	}, func() { close(stop) })
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
	c.run()
	assert.True(t, returned, "cleanup returns only after serve has")
}

func TestWithTestingT(t *testing.T) {
	base, err := loopback.HTTP(t, http.NotFoundHandler())
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get(base)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
