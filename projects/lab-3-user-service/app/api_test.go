package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
)

func TestSessionLifecycle(t *testing.T) { onEach(t, unitBackends(), testSessionLifecycle) }

func testSessionLifecycle(t *testing.T, b backend) {
	h := newHarness(t, b, nil)
	id, access, refresh := h.register("Alice@Example.com", rbac.RoleUser)

	before := h.app.Store.Queries()
	me := h.do("GET", "/v1/me", "", access)
	require.Equal(t, http.StatusOK, me.Status, me.Raw)
	// The row authentication read for the token version check is the one /v1/me answers with:
	// one users.by_id, plus the two revocation checks when revocations live in the SQL store
	// (always behind gRPC auth, as cmd/authd keeps them in its database).
	wantQueries := int64(3)
	if b.redisAddr != "" && !b.grpcAuth {
		wantQueries = 1
	}
	require.Equal(t, wantQueries, h.app.Store.Queries()-before, "SQL statements for GET /v1/me")
	require.Equal(t, "alice@example.com", me.str("email"), "emails are stored normalised")
	require.Equal(t, "engineering", me.str("department"), "departments are stored normalised")
	require.NotContains(t, me.Raw, "argon2", "the hash never leaves the service")
	require.NotEmpty(t, me.Header.Get("X-Request-ID"))

	up := h.do("PATCH", "/v1/me", `{"name":"Alice A."}`, access)
	require.Equal(t, http.StatusOK, up.Status, up.Raw)
	require.Equal(t, "Alice A.", up.str("name"))

	dup := h.do("POST", "/v1/auth/register", js(map[string]string{"email": "alice@example.com", "password": "another-long-password", "name": "x"}), "")
	require.Equal(t, http.StatusAccepted, dup.Status, "a taken email gets the same answer as a new one")

	bad := h.do("POST", "/v1/auth/login", `{"email":"alice@example.com","password":"wrong-password"}`, "")
	require.Equal(t, http.StatusUnauthorized, bad.Status)
	require.Equal(t, "invalid_credentials", bad.code())
	ghost := h.do("POST", "/v1/auth/login", `{"email":"ghost@example.com","password":"wrong-password"}`, "")
	require.Equal(t, bad.Raw[:strings.Index(bad.Raw, "request_id")], ghost.Raw[:strings.Index(ghost.Raw, "request_id")], "unknown email and wrong password look the same")

	r := h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": refresh}), "")
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	access2, refresh2 := r.str("access_token"), r.str("refresh_token")
	require.NotEqual(t, refresh, refresh2, "refresh rotates")
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", "", access2).Status)

	require.Equal(t, http.StatusNoContent, h.do("POST", "/v1/auth/logout", "", access2).Status)
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", access2).Status, "logged-out token is revoked")
	require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/me", "", access).Status, "logout ends the whole session family")
	require.Equal(t, http.StatusUnauthorized, h.do("POST", "/v1/auth/refresh", js(map[string]string{"refresh_token": refresh2}), "").Status)

	// A fresh login is a new session and works.
	access3, _ := h.login("alice@example.com", "correct-horse-battery")
	require.Equal(t, http.StatusOK, h.do("GET", "/v1/me", "", access3).Status)
	_ = id
}

func TestListPagination(t *testing.T) { onEach(t, unitBackends(), testListPagination) }

func testListPagination(t *testing.T, b backend) {
	for _, slow := range []bool{false, true} {
		h := newHarness(t, b, func(c *Config) { c.Faults.SlowRequest = slow })
		_, admin, _ := h.register("admin@example.com", rbac.RoleAdmin)
		for i := 0; i < 7; i++ {
			h.register(fmt.Sprintf("u%d@example.com", i), rbac.RoleUser)
		}
		var got []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			r := h.do("GET", "/v1/admin/users?department=ENGINEERING&limit=3"+cursor, "", admin)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			for _, it := range r.Body["items"].([]any) {
				got = append(got, it.(map[string]any)["email"].(string))
			}
			next := r.str("next_cursor")
			if next == "" {
				break
			}
			cursor = "&cursor=" + next
		}
		require.Len(t, got, 8, "slow=%v", slow)
		require.Equal(t, "admin@example.com", got[0])
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=-1", "cursor=abc"} {
			r := h.do("GET", "/v1/admin/users?"+q, "", admin)
			require.Equal(t, http.StatusBadRequest, r.Status, q)
		}
		rep := h.do("GET", "/v1/admin/reports/departments", "", admin)
		require.Equal(t, http.StatusOK, rep.Status, rep.Raw)
	}
}

// TestRBACMatrixOverHTTP walks every role against every protected route and checks the answer
// against the policy matrix: the middleware enforces exactly the matrix, no more, no less.
func TestRBACMatrixOverHTTP(t *testing.T) {
	h := newHarness(t, unitBackends()[0], nil)
	targetID, _, _ := h.register("target@example.com", rbac.RoleUser)
	routes := []struct {
		method, path, body string
		perm               rbac.Permission
	}{
		{"GET", "/v1/me", "", rbac.PermProfileRead},
		{"PATCH", "/v1/me", `{"name":"x"}`, rbac.PermProfileWrite},
		{"GET", "/v1/admin/users", "", rbac.PermUsersList},
		{"GET", fmt.Sprintf("/v1/admin/users/%d", targetID), "", rbac.PermUsersRead},
		{"PUT", fmt.Sprintf("/v1/admin/users/%d/role", targetID), `{"role":"user"}`, rbac.PermRolesWrite},
		{"GET", "/v1/admin/reports/departments", "", rbac.PermReportsRead},
	}
	m := rbac.DefaultMatrix()
	for _, role := range rbac.Roles {
		_, access, _ := h.register(string(role)+"@example.com", role)
		for _, rt := range routes {
			t.Run(fmt.Sprintf("%s %s %s", role, rt.method, rt.path), func(t *testing.T) {
				r := h.do(rt.method, rt.path, rt.body, access)
				if m.Allowed(role, rt.perm) {
					require.Less(t, r.Status, 300, r.Raw)
				} else {
					require.Equal(t, http.StatusForbidden, r.Status, r.Raw)
				}
			})
		}
		for _, rt := range routes {
			require.Equal(t, http.StatusUnauthorized, h.do(rt.method, rt.path, rt.body, "").Status, "no token: %s", rt.path)
		}
	}
}

func TestPanicIsRecovered(t *testing.T) {
	h := newHarness(t, unitBackends()[0], nil)
	h.app.API.Engine().GET("/v1/boom", func(*gin.Context) {
		panic("a handler bug")
	})
	rec := h.rawDo("GET", "/v1/boom")
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Contains(t, rec.Body.String(), `"code":"internal"`)
	require.Equal(t, http.StatusOK, h.do("GET", "/healthz", "", "").Status, "the process keeps serving")
}
