package revocation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMemoryExpiry is what the shared contract (contract_test.go) cannot see: expiry on the
// store's own clock.
func TestMemoryExpiry(t *testing.T) {
	m := NewMemory()
	now := time.Unix(0, 0)
	m.now = func() time.Time { return now }
	require.NoError(t, m.Revoke(context.Background(), "k", time.Second))
	now = now.Add(2 * time.Second)
	revoked, _ := m.Revoked(context.Background(), "k")
	require.False(t, revoked, "entries expire with the token they describe")
	first, _ := m.Claim(context.Background(), "k", time.Second)
	require.True(t, first)
}
