// Package retry retries failed calls with capped, jittered exponential backoff, bounded by a retry
// budget. Retries alone are dangerous: when a dependency fails because it is overloaded, every
// client retrying N times multiplies its load by up to N+1 and keeps it down (a retry storm). The
// budget caps retries at a fraction of first attempts across all callers, so the extra load a
// sick dependency sees is bounded (Finagle's RetryBudget, gRPC's retry throttling). Pair it with a
// circuit breaker, which stops first attempts too.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrBudgetExhausted wraps the last error when a retry was wanted but the budget said no.
var ErrBudgetExhausted = errors.New("retry: budget exhausted")

// Budget allows retries as a fraction of first attempts: each first attempt deposits Ratio tokens
// (up to Max), each retry withdraws one. Safe for concurrent use.
type Budget struct {
	mu     sync.Mutex
	ratio  float64
	max    float64
	tokens float64
}

// NewBudget returns a budget allowing about ratio retries per first attempt, saving up at most
// maxTokens retries. It starts with maxTokens so a fresh client can ride out one blip.
func NewBudget(ratio float64, maxTokens int) (*Budget, error) {
	if !(ratio >= 0 && ratio <= 1) {
		return nil, fmt.Errorf("retry: budget ratio must be in [0, 1], got %v", ratio)
	}
	if maxTokens < 0 {
		return nil, fmt.Errorf("retry: budget max tokens must not be negative, got %d", maxTokens)
	}
	return &Budget{ratio: ratio, max: float64(maxTokens), tokens: float64(maxTokens)}, nil
}

// Deposit records one first attempt.
func (b *Budget) Deposit() {
	b.mu.Lock()
	b.tokens = math.Min(b.max, b.tokens+b.ratio)
	b.mu.Unlock()
}

// Withdraw takes one retry from the budget if there is one.
func (b *Budget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens >= 1-1e-9 { // ten deposits of 0.1 sum to 0.9999999999999999
		b.tokens--
		return true
	}
	return false
}

// Policy says how to retry. The zero value makes a single attempt.
type Policy struct {
	MaxAttempts int           // attempts in total, first included (values below 1 mean 1)
	BaseDelay   time.Duration // backoff before the first retry; doubles each time
	MaxDelay    time.Duration // cap on one backoff (0: no cap)
	Budget      *Budget       // nil: no budget, every failed attempt may retry (the dangerous setting)
	Retryable   func(error) bool
	Rand        func() float64 // jitter source in [0,1); math/rand/v2 when nil
}

// Do calls fn until it succeeds, the error is not retryable, attempts run out, the budget refuses
// or ctx is done. It returns the number of attempts made and the last error.
func (p Policy) Do(ctx context.Context, fn func(context.Context) error) (attempts int, err error) {
	maxAttempts := max(p.MaxAttempts, 1)
	if p.Budget != nil {
		p.Budget.Deposit()
	}
	for attempts = 1; ; attempts++ {
		err = fn(ctx)
		if err == nil || attempts >= maxAttempts || (p.Retryable != nil && !p.Retryable(err)) {
			return attempts, err
		}
		if ctx.Err() != nil {
			return attempts, err
		}
		if p.Budget != nil && !p.Budget.Withdraw() {
			return attempts, fmt.Errorf("%w: %w", ErrBudgetExhausted, err)
		}
		if d := p.backoff(attempts); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return attempts, err
			}
		}
	}
}

// backoff is "full jitter": uniform in [0, min(cap, base*2^(n-1))).
func (p Policy) backoff(n int) time.Duration {
	if p.BaseDelay <= 0 {
		return 0
	}
	d := float64(p.BaseDelay) * math.Pow(2, float64(n-1))
	if p.MaxDelay > 0 {
		d = math.Min(d, float64(p.MaxDelay))
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	return time.Duration(d * r())
}
