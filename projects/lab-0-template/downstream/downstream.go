// Package downstream simulates the dependency behind /api/v1/work (a
// database or another service). Its latency is the dependency's, not a
// defect of the code under study: the lab needs requests that stay in flight
// for a while, so a shutdown has something to drain.
package downstream

import (
	"context"
	"fmt"
	"time"
)

// Simulated answers after Latency, or earlier with the context's error.
type Simulated struct {
	Latency time.Duration
}

// Fetch waits for the dependency, honouring cancellation.
func (s Simulated) Fetch(ctx context.Context, key string) (string, error) {
	t := time.NewTimer(s.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return "value-of-" + key, nil
	case <-ctx.Done():
		return "", fmt.Errorf("downstream: fetch %s: %w", key, ctx.Err())
	}
}
