// Package rbac is the role-based access control policy: roles, permissions and the matrix that
// joins them. The HTTP middleware asks Allowed before a handler runs; the matrix is the single
// source of truth and is tested cell by cell.
package rbac

import "fmt"

// Role is a user's role.
type Role string

// The roles, from least to most privileged.
const (
	RoleUser    Role = "user"
	RoleSupport Role = "support"
	RoleAdmin   Role = "admin"
)

// Roles lists every role, for validation and for the matrix test.
var Roles = []Role{RoleUser, RoleSupport, RoleAdmin}

// Permission is an action on a resource.
type Permission string

// The permissions the API checks.
const (
	PermProfileRead  Permission = "profile:read"
	PermProfileWrite Permission = "profile:write"
	PermUsersList    Permission = "users:list"
	PermUsersRead    Permission = "users:read"
	PermRolesWrite   Permission = "roles:write"
	PermReportsRead  Permission = "reports:read"
)

// Permissions lists every permission.
var Permissions = []Permission{PermProfileRead, PermProfileWrite, PermUsersList, PermUsersRead, PermRolesWrite, PermReportsRead}

// Matrix maps a role to the permissions it holds. Deny is the default: a role or permission
// missing from the matrix is refused.
type Matrix map[Role]map[Permission]bool

// DefaultMatrix is the policy the service enforces.
func DefaultMatrix() Matrix {
	return Matrix{
		RoleUser: {
			PermProfileRead:  true,
			PermProfileWrite: true,
		},
		RoleSupport: {
			PermProfileRead:  true,
			PermProfileWrite: true,
			PermUsersList:    true,
			PermUsersRead:    true,
			PermReportsRead:  true,
		},
		RoleAdmin: {
			PermProfileRead:  true,
			PermProfileWrite: true,
			PermUsersList:    true,
			PermUsersRead:    true,
			PermRolesWrite:   true,
			PermReportsRead:  true,
		},
	}
}

// Allowed reports whether role holds perm.
func (m Matrix) Allowed(role Role, perm Permission) bool {
	return m[role][perm]
}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q: expected one of user, support, admin", s)
}
