// Package api holds the service's HTTP handlers. They know nothing about
// servers, logs or metrics: that is the middleware's job.
package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// Fetcher is the dependency /api/v1/work calls; defined here, where it is used.
type Fetcher interface {
	Fetch(ctx context.Context, key string) (string, error)
}

// API is the set of handlers.
type API struct {
	dep   Fetcher
	ready atomic.Bool
}

// New returns handlers over dep, ready to serve.
func New(dep Fetcher) *API {
	a := &API{dep: dep}
	a.ready.Store(true)
	return a
}

// SetReady flips /readyz; the server sets it false when draining so a load
// balancer stops sending new requests before connections are closed.
func (a *API) SetReady(ready bool) { a.ready.Store(ready) }

// Register mounts the routes.
func (a *API) Register(r gin.IRouter) {
	r.GET("/healthz", a.Healthz)
	r.GET("/readyz", a.Readyz)
	v1 := r.Group("/api/v1")
	v1.POST("/work", a.Work)
	v1.GET("/items/:id", a.Item)
}

// Healthz is liveness: the process is up.
func (a *API) Healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// Readyz is readiness: the process wants traffic.
func (a *API) Readyz(c *gin.Context) {
	if !a.ready.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "draining"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// Work submits a unit of work to the dependency and returns its answer: a
// non-idempotent request that spends most of its life waiting on I/O, like
// most real writes. Clients must not blindly retry it, which is why a server
// that drops it mid-flight turns into a client-visible failure.
func (a *API) Work(c *gin.Context) {
	key := c.DefaultQuery("key", "default")
	v, err := a.dep.Fetch(c.Request.Context(), key)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		c.JSON(http.StatusGatewayTimeout, gin.H{"error": "dependency timed out"})
		return
	case err != nil:
		c.JSON(http.StatusBadGateway, gin.H{"error": "dependency failed"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"key": key, "value": v})
}

// Item returns a small document; a cheap CPU-only endpoint.
func (a *API) Item(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "id must be a non-negative integer below 2^32"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id, "name": "item-" + strconv.FormatUint(id, 10)})
}
