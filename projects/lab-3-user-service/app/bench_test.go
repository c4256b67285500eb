package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
)

func benchHarness(b *testing.B, params password.Params) (*harness, string) {
	h := newHarnessTB(b, backend{name: "sqlite", dialect: "sqlite"}, func(c *Config) {
		c.Password = params
		c.IPLimit, c.AccountLimit = 1<<40, 1<<40
	})
	_, access, _ := h.register("bench@example.com", rbac.RoleUser)
	return h, access
}

// BenchmarkLogin is the whole login request. Its cost is argon2id's by design: OWASP's minimum
// (19 MiB, 2 passes) is what an attacker pays per guess against a stolen hash, and what the
// service pays per login, so login throughput per core is bounded by it.
func BenchmarkLogin(b *testing.B) {
	for _, pc := range []struct {
		name string
		p    password.Params
	}{{"argon2id-owasp", password.DefaultParams()}, {"argon2id-test-params", password.TestParams()}} {
		b.Run(pc.name, func(b *testing.B) {
			h, _ := benchHarness(b, pc.p)
			body := `{"email":"bench@example.com","password":"correct-horse-battery"}`
			for b.Loop() {
				req := httptest.NewRequest("POST", "/v1/auth/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkProfileRead compares the same work (verify the token and load the user by id, once, write JSON)
// behind three front ends. gin-full is the service as shipped (request id, tracing, access log,
// RED metrics, timeout, RBAC, audit); gin-bare and nethttp isolate the router's own overhead.
func BenchmarkProfileRead(b *testing.B) {
	h, access := benchHarness(b, password.TestParams())
	svc := h.app.Service
	direct := func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		_, u, err := svc.Authenticate(r.Context(), tok)
		if err != nil {
			http.Error(w, `{"error":{"code":"unauthenticated"}}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": strconv.FormatInt(int64(u.ID), 10), "email": u.Email, "name": u.Name, "department": u.Department, "role": u.Role})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/me", direct)
	bare := gin.New()
	bare.GET("/v1/me", func(c *gin.Context) { direct(c.Writer, c.Request) })

	for _, fe := range []struct {
		name string
		h    http.Handler
	}{{"nethttp", mux}, {"gin-bare", bare}, {"gin-full", h.h}} {
		b.Run(fe.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+access)
				rec := httptest.NewRecorder()
				fe.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
