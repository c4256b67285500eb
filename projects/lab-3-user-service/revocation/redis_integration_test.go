//go:build integration

package revocation

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

func TestIntegrationRedisStore(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: servicetest.Require(t, "REDIS_ADDR")})
	defer c.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	testStore(t, NewRedis(c, "lab3test:"+hex.EncodeToString(b)+":"))
}
