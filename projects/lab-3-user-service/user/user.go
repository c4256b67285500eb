// Package user holds the domain types of the user service. Nothing here knows about HTTP, gRPC
// or SQL: handlers, the service layer and the repositories all speak these types.
package user

import (
	"errors"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
)

// ID identifies a user.
type ID int64

// User is a registered account.
type User struct {
	ID           ID
	Email        string
	Name         string
	Department   string
	Role         rbac.Role
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// TokenVersion is bumped by every role change; tokens issued at an older version are void.
	TokenVersion int64
}

// Domain errors. The transport layer maps them to status codes; repositories wrap driver errors
// into them so callers never inspect SQL error codes.
var (
	ErrNotFound           = errors.New("user not found")
	ErrEmailTaken         = errors.New("email already registered")
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrForbidden          = errors.New("forbidden")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrRateLimited        = errors.New("too many attempts")
	ErrUnavailable        = errors.New("dependency unavailable")
	ErrInvalidInput       = errors.New("invalid input")
)

// FieldError is invalid input in one named field; it is an ErrInvalidInput, and the transport
// layer names the field in its answer.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *FieldError) Unwrap() error { return ErrInvalidInput }

// ListQuery selects a page of users. Department is optional; After is the keyset cursor (the last
// ID of the previous page), which keeps deep pages as cheap as the first one.
type ListQuery struct {
	Department string
	After      ID
	Limit      int
}

// Page is one page of a listing. Next is zero when there are no more rows.
type Page struct {
	Users []User
	Next  ID
}

// ProfileUpdate carries the fields a user may change on their own profile. Nil means unchanged.
type ProfileUpdate struct {
	Name       *string
	Department *string
}

// DepartmentCount is one row of the department report.
type DepartmentCount struct {
	Department string
	Users      int64
	Admins     int64
}
