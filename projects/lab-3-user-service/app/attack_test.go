package app

// The attack suite: every attack here must be rejected, on the embedded database in `make test`
// and on MariaDB and PostgreSQL (with Redis) in `make test-integration`.

import (
	"context"
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
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
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
	t.Run("stale-role-after-demotion", func(t *testing.T) { attackStaleRole(t, b) })
	t.Run("revocation-survives-restart", func(t *testing.T) { attackRevocationRestart(t, b) })
	t.Run("registration-oracle", func(t *testing.T) { attackRegistrationOracle(t, b) })
	t.Run("registration-flood", func(t *testing.T) { attackRegistrationFlood(t, b) })
	t.Run("weak-passwords", func(t *testing.T) { attackWeakPasswords(t, b) })
	t.Run("json-key-smuggling", func(t *testing.T) { attackJSONKeys(t, b) })
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
}

// attackStaleRole is the outside suite's worst finding: a demoted admin whose token still said
// "admin" promoted themself back and demoted the admin who demoted them.
func attackStaleRole(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	aID, aTok, _ := h.register("alice-admin@example.com", rbac.RoleAdmin)
	bID, bTok, bRefresh := h.register("bob-admin@example.com", rbac.RoleAdmin)
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/admin/users", "", bTok).Status, "control: bob is an admin before")

	r := h.do("PUT", fmt.Sprintf("/v1/admin/users/%d/role", bID), `{"role":"user"}`, aTok)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	// Bob's tokens from before the demotion: the role change revoked them.
	for _, c := range []struct{ path, body string }{
		{fmt.Sprintf("/v1/admin/users/%d/role", bID), `{"role":"admin"}`},
		{fmt.Sprintf("/v1/admin/users/%d/role", aID), `{"role":"user"}`},
	} {
		r := h.do("PUT", c.path, c.body, bTok)
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, r.Status, "%s %s: %s", c.path, c.body, r.Raw)
	}
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", bTok).Status, "a role change revokes the old access token")
	require.Equal(t, http.StatusUnauthorized, h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": bRefresh}), "").Status,
		"and the old refresh token")
	// A new login carries the new role, and the current role is what the policy checks.
	bNew, _ := h.login("bob-admin@example.com", "correct-horse-battery")
	require.Equal(t, http.StatusForbidden, h.do("PUT", fmt.Sprintf("/v1/admin/users/%d/role", bID), `{"role":"admin"}`, bNew).Status)
	require.Equal(t, http.StatusForbidden, h.do("PUT", fmt.Sprintf("/v1/admin/users/%d/role", aID), `{"role":"user"}`, bNew).Status)

	require.Equal(t, "user", h.do("GET", fmt.Sprintf("/v1/admin/users/%d", bID), "", aTok).str("role"), "bob stayed demoted")
	require.Equal(t, "admin", h.do("GET", "/v1/me", "", aTok).str("role"), "alice is still an admin")

	// An operator demotes carol in the database, behind the service's back (no token revoked):
	// privileged actions check the role the store holds now, not the one in the token.
	cID, cTok, _ := h.register("carol-admin@example.com", rbac.RoleAdmin)
	q := `UPDATE users SET role = 'user' WHERE id = ?`
	if b.dialect == sqlstore.Postgres {
		q = `UPDATE users SET role = 'user' WHERE id = $1`
	}
	_, err := h.app.Store.DB().ExecContext(context.Background(), q, cID)
	require.NoError(t, err)
	for _, path := range []string{fmt.Sprintf("/v1/admin/users/%d/role", cID), fmt.Sprintf("/v1/admin/users/%d/role", aID)} {
		r := h.do("PUT", path, `{"role":"admin"}`, cTok)
		require.Equal(t, http.StatusForbidden, r.Status, "%s: %s", path, r.Raw)
	}
	require.Equal(t, http.StatusForbidden, h.do("GET", "/v1/admin/users", "", cTok).Status)
}

// attackRevocationRestart: revocations used to live in process memory when Redis was not
// configured, so a restart brought logged-out tokens and killed sessions back to life.
func attackRevocationRestart(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	_, access, _ := h.register("restart@example.com", rbac.RoleUser)
	require.Equal(t, http.StatusNoContent, h.do("POST", "/v1/auth/logout", "", access).Status)

	// A second session whose family reuse detection kills.
	_, r0 := h.login("restart@example.com", "correct-horse-battery")
	first := h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r0}), "")
	require.Equal(t, http.StatusOK, first.Status, first.Raw)
	a1, r1 := first.str("access_token"), first.str("refresh_token")
	require.Equal(t, http.StatusUnauthorized, h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r0}), "").Status)

	// A third session that nothing revoked: the control that the restart keeps good tokens good.
	live, _ := h.login("restart@example.com", "correct-horse-battery")

	h.restart()

	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", "", live).Status, "control: an unrevoked token survives the restart")
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", access).Status, "the logged-out token stays revoked")
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", a1).Status, "the killed family's access token stays dead")
	require.Equal(t, http.StatusUnauthorized, h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r1}), "").Status,
		"the killed family's refresh token stays dead")
	require.Equal(t, http.StatusUnauthorized, h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": r0}), "").Status,
		"the spent refresh token stays spent")
}

// attackRegistrationOracle: the answer to a registration must not tell whether the email
// already has an account.
func attackRegistrationOracle(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	h.register("taken@example.com", rbac.RoleUser)
	body := func(email string) string {
		return js(map[string]string{"email": email, "password": "another-long-password", "name": "x"})
	}
	taken := h.do("POST", "/v1/auth/register", body("taken@example.com"), "")
	fresh := h.do("POST", "/v1/auth/register", body("fresh@example.com"), "")
	require.Equal(t, fresh.Status, taken.Status, "taken: %s / fresh: %s", taken.Raw, fresh.Raw)
	require.Equal(t, fresh.Raw, taken.Raw)
	require.Less(t, fresh.Status, 300, fresh.Raw)
	// The existing account is untouched: its password did not change.
	h.login("taken@example.com", "correct-horse-battery")
}

// attackRegistrationFlood: every registration costs an argon2id hash, so it is limited per IP
// and per email the way login is.
func attackRegistrationFlood(t *testing.T, b backend) {
	h := newHarness(t, b, func(c *Config) { c.IPLimit, c.AccountLimit = 20, 5 })
	limited := 0
	for i := 0; i < 10; i++ {
		r := h.do("POST", "/v1/auth/register", js(map[string]string{"email": "same@example.com", "password": "another-long-password", "name": "x"}), "")
		if r.Status == http.StatusTooManyRequests {
			limited++
			require.NotEmpty(t, r.Header.Get("Retry-After"))
			continue
		}
		require.Less(t, r.Status, 300, r.Raw)
	}
	require.Equal(t, 5, limited, "one email: 5 attempts a minute")
	ipLimited := 0
	for i := 0; i < 20; i++ {
		r := h.do("POST", "/v1/auth/register", js(map[string]string{"email": fmt.Sprintf("flood%d@example.com", i), "password": "another-long-password", "name": "x"}), "",
			"X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i))
		if r.Status == http.StatusTooManyRequests {
			ipLimited++
		}
	}
	require.Equal(t, 10, ipLimited, "one IP: 20 attempts a minute, 10 already spent")
}

// attackWeakPasswords: NIST SP 800-63B 5.1.1.2 asks to refuse repetitive, sequential and
// commonly used passwords, whatever their length.
func attackWeakPasswords(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	for i, pw := range []string{
		"            ", "aaaaaaaaaaaa", "123456789012", "passwordpassword", "qwertyuiopas",
		"abcdefghijkl", "abcabcabcabc", "password1234", "PasswordPassword", "987654321098", "weak-weak-weak-weak",
		"weak11@example.com", // the account's own email
	} {
		t.Run(fmt.Sprintf("%q", pw), func(t *testing.T) {
			email := fmt.Sprintf("weak%d@example.com", i)
			r := h.do("POST", "/v1/auth/register", js(map[string]string{"email": email, "password": pw, "name": "x"}), "")
			require.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
			require.Contains(t, r.Body["error"].(map[string]any)["fields"], "password", r.Raw)
		})
	}
	// Control: a long passphrase passes.
	r := h.do("POST", "/v1/auth/register", js(map[string]string{"email": "strong@example.com", "password": "violet-tractor-42-kayak", "name": "x"}), "")
	require.Less(t, r.Status, 300, r.Raw)
}

// attackJSONKeys: encoding/json matches keys case-insensitively and keeps the last duplicate,
// so a body that a proxy or a log reads as alice's is bob's to the service.
func attackJSONKeys(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	h.register("bob@example.com", rbac.RoleUser)
	h.register("alice@example.com", rbac.RoleUser)
	cases := map[string]struct{ path, body string }{
		"case-variant duplicate logs in as bob": {"/v1/auth/login", `{"email":"alice@example.com","password":"correct-horse-battery","EMAIL":"bob@example.com"}`},
		"exact duplicate":                       {"/v1/auth/login", `{"email":"alice@example.com","email":"bob@example.com","password":"correct-horse-battery"}`},
		"case-variant key alone":                {"/v1/auth/login", `{"Email":"bob@example.com","password":"correct-horse-battery"}`},
		"escaped key spelling the same name":    {"/v1/auth/login", `{"email":"alice@example.com","\u0065mail":"bob@example.com","password":"correct-horse-battery"}`},
		"duplicate on register":                 {"/v1/auth/register", `{"email":"new@example.com","password":"another-long-password","name":"x","Name":"y"}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := h.do("POST", c.path, c.body, "")
			require.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
			require.Equal(t, "malformed_json", r.code(), r.Raw)
		})
	}
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
		require.Contains(t, []int{http.StatusAccepted, http.StatusBadRequest}, r.Status, r.Raw)
		if r.Status == http.StatusAccepted {
			u, err := h.app.Store.ByEmail(context.Background(), email)
			require.NoError(t, err)
			require.Equal(t, p, u.Name, "the payload is stored as data")
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
		{"invalid utf8 name", "{\"email\":\"a@example.com\",\"password\":\"long-enough-pass\",\"name\":\"\xff\xfe\"}", "", http.StatusBadRequest},
		{"invalid utf8 department", "{\"email\":\"a@example.com\",\"password\":\"long-enough-pass\",\"name\":\"x\",\"department\":\"a\xc3\"}", "", http.StatusBadRequest},
		{"lone surrogate escape in name", `{"email":"a@example.com","password":"long-enough-pass","name":"\udc00"}`, "", http.StatusBadRequest},
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
