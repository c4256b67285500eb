package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

func newIssuer(t *testing.T, now func() time.Time) *Issuer {
	t.Helper()
	ks, err := GenerateKeySet("k1")
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.Now = now
	return NewIssuer(ks, cfg)
}

func TestIssueParse(t *testing.T) {
	iss := newIssuer(t, nil)
	raw, c, err := iss.Issue(Access, "42", "user", "", 0)
	require.NoError(t, err)
	got, err := iss.Parse(raw, Access)
	require.NoError(t, err)
	require.Equal(t, c.ID, got.ID)
	require.Equal(t, "42", got.Subject)

	_, err = iss.Parse(raw, Refresh)
	require.ErrorIs(t, err, ErrInvalid, "an access token is not a refresh token")
}

func TestRotation(t *testing.T) {
	iss := newIssuer(t, nil)
	old, _, err := iss.Issue(Access, "1", "user", "", 0)
	require.NoError(t, err)
	k2, _ := GenerateKeySet("k2")
	_, priv := k2.signing()
	require.NoError(t, iss.Keys().Rotate("k2", priv))
	fresh, _, err := iss.Issue(Access, "1", "user", "", 0)
	require.NoError(t, err)
	hdr, _, _ := strings.Cut(fresh, ".")
	b, _ := base64.RawURLEncoding.DecodeString(hdr)
	require.Contains(t, string(b), `"kid":"k2"`)
	_, err = iss.Parse(old, Access)
	require.NoError(t, err, "tokens signed by the previous key stay valid until it is retired")
	require.Error(t, iss.Keys().Retire("k2"))
	require.NoError(t, iss.Keys().Retire("k1"))
	_, err = iss.Parse(old, Access)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = iss.Parse(fresh, Access)
	require.NoError(t, err)
}

func TestParseRejects(t *testing.T) {
	now := time.Now()
	iss := newIssuer(t, func() time.Time { return now })
	good, claims, err := iss.Issue(Access, "7", "user", "", 0)
	require.NoError(t, err)
	_, priv := iss.Keys().signing()
	pub := priv.Public().(ed25519.PublicKey)

	sign := func(m jwt.SigningMethod, key any, mutate func(*Claims), kid string) string {
		c := claims
		if mutate != nil {
			mutate(&c)
		}
		tk := jwt.NewWithClaims(m, c)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(key)
		require.NoError(t, err)
		return s
	}
	parts := strings.Split(good, ".")
	tamperedPayload := func() string {
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		b = []byte(strings.Replace(string(b), `"role":"user"`, `"role":"admin"`, 1))
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	}()
	other, _ := GenerateKeySet("k1")
	_, otherKey := other.signing()

	cases := map[string]string{
		"alg none": sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, "k1"),
		"key confusion HS256 with the public key": sign(jwt.SigningMethodHS256, []byte(pub), nil, "k1"),
		"expired":          sign(jwt.SigningMethodEdDSA, priv, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }, "k1"),
		"no expiry":        sign(jwt.SigningMethodEdDSA, priv, func(c *Claims) { c.ExpiresAt = nil }, "k1"),
		"wrong audience":   sign(jwt.SigningMethodEdDSA, priv, func(c *Claims) { c.Audience = jwt.ClaimStrings{"other"} }, "k1"),
		"wrong issuer":     sign(jwt.SigningMethodEdDSA, priv, func(c *Claims) { c.Issuer = "evil" }, "k1"),
		"not yet valid":    sign(jwt.SigningMethodEdDSA, priv, func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }, "k1"),
		"missing kid":      sign(jwt.SigningMethodEdDSA, priv, nil, ""),
		"unknown kid":      sign(jwt.SigningMethodEdDSA, priv, nil, "k9"),
		"foreign key":      sign(jwt.SigningMethodEdDSA, otherKey, nil, "k1"),
		"tampered payload": tamperedPayload,
		"garbage":          "not.a.jwt",
		"empty":            "",
		"oversized":        strings.Repeat("a", 5000),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := iss.Parse(raw, Access)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestParseKeys(t *testing.T) {
	ks, _ := GenerateKeySet("a")
	_, k := ks.signing()
	spec := EncodeSeed("a", k) + "," + EncodeSeed("b", k)
	got, err := ParseKeys(spec)
	require.NoError(t, err)
	kid, _ := got.signing()
	require.Equal(t, "a", kid)
	for _, bad := range []string{"", "nokid", "x:!!!", "x:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := ParseKeys(bad)
		require.Error(t, err, bad)
	}
	_, gen, err := LoadKeys("", "")
	require.NoError(t, err)
	require.True(t, gen)
}

func FuzzParse(f *testing.F) {
	ks, _ := GenerateKeySet("k1")
	iss := NewIssuer(ks, DefaultConfig())
	good, _, _ := iss.Issue(Access, "1", "user", "", 0)
	for _, s := range []string{good, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = iss.Parse(raw, Access)
	})
}
