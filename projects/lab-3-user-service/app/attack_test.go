package app

// The attack suite: every attack here must be rejected, on the embedded database in `make test`
// and on MariaDB and PostgreSQL (with Redis) in `make test-integration`.

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
)

func TestAttacks(t *testing.T) { onEach(t, unitBackends(), attackSuite) }

func attackSuite(t *testing.T, b backend) {
	t.Run("jwt", func(t *testing.T) { attackJWT(t, b) })
	t.Run("refresh-reuse", func(t *testing.T) { attackRefreshReuse(t, b) })
	t.Run("rbac-escalation", func(t *testing.T) { attackEscalation(t, b) })
	t.Run("sql-injection", func(t *testing.T) { attackSQLInjection(t, b) })
	t.Run("malformed-json", func(t *testing.T) { attackMalformedJSON(t, b) })
	t.Run("brute-force", func(t *testing.T) { attackBruteForce(t, b) })
}

func attackJWT(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	id, access, refresh := h.register("victim@example.com", rbac.RoleUser)
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", "", access).Status)

	var claims token.Claims
	_, _, err := jwt.NewParser().ParseUnverified(access, &claims)
	require.NoError(t, err)
	key := h.key
	pub := key.Public().(ed25519.PublicKey)
	forge := func(m jwt.SigningMethod, k any, kid string, mutate func(*token.Claims)) string {
		c := claims
		c.ID = fmt.Sprintf("forged-%d", time.Now().UnixNano())
		if mutate != nil {
			mutate(&c)
		}
		tk := jwt.NewWithClaims(m, c)
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(k)
		require.NoError(t, err)
		return s
	}
	admin := func(c *token.Claims) { c.Role = string(rbac.RoleAdmin) }
	parts := strings.Split(access, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1))) + "." + parts[2]
	_, attackerKey, _ := ed25519.GenerateKey(nil)

	attacks := map[string]string{
		"alg=none":                          forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "test-1", admin),
		"wrong algorithm HS256 secret":      forge(jwt.SigningMethodHS256, []byte("secret"), "test-1", admin),
		"key confusion: HS256 with pubkey":  forge(jwt.SigningMethodHS256, []byte(pub), "test-1", admin),
		"key confusion: HS256 with b64 pub": forge(jwt.SigningMethodHS256, []byte(base64.StdEncoding.EncodeToString(pub)), "test-1", admin),
		"expired":                           forge(jwt.SigningMethodEdDSA, key, "test-1", func(c *token.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }),
		"wrong audience":                    forge(jwt.SigningMethodEdDSA, key, "test-1", func(c *token.Claims) { c.Audience = jwt.ClaimStrings{"another-service"} }),
		"wrong issuer":                      forge(jwt.SigningMethodEdDSA, key, "test-1", func(c *token.Claims) { c.Issuer = "evil" }),
		"tampered payload":                  tampered,
		"attacker's own Ed25519 key":        forge(jwt.SigningMethodEdDSA, attackerKey, "test-1", admin),
		"unknown kid":                       forge(jwt.SigningMethodEdDSA, attackerKey, "attacker", admin),
		"refresh token as access token":     refresh,
		"garbage":                           "abc.def.ghi",
	}
	for name, tok := range attacks {
		t.Run(name, func(t *testing.T) {
			r := h.do("GET", "/v1/me", "", tok)
			require.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
			require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/admin/users", "", tok).Status)
			require.NotContains(t, r.Raw, "signature", "the reason stays in the log")
		})
	}
	// Control: the same forging code with the real key and the real claims is accepted, so the
	// rejections above are about the attack, not about the forging helper.
	ok := forge(jwt.SigningMethodEdDSA, key, "test-1", nil)
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", "", ok).Status)
	_ = id
}

func attackRefreshReuse(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	_, access, r0 := h.register("reuse@example.com", rbac.RoleUser)
	first := h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r0}), "")
	require.Equal(t, http.StatusOK, first.Status)
	a1, r1 := first.str("access_token"), first.str("refresh_token")

	// The attacker replays the stolen, already-rotated token.
	replay := h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r0}), "")
	require.Equal(t, http.StatusUnauthorized, replay.Status)

	// Reuse revoked the whole family: the legitimate holder's newer tokens die too.
	require.Equal(t, http.StatusUnauthorized, h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r1}), "").Status)
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", a1).Status)
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", access).Status)
	// Logging in again starts a new family.
	a2, _ := h.login("reuse@example.com", "correct-horse-battery")
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", "", a2).Status)
}

func attackEscalation(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	uid, userTok, _ := h.register("mallory@example.com", rbac.RoleUser)
	_, supportTok, _ := h.register("support@example.com", rbac.RoleSupport)
	adminID, adminTok, _ := h.register("root@example.com", rbac.RoleAdmin)

	cases := []struct {
		name, method, path, body, tok string
		want                          int
	}{
		{"user promotes self", "PUT", fmt.Sprintf("/v1/admin/users/%d/role", uid), `{"role":"admin"}`, userTok, http.StatusForbidden},
		{"user sets role via profile", "PATCH", "/v1/me", `{"role":"admin"}`, userTok, http.StatusBadRequest},
		{"user sets role via register", "POST", "/v1/auth/register", `{"email":"x@example.com","password":"long-enough-password","name":"x","role":"admin"}`, "", http.StatusBadRequest},
		{"user lists users", "GET", "/v1/admin/users", "", userTok, http.StatusForbidden},
		{"user reads another user", "GET", fmt.Sprintf("/v1/admin/users/%d", adminID), "", userTok, http.StatusForbidden},
		{"support promotes self", "PUT", fmt.Sprintf("/v1/admin/users/%d/role", uid), `{"role":"admin"}`, supportTok, http.StatusForbidden},
		{"admin demotes self (lock-out)", "PUT", fmt.Sprintf("/v1/admin/users/%d/role", adminID), `{"role":"user"}`, adminTok, http.StatusForbidden},
		{"admin sets unknown role", "PUT", fmt.Sprintf("/v1/admin/users/%d/role", uid), `{"role":"root"}`, adminTok, http.StatusBadRequest},
		{"path traversal id", "GET", "/v1/admin/users/..%2f1", "", adminTok, http.StatusNotFound},
		{"non-numeric id", "GET", "/v1/admin/users/1%20OR%201=1", "", adminTok, http.StatusBadRequest},
		{"lower-case bearer scheme still needs a token", "GET", "/v1/me", "", "", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, c.body, c.tok)
			require.Equal(t, c.want, r.Status, r.Raw)
		})
	}
	me := h.do("GET", "/v1/me", "", userTok)
	require.Equal(t, "user", me.str("role"), "nothing above changed mallory's role")
	// A role change takes effect at the next refresh, not before: the old token keeps its role.
	require.Equal(t, http.StatusOK, h.do("PUT", fmt.Sprintf("/v1/admin/users/%d/role", uid), `{"role":"support"}`, adminTok).Status)
}

func attackSQLInjection(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	_, adminTok, _ := h.register("admin@example.com", rbac.RoleAdmin)
	payloads := []string{
		`' OR '1'='1`, `' OR 1=1 --`, `"; DROP TABLE users; --`, `admin@example.com' --`,
		`1; SELECT pg_sleep(5)`, `' UNION SELECT password_hash FROM users --`, `\'; SELECT SLEEP(5); #`,
		`%' AND 1=0 UNION SELECT NULL --`, "\x00", `$1`, `?`,
	}
	start := time.Now()
	for i, p := range payloads {
		// Every input: register fields, login fields, list filter and cursor, path id, profile fields.
		email := fmt.Sprintf("inj%d@example.com", i)
		r := h.do("POST", "/v1/auth/register", js(map[string]string{"email": email, "password": "pw-" + p + "-long-enough", "name": p, "department": p}), "")
		require.Contains(t, []int{http.StatusCreated, http.StatusBadRequest}, r.Status, r.Raw)
		if r.Status == http.StatusCreated {
			require.Equal(t, p, r.str("name"), "the payload is stored as data")
		}
		require.Contains(t, []int{400, 401, 429}, h.do("POST", "/v1/auth/register", js(map[string]string{"email": p, "password": "long-enough-password", "name": "x"}), "").Status)
		require.Contains(t, []int{401, 429}, h.do("POST", "/v1/auth/login", js(map[string]string{"email": p, "password": p + "x"}), "").Status)
		require.Contains(t, []int{401, 429}, h.do("POST", "/v1/auth/login", js(map[string]string{"email": "admin@example.com", "password": p}), "").Status)
		list := h.do("GET", "/v1/admin/users?department="+url.QueryEscape(p), "", adminTok)
		if strings.ContainsRune(p, 0) {
			require.Equal(t, http.StatusBadRequest, list.Status, list.Raw)
		} else {
			require.Equal(t, http.StatusOK, list.Status, list.Raw)
			require.LessOrEqual(t, len(list.Body["items"].([]any)), 1, "the filter matched as a literal, not as SQL")
		}
		require.Equal(t, http.StatusBadRequest, h.do("GET", "/v1/admin/users?cursor="+url.QueryEscape(p), "", adminTok).Status)
		require.Contains(t, []int{400, 404}, h.do("GET", "/v1/admin/users/"+url.PathEscape(p), "", adminTok).Status)
		require.Contains(t, []int{200, 400}, h.do("PATCH", "/v1/me", js(map[string]string{"name": p}), adminTok).Status)
	}
	require.Less(t, time.Since(start), 4*time.Second, "no injected sleep ran")
	all := h.do("GET", "/v1/admin/users?limit=100", "", adminTok)
	require.Equal(t, http.StatusOK, all.Status, "the users table survived")
	require.GreaterOrEqual(t, len(all.Body["items"].([]any)), 2)
}

func attackMalformedJSON(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	big := `{"email":"a@example.com","password":"` + strings.Repeat("a", 20<<10) + `","name":"x"}`
	deep := strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000)
	cases := []struct {
		name, body, ctype string
		want              int
	}{
		{"oversized body", big, "", http.StatusRequestEntityTooLarge},
		{"deeply nested", deep, "", http.StatusRequestEntityTooLarge},
		{"truncated", `{"email":"a@example.com"`, "", http.StatusBadRequest},
		{"not an object", `["a"]`, "", http.StatusBadRequest},
		{"wrong type", `{"email":1,"password":"long-enough-pass","name":"x"}`, "", http.StatusBadRequest},
		{"unknown field", `{"email":"a@example.com","password":"long-enough-pass","name":"x","admin":true}`, "", http.StatusBadRequest},
		{"trailing data", `{"email":"a@example.com","password":"long-enough-pass","name":"x"} {}`, "", http.StatusBadRequest},
		{"empty", ``, "application/json", http.StatusBadRequest},
		{"invalid utf8 name", "{\"email\":\"a@example.com\",\"password\":\"long-enough-pass\",\"name\":\"\xff\xfe\"}", "", http.StatusCreated},
		{"form instead of json", `email=a`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"missing fields", `{}`, "", http.StatusBadRequest},
		{"short password", `{"email":"b@example.com","password":"short","name":"x"}`, "", http.StatusBadRequest},
		{"bad email", `{"email":"not-an-email","password":"long-enough-pass","name":"x"}`, "", http.StatusBadRequest},
		{"display-name email", `{"email":"Bob <b@example.com>","password":"long-enough-pass","name":"x"}`, "", http.StatusBadRequest},
		{"null", `null`, "", http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := []string{}
			if c.ctype != "" {
				hdr = []string{"Content-Type", c.ctype}
			}
			r := h.do("POST", "/v1/auth/register", c.body, "", hdr...)
			require.Equal(t, c.want, r.Status, r.Raw)
		})
	}
}

func attackBruteForce(t *testing.T, b backend) {
	h := newHarness(t, b, func(c *Config) { c.IPLimit, c.AccountLimit = 20, 5 })
	h.register("target@example.com", rbac.RoleUser) // one successful login counted already
	limited := 0
	for i := 0; i < 10; i++ {
		r := h.do("POST", "/v1/auth/login", js(map[string]string{"email": "target@example.com", "password": fmt.Sprintf("guess-%d", i)}), "")
		if r.Status == http.StatusTooManyRequests {
			limited++
			require.NotEmpty(t, r.Header.Get("Retry-After"))
			continue
		}
		require.Equal(t, http.StatusUnauthorized, r.Status)
	}
	require.Equal(t, 6, limited, "the account allows 5 attempts a minute")
	// Even the right password is refused while the account is locked: no oracle.
	r := h.do("POST", "/v1/auth/login", js(map[string]string{"email": "target@example.com", "password": "correct-horse-battery"}), "")
	require.Equal(t, http.StatusTooManyRequests, r.Status)

	// Spraying many accounts from one IP hits the per-IP limit; X-Forwarded-For does not help
	// because no proxy is trusted.
	sprayLimited := 0
	for i := 0; i < 20; i++ {
		r := h.do("POST", "/v1/auth/login", js(map[string]string{"email": fmt.Sprintf("spray%d@example.com", i), "password": "password123"}), "", "X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i))
		if r.Status == http.StatusTooManyRequests {
			sprayLimited++
		}
	}
	// 12 attempts from this IP were already counted (1 login + 10 guesses + 1), so 8 remain.
	require.Equal(t, 12, sprayLimited)
}
