// Package httpapi is the user service's HTTP transport on gin: routing, JSON in and out, one
// error shape, validation, and the middleware chain (request id, tracing, access log, panic
// recovery, RED metrics, per-route timeouts, authentication and RBAC). It calls the service
// layer and nothing below it.
package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/audit"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/service"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// Config wires the API.
type Config struct {
	Service        *service.Service
	Log            *zap.Logger
	Metrics        prometheus.Registerer
	Tracer         trace.TracerProvider
	Audit          *audit.Writer // optional
	TrustedProxies []string      // nil: X-Forwarded-For is ignored, so the login limit cannot be dodged
	Timeout        time.Duration // default per-route deadline
	ReportTimeout  time.Duration // the report route's deadline
	// ReportConcurrency bounds the department reports running at once (a bulkhead), so the
	// expensive report cannot take every database connection and core from the cheap routes; a
	// report that finds no slot within ReportQueueWait is shed with a 503. 0 admits every
	// report at once (the db-overload fault).
	ReportConcurrency int
	ReportQueueWait   time.Duration
}

// API is the HTTP API.
type API struct {
	svc      *service.Service
	matrix   rbac.Matrix
	audit    *audit.Writer
	engine   *gin.Engine
	validate func(*gin.Context, any) bool
}

// New builds the router.
func New(cfg Config) (*API, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.ReportTimeout == 0 {
		cfg.ReportTimeout = 10 * time.Second
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	a := &API{svc: cfg.Service, matrix: rbac.DefaultMatrix(), audit: cfg.Audit, engine: e, validate: newValidator()}
	e.Use(requestIDMiddleware(), tracing(cfg.Tracer), accessLog(cfg.Log), recovery(m), red(m))
	e.NoRoute(func(c *gin.Context) { abort(c, http.StatusNotFound, "not_found", "no such route", nil) })
	e.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route", nil)
	})

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })

	to := timeout(cfg.Timeout)
	v1 := e.Group("/v1", to)
	v1.POST("/auth/register", a.recordAudit("register"), a.register)
	v1.POST("/auth/login", a.recordAudit("login"), a.login)
	v1.POST("/auth/refresh", a.recordAudit("refresh"), a.refresh)

	authed := v1.Group("", a.authenticate())
	authed.POST("/auth/logout", a.recordAudit("logout"), a.logout)
	authed.GET("/me", a.require(rbac.PermProfileRead), a.recordAudit("profile.read"), a.me)
	authed.PATCH("/me", a.require(rbac.PermProfileWrite), a.recordAudit("profile.update"), a.updateMe)
	authed.GET("/admin/users", a.require(rbac.PermUsersList), a.listUsers)
	authed.GET("/admin/users/:id", a.require(rbac.PermUsersRead), a.getUser)
	authed.PUT("/admin/users/:id/role", a.require(rbac.PermRolesWrite), a.recordAudit("role.change"), a.setRole)

	if cfg.ReportQueueWait == 0 {
		cfg.ReportQueueWait = time.Second
	}
	reports := e.Group("/v1/admin/reports", timeout(cfg.ReportTimeout), a.authenticate(), a.require(rbac.PermReportsRead),
		bulkhead(cfg.ReportConcurrency, cfg.ReportQueueWait))
	reports.GET("/departments", a.departmentReport)
	return a, nil
}

// Handler returns the http.Handler.
func (a *API) Handler() http.Handler { return a.engine }

// Engine exposes the gin engine, so tests can mount extra routes behind the same middleware.
func (a *API) Engine() *gin.Engine { return a.engine }

func (a *API) recordAudit(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if a.audit == nil {
			return
		}
		a.audit.Record(c.Request.Context(), audit.Event{Time: time.Now().UTC(), RequestID: requestID(c), UserID: int64(identity(c).UserID), Action: action, Status: c.Writer.Status()})
	}
}

// UserJSON is the public view of a user; the password hash never leaves the service.
type UserJSON struct {
	ID         int64     `json:"id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Department string    `json:"department"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toJSON(u user.User) UserJSON {
	return UserJSON{ID: int64(u.ID), Email: u.Email, Name: u.Name, Department: u.Department, Role: string(u.Role), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type registerReq struct {
	Email      string `json:"email" validate:"required,max=254,text,email"`
	Password   string `json:"password" validate:"required,min=12,max=128"`
	Name       string `json:"name" validate:"required,min=1,max=100,text"`
	Department string `json:"department" validate:"omitempty,max=64,text"`
}

func (a *API) register(c *gin.Context) {
	var req registerReq
	if !a.bind(c, &req) {
		return
	}
	if err := a.svc.Register(c.Request.Context(), c.ClientIP(), service.RegisterInput(req)); err != nil {
		fail(c, err)
		return
	}
	// The same answer whether or not the email already had an account: registration is not a
	// way to find out who has one. The trade-off is in the README.
	c.JSON(http.StatusAccepted, RegisteredJSON{Status: "accepted", Message: registeredMessage})
}

// RegisteredJSON is the answer to every accepted registration, new email or not.
type RegisteredJSON struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

const registeredMessage = "registration accepted: log in with this email and password; if the email already had an account, its password is unchanged"

type loginReq struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=128"`
}

// TokenJSON is a login or refresh response.
type TokenJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func (a *API) login(c *gin.Context) {
	var req loginReq
	if !a.bind(c, &req) {
		return
	}
	pair, u, err := a.svc.Login(c.Request.Context(), c.ClientIP(), req.Email, req.Password)
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(keyIdentity, identityOf(u))
	c.JSON(http.StatusOK, TokenJSON{AccessToken: pair.Access, RefreshToken: pair.Refresh, TokenType: "Bearer", ExpiresIn: int(time.Until(pair.AccessExpires).Seconds())})
}

type refreshReq struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=4096"`
}

func (a *API) refresh(c *gin.Context) {
	var req refreshReq
	if !a.bind(c, &req) {
		return
	}
	pair, err := a.svc.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, TokenJSON{AccessToken: pair.Access, RefreshToken: pair.Refresh, TokenType: "Bearer", ExpiresIn: int(time.Until(pair.AccessExpires).Seconds())})
}

func (a *API) logout(c *gin.Context) {
	_, tok, _ := cutBearer(c.GetHeader("Authorization"))
	if err := a.svc.Logout(c.Request.Context(), tok); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// me answers with the row authenticate has just read for the token version check.
func (a *API) me(c *gin.Context) { c.JSON(http.StatusOK, toJSON(account(c))) }

type updateMeReq struct {
	Name       *string `json:"name" validate:"omitempty,min=1,max=100,text"`
	Department *string `json:"department" validate:"omitempty,max=64,text"`
}

func (a *API) updateMe(c *gin.Context) {
	var req updateMeReq
	if !a.bind(c, &req) {
		return
	}
	if req.Name == nil && req.Department == nil {
		abort(c, http.StatusBadRequest, "invalid_argument", "expected at least one of name, department", nil)
		return
	}
	u, err := a.svc.UpdateProfile(c.Request.Context(), identity(c).UserID, user.ProfileUpdate{Name: req.Name, Department: req.Department})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toJSON(u))
}

// PageJSON is a page of users; next_cursor is absent on the last page.
type PageJSON struct {
	Items      []UserJSON `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

func (a *API) listUsers(c *gin.Context) {
	q := user.ListQuery{Limit: 20, Department: c.Query("department")}
	if len(q.Department) > 64 || !isText(q.Department) {
		abort(c, http.StatusBadRequest, "invalid_argument", "department: expected at most 64 printable characters", map[string]string{"department": "must be at most 64 printable characters"})
		return
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			abort(c, http.StatusBadRequest, "invalid_argument", "limit: expected an integer from 1 to 100", map[string]string{"limit": "must be 1..100"})
			return
		}
		q.Limit = n
	}
	if s := c.Query("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			abort(c, http.StatusBadRequest, "invalid_argument", "cursor: expected the next_cursor of a previous page", map[string]string{"cursor": "must be a positive integer"})
			return
		}
		q.After = user.ID(n)
	}
	p, err := a.svc.List(c.Request.Context(), q)
	if err != nil {
		fail(c, err)
		return
	}
	out := PageJSON{Items: make([]UserJSON, 0, len(p.Users))}
	for _, u := range p.Users {
		out.Items = append(out.Items, toJSON(u))
	}
	if p.Next != 0 {
		out.NextCursor = strconv.FormatInt(int64(p.Next), 10)
	}
	c.JSON(http.StatusOK, out)
}

func pathID(c *gin.Context) (user.ID, bool) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n < 1 {
		abort(c, http.StatusBadRequest, "invalid_argument", "id: expected a positive integer user id", map[string]string{"id": "must be a positive integer"})
		return 0, false
	}
	return user.ID(n), true
}

func (a *API) getUser(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	u, err := a.svc.Profile(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toJSON(u))
}

type roleReq struct {
	Role string `json:"role" validate:"required,oneof=user support admin"`
}

func (a *API) setRole(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var req roleReq
	if !a.bind(c, &req) {
		return
	}
	role, err := rbac.ParseRole(req.Role)
	if err != nil {
		fail(c, fmt.Errorf("%w: %w", user.ErrInvalidInput, err))
		return
	}
	u, err := a.svc.SetRole(c.Request.Context(), identity(c), id, role)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toJSON(u))
}

// DepartmentJSON is one report row.
type DepartmentJSON struct {
	Department string `json:"department"`
	Users      int64  `json:"users"`
	Admins     int64  `json:"admins"`
}

func (a *API) departmentReport(c *gin.Context) {
	rep, err := a.svc.DepartmentReport(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]DepartmentJSON, 0, len(rep))
	for _, d := range rep {
		out = append(out, DepartmentJSON(d))
	}
	c.JSON(http.StatusOK, gin.H{"departments": out})
}
