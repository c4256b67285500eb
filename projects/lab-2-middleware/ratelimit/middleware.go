package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Taker admits one event or says how long until it would. TokenBucket and SlidingWindow both are.
type Taker interface {
	Take() (ok bool, retryAfter time.Duration)
}

// Middleware rejects requests the limiter refuses with 429 Too Many Requests and a Retry-After
// header in whole seconds (rounded up, at least 1, as RFC 9110 allows only integers), so a well
// behaved client backs off instead of retrying at once.
func Middleware(l Taker) gin.HandlerFunc {
	return func(c *gin.Context) {
		ok, after := l.Take()
		if ok {
			c.Next()
			return
		}
		secs := int(math.Ceil(after.Seconds()))
		if secs < 1 {
			secs = 1
		}
		c.Header("Retry-After", strconv.Itoa(secs))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "rate limit exceeded", "retry_after_seconds": secs})
	}
}
