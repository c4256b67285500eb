package rbac

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMatrix spells out every cell of the policy, so any change to it is a visible diff here.
func TestMatrix(t *testing.T) {
	want := map[Role]map[Permission]bool{
		RoleUser:    {PermProfileRead: true, PermProfileWrite: true, PermUsersList: false, PermUsersRead: false, PermRolesWrite: false, PermReportsRead: false},
		RoleSupport: {PermProfileRead: true, PermProfileWrite: true, PermUsersList: true, PermUsersRead: true, PermRolesWrite: false, PermReportsRead: true},
		RoleAdmin:   {PermProfileRead: true, PermProfileWrite: true, PermUsersList: true, PermUsersRead: true, PermRolesWrite: true, PermReportsRead: true},
	}
	m := DefaultMatrix()
	for _, r := range Roles {
		for _, p := range Permissions {
			require.Equal(t, want[r][p], m.Allowed(r, p), "%s %s", r, p)
		}
	}
	require.False(t, m.Allowed("root", PermProfileRead), "unknown roles are denied")
	require.False(t, m.Allowed(RoleAdmin, "users:delete"), "unknown permissions are denied")
}

func TestParseRole(t *testing.T) {
	r, err := ParseRole("admin")
	require.NoError(t, err)
	require.Equal(t, RoleAdmin, r)
	_, err = ParseRole("Admin")
	require.Error(t, err)
}
