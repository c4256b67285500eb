// Package ratelimit has two admission limiters and a gin middleware that uses either:
//
//   - TokenBucket: tokens refill at a steady rate up to a burst size. Refill is lazy: nothing ticks;
//     each call adds rate*elapsed tokens since the previous call, so an idle limiter costs nothing.
//   - SlidingWindow: the sliding-window counter (the approach Cloudflare and many API gateways use):
//     the previous fixed window's count, weighted by how much of it still overlaps the sliding
//     window, plus the current window's count.
//
// The token bucket shapes traffic (it can make a caller Wait); the window counter only admits or
// rejects, with a smaller state and a hard per-window bound.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrWouldExceedDeadline is returned by Wait when the token would come after ctx's deadline.
var ErrWouldExceedDeadline = errors.New("ratelimit: wait would exceed context deadline")

// TokenBucket is a token-bucket limiter, safe for concurrent use.
type TokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per nanosecond
	burst  float64
	tokens float64
	last   int64 // nanoseconds since base at the last refill
	base   time.Time
	now    func() time.Time
}

// Option configures a limiter.
type Option func(*clockOpt)

type clockOpt struct{ now func() time.Time }

// WithClock replaces time.Now, so tests can move time by hand.
func WithClock(now func() time.Time) Option { return func(o *clockOpt) { o.now = now } }

func clockFrom(opts []Option) func() time.Time {
	o := clockOpt{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o.now
}

// NewTokenBucket allows ratePerSec events per second on average and bursts of up to burst events.
// The bucket starts full.
func NewTokenBucket(ratePerSec float64, burst int, opts ...Option) (*TokenBucket, error) {
	if !(ratePerSec > 0) || math.IsInf(ratePerSec, 0) {
		return nil, fmt.Errorf("ratelimit: rate must be a positive finite number of events per second, got %v", ratePerSec)
	}
	if burst < 1 {
		return nil, fmt.Errorf("ratelimit: burst must be at least 1, got %d", burst)
	}
	now := clockFrom(opts)
	return &TokenBucket{
		rate:   ratePerSec / 1e9,
		burst:  float64(burst),
		tokens: float64(burst),
		base:   now(),
		now:    now,
	}, nil
}

// refill adds the tokens earned since the last call. Caller holds mu.
func (b *TokenBucket) refill() {
	t := int64(b.now().Sub(b.base))
	if t > b.last {
		b.tokens = math.Min(b.burst, b.tokens+float64(t-b.last)*b.rate)
		b.last = t
	}
}

// Allow takes one token if one is available.
func (b *TokenBucket) Allow() bool { return b.AllowN(1) }

// AllowN takes n tokens if n are available, all or nothing.
func (b *TokenBucket) AllowN(n int) bool {
	b.mu.Lock()
	b.refill()
	ok := b.tokens >= float64(n)
	if ok {
		b.tokens -= float64(n)
	}
	b.mu.Unlock()
	return ok
}

// Take is Allow that also says, on refusal, how long until a token is due (for Retry-After).
func (b *TokenBucket) Take() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / b.rate))
}

// Tokens returns the tokens available now.
func (b *TokenBucket) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	return b.tokens
}

// Wait blocks until a token is available or ctx is done. It reserves the token first (the balance
// may go negative), so concurrent waiters are served in the order they arrived and none starves.
// A waiter that gives up hands its token back.
func (b *TokenBucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	b.refill()
	b.tokens--
	if b.tokens >= 0 {
		b.mu.Unlock()
		return nil
	}
	wait := time.Duration(math.Ceil(-b.tokens / b.rate))
	if dl, ok := ctx.Deadline(); ok && b.now().Add(wait).After(dl) {
		b.tokens++
		b.mu.Unlock()
		return fmt.Errorf("%w: need %v", ErrWouldExceedDeadline, wait)
	}
	b.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		b.refill()
		b.tokens = math.Min(b.burst, b.tokens+1)
		b.mu.Unlock()
		return ctx.Err()
	}
}
