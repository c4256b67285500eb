//go:build integration

// The tests in this file drive the server with the real Redis command-line tools, so they run
// with `make test-integration` (scripts/test.sh integration), not `make test`: a machine with
// only Go passes `make test`. Under the integration tag a missing tool fails the test with the
// line that installs it.

package server

import (
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tool finds a Redis command-line tool or fails with how to install it.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: install it with `apt-get install -y --no-install-recommends redis-tools` (Debian, Redis 7.0)", name)
	}
	return p
}

func hostPort(t *testing.T, addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return h, p
}

// TestRedisCLI drives the server with the real redis-cli: RESP2 and RESP3 (-3), inline
// commands are not needed by it, but its startup probes (COMMAND DOCS) and reply rendering are.
func TestRedisCLI(t *testing.T) {
	cli := tool(t, "redis-cli")
	_, addr := start(t, Config{})
	h, p := hostPort(t, addr)
	run := func(args ...string) string {
		out, err := exec.Command(cli, append([]string{"-h", h, "-p", p}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.TrimSpace(string(out))
	}
	assert.Equal(t, "PONG", run("PING"))
	assert.Equal(t, "OK", run("SET", "greeting", "hello world"))
	assert.Equal(t, "hello world", run("GET", "greeting"))
	assert.Equal(t, "(integer) 3", run("--no-raw", "RPUSH", "l", "a", "b", "c"))
	assert.Equal(t, "1) \"a\"\n2) \"b\"\n3) \"c\"", run("--no-raw", "LRANGE", "l", "0", "-1"))
	assert.Equal(t, "1) \"f\"\n2) \"v\"", func() string { run("HSET", "h", "f", "v"); return run("--no-raw", "HGETALL", "h") }())
	assert.Equal(t, "1# \"f\" => \"v\"", run("-3", "--no-raw", "HGETALL", "h"))
	assert.Equal(t, "(error) ERR unknown command 'NOPE', with args beginning with: 'x'", run("--no-raw", "NOPE", "x"))
	assert.Contains(t, run("INFO", "server"), "redis_version:7.0.15")
	// A script through --eval.
	assert.Equal(t, "(integer) 1", run("--no-raw", "EVAL", "return redis.call('EXISTS', KEYS[1])", "1", "greeting"))
	// Piped input, as in `cat cmds.txt | redis-cli`.
	cmd := exec.Command(cli, "-h", h, "-p", p)
	cmd.Stdin = strings.NewReader("SET a 1\nINCR a\nGET a\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err)
	assert.Equal(t, "OK\n2\n2", strings.TrimSpace(string(out)))
}

// TestRedisBenchmark runs the real redis-benchmark briefly with and without pipelining: it must
// complete and report a throughput, which proves the server speaks what it expects.
func TestRedisBenchmark(t *testing.T) {
	bench := tool(t, "redis-benchmark")
	_, addr := start(t, Config{})
	h, p := hostPort(t, addr)
	re := regexp.MustCompile(`"(SET|GET)","([0-9.]+)"`)
	for _, pipeline := range []string{"1", "16"} {
		out, err := exec.Command(bench, "-h", h, "-p", p, "-t", "set,get", "-n", "5000", "-c", "10", "-P", pipeline, "--csv").CombinedOutput()
		require.NoError(t, err, string(out))
		m := re.FindAllStringSubmatch(string(out), -1)
		require.Len(t, m, 2, string(out))
		for _, row := range m {
			rps, err := strconv.ParseFloat(row[2], 64)
			require.NoError(t, err)
			assert.Positive(t, rps, row[0])
		}
	}
}
