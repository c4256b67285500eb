package revocation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testStore is the contract every Store meets; the integration build runs it on Redis.
func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	first, err := s.Claim(ctx, "jti:a", time.Minute)
	require.NoError(t, err)
	require.True(t, first)
	first, err = s.Claim(ctx, "jti:a", time.Minute)
	require.NoError(t, err)
	require.False(t, first, "a second claim is a reuse")
	revoked, err := s.Revoked(ctx, "fam:x")
	require.NoError(t, err)
	require.False(t, revoked)
	require.NoError(t, s.Revoke(ctx, "fam:x", time.Minute))
	revoked, err = s.Revoked(ctx, "fam:x")
	require.NoError(t, err)
	require.True(t, revoked)
}

func TestMemory(t *testing.T) {
	testStore(t, NewMemory())

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
