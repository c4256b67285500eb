// Package password hashes and verifies passwords with argon2id (the default) and bcrypt (accepted
// for verification, so hashes from an older system keep working and can be upgraded on login).
//
// The cost is a deliberate trade-off: every login pays it, and so does every guess an attacker
// makes against a stolen hash. OWASP's argon2id floor (19 MiB, 2 passes, 1 lane) costs a login
// tens of milliseconds of one core; that bounds login throughput per core, which is why login is
// rate limited and why the auth module can run as its own process.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password does not match")

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams is OWASP's minimum recommendation for argon2id.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// TestParams are cheap parameters for tests only: they make brute force cheap too.
func TestParams() Params {
	return Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Hasher hashes with argon2id and verifies argon2id or bcrypt hashes.
type Hasher struct {
	params Params
}

// New returns a Hasher with the given parameters.
func New(p Params) *Hasher { return &Hasher{params: p} }

// Hash returns a PHC-formatted argon2id hash of password.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify checks password against an argon2id or bcrypt hash in constant time.
func (h *Hasher) Verify(hash, password string) error {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		return verifyArgon2id(hash, password)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
			if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
				return ErrMismatch
			}
			return fmt.Errorf("bcrypt: %w", err)
		}
		return nil
	default:
		return errors.New("unknown hash format: expected $argon2id$ or $2a$/$2b$/$2y$ (bcrypt)")
	}
}

// NeedsRehash reports whether hash was made with other parameters or algorithm than h uses.
func (h *Hasher) NeedsRehash(hash string) bool {
	p := h.params
	prefix := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, p.Memory, p.Time, p.Threads)
	return !strings.HasPrefix(hash, prefix)
}

// Bcrypt hashes with bcrypt at cost; offered for comparison benchmarks and legacy imports.
func Bcrypt(password string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(b), nil
}

func verifyArgon2id(hash, password string) error {
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 {
		return errors.New("malformed argon2id hash: expected 6 $-separated fields")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fmt.Errorf("unsupported argon2id version %q: expected v=%d", parts[2], argon2.Version)
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return fmt.Errorf("malformed argon2id parameters %q: %w", parts[3], err)
	}
	if p.Memory == 0 || p.Memory > 256*1024 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return fmt.Errorf("argon2id parameters out of range: %q", parts[3])
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("malformed argon2id salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 1024 {
		return errors.New("malformed argon2id key")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
