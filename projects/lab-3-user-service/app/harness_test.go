package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

// backend is one storage configuration the suite runs on.
type backend struct {
	name      string
	dialect   sqlstore.Dialect
	dsn       string
	redisAddr string
	grpcAuth  bool // the split: auth runs behind gRPC, as cmd/authd does
}

// harness is a running service plus the signing keys, so attacks can forge tokens with them.
type harness struct {
	t    testing.TB
	app  *App
	key  ed25519.PrivateKey
	h    http.Handler
	cfg  Config
	keys *token.KeySet
	b    backend
}

func newHarness(t *testing.T, b backend, mutate func(*Config)) *harness {
	return newHarnessTB(t, b, mutate)
}

func newHarnessTB(t testing.TB, b backend, mutate func(*Config)) *harness {
	t.Helper()
	ctx := context.Background()
	st, cleanup, err := sqlstore.OpenScratch(ctx, sqlstore.Config{Dialect: b.dialect, DSN: b.dsn, Pool: sqlstore.DefaultPool()})
	require.NoError(t, err)
	t.Cleanup(cleanup)
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	keys, err := token.NewKeySet("test-1", key)
	require.NoError(t, err)
	p := make([]byte, 4)
	_, _ = rand.Read(p)
	cfg := Config{Store: st, Keys: keys, Password: password.TestParams(), RedisAddr: b.redisAddr,
		RedisPrefix: "lab3test:" + hex.EncodeToString(p) + ":", AuditPath: filepath.Join(t.TempDir(), "audit.log")}
	if b.grpcAuth {
		cfg.Auth = startAuthd(t, keys, st)
	}
	if b.redisAddr != "" {
		t.Cleanup(func() { dropRedisPrefix(b.redisAddr, cfg.RedisPrefix) })
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h := &harness{t: t, key: key, cfg: cfg, keys: keys, b: b}
	h.start()
	return h
}

// start builds the service from h.cfg over the same database, as a restarted process would.
func (h *harness) start() {
	h.t.Helper()
	a, err := New(context.Background(), h.cfg)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { require.NoError(h.t, a.Close(context.Background())) })
	h.app, h.h = a, a.API.Handler()
}

// restart stops the service and starts a new process's worth of it on the same database, the
// same signing keys and the same Redis; the gRPC auth service restarts too. Whatever lived only
// in the old process's memory is gone.
func (h *harness) restart() {
	h.t.Helper()
	require.NoError(h.t, h.app.Close(context.Background()))
	if h.b.grpcAuth {
		h.cfg.Auth = startAuthd(h.t, h.keys, h.cfg.Store)
	}
	h.start()
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

// do sends a request; body is sent verbatim as JSON unless ctype says otherwise.
func (h *harness) do(method, path, body, bearer string, hdr ...string) resp {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	r := resp{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if rec.Body.Len() > 0 {
		_ = json.Unmarshal(rec.Body.Bytes(), &r.Body)
	}
	if r.Status >= 400 {
		require.NotEmpty(h.t, r.code(), "every error has the one JSON shape: %s %s -> %d %s", method, path, r.Status, r.Raw)
	}
	require.NotEqual(h.t, http.StatusInternalServerError, r.Status, "%s %s: %s", method, path, r.Raw)
	return r
}

func js(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.String()
}

// register creates a user with role (set directly in the store, as an operator would).
func (h *harness) register(email string, role rbac.Role) (id int64, access, refresh string) {
	h.t.Helper()
	r := h.do("POST", "/v1/auth/register", js(map[string]string{"email": email, "password": "correct-horse-battery", "name": "N", "department": "Engineering"}), "")
	require.Equal(h.t, http.StatusAccepted, r.Status, r.Raw)
	u, err := h.app.Store.ByEmail(context.Background(), strings.ToLower(email))
	require.NoError(h.t, err)
	id = int64(u.ID)
	if role != rbac.RoleUser {
		_, err := h.app.Store.SetRole(context.Background(), userID(id), role)
		require.NoError(h.t, err)
	}
	access, refresh = h.login(email, "correct-horse-battery")
	return id, access, refresh
}

func (h *harness) login(email, pw string) (access, refresh string) {
	h.t.Helper()
	r := h.do("POST", "/v1/auth/login", js(map[string]string{"email": email, "password": pw}), "")
	require.Equal(h.t, http.StatusOK, r.Status, r.Raw)
	return r.str("access_token"), r.str("refresh_token")
}

func userID(id int64) user.ID { return user.ID(id) }

func (h *harness) rawDo(method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// startAuthd runs the auth module behind a real gRPC server on loopback and returns a client.
// Its revocations live in st, as cmd/authd keeps them in its database.
func startAuthd(t testing.TB, keys *token.KeySet, st revocation.Store) *authrpc.Client {
	t.Helper()
	m := auth.New(password.New(password.TestParams()), token.NewIssuer(keys, token.DefaultConfig()), st)
	srv := grpc.NewServer()
	authrpc.Register(srv, m)
	addr, err := loopback.Serve(t, srv.Serve, srv.Stop)
	require.NoError(t, err)
	c, err := authrpc.Dial(addr, authrpc.DefaultClientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// dropRedisPrefix deletes a test's keys so a shared Redis does not collect them for a week.
func dropRedisPrefix(addr, prefix string) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 200).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
