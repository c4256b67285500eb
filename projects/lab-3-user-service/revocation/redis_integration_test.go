//go:build integration

package revocation_test

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation/revocationtest"
)

func TestIntegrationRedisStore(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: servicetest.Require(t, "REDIS_ADDR")})
	defer c.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	revocationtest.Contract(t, revocation.NewRedis(c, "lab3test:"+hex.EncodeToString(b)+":"))
}
