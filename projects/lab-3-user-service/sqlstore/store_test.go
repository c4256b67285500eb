package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation/revocationtest"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func scratch(t *testing.T, d Dialect) *Store {
	t.Helper()
	s, cleanup, err := OpenScratch(context.Background(), Config{Dialect: d, DSN: dsnFor(t, d), Pool: DefaultPool()})
	require.NoError(t, err)
	t.Cleanup(cleanup)
	return s
}

func TestRepository(t *testing.T) { testRepository(t, SQLite) }

func testRepository(t *testing.T, d Dialect) {
	ctx := context.Background()
	s := scratch(t, d)
	require.NoError(t, s.Migrate(ctx), "migrating twice is a no-op")
	a, err := s.Create(ctx, user.User{Email: "a@example.com", PasswordHash: "h", Name: "A", Department: "security", Role: rbac.RoleUser})
	require.NoError(t, err)
	require.NotZero(t, a.ID)
	_, err = s.Create(ctx, user.User{Email: "a@example.com", PasswordHash: "h", Name: "A2", Role: rbac.RoleUser})
	require.ErrorIs(t, err, user.ErrEmailTaken)

	got, err := s.ByEmail(ctx, "a@example.com")
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID)
	require.Equal(t, "security", got.Department)
	_, err = s.ByID(ctx, 999999)
	require.ErrorIs(t, err, user.ErrNotFound)

	name := "Alice"
	u, err := s.UpdateProfile(ctx, a.ID, user.ProfileUpdate{Name: &name})
	require.NoError(t, err)
	require.Equal(t, "Alice", u.Name)
	u, err = s.SetRole(ctx, a.ID, rbac.RoleAdmin)
	require.NoError(t, err)
	require.Equal(t, rbac.RoleAdmin, u.Role)
	_, err = s.SetRole(ctx, 999999, rbac.RoleAdmin)
	require.ErrorIs(t, err, user.ErrNotFound)

	require.NoError(t, s.Seed(ctx, 250, 10, "h"))
	for _, nPlusOne := range []bool{false, true} {
		list := s.List
		if nPlusOne {
			list = s.ListNPlusOne
		}
		var all []user.User
		q := user.ListQuery{Department: "security", Limit: 7}
		for {
			p, err := list(ctx, q)
			require.NoError(t, err)
			all = append(all, p.Users...)
			if p.Next == 0 {
				break
			}
			q.After = p.Next
		}
		require.Len(t, all, 26, "25 seeded + Alice")
		for i := 1; i < len(all); i++ {
			require.Less(t, all[i-1].ID, all[i].ID)
		}
	}
	rep, err := s.DepartmentReport(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rep)
}

// TestExplain asserts the evidence the slow-request fault relies on: on a table big enough that
// the planner prefers an index when it can, the faulty statement cannot use it and the fixed one does.
func TestExplain(t *testing.T) { testExplain(t, SQLite) }

func testExplain(t *testing.T, d Dialect) {
	ctx := context.Background()
	s := scratch(t, d)
	require.NoError(t, s.Seed(ctx, 5000, 100, "h"))
	q := user.ListQuery{Department: "security", Limit: 50}
	fault, err := s.ExplainList(ctx, true, q)
	require.NoError(t, err)
	fixed, err := s.ExplainList(ctx, false, q)
	require.NoError(t, err)
	require.Contains(t, fixed, "idx_users_department_id", fixed)
	require.NotContains(t, fault, "idx_users_department_id", fault)
	t.Logf("fault plan:\n%s\nfixed plan:\n%s", fault, fixed)
}

func TestListSQLInjectionIsData(t *testing.T) {
	ctx := context.Background()
	s := scratch(t, SQLite)
	_, err := s.Create(ctx, user.User{Email: "x@example.com", PasswordHash: "h", Name: "x", Department: "ops", Role: rbac.RoleUser})
	require.NoError(t, err)
	for _, payload := range []string{"' OR '1'='1", "ops'; DROP TABLE users; --", `ops" OR 1=1 --`} {
		p, err := s.List(ctx, user.ListQuery{Department: payload, Limit: 10})
		require.NoError(t, err)
		require.Empty(t, p.Users)
	}
	_, err = s.ByEmail(ctx, "x@example.com")
	require.NoError(t, err, "the table survived")
}

func TestRevocations(t *testing.T) { testRevocations(t, SQLite) }

// testRevocations is the revocation.Store contract on SQL, plus what only SQL has to get right:
// expiry by comparison, no shortening, and the state outliving the connection pool.
func testRevocations(t *testing.T, d Dialect) {
	ctx := context.Background()
	s := scratch(t, d)
	revocationtest.Contract(t, s)

	require.NoError(t, s.Revoke(ctx, "fam:x", -time.Minute), "revoking again, shorter, does not shorten")
	revoked, err := s.Revoked(ctx, "fam:x")
	require.NoError(t, err)
	require.True(t, revoked)

	require.NoError(t, s.Revoke(ctx, "jti:old", -time.Second))
	revoked, err = s.Revoked(ctx, "jti:old")
	require.NoError(t, err)
	require.False(t, revoked, "an expired entry means nothing")
	first, err := s.Claim(ctx, "jti:old", time.Minute)
	require.NoError(t, err)
	require.True(t, first, "an expired entry can be claimed again")
}

func TestRoleChangeBumpsTokenVersion(t *testing.T) {
	ctx := context.Background()
	s := scratch(t, SQLite)
	u, err := s.Create(ctx, user.User{Email: "v@example.com", PasswordHash: "h", Name: "V", Role: rbac.RoleAdmin})
	require.NoError(t, err)
	got, err := s.SetRole(ctx, u.ID, rbac.RoleAdmin)
	require.NoError(t, err)
	require.Equal(t, u.TokenVersion, got.TokenVersion, "setting the same role changes nothing")
	got, err = s.SetRole(ctx, u.ID, rbac.RoleUser)
	require.NoError(t, err)
	require.Equal(t, u.TokenVersion+1, got.TokenVersion)
	require.Equal(t, rbac.RoleUser, got.Role)
	_, err = s.SetRole(ctx, 999999, rbac.RoleUser)
	require.ErrorIs(t, err, user.ErrNotFound)
}
