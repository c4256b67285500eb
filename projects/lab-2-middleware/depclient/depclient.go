// Package depclient is a client for a dependency that can fail. It is where the retry-storm fault
// lives:
//
//   - Defect: every failed call is retried at once, up to MaxAttempts, with nothing watching the
//     dependency's health. When the dependency is overloaded, its calls time out, and each request
//     turns into MaxAttempts calls: the load on a slow dependency is multiplied exactly when it can
//     least take it, and it stays overloaded after whatever slowed it down has passed.
//   - Fix: a circuit breaker (fail fast while the dependency keeps failing, probe it now and then)
//     and a retry budget (retries at most a fraction of first attempts), with full-jitter backoff.
package depclient

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/breaker"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/retry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/store"
)

// Config tunes a Client.
type Config struct {
	MaxAttempts int
	// Guarded selects the fixed path: breaker + retry budget + backoff. Without it the client
	// retries immediately up to MaxAttempts (the fault).
	Guarded     bool
	Breaker     breaker.Config
	BudgetRatio float64
	BaseDelay   time.Duration
	// AttemptTimeout bounds each call (0: only the caller's context does). A caller that gives up
	// does not take its request back from a remote server's queue.
	AttemptTimeout time.Duration
}

// Client counts what it does so the scenario can report attempts per request.
type Client struct {
	cfg      Config
	dep      store.Store
	breaker  *breaker.Breaker
	policy   retry.Policy
	requests atomic.Int64
	attempts atomic.Int64
}

// New returns a client of dep.
func New(dep store.Store, cfg Config) (*Client, error) {
	if cfg.MaxAttempts < 1 {
		return nil, fmt.Errorf("depclient: max attempts must be at least 1, got %d", cfg.MaxAttempts)
	}
	c := &Client{cfg: cfg, dep: dep}
	if cfg.Guarded {
		b, err := breaker.New(cfg.Breaker)
		if err != nil {
			return nil, fmt.Errorf("depclient: %w", err)
		}
		budget, err := retry.NewBudget(cfg.BudgetRatio, 10)
		if err != nil {
			return nil, fmt.Errorf("depclient: %w", err)
		}
		c.breaker = b
		c.policy = retry.Policy{
			MaxAttempts: cfg.MaxAttempts,
			BaseDelay:   cfg.BaseDelay,
			MaxDelay:    20 * cfg.BaseDelay,
			Budget:      budget,
			// Do not retry a refusal by our own breaker: the dependency was not even called.
			Retryable: func(err error) bool {
				return !errors.Is(err, breaker.ErrOpen) && !errors.Is(err, breaker.ErrTooManyProbes)
			},
		}
	}
	return c, nil
}

// Get reads key from the dependency.
func (c *Client) Get(ctx context.Context, key string) (string, error) {
	c.requests.Add(1)
	if c.cfg.Guarded {
		return c.getGuarded(ctx, key)
	}
	return c.getRetrying(ctx, key)
}

// getRetrying retries every failure immediately, however the dependency is doing.
func (c *Client) getRetrying(ctx context.Context, key string) (string, error) {
	var err error
	for range c.cfg.MaxAttempts {
		var v string
		if v, err = c.attempt(ctx, key); err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("depclient: get %q: %w", key, err)
}

// getGuarded goes through the breaker, retrying within the budget with backoff.
func (c *Client) getGuarded(ctx context.Context, key string) (string, error) {
	// exercise:begin retry-storm
	var v string
	_, err := c.policy.Do(ctx, func(ctx context.Context) error {
		return c.breaker.Execute(ctx, func(ctx context.Context) error {
			var err error
			v, err = c.attempt(ctx, key)
			return err
		})
	})
	if err != nil {
		return "", fmt.Errorf("depclient: get %q: %w", key, err)
	}
	return v, nil
	// exercise:stub
	// return c.getRetrying(ctx, key)
	// exercise:end
}

// attempt is one call to the dependency, within AttemptTimeout.
func (c *Client) attempt(ctx context.Context, key string) (string, error) {
	c.attempts.Add(1)
	if c.cfg.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.AttemptTimeout)
		defer cancel()
	}
	return c.dep.Get(ctx, key)
}

// Requests is the number of Get calls.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Attempts is the number of calls that reached the dependency.
func (c *Client) Attempts() int64 { return c.attempts.Load() }

// BreakerState is the breaker's state (Closed when unguarded).
func (c *Client) BreakerState() breaker.State {
	if c.breaker == nil {
		return breaker.Closed
	}
	return c.breaker.State()
}
