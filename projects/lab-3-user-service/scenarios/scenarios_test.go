package scenarios

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"))
}

// TestScenarios proves every fault: symptom and culprit with it on, healthy with it off. It runs
// on the backend the environment names (embedded SQLite in `make test`).
func TestScenarios(t *testing.T) {
	labtest.Run(t, Lab())
}

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-fault=bogus"}, "slow-request, db-overload, thread-exhaustion"},
		{[]string{"-duration=abc"}, "duration"},
	} {
		var out, errOut bytes.Buffer
		code := runner.Exec(context.Background(), Lab(), tt.args, &out, &errOut)
		require.Equal(t, runner.ExitUsage, code, errOut.String())
		require.Contains(t, errOut.String(), tt.want)
		require.Equal(t, 1, strings.Count(errOut.String(), "\n"), errOut.String())
	}
}

func TestBackendFromEnv(t *testing.T) {
	t.Setenv("LAB3_DB", "")
	b, err := BackendFromEnv()
	require.NoError(t, err)
	require.Equal(t, "sqlite", string(b.Dialect))
	t.Setenv("LAB3_DB", "oracle")
	_, err = BackendFromEnv()
	require.ErrorContains(t, err, "expected sqlite, mysql or postgres")
	t.Setenv("LAB3_DB", "mysql")
	t.Setenv("MYSQL_DSN", "")
	_, err = BackendFromEnv()
	require.ErrorContains(t, err, "needs MYSQL_DSN")
}
