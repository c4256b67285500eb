// Package auth is the authentication module: it owns password hashing, token issue and
// verification, refresh-token rotation with reuse detection, and revocation. The user service
// reaches it through an interface, so the same module runs in-process (modular monolith) or
// behind gRPC in its own process (cmd/authd) without the handlers noticing.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// ErrTokenReuse means a refresh token was presented twice: someone holds a copy. The whole
// family (every token descended from the same login) has been revoked.
var ErrTokenReuse = fmt.Errorf("%w: refresh token reused; session revoked", user.ErrUnauthenticated)

// TokenPair is what a login or refresh returns.
type TokenPair struct {
	Access        string
	Refresh       string
	AccessExpires time.Time
}

// Identity is what a verified access token says.
type Identity struct {
	UserID  user.ID
	Role    rbac.Role
	TokenID string
	Family  string
	Expires time.Time
	// Version is the account's token version the token was issued at; the service compares it
	// with the stored one, so a role change revokes older tokens.
	Version int64
}

// Grant is what redeeming a refresh token yields: who it was for and which family continues.
type Grant struct {
	UserID  user.ID
	Family  string
	Version int64 // the token version the refresh token was issued at
}

// Module is the in-process auth module.
type Module struct {
	hasher *password.Hasher
	issuer *token.Issuer
	store  revocation.Store
}

// New returns a Module.
func New(h *password.Hasher, iss *token.Issuer, store revocation.Store) *Module {
	return &Module{hasher: h, issuer: iss, store: store}
}

// HashPassword hashes a new password.
func (m *Module) HashPassword(_ context.Context, pw string) (string, error) {
	return m.hasher.Hash(pw)
}

// CheckPassword returns user.ErrInvalidCredentials when pw does not match hash.
func (m *Module) CheckPassword(_ context.Context, hash, pw string) error {
	if err := m.hasher.Verify(hash, pw); err != nil {
		if errors.Is(err, password.ErrMismatch) {
			return user.ErrInvalidCredentials
		}
		return fmt.Errorf("verify password: %w", err)
	}
	return nil
}

// Issue signs an access and a refresh token at the account's token version. An empty family
// starts a new session.
func (m *Module) Issue(_ context.Context, id user.ID, role rbac.Role, version int64, family string) (TokenPair, error) {
	if family == "" {
		family = token.NewFamily()
	}
	sub := strconv.FormatInt(int64(id), 10)
	access, ac, err := m.issuer.Issue(token.Access, sub, string(role), family, version)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, _, err := m.issuer.Issue(token.Refresh, sub, string(role), family, version)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{Access: access, Refresh: refresh, AccessExpires: ac.ExpiresAt.Time}, nil
}

// Redeem consumes a refresh token exactly once. A second presentation revokes its family.
func (m *Module) Redeem(ctx context.Context, refresh string) (Grant, error) {
	c, err := m.issuer.Parse(refresh, token.Refresh)
	if err != nil {
		return Grant{}, fmt.Errorf("%w: %w", user.ErrUnauthenticated, err)
	}
	ttl := time.Until(c.ExpiresAt.Time)
	revoked, err := m.store.Revoked(ctx, "fam:"+c.Family)
	if err != nil {
		return Grant{}, fmt.Errorf("%w: %w", user.ErrUnavailable, err)
	}
	if revoked {
		return Grant{}, fmt.Errorf("%w: session revoked", user.ErrUnauthenticated)
	}
	first, err := m.store.Claim(ctx, "jti:"+c.ID, ttl)
	if err != nil {
		return Grant{}, fmt.Errorf("%w: %w", user.ErrUnavailable, err)
	}
	if !first {
		if err := m.store.Revoke(ctx, "fam:"+c.Family, m.issuer.Config().RefreshTTL); err != nil {
			return Grant{}, fmt.Errorf("%w: %w", user.ErrUnavailable, err)
		}
		return Grant{}, ErrTokenReuse
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return Grant{}, fmt.Errorf("%w: bad subject", user.ErrUnauthenticated)
	}
	return Grant{UserID: user.ID(id), Family: c.Family, Version: c.Version}, nil
}

// Verify checks an access token and that neither it nor its session has been revoked.
func (m *Module) Verify(ctx context.Context, access string) (Identity, error) {
	c, err := m.issuer.Parse(access, token.Access)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", user.ErrUnauthenticated, err)
	}
	for _, key := range []string{"jti:" + c.ID, "fam:" + c.Family} {
		revoked, err := m.store.Revoked(ctx, key)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: %w", user.ErrUnavailable, err)
		}
		if revoked {
			return Identity{}, fmt.Errorf("%w: token revoked", user.ErrUnauthenticated)
		}
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: bad subject", user.ErrUnauthenticated)
	}
	role, err := rbac.ParseRole(c.Role)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", user.ErrUnauthenticated, err)
	}
	return Identity{UserID: user.ID(id), Role: role, TokenID: c.ID, Family: c.Family, Expires: c.ExpiresAt.Time, Version: c.Version}, nil
}

// Revoke ends the session an access token belongs to: the token itself and its whole family, so
// the refresh token that came with it stops working too.
func (m *Module) Revoke(ctx context.Context, access string) error {
	id, err := m.Verify(ctx, access)
	if err != nil {
		return err
	}
	if err := m.store.Revoke(ctx, "jti:"+id.TokenID, time.Until(id.Expires)+time.Minute); err != nil {
		return fmt.Errorf("%w: %w", user.ErrUnavailable, err)
	}
	if err := m.store.Revoke(ctx, "fam:"+id.Family, m.issuer.Config().RefreshTTL); err != nil {
		return fmt.Errorf("%w: %w", user.ErrUnavailable, err)
	}
	return nil
}
