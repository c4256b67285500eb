package authrpc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// chaos is a server interceptor standing in for a sick network or server: it delays calls or
// fails the first N of them. The latency is injected at the transport edge, not in the module.
type chaos struct {
	delay atomic.Int64 // nanoseconds
	fail  atomic.Int64 // fail this many more calls with Unavailable
	calls atomic.Int64
}

func (c *chaos) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	c.calls.Add(1)
	if c.fail.Add(-1) >= 0 {
		return nil, status.Error(codes.Unavailable, "injected")
	}
	if d := time.Duration(c.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h(ctx, req)
}

func start(t *testing.T, cfg ClientConfig) (*Client, *chaos) {
	t.Helper()
	ks, err := token.GenerateKeySet("k")
	require.NoError(t, err)
	m := auth.New(password.New(password.TestParams()), token.NewIssuer(ks, token.DefaultConfig()), revocation.NewMemory())
	ch := &chaos{}
	srv := grpc.NewServer(grpc.UnaryInterceptor(ch.intercept))
	Register(srv, m)
	addr, err := loopback.Serve(t, srv.Serve, srv.Stop)
	require.NoError(t, err)
	c, err := Dial(addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, ch
}

func TestRoundTrip(t *testing.T) {
	c, _ := start(t, DefaultClientConfig())
	ctx := context.Background()
	h, err := c.HashPassword(ctx, "pw")
	require.NoError(t, err)
	require.NoError(t, c.CheckPassword(ctx, h, "pw"))
	require.ErrorIs(t, c.CheckPassword(ctx, h, "nope"), user.ErrInvalidCredentials)
	p, err := c.Issue(ctx, 7, rbac.RoleSupport, 3, "")
	require.NoError(t, err)
	id, err := c.Verify(ctx, p.Access)
	require.NoError(t, err)
	require.Equal(t, user.ID(7), id.UserID)
	require.Equal(t, rbac.RoleSupport, id.Role)
	g, err := c.Redeem(ctx, p.Refresh)
	require.NoError(t, err)
	_, err = c.Redeem(ctx, p.Refresh)
	require.ErrorIs(t, err, auth.ErrTokenReuse)
	_, err = c.Verify(ctx, p.Access)
	require.ErrorIs(t, err, user.ErrUnauthenticated, "reuse revoked the family")
	_ = g
	_, err = c.Verify(ctx, "garbage")
	require.ErrorIs(t, err, user.ErrUnauthenticated)
	require.Equal(t, "closed", c.BreakerState(), "refusals are answers, not failures")
}

func TestDeadline(t *testing.T) {
	cfg := DefaultClientConfig()
	cfg.Timeout, cfg.Attempts = 50*time.Millisecond, 1
	c, ch := start(t, cfg)
	ch.delay.Store(int64(time.Second))
	start := time.Now()
	_, err := c.Verify(context.Background(), "x")
	require.ErrorIs(t, err, user.ErrUnavailable)
	require.Less(t, time.Since(start), 500*time.Millisecond, "the deadline cut the call short")
}

func TestRetryIdempotentOnly(t *testing.T) {
	c, ch := start(t, DefaultClientConfig())
	ctx := context.Background()
	p, err := c.Issue(ctx, 1, rbac.RoleUser, 0, "")
	require.NoError(t, err)

	ch.fail.Store(2)
	ch.calls.Store(0)
	_, err = c.Verify(ctx, p.Access)
	require.NoError(t, err, "two transient failures, third attempt succeeds")
	require.Equal(t, int64(3), ch.calls.Load())

	ch.fail.Store(1)
	ch.calls.Store(0)
	_, err = c.Redeem(ctx, p.Refresh)
	require.ErrorIs(t, err, user.ErrUnavailable)
	require.Equal(t, int64(1), ch.calls.Load(), "Redeem is never retried")
}

func TestBreakerOpens(t *testing.T) {
	cfg := DefaultClientConfig()
	cfg.Attempts, cfg.BreakerFailures, cfg.BreakerOpen = 1, 3, time.Minute
	c, ch := start(t, cfg)
	ch.fail.Store(1000)
	for i := 0; i < 3; i++ {
		_, err := c.Verify(context.Background(), "x")
		require.ErrorIs(t, err, user.ErrUnavailable)
	}
	require.Equal(t, "open", c.BreakerState())
	before := ch.calls.Load()
	_, err := c.Verify(context.Background(), "x")
	require.ErrorIs(t, err, user.ErrUnavailable)
	require.Equal(t, before, ch.calls.Load(), "an open breaker does not call the service")
}
