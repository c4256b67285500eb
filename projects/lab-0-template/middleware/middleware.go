// Package middleware holds the gin middleware every request passes through,
// in the order the server installs them: request ID, recovery, access log,
// per-request timeout. (RED metrics are in package httpmetrics and tracing
// comes from otelgin.)
package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

// RequestIDHeader carries the request ID in and out.
const RequestIDHeader = "X-Request-ID"

// RequestID reuses a caller's request ID (so one ID follows a request across
// services) or makes one, and puts it in the context and the response.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header(RequestIDHeader, id)
		c.Request = c.Request.WithContext(telemetry.WithRequestID(c.Request.Context(), id))
		c.Next()
	}
}

// Recovery turns a panic into a 500 JSON response and logs it with its stack,
// so one bad request cannot take the process down.
func Recovery(log *zap.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				telemetry.Logger(c.Request.Context(), log).Error("panic serving request",
					zap.Any("panic", r), zap.String("path", c.FullPath()), zap.ByteString("stack", debug.Stack()))
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error",
					"request_id": telemetry.RequestID(c.Request.Context())})
			}
		}()
		c.Next()
	}
}

// AccessLog writes one line per request after it completes, and reports
// how long the write took: logging is on every request's path, so its cost
// is a latency every request pays.
func AccessLog(log *zap.Logger, observeWrite func(time.Duration)) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		written := time.Now()
		telemetry.Logger(c.Request.Context(), log).Info("request",
			zap.String("method", c.Request.Method), zap.String("route", c.FullPath()),
			zap.Int("status", c.Writer.Status()), zap.Duration("latency", written.Sub(start)),
			zap.Int("bytes", c.Writer.Size()), zap.String("remote", c.ClientIP()))
		observeWrite(time.Since(written))
	}
}

// CutOff logs a warning for each request whose connection went away while
// its handler ran: the client hung up, or the server closed the connection
// under it (a shutdown that does not drain). A request that merely timed
// out is not one; Timeout's deadline is on a context below this one.
func CutOff(log *zap.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		c.Next()
		if errors.Is(ctx.Err(), context.Canceled) {
			telemetry.Logger(ctx, log).Warn("request cut off mid-flight: its connection closed before the handler finished",
				zap.String("method", c.Request.Method), zap.String("route", c.FullPath()),
				zap.Int("status", c.Writer.Status()))
		}
	}
}

// Timeout gives every request a deadline. Handlers and their dependencies
// honour the context, so a stuck dependency costs at most d, and the client
// gets a 504 rather than a hung connection.
func Timeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
