package servicetest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

func TestMissingNamesTheServiceAndHowToStartIt(t *testing.T) {
	for env := range servicetest.Known() {
		msg := servicetest.Missing(env)
		assert.Contains(t, msg, env)
		assert.Contains(t, msg, "start it")
		assert.NotContains(t, msg, "\n", "one line")
	}
	assert.Contains(t, servicetest.Missing("NOPE"), "NOPE is not set")
}

func TestRequireReturnsTheValue(t *testing.T) {
	t.Setenv("REDIS_ADDR", "127.0.0.1:1")
	assert.Equal(t, "127.0.0.1:1", servicetest.Require(t, "REDIS_ADDR"))
}
