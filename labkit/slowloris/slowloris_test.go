package slowloris_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/slowloris"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHeaderTimeoutCutsTheAttackOff(t *testing.T) {
	tests := []struct {
		name          string
		headerTimeout time.Duration
		wantOpen      bool
	}{
		{"no timeout holds every connection", 0, true},
		{"a header timeout closes them", 150 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.NotFoundHandler())
			srv.Config.ReadHeaderTimeout = tt.headerTimeout
			srv.Start()
			defer srv.Close()

			a, err := slowloris.Start(context.Background(), slowloris.Config{
				Addr: srv.Listener.Addr().String(), Conns: 50, Drip: 50 * time.Millisecond})
			require.NoError(t, err)
			defer a.Stop()
			assert.Equal(t, 50, a.Opened())
			time.Sleep(600 * time.Millisecond)
			if tt.wantOpen {
				assert.Equal(t, 50, a.Open())
			} else {
				assert.Zero(t, a.Open())
			}
		})
	}
}

func TestBadConfigAndUnreachableAddress(t *testing.T) {
	_, err := slowloris.Start(context.Background(), slowloris.Config{Addr: "127.0.0.1:1", Conns: 0})
	require.ErrorContains(t, err, "Conns must be at least 1")
	_, err = slowloris.Start(context.Background(), slowloris.Config{Addr: "127.0.0.1:1", Conns: 1})
	require.ErrorContains(t, err, "dial 127.0.0.1:1")
}
