// Package revocationtest holds the contract every revocation.Store meets, so each implementation
// (in-process, Redis, the SQL store) runs the same checks instead of a copy of them.
package revocationtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
)

// Contract checks s on keys jti:a and fam:x, which must be unused.
func Contract(t *testing.T, s revocation.Store) {
	t.Helper()
	ctx := context.Background()
	first, err := s.Claim(ctx, "jti:a", time.Minute)
	require.NoError(t, err)
	require.True(t, first)
	first, err = s.Claim(ctx, "jti:a", time.Minute)
	require.NoError(t, err)
	require.False(t, first, "a second claim is a reuse")
	revoked, err := s.Revoked(ctx, "jti:a")
	require.NoError(t, err)
	require.True(t, revoked, "a claimed token counts as used")

	revoked, err = s.Revoked(ctx, "fam:x")
	require.NoError(t, err)
	require.False(t, revoked)
	require.NoError(t, s.Revoke(ctx, "fam:x", time.Minute))
	revoked, err = s.Revoked(ctx, "fam:x")
	require.NoError(t, err)
	require.True(t, revoked)
}
