package monolith

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newServer(t testing.TB) *Server {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	s, err := New(context.Background(), Config{Path: filepath.Join(t.TempDir(), "m.db"), Password: password.TestParams(), Key: key, IPLimit: 1 << 30, AccountLimit: 1 << 30})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConfigErrorsNameWhatIsExpected(t *testing.T) {
	_, err := New(context.Background(), Config{})
	assert.ErrorContains(t, err, "want a SQLite file")
	_, err = New(context.Background(), Config{Path: filepath.Join(t.TempDir(), "m.db")})
	assert.ErrorContains(t, err, "want an Ed25519 signing key")
}

// FuzzRequestBodies sends arbitrary bodies to every route that reads one: the answer is a
// 2xx or a 4xx in the one error shape, never a 500 or a panic.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","password":"correct-horse-battery","name":"A"}`,
		`{"email":"a@example.com","password":"correct-horse-battery"}`,
		`{"refresh_token":"x.y.z"}`, `{"email":"a@example.com","email":"b"}`, `{"name":"\ud800"}`,
		`{`, `[]`, `null`, `{"email":1}`, "{\"name\":\"\x00\"}", strings.Repeat("[", 5000),
	} {
		f.Add(s)
	}
	s := newServer(f)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh"} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 || (rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"code"`)) {
				t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
			}
		}
	})
}
