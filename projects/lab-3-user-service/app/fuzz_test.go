package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestBodies feeds arbitrary bytes to every JSON endpoint: the answer is a 4xx (or a
// success) in the one error shape, never a 500, a panic or a hang.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","password":"correct-horse-battery","name":"A"}`,
		`{"email":"a@example.com","password":"x"}`, `{"refresh_token":"a.b.c"}`, `{"name":"x"}`, `{"role":"admin"}`,
		`{`, `[]`, `null`, "\x00", `{"email":"\u0000"}`, strings.Repeat(`{"a":`, 100),
	} {
		f.Add(s)
	}
	h := newHarnessTB(f, backend{name: "sqlite", dialect: "sqlite"}, nil)
	_, access, _ := h.register("fuzz@example.com", "admin")
	f.Fuzz(func(t *testing.T, body string) {
		for _, rt := range []struct{ method, path, tok string }{
			{"POST", "/v1/auth/register", ""}, {"POST", "/v1/auth/login", ""}, {"POST", "/v1/auth/refresh", ""},
			{"PATCH", "/v1/me", access}, {"PUT", "/v1/admin/users/1/role", access},
		} {
			req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if rt.tok != "" {
				req.Header.Set("Authorization", "Bearer "+rt.tok)
			}
			rec := httptest.NewRecorder()
			h.h.ServeHTTP(rec, req)
			if rec.Code >= http.StatusInternalServerError {
				t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, rec.Code, rec.Body.String())
			}
		}
	})
}
