package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kind distinguishes access from refresh tokens, so one can never be used as the other.
type Kind string

// Token kinds.
const (
	Access  Kind = "access"
	Refresh Kind = "refresh"
)

// ErrInvalid wraps every reason a token is refused; the reason is in the message, for logs only.
var ErrInvalid = errors.New("invalid token")

// Claims are the registered claims plus the service's own.
type Claims struct {
	jwt.RegisteredClaims
	Role   string `json:"role"`
	Kind   Kind   `json:"typ"`
	Family string `json:"fam,omitempty"` // refresh tokens: the rotation family, revoked as a whole on reuse
	// Version is the account's token version when the token was issued. A role change bumps
	// the stored version, which revokes every token issued before it.
	Version int64 `json:"ver"`
}

// Config fixes what every token must carry.
type Config struct {
	Issuer     string
	Audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	Leeway     time.Duration
	Now        func() time.Time // for tests; nil means time.Now
}

// DefaultConfig is what the service runs with.
func DefaultConfig() Config {
	return Config{Issuer: "lab-3-auth", Audience: "lab-3-users", AccessTTL: 15 * time.Minute, RefreshTTL: 7 * 24 * time.Hour, Leeway: 5 * time.Second}
}

// Issuer signs and verifies tokens.
type Issuer struct {
	keys   *KeySet
	cfg    Config
	parser *jwt.Parser
}

// NewIssuer returns an Issuer. The accepted algorithm is fixed to EdDSA: the header's alg is never
// trusted to choose the verification method (that is how alg=none and key confusion work).
func NewIssuer(keys *KeySet, cfg Config) *Issuer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	)
	return &Issuer{keys: keys, cfg: cfg, parser: p}
}

// Keys returns the key set, for rotation.
func (i *Issuer) Keys() *KeySet { return i.keys }

// Config returns the issuer's configuration.
func (i *Issuer) Config() Config { return i.cfg }

// Issue signs a token of kind for subject at the account's token version. family is required
// for refresh tokens.
func (i *Issuer) Issue(kind Kind, subject, role, family string, version int64) (string, Claims, error) {
	ttl := i.cfg.AccessTTL
	if kind == Refresh {
		ttl = i.cfg.RefreshTTL
		if family == "" {
			return "", Claims{}, errors.New("refresh token needs a family")
		}
	}
	now := i.cfg.Now()
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.cfg.Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{i.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomID(),
		},
		Role:    role,
		Kind:    kind,
		Family:  family,
		Version: version,
	}
	kid, key := i.keys.signing()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = kid
	s, err := t.SignedString(key)
	if err != nil {
		return "", Claims{}, fmt.Errorf("sign: %w", err)
	}
	return s, c, nil
}

// NewFamily returns a fresh refresh-token family id.
func NewFamily() string { return randomID() }

// Parse verifies signature, algorithm, kid, issuer, audience, expiry and kind.
func (i *Issuer) Parse(raw string, want Kind) (Claims, error) {
	if len(raw) > 4096 {
		return Claims{}, fmt.Errorf("%w: longer than 4096 bytes", ErrInvalid)
	}
	var c Claims
	_, err := i.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("missing kid")
		}
		pub, ok := i.keys.public(kid)
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return pub, nil
	})
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Kind != want {
		return Claims{}, fmt.Errorf("%w: kind %q, want %q", ErrInvalid, c.Kind, want)
	}
	if c.Subject == "" || c.ID == "" {
		return Claims{}, fmt.Errorf("%w: missing sub or jti", ErrInvalid)
	}
	if want == Refresh && c.Family == "" {
		return Claims{}, fmt.Errorf("%w: refresh token without family", ErrInvalid)
	}
	return c, nil
}
