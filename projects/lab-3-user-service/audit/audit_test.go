package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWriterAppends(t *testing.T) {
	for _, unbounded := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "audit.log")
		w := New(Config{Path: path, Unbounded: unbounded, Workers: 2, Queue: 16})
		for i := 0; i < 10; i++ {
			w.Record(context.Background(), Event{Action: "login", Status: 200})
		}
		require.NoError(t, w.Close(context.Background()))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, 10, strings.Count(string(b), "\n"))
		require.Equal(t, int64(10), w.Stats().Written)
	}
}

// TestBoundedPoolShedsInsteadOfPinning: with the lock held, the fixed writer blocks at most
// Workers appends and drops the overflow; nothing waits forever once the lock is released.
func TestBoundedPoolShedsInsteadOfPinning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	release, err := Lock(path)
	require.NoError(t, err)
	w := New(Config{Path: path, Workers: 2, Queue: 4})
	w.Record(context.Background(), Event{Action: "x"})
	w.Record(context.Background(), Event{Action: "x"})
	require.Eventually(t, func() bool { return w.Stats().Waiting == 2 }, 5*time.Second, 10*time.Millisecond)
	for i := 0; i < 48; i++ {
		w.Record(context.Background(), Event{Action: "x"})
	}
	require.Equal(t, int64(44), w.Stats().Dropped)
	require.NoError(t, release())
	require.NoError(t, w.Close(context.Background()))
	require.Equal(t, int64(6), w.Stats().Written)
}
