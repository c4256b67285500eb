//go:build integration

package server

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Debian clients against the lab's server, unmodified: the mariadb CLI (mariadb-client) and
// sysbench 1.0.20 (its MySQL driver uses prepared statements).
func TestMariaDBClient(t *testing.T) {
	bin, err := exec.LookPath("mariadb")
	require.NoError(t, err, "the mariadb CLI is missing: apt-get install -y --no-install-recommends mariadb-client")
	host, port, _ := strings.Cut(start(t, Config{}), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(sql string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, "-h", host, "-P", port, "-u", "root", "--batch", "test", "-e", sql).CombinedOutput()
		return string(out), err
	}
	out, err := run("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), KEY iv (v)); INSERT INTO t VALUES (1,'a'),(2,'b'); SELECT * FROM t; EXPLAIN SELECT * FROM t WHERE v = 'a'")
	require.NoError(t, err, out)
	assert.Contains(t, out, "id\tv\n1\ta\n2\tb\n")
	assert.Contains(t, out, "1\tSIMPLE\tt\tref\tiv\tiv\t43\tconst\t1")
	out, err = run("SELEKT 1")
	require.Error(t, err)
	assert.Contains(t, out, "ERROR 1064 (42000)")
	assert.Contains(t, out, "near 'SELEKT 1' at line 1")
}

func TestSysbench(t *testing.T) {
	bin, err := exec.LookPath("sysbench")
	require.NoError(t, err, "sysbench is missing: apt-get install -y --no-install-recommends sysbench")
	host, port, _ := strings.Cut(start(t, Config{}), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--db-driver=mysql", "--mysql-host=" + host, "--mysql-port=" + port, "--mysql-user=root",
		"--mysql-db=test", "--tables=1", "--table-size=1000", "--threads=2", "--time=2"}
	for _, test := range []string{"oltp_point_select", "oltp_read_only"} {
		for _, cmd := range []string{"prepare", "run", "cleanup"} {
			out, err := exec.CommandContext(ctx, bin, append([]string{test}, append(args, cmd)...)...).CombinedOutput()
			require.NoError(t, err, "%s %s: %s", test, cmd, out)
			if cmd == "run" {
				assert.Contains(t, string(out), "ignored errors:                      0", "%s: %s", test, out)
				assert.NotContains(t, string(out), "FATAL")
			}
		}
	}
}
