// Package monolith is step 1 of the lab's evolution: the user service as a first version is
// usually written, one package whose HTTP handlers hash passwords, sign tokens and run SQL
// inline. It serves the same API as the modular service and passes the same API suite,
// security cases included, so the steps after it are refactorings, not fixes.
//
// What it deliberately lacks is seams: the handler for GET /v1/me knows the JWT claims, the
// revocation table and the users table at once, and a test can reach any of them only through
// HTTP. Two leaf libraries of the lab are imported rather than written again, because a first
// version would take them from a library too: password (argon2id and the password policy) and
// strictjson (JSON keys spelled exactly, each once).
package monolith

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	_ "modernc.org/sqlite" // the embedded database

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/strictjson"
)

// Config describes one monolith.
type Config struct {
	// Path is the SQLite file; it is created with its schema if missing.
	Path     string
	Password password.Params // zero: password.DefaultParams()
	Key      ed25519.PrivateKey
	// Login and registration attempts per LimitWindow per client IP and per account
	// (defaults 30, 10 and a minute, as the modular service).
	IPLimit, AccountLimit int
	LimitWindow           time.Duration
	Log                   *slog.Logger // nil: slog.Default()
}

const (
	issuer     = "lab-3-auth"
	audience   = "lab-3-users"
	keyID      = "mono-1"
	accessTTL  = 15 * time.Minute
	refreshTTL = 7 * 24 * time.Hour
	maxBody    = 16 << 10
)

const schema = `
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    department    TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL DEFAULT 'user',
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_users_department_id ON users (department, id);
CREATE TABLE IF NOT EXISTS revocations (
    token_key  TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
);`

// permissions is the RBAC matrix, the same cells as package rbac's.
var permissions = map[string]map[string]bool{
	"user":    {"profile:read": true, "profile:write": true},
	"support": {"profile:read": true, "profile:write": true, "users:list": true, "users:read": true, "reports:read": true},
	"admin":   {"profile:read": true, "profile:write": true, "users:list": true, "users:read": true, "roles:write": true, "reports:read": true},
}

// Server is the whole service.
type Server struct {
	db        *sql.DB
	hasher    *password.Hasher
	key       ed25519.PrivateKey
	dummyHash string
	cfg       Config
	mux       *http.ServeMux

	mu      sync.Mutex
	windows map[string]window // rate-limit counters, in this process only
}

type window struct {
	start time.Time
	n     int
}

// New opens the database, creates the schema and builds the routes.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Path == "" {
		return nil, errors.New("monolith: Config.Path is empty (want a SQLite file)")
	}
	if cfg.Key == nil {
		return nil, errors.New("monolith: Config.Key is empty (want an Ed25519 signing key)")
	}
	if cfg.Password == (password.Params{}) {
		cfg.Password = password.DefaultParams()
	}
	if cfg.IPLimit == 0 {
		cfg.IPLimit = 30
	}
	if cfg.AccountLimit == 0 {
		cfg.AccountLimit = 10
	}
	if cfg.LimitWindow == 0 {
		cfg.LimitWindow = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	db, err := sql.Open("sqlite", "file:"+cfg.Path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("monolith: open %s: %w", cfg.Path, err)
	}
	db.SetMaxOpenConns(8)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("monolith: schema in %s: %w", cfg.Path, err)
	}
	s := &Server{db: db, hasher: password.New(cfg.Password), key: cfg.Key, cfg: cfg, windows: map[string]window{}}
	// An unknown email costs the same hash verification as a wrong password.
	if s.dummyHash, err = s.hasher.Hash("not-a-password-anyone-has"); err != nil {
		_ = db.Close()
		return nil, err
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("POST /v1/auth/register", s.register)
	m.HandleFunc("POST /v1/auth/login", s.login)
	m.HandleFunc("POST /v1/auth/refresh", s.refresh)
	m.HandleFunc("POST /v1/auth/logout", s.logout)
	m.HandleFunc("GET /v1/me", s.me)
	m.HandleFunc("PATCH /v1/me", s.updateMe)
	m.HandleFunc("GET /v1/admin/users", s.listUsers)
	m.HandleFunc("GET /v1/admin/users/{id}", s.getUser)
	m.HandleFunc("PUT /v1/admin/users/{id}/role", s.setRole)
	m.HandleFunc("GET /v1/admin/reports/departments", s.report)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, http.StatusNotFound, "not_found", "no such route")
	})
	s.mux = m
	return s, nil
}

// Handler is the HTTP API; every request gets an X-Request-ID.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-ID", id)
		s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// Close closes the database.
func (s *Server) Close() error { return s.db.Close() }

type requestIDKey struct{}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail writes the one error shape of the API.
func fail(w http.ResponseWriter, r *http.Request, status int, code, msg string, fields ...string) {
	body := map[string]any{"code": code, "message": msg}
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		body["request_id"] = id
	}
	if len(fields) == 2 {
		body["fields"] = map[string]string{fields[0]: fields[1]}
	}
	if status == http.StatusUnauthorized && code == "unauthenticated" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lab-3"`)
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Log.Error("internal error", "path", r.URL.Path, "err", err) // the caller learns nothing
	fail(w, r, http.StatusInternalServerError, "internal", "internal error")
}

// decode reads one strict JSON object into v; on failure it has written the answer.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		fail(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "expected Content-Type: application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		fail(w, r, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("body larger than %d bytes", maxBody))
		return false
	}
	if err != nil {
		fail(w, r, http.StatusBadRequest, "malformed_json", "could not read the body")
		return false
	}
	if err := strictjson.Decode(body, v); err != nil {
		var fe *strictjson.FieldError
		if errors.As(err, &fe) {
			fail(w, r, http.StatusBadRequest, "invalid_argument", fe.Field+": expected valid UTF-8 text", fe.Field, "must be valid UTF-8")
			return false
		}
		fail(w, r, http.StatusBadRequest, "malformed_json", "expected one JSON object with known fields, each once")
		return false
	}
	return true
}

func isText(s string) bool { return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) }

// checkText answers 400 unless s is text of min..max characters.
func checkText(w http.ResponseWriter, r *http.Request, field, s string, minLen, maxLen int) bool {
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen || !isText(s) {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "request failed validation", field, fmt.Sprintf("must be %d to %d printable characters", minLen, maxLen))
		return false
	}
	return true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow counts one attempt under key in a fixed window; on refusal it has answered 429.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, key string, limit int) bool {
	now := time.Now()
	s.mu.Lock()
	if len(s.windows) > 100_000 { // bound the memory an attacker can make us hold
		for k, win := range s.windows {
			if now.Sub(win.start) >= s.cfg.LimitWindow {
				delete(s.windows, k)
			}
		}
	}
	win := s.windows[key]
	if now.Sub(win.start) >= s.cfg.LimitWindow {
		win = window{start: now}
	}
	win.n++
	s.windows[key] = win
	s.mu.Unlock()
	if win.n <= limit {
		return true
	}
	retry := int(win.start.Add(s.cfg.LimitWindow).Sub(now).Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	fail(w, r, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many attempts; retry in %ds", retry))
	return false
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email      string `json:"email"`
		Password   string `json:"password"`
		Name       string `json:"name"`
		Department string `json:"department"`
	}
	if !s.allow(w, r, "register:ip:"+clientIP(r), s.cfg.IPLimit) || !decode(w, r, &req) {
		return
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 || !isText(email) {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "request failed validation", "email", "must be an email address")
		return
	}
	name, dept := strings.TrimSpace(req.Name), strings.ToLower(strings.TrimSpace(req.Department))
	if !checkText(w, r, "name", name, 1, 100) || !checkText(w, r, "department", dept, 0, 64) ||
		!s.allow(w, r, "register:acct:"+email, s.cfg.AccountLimit) {
		return
	}
	if err := password.CheckPolicy(req.Password, email, name); err != nil {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "request failed validation", "password", err.Error())
		return
	}
	hash, err := s.hasher.Hash(req.Password)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	// A taken email is not an error: the same answer for both, so registration is no oracle.
	_, err = s.db.ExecContext(r.Context(), `INSERT INTO users (email, password_hash, name, department, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING`, email, hash, name, dept, now, now)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted",
		"message": "registration accepted: log in with this email and password; if the email already had an account, its password is unchanged"})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !s.allow(w, r, "login:ip:"+clientIP(r), s.cfg.IPLimit) || !decode(w, r, &req) {
		return
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if email == "" || req.Password == "" || len(email) > 254 || utf8.RuneCountInString(req.Password) > 128 {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "request failed validation", "email", "email and password are required")
		return
	}
	if !s.allow(w, r, "login:acct:"+email, s.cfg.AccountLimit) {
		return
	}
	var (
		id      int64
		hash    string
		role    string
		version int64
	)
	err := s.db.QueryRowContext(r.Context(), `SELECT id, password_hash, role, token_version FROM users WHERE email = ?`, email).Scan(&id, &hash, &role, &version)
	if errors.Is(err, sql.ErrNoRows) {
		_ = s.hasher.Verify(s.dummyHash, req.Password)
		fail(w, r, http.StatusUnauthorized, "invalid_credentials", "invalid email or password")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if err := s.hasher.Verify(hash, req.Password); err != nil {
		fail(w, r, http.StatusUnauthorized, "invalid_credentials", "invalid email or password")
		return
	}
	s.issue(w, r, id, role, version, "")
}

// claims are the registered claims plus the session's.
type claims struct {
	jwt.RegisteredClaims
	Role    string `json:"role"`
	Kind    string `json:"typ"`
	Family  string `json:"fam"`
	Version int64  `json:"ver"`
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) sign(c claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = keyID
	return t.SignedString(s.key)
}

// issue answers with a new access and refresh token pair in family (a new one if empty).
func (s *Server) issue(w http.ResponseWriter, r *http.Request, id int64, role string, version int64, family string) {
	if family == "" {
		family = randomID()
	}
	now := time.Now()
	base := func(kind string, ttl time.Duration) claims {
		return claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: strconv.FormatInt(id, 10), Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: randomID()},
			Role: role, Kind: kind, Family: family, Version: version}
	}
	access, err := s.sign(base("access", accessTTL))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	refresh, err := s.sign(base("refresh", refreshTTL))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": int(accessTTL.Seconds())})
}

// parse verifies a token of kind: EdDSA only (the header's alg never picks the verifier), our
// kid, issuer and audience, an expiry.
func (s *Server) parse(raw, kind string) (*claims, error) {
	var c claims
	_, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != keyID {
			return nil, errors.New("unknown kid")
		}
		return s.key.Public(), nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(issuer), jwt.WithAudience(audience), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	if c.Kind != kind || c.ID == "" || c.Family == "" {
		return nil, fmt.Errorf("not an %s token", kind)
	}
	return &c, nil
}

// revoke records key until exp; it reports whether the key was new.
func (s *Server) revoke(ctx context.Context, key string, exp time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO revocations (token_key, expires_at) VALUES (?, ?) ON CONFLICT (token_key) DO NOTHING`, key, exp.UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *Server) revoked(ctx context.Context, keys ...string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM revocations WHERE token_key IN (?, ?)`, keys[0], keys[1]).Scan(&n)
	return n > 0, err
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !decode(w, r, &req) {
		return
	}
	c, err := s.parse(req.RefreshToken, "refresh")
	if err != nil {
		fail(w, r, http.StatusUnauthorized, "unauthenticated", "missing, invalid, expired or revoked token")
		return
	}
	dead, err := s.revoked(r.Context(), "fam:"+c.Family, "jti:"+c.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	fresh := false
	if !dead {
		if fresh, err = s.revoke(r.Context(), "jti:"+c.ID, c.ExpiresAt.Time); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	if !fresh {
		// A spent refresh token came back: someone holds a copy. Kill the whole family.
		if _, err := s.revoke(r.Context(), "fam:"+c.Family, time.Now().Add(refreshTTL)); err != nil {
			s.internal(w, r, err)
			return
		}
		fail(w, r, http.StatusUnauthorized, "unauthenticated", "missing, invalid, expired or revoked token")
		return
	}
	id, _ := strconv.ParseInt(c.Subject, 10, 64)
	var role string
	var version int64
	err = s.db.QueryRowContext(r.Context(), `SELECT role, token_version FROM users WHERE id = ?`, id).Scan(&role, &version)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && version != c.Version) {
		fail(w, r, http.StatusUnauthorized, "unauthenticated", "missing, invalid, expired or revoked token")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.issue(w, r, id, role, version, c.Family)
}

// account is a users row as the API shows it.
type account struct {
	ID         int64     `json:"id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Department string    `json:"department"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	version    int64
}

const accountColumns = `id, email, name, department, role, created_at, updated_at, token_version`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(row scanner) (account, error) {
	var a account
	var created, updated string
	if err := row.Scan(&a.ID, &a.Email, &a.Name, &a.Department, &a.Role, &created, &updated, &a.version); err != nil {
		return account{}, err
	}
	a.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	a.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	return a, nil
}

// authenticate checks the bearer token, its revocation and the account's current token version,
// and the stored role's permission; on failure it has answered.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, perm string) (*claims, account, bool) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	c, err := s.parse(raw, "access")
	if !strings.EqualFold(scheme, "Bearer") || err != nil {
		fail(w, r, http.StatusUnauthorized, "unauthenticated", "missing, invalid, expired or revoked token")
		return nil, account{}, false
	}
	dead, err := s.revoked(r.Context(), "fam:"+c.Family, "jti:"+c.ID)
	if err != nil {
		s.internal(w, r, err)
		return nil, account{}, false
	}
	a, err := scanAccount(s.db.QueryRowContext(r.Context(), `SELECT `+accountColumns+` FROM users WHERE id = ?`, c.Subject))
	if dead || errors.Is(err, sql.ErrNoRows) || (err == nil && a.version != c.Version) {
		fail(w, r, http.StatusUnauthorized, "unauthenticated", "missing, invalid, expired or revoked token")
		return nil, account{}, false
	}
	if err != nil {
		s.internal(w, r, err)
		return nil, account{}, false
	}
	// The stored role decides, not the one written in the token.
	if !permissions[a.Role][perm] {
		fail(w, r, http.StatusForbidden, "forbidden", "role "+a.Role+" lacks permission "+perm)
		return nil, account{}, false
	}
	return c, a, true
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.authenticate(w, r, "profile:read")
	if !ok {
		return
	}
	if _, err := s.revoke(r.Context(), "jti:"+c.ID, c.ExpiresAt.Time); err != nil {
		s.internal(w, r, err)
		return
	}
	if _, err := s.revoke(r.Context(), "fam:"+c.Family, time.Now().Add(refreshTTL)); err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	if _, a, ok := s.authenticate(w, r, "profile:read"); ok {
		writeJSON(w, http.StatusOK, a)
	}
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request) {
	_, a, ok := s.authenticate(w, r, "profile:write")
	if !ok {
		return
	}
	var req struct {
		Name       *string `json:"name"`
		Department *string `json:"department"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Name == nil && req.Department == nil {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "expected at least one of name, department")
		return
	}
	name, dept := a.Name, a.Department
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
		if !checkText(w, r, "name", name, 1, 100) {
			return
		}
	}
	if req.Department != nil {
		dept = strings.ToLower(strings.TrimSpace(*req.Department))
		if !checkText(w, r, "department", dept, 0, 64) {
			return
		}
	}
	row := s.db.QueryRowContext(r.Context(), `UPDATE users SET name = ?, department = ?, updated_at = ? WHERE id = ? RETURNING `+accountColumns,
		name, dept, time.Now().UTC().Format(time.RFC3339Nano), a.ID)
	if a, err := scanAccount(row); err != nil {
		s.internal(w, r, err)
	} else {
		writeJSON(w, http.StatusOK, a)
	}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.authenticate(w, r, "users:list"); !ok {
		return
	}
	q := r.URL.Query()
	dept := strings.ToLower(strings.TrimSpace(q.Get("department")))
	if !checkText(w, r, "department", dept, 0, 64) {
		return
	}
	limit, after := 20, int64(0)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			fail(w, r, http.StatusBadRequest, "invalid_argument", "limit: expected an integer from 1 to 100", "limit", "must be 1..100")
			return
		}
		limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			fail(w, r, http.StatusBadRequest, "invalid_argument", "cursor: expected the next_cursor of a previous page", "cursor", "must be a positive integer")
			return
		}
		after = n
	}
	rows, err := s.db.QueryContext(r.Context(), `SELECT `+accountColumns+` FROM users WHERE (? = '' OR department = ?) AND id > ? ORDER BY id LIMIT ?`,
		dept, dept, after, limit+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer rows.Close()
	items := []account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		items = append(items, a)
	}
	if err := rows.Err(); err != nil {
		s.internal(w, r, err)
		return
	}
	out := map[string]any{}
	if len(items) > limit {
		items = items[:limit]
		out["next_cursor"] = strconv.FormatInt(items[limit-1].ID, 10)
	}
	out["items"] = items
	writeJSON(w, http.StatusOK, out)
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n < 1 {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "id: expected a positive integer user id", "id", "must be a positive integer")
		return 0, false
	}
	return n, true
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.authenticate(w, r, "users:read"); !ok {
		return
	}
	if id, ok := pathID(w, r); ok {
		s.getUserByID(w, r, id)
	}
}

func (s *Server) setRole(w http.ResponseWriter, r *http.Request) {
	_, actor, ok := s.authenticate(w, r, "roles:write")
	if !ok {
		return
	}
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req struct {
		Role string `json:"role"`
	}
	if !decode(w, r, &req) {
		return
	}
	if permissions[req.Role] == nil {
		fail(w, r, http.StatusBadRequest, "invalid_argument", "request failed validation", "role", "must be one of: user support admin")
		return
	}
	if id == actor.ID && req.Role != "admin" {
		fail(w, r, http.StatusForbidden, "forbidden", "admins cannot change their own role")
		return
	}
	// Bumping token_version revokes every token issued under the old role.
	if _, err := s.db.ExecContext(r.Context(), `UPDATE users SET role = ?, token_version = token_version + 1, updated_at = ? WHERE id = ? AND role <> ?`,
		req.Role, time.Now().UTC().Format(time.RFC3339Nano), id, req.Role); err != nil {
		s.internal(w, r, err)
		return
	}
	s.getUserByID(w, r, id)
}

func (s *Server) getUserByID(w http.ResponseWriter, r *http.Request, id int64) {
	a, err := scanAccount(s.db.QueryRowContext(r.Context(), `SELECT `+accountColumns+` FROM users WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fail(w, r, http.StatusNotFound, "not_found", "no such user")
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, a)
	}
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.authenticate(w, r, "reports:read"); !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT department, COUNT(*), SUM(role = 'admin') FROM users GROUP BY department ORDER BY department`)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer rows.Close()
	type row struct {
		Department string `json:"department"`
		Users      int64  `json:"users"`
		Admins     int64  `json:"admins"`
	}
	out := []row{}
	for rows.Next() {
		var d row
		if err := rows.Scan(&d.Department, &d.Users, &d.Admins); err != nil {
			s.internal(w, r, err)
			return
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"departments": out})
}
