package steps_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/steps"
)

// TestMain makes this test binary the child program too: split and seedling re-execute it as
// authd, a user service or the registry.
func TestMain(m *testing.M) {
	if node.IsChild() {
		steps.NodeMain()
	}
	gin.SetMode(gin.ReleaseMode)
	goleak.VerifyTestMain(m)
}

// suiteOptions are the same for every step: cheap hashes (tests only), a per-account limit the
// brute-force case reaches quickly, and an IP limit the suite itself never reaches.
func suiteOptions(t *testing.T) steps.Options {
	return steps.Options{Program: os.Args[0], Dir: t.TempDir(), FastHash: true, IPLimit: 1000, AccountLimit: 5}
}

func start(t *testing.T, step steps.Step) *steps.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := steps.Start(ctx, step, suiteOptions(t))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, d.Close(ctx))
	})
	return d
}

// TestAPISuite is the one API suite: every step must pass all of it.
func TestAPISuite(t *testing.T) {
	for _, step := range steps.All() {
		t.Run(string(step), func(t *testing.T) {
			d := start(t, step)
			apiSuite(t, &client{t: t, base: d.URL, http: &http.Client{Timeout: 10 * time.Second}}, d)
		})
	}
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
}

type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r resp) str(k string) string { s, _ := r.Body[k].(string); return s }

func (r resp) code() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// do sends body as JSON (unless ctype is given) and checks what every answer must satisfy:
// never a 500, and every error in the one JSON shape.
func (c *client) do(method, path, body, bearer string, ctype ...string) resp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(ctype) > 0 {
		req.Header.Set("Content-Type", ctype[0])
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	r := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.Body)
	}
	require.NotEqual(c.t, http.StatusInternalServerError, r.Status, "%s %s: %s", method, path, r.Raw)
	if r.Status >= 400 {
		require.NotEmpty(c.t, r.code(), "every error has the one JSON shape: %s %s -> %d %s", method, path, r.Status, r.Raw)
	}
	return r
}

func js(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.String()
}

const goodPassword = "correct-horse-battery"

func (c *client) register(email string) {
	c.t.Helper()
	r := c.do("POST", "/v1/auth/register", js(map[string]string{"email": email, "password": goodPassword, "name": "N", "department": "Engineering"}), "")
	require.Equal(c.t, http.StatusAccepted, r.Status, r.Raw)
}

func (c *client) login(email, pw string) (access, refresh string) {
	c.t.Helper()
	r := c.do("POST", "/v1/auth/login", js(map[string]string{"email": email, "password": pw}), "")
	require.Equal(c.t, http.StatusOK, r.Status, r.Raw)
	require.NotEmpty(c.t, r.str("access_token"))
	require.NotEmpty(c.t, r.str("refresh_token"))
	return r.str("access_token"), r.str("refresh_token")
}

// forge signs claims with a key the service never saw, or with none at all.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = "evo-1"
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func apiSuite(t *testing.T, c *client, d *steps.Deployment) {
	ctx := context.Background()
	var aliceAccess, aliceRefresh, adminAccess string
	var aliceID float64

	t.Run("registration", func(t *testing.T) {
		c.t = t
		first := c.do("POST", "/v1/auth/register", js(map[string]string{"email": "Alice@Example.com", "password": goodPassword, "name": "Alice", "department": "Engineering"}), "")
		require.Equal(t, http.StatusAccepted, first.Status, first.Raw)
		again := c.do("POST", "/v1/auth/register", js(map[string]string{"email": "alice@example.com", "password": "another-long-passphrase", "name": "Mallory"}), "")
		assert.Equal(t, first.Status, again.Status, "a taken email gets the same answer")
		assert.Equal(t, first.Body, again.Body, "a taken email gets the same body")
		for i, pw := range []string{"short", "            ", "aaaaaaaaaaaa", "123456789012", "password1234", "weak5@example.com!"} {
			r := c.do("POST", "/v1/auth/register", js(map[string]string{"email": fmt.Sprintf("weak%d@example.com", i), "password": pw, "name": "W"}), "")
			assert.Equal(t, http.StatusBadRequest, r.Status, "password %q: %s", pw, r.Raw)
			assert.Equal(t, "invalid_argument", r.code())
		}
		r := c.do("POST", "/v1/auth/register", js(map[string]string{"email": "not an email", "password": goodPassword, "name": "W"}), "")
		assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	})

	t.Run("strict JSON and bodies", func(t *testing.T) {
		c.t = t
		for name, body := range map[string]string{
			"duplicate key":  `{"email":"a@example.com","email":"b@example.com","password":"x"}`,
			"case variant":   `{"Email":"a@example.com","password":"x"}`,
			"unknown field":  `{"email":"a@example.com","password":"x","role":"admin"}`,
			"truncated":      `{"email":"a@example.com",`,
			"trailing data":  `{"email":"a@example.com","password":"x"} {}`,
			"not an object":  `["a@example.com"]`,
			"wrongly typed":  `{"email":1,"password":"x"}`,
			"escaped dup":    `{"email":"a@example.com","\u0065mail":"b@example.com","password":"x"}`,
			"empty":          ` `,
			"nested garbage": strings.Repeat("[", 10000),
		} {
			r := c.do("POST", "/v1/auth/login", body, "", "application/json")
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", name, r.Raw)
			assert.Equal(t, "malformed_json", r.code(), name)
		}
		r := c.do("POST", "/v1/auth/register", "{\"email\":\"u@example.com\",\"password\":\""+goodPassword+"\",\"name\":\"\xff\"}", "")
		assert.Equal(t, http.StatusBadRequest, r.Status, "invalid UTF-8: %s", r.Raw)
		assert.Equal(t, "invalid_argument", r.code())
		r = c.do("POST", "/v1/auth/login", "email=a", "", "application/x-www-form-urlencoded")
		assert.Equal(t, http.StatusUnsupportedMediaType, r.Status, r.Raw)
		big := `{"email":"a@example.com","password":"` + strings.Repeat("x", 20<<10) + `"}`
		r = c.do("POST", "/v1/auth/login", big, "")
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
		r = c.do("GET", "/v1/no-such-route", "", "")
		assert.Equal(t, http.StatusNotFound, r.Status)
	})

	t.Run("login and profile", func(t *testing.T) {
		c.t = t
		wrong := c.do("POST", "/v1/auth/login", js(map[string]string{"email": "alice@example.com", "password": "not-her-password"}), "")
		unknown := c.do("POST", "/v1/auth/login", js(map[string]string{"email": "nobody@example.com", "password": "not-her-password"}), "")
		assert.Equal(t, http.StatusUnauthorized, wrong.Status)
		assert.Equal(t, "invalid_credentials", wrong.code())
		assert.Equal(t, wrong.Status, unknown.Status, "an unknown email looks like a wrong password")
		assert.Equal(t, wrong.code(), unknown.code())

		aliceAccess, aliceRefresh = c.login("ALICE@example.com", goodPassword)
		me := c.do("GET", "/v1/me", "", aliceAccess)
		require.Equal(t, http.StatusOK, me.Status, me.Raw)
		assert.Equal(t, "alice@example.com", me.str("email"), "emails are stored lower-cased")
		assert.Equal(t, "Alice", me.str("name"), "a second registration left the account as it was")
		assert.Equal(t, "engineering", me.str("department"))
		assert.Equal(t, "user", me.str("role"))
		assert.NotContains(t, me.Raw, "argon2", "the hash never leaves the service")
		aliceID, _ = me.Body["id"].(float64)

		upd := c.do("PATCH", "/v1/me", js(map[string]string{"name": "Alice A.", "department": "Sales"}), aliceAccess)
		require.Equal(t, http.StatusOK, upd.Status, upd.Raw)
		assert.Equal(t, "Alice A.", upd.str("name"))
		assert.Equal(t, "sales", upd.str("department"))
		smuggle := c.do("PATCH", "/v1/me", `{"name":"A","role":"admin"}`, aliceAccess)
		assert.Equal(t, http.StatusBadRequest, smuggle.Status, "a role smuggled into a profile body: %s", smuggle.Raw)
		empty := c.do("PATCH", "/v1/me", `{}`, aliceAccess)
		assert.Equal(t, http.StatusBadRequest, empty.Status)
		assert.Equal(t, "user", c.do("GET", "/v1/me", "", aliceAccess).str("role"))
	})

	t.Run("forged and misused tokens", func(t *testing.T) {
		c.t = t
		_, attacker, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		claims := func() jwt.MapClaims {
			return jwt.MapClaims{"sub": fmt.Sprint(int64(aliceID)), "iss": "lab-3-auth", "aud": "lab-3-users", "exp": time.Now().Add(time.Hour).Unix(),
				"iat": time.Now().Unix(), "jti": "x1", "typ": "access", "role": "admin", "fam": "f1", "ver": 0}
		}
		parts := strings.Split(aliceAccess, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		tampered := strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1)
		if tampered == string(payload) { // a token without a role claim: change the subject instead
			tampered = strings.Replace(string(payload), `"sub":"`, `"sub":"9`, 1)
		}
		cases := map[string]string{
			"no token":          "",
			"garbage":           "not.a.token",
			"alg none":          forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims()),
			"HS256 with secret": forge(t, jwt.SigningMethodHS256, []byte("secret"), claims()),
			"attacker's key":    forge(t, jwt.SigningMethodEdDSA, attacker, claims()),
			"tampered payload":  parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2],
			"refresh as access": aliceRefresh,
		}
		for name, tok := range cases {
			r := c.do("GET", "/v1/me", "", tok)
			assert.Equal(t, http.StatusUnauthorized, r.Status, "%s: %s", name, r.Raw)
			assert.Equal(t, "unauthenticated", r.code(), name)
		}
		r := c.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": aliceAccess}), "")
		assert.Equal(t, http.StatusUnauthorized, r.Status, "an access token is not a refresh token")
	})

	t.Run("refresh rotation and reuse detection", func(t *testing.T) {
		c.t = t
		access, refresh := c.login("alice@example.com", goodPassword)
		r := c.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": refresh}), "")
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		newRefresh := r.str("refresh_token")
		require.NotEqual(t, refresh, newRefresh)
		assert.Equal(t, http.StatusOK, c.do("GET", "/v1/me", "", r.str("access_token")).Status)

		reuse := c.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": refresh}), "")
		assert.Equal(t, http.StatusUnauthorized, reuse.Status, "a spent refresh token")
		again := c.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": newRefresh}), "")
		assert.Equal(t, http.StatusUnauthorized, again.Status, "reuse revokes the whole family, the newer token too")
		assert.Equal(t, http.StatusUnauthorized, c.do("GET", "/v1/me", "", access).Status, "and its access tokens")
		assert.Equal(t, http.StatusOK, c.do("GET", "/v1/me", "", aliceAccess).Status, "another session is untouched")
	})

	t.Run("logout", func(t *testing.T) {
		c.t = t
		access, refresh := c.login("alice@example.com", goodPassword)
		require.Equal(t, http.StatusNoContent, c.do("POST", "/v1/auth/logout", "", access).Status)
		assert.Equal(t, http.StatusUnauthorized, c.do("GET", "/v1/me", "", access).Status, "a logged-out access token")
		assert.Equal(t, http.StatusUnauthorized, c.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": refresh}), "").Status,
			"and its session's refresh token")
	})

	t.Run("RBAC and roles", func(t *testing.T) {
		c.t = t
		assert.Equal(t, http.StatusForbidden, c.do("GET", "/v1/admin/users", "", aliceAccess).Status, "a user cannot list users")
		assert.Equal(t, http.StatusForbidden, c.do("GET", "/v1/admin/reports/departments", "", aliceAccess).Status)

		c.register("boss@example.com")
		adminAccess, _ = c.login("boss@example.com", goodPassword)
		require.NoError(t, d.SetRole(ctx, "boss@example.com", "admin"))
		c.register("help@example.com")
		supportAccess, _ := c.login("help@example.com", goodPassword)
		require.NoError(t, d.SetRole(ctx, "help@example.com", "support"))

		me := c.do("GET", "/v1/me", "", adminAccess)
		require.Equal(t, "admin", me.str("role"), "the stored role applies at once: %s", me.Raw)
		bossID := int64(me.Body["id"].(float64))

		list := c.do("GET", "/v1/admin/users?limit=2", "", supportAccess)
		require.Equal(t, http.StatusOK, list.Status, list.Raw)
		assert.Len(t, list.Body["items"], 2)
		next := list.str("next_cursor")
		require.NotEmpty(t, next)
		page2 := c.do("GET", "/v1/admin/users?limit=2&cursor="+next, "", supportAccess)
		require.Equal(t, http.StatusOK, page2.Status)
		assert.Len(t, page2.Body["items"], 1, "three users in all")
		assert.Empty(t, page2.str("next_cursor"))
		sales := c.do("GET", "/v1/admin/users?department=SALES", "", supportAccess)
		require.Equal(t, http.StatusOK, sales.Status)
		assert.Len(t, sales.Body["items"], 1)
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=-1", "cursor=abc"} {
			assert.Equal(t, http.StatusBadRequest, c.do("GET", "/v1/admin/users?"+q, "", supportAccess).Status, q)
		}

		uid := fmt.Sprint(int64(aliceID))
		assert.Equal(t, http.StatusOK, c.do("GET", "/v1/admin/users/"+uid, "", supportAccess).Status)
		assert.Equal(t, http.StatusNotFound, c.do("GET", "/v1/admin/users/999999", "", supportAccess).Status)
		assert.Equal(t, http.StatusBadRequest, c.do("GET", "/v1/admin/users/abc", "", supportAccess).Status)
		assert.Equal(t, http.StatusForbidden, c.do("PUT", "/v1/admin/users/"+uid+"/role", `{"role":"admin"}`, supportAccess).Status,
			"support cannot change roles")
		assert.Equal(t, http.StatusForbidden, c.do("PUT", "/v1/admin/users/"+uid+"/role", `{"role":"admin"}`, aliceAccess).Status,
			"nobody promotes themself")
		assert.Equal(t, http.StatusBadRequest, c.do("PUT", "/v1/admin/users/"+uid+"/role", `{"role":"root"}`, adminAccess).Status)
		assert.Equal(t, http.StatusForbidden, c.do("PUT", fmt.Sprintf("/v1/admin/users/%d/role", bossID), `{"role":"user"}`, adminAccess).Status,
			"an admin cannot demote themself")

		rep := c.do("GET", "/v1/admin/reports/departments", "", supportAccess)
		require.Equal(t, http.StatusOK, rep.Status, rep.Raw)
		assert.Contains(t, rep.Raw, `"department":"engineering"`)

		set := c.do("PUT", "/v1/admin/users/"+uid+"/role", `{"role":"support"}`, adminAccess)
		require.Equal(t, http.StatusOK, set.Status, set.Raw)
		assert.Equal(t, "support", set.str("role"))
		assert.Equal(t, http.StatusUnauthorized, c.do("GET", "/v1/me", "", aliceAccess).Status,
			"a role change revokes the tokens issued before it")
		fresh, _ := c.login("alice@example.com", goodPassword)
		assert.Equal(t, http.StatusOK, c.do("GET", "/v1/admin/users", "", fresh).Status, "the new role applies to new tokens")
	})

	t.Run("SQL injection is data", func(t *testing.T) {
		c.t = t
		access, _ := c.login("boss@example.com", goodPassword)
		payloads := []string{`' OR '1'='1`, `x'; DROP TABLE users; --`, `" OR 1=1 --`, `1; SELECT sleep(5)`, `') UNION SELECT password_hash FROM users --`}
		for _, p := range payloads {
			r := c.do("PATCH", "/v1/me", js(map[string]string{"name": p}), access)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, p, r.str("name"), "stored as data")
			l := c.do("GET", "/v1/admin/users?department="+url.QueryEscape(p), "", access)
			require.Equal(t, http.StatusOK, l.Status, "%s: %s", p, l.Raw)
			assert.Empty(t, l.Body["items"], "no department matches %q", p)
		}
		all := c.do("GET", "/v1/admin/users?limit=100", "", access)
		require.Equal(t, http.StatusOK, all.Status)
		assert.Len(t, all.Body["items"], 3, "the table survives")
	})

	t.Run("brute force is throttled", func(t *testing.T) {
		c.t = t
		c.register("victim@example.com")
		limited := 0
		for i := 0; i < 20 && limited == 0; i++ {
			r := c.do("POST", "/v1/auth/login", js(map[string]string{"email": "victim@example.com", "password": fmt.Sprintf("guess-number-%02d", i)}), "")
			if r.Status == http.StatusTooManyRequests {
				limited = i + 1
				assert.NotEmpty(t, r.Header.Get("Retry-After"))
				assert.Equal(t, "rate_limited", r.code())
			} else {
				assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
			}
		}
		require.NotZero(t, limited, "20 wrong passwords in a row were never throttled")
		t.Logf("first 429 at attempt %d (limit 5 per account per instance)", limited)
		// Every instance behind a gateway counts on its own: spend each one's budget, then the
		// right password must be refused too.
		for range 10 {
			c.do("POST", "/v1/auth/login", js(map[string]string{"email": "victim@example.com", "password": "guess-again-and-again"}), "")
		}
		r := c.do("POST", "/v1/auth/login", js(map[string]string{"email": "victim@example.com", "password": goodPassword}), "")
		assert.Equal(t, http.StatusTooManyRequests, r.Status, "the right password after the limit: %s", r.Raw)
	})
}
