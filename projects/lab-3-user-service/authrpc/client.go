package authrpc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sony/gobreaker/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc/authpb"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// ClientConfig tunes the resilience of calls to the auth service.
type ClientConfig struct {
	// Timeout is each attempt's deadline for token calls; HashTimeout for the password calls,
	// which pay the argon2id cost.
	Timeout, HashTimeout time.Duration
	// Attempts is the most tries an idempotent call gets (1 = no retry).
	Attempts int
	// Backoff is the first retry's base delay; it doubles, with full jitter.
	Backoff time.Duration
	// BreakerFailures consecutive failures open the breaker for BreakerOpen.
	BreakerFailures uint32
	BreakerOpen     time.Duration
}

// DefaultClientConfig suits a loopback or same-zone auth service.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{Timeout: 300 * time.Millisecond, HashTimeout: 2 * time.Second, Attempts: 3, Backoff: 20 * time.Millisecond, BreakerFailures: 5, BreakerOpen: 2 * time.Second}
}

// Client implements the service layer's Authenticator over gRPC.
// The breaker is sony/gobreaker/v2; lab 2 builds its own, and this lab does not import another
// lab's module.
type Client struct {
	cc      *grpc.ClientConn
	rpc     authpb.AuthClient
	cfg     ClientConfig
	breaker *gobreaker.CircuitBreaker[any]
}

// Dial connects to addr (host:port). The connection is lazy: a dead server shows up as
// Unavailable on the first call, not here.
func Dial(addr string, cfg ClientConfig, opts ...grpc.DialOption) (*Client, error) {
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("auth service %q: %w", addr, err)
	}
	return &Client{cc: cc, rpc: authpb.NewAuthClient(cc), cfg: cfg, breaker: gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "auth-rpc",
		Timeout:     cfg.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= cfg.BreakerFailures },
		// A refused token or password is a correct answer from a healthy service.
		IsSuccessful: func(err error) bool { return err == nil || !transient(err) },
	})}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.cc.Close() }

// BreakerState is the breaker's state, for metrics and tests.
func (c *Client) BreakerState() string { return c.breaker.State().String() }

// transient reports whether err means "the service could not answer" (retry, count against
// the breaker) rather than an answer.
func transient(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Unknown:
		return true
	}
	return false
}

// call runs one RPC through the breaker, with a per-attempt deadline and, when idempotent,
// retries with jittered exponential backoff while the caller's context still has time.
func call[T any](ctx context.Context, c *Client, idempotent bool, timeout time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	attempts := 1
	if idempotent {
		attempts = max(1, c.cfg.Attempts)
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			d := rand.N(c.cfg.Backoff << (i - 1))
			select {
			case <-ctx.Done():
				return zero, fromStatus(ctx.Err())
			case <-time.After(d):
			}
		}
		res, err := c.breaker.Execute(func() (any, error) {
			actx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return fn(actx)
		})
		if err == nil {
			return res.(T), nil
		}
		last = err
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) || !transient(err) || ctx.Err() != nil {
			break
		}
	}
	return zero, fromStatus(last)
}

func fromStatus(err error) error {
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("%w: auth service breaker open: %w", user.ErrUnavailable, err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%w: auth service: %w", user.ErrUnavailable, err)
	}
	switch st.Code() {
	case codes.Unauthenticated:
		if st.Message() == "refresh token reused; session revoked" {
			return auth.ErrTokenReuse
		}
		return fmt.Errorf("%w: %s", user.ErrUnauthenticated, st.Message())
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %s", user.ErrInvalidInput, st.Message())
	case codes.Canceled:
		return context.Canceled
	default:
		return fmt.Errorf("%w: auth service: %s: %s", user.ErrUnavailable, st.Code(), st.Message())
	}
}

// HashPassword implements the Authenticator.
func (c *Client) HashPassword(ctx context.Context, pw string) (string, error) {
	r, err := call(ctx, c, true, c.cfg.HashTimeout, func(ctx context.Context) (*authpb.HashPasswordResponse, error) {
		return c.rpc.HashPassword(ctx, &authpb.HashPasswordRequest{Password: pw})
	})
	if err != nil {
		return "", err
	}
	return r.GetHash(), nil
}

// CheckPassword implements the Authenticator.
func (c *Client) CheckPassword(ctx context.Context, hash, pw string) error {
	r, err := call(ctx, c, true, c.cfg.HashTimeout, func(ctx context.Context) (*authpb.CheckPasswordResponse, error) {
		return c.rpc.CheckPassword(ctx, &authpb.CheckPasswordRequest{Hash: hash, Password: pw})
	})
	if err != nil {
		return err
	}
	if !r.GetMatch() {
		return user.ErrInvalidCredentials
	}
	return nil
}

// Issue implements the Authenticator. Issuing twice only mints two valid pairs, so it retries.
func (c *Client) Issue(ctx context.Context, id user.ID, role rbac.Role, version int64, family string) (auth.TokenPair, error) {
	r, err := call(ctx, c, true, c.cfg.Timeout, func(ctx context.Context) (*authpb.TokenPair, error) {
		return c.rpc.Issue(ctx, &authpb.IssueRequest{UserId: int64(id), Role: string(role), Family: family, TokenVersion: version})
	})
	if err != nil {
		return auth.TokenPair{}, err
	}
	return auth.TokenPair{Access: r.GetAccess(), Refresh: r.GetRefresh(), AccessExpires: unix(r.GetAccessExpiresUnix())}, nil
}

// Redeem implements the Authenticator. Never retried: if the first attempt spent the token and
// only the answer was lost, a retry would look like reuse and revoke the user's session.
func (c *Client) Redeem(ctx context.Context, refresh string) (auth.Grant, error) {
	r, err := call(ctx, c, false, c.cfg.Timeout, func(ctx context.Context) (*authpb.Grant, error) {
		return c.rpc.Redeem(ctx, &authpb.RedeemRequest{Refresh: refresh})
	})
	if err != nil {
		return auth.Grant{}, err
	}
	return auth.Grant{UserID: user.ID(r.GetUserId()), Family: r.GetFamily(), Version: r.GetTokenVersion()}, nil
}

// Verify implements the Authenticator.
func (c *Client) Verify(ctx context.Context, access string) (auth.Identity, error) {
	r, err := call(ctx, c, true, c.cfg.Timeout, func(ctx context.Context) (*authpb.Identity, error) {
		return c.rpc.Verify(ctx, &authpb.VerifyRequest{Access: access})
	})
	if err != nil {
		return auth.Identity{}, err
	}
	role, err := rbac.ParseRole(r.GetRole())
	if err != nil {
		return auth.Identity{}, fmt.Errorf("%w: %w", user.ErrUnauthenticated, err)
	}
	return auth.Identity{UserID: user.ID(r.GetUserId()), Role: role, TokenID: r.GetTokenId(), Family: r.GetFamily(), Expires: unix(r.GetExpiresUnix()), Version: r.GetTokenVersion()}, nil
}

// Revoke implements the Authenticator.
func (c *Client) Revoke(ctx context.Context, access string) error {
	_, err := call(ctx, c, true, c.cfg.Timeout, func(ctx context.Context) (*authpb.RevokeResponse, error) {
		return c.rpc.Revoke(ctx, &authpb.RevokeRequest{Access: access})
	})
	return err
}
