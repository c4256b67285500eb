//go:build integration

package broker_test

import (
	"context"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kcat runs Debian's kcat (librdkafka) against the broker: a real client
// that negotiates versions on its own, unmodified.
func kcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not found: install it with `apt-get install -y --no-install-recommends kcat` (.ci/run does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	require.NoError(t, err, "kcat %v", args)
	return string(out)
}

func lines(s string) []string {
	ls := strings.Fields(s)
	sort.Strings(ls)
	return ls
}

func TestKcatListsProducesConsumesAndJoinsAGroup(t *testing.T) {
	b, addr := start(t)
	require.NoError(t, b.CreateTopic("kc", 3))

	assert.Contains(t, kcat(t, "", "-b", addr, "-L"), `topic "kc" with 3 partitions`)
	kcat(t, "a\nb\nc\nd\n", "-b", addr, "-P", "-t", "kc")
	assert.Equal(t, []string{"a", "b", "c", "d"}, lines(kcat(t, "", "-b", addr, "-C", "-t", "kc", "-o", "beginning", "-e", "-q")))
	assert.Equal(t, []string{"a", "b", "c", "d"}, lines(kcat(t, "", "-b", addr, "-G", "kgroup", "kc", "-o", "beginning", "-e", "-q")))
}
