package aof

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func write(t *testing.T, path string, cmds ...[]string) []byte {
	t.Helper()
	f, err := Open(path, Always)
	require.NoError(t, err)
	for _, c := range cmds {
		args := make([][]byte, len(c))
		for i, a := range c {
			args[i] = []byte(a)
		}
		f.Append(args)
	}
	require.NoError(t, f.Flush())
	require.NoError(t, f.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func load(t *testing.T, path string) ([]string, LoadResult, error) {
	var got []string
	res, err := Load(path, func(args [][]byte) error {
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = string(a)
		}
		got = append(got, strings.Join(parts, " "))
		return nil
	})
	return got, res, err
}

// TestTruncatedTailAtEveryOffset cuts the file at every byte: replay always yields a prefix of
// whole commands (a torn MULTI block is dropped entirely), and the file is truncated back to it.
func TestTruncatedTailAtEveryOffset(t *testing.T) {
	dir := t.TempDir()
	full := write(t, filepath.Join(dir, "full.aof"),
		[]string{"SET", "a", "1"}, []string{"MULTI"}, []string{"INCR", "a"}, []string{"INCR", "a"}, []string{"EXEC"}, []string{"SET", "b", "2"})
	all := []string{"SET a 1", "INCR a", "INCR a", "SET b 2"}
	for cut := 0; cut <= len(full); cut++ {
		p := filepath.Join(dir, "cut.aof")
		require.NoError(t, os.WriteFile(p, full[:cut], 0o644))
		got, res, err := load(t, p)
		require.NoError(t, err, "cut at %d", cut)
		if len(got) > 0 {
			require.Equal(t, all[:len(got)], got, "cut at %d", cut)
		}
		require.NotEqual(t, 2, len(got), "a transaction is never half applied (cut at %d)", cut)
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, res.ValidLen, st.Size())
		assert.Equal(t, res.ValidLen != int64(cut), res.Truncated, "cut at %d", cut)
	}
}

func TestCorruptionInTheMiddleIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.aof")
	b := write(t, p, []string{"SET", "a", "1"}, []string{"SET", "b", "2"})
	b[len("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n")] = '!'
	require.NoError(t, os.WriteFile(p, b, 0o644))
	_, _, err := load(t, p)
	require.ErrorIs(t, err, ErrBadFormat)
}

func TestEverySecSyncsInTheBackground(t *testing.T) {
	f, err := Open(filepath.Join(t.TempDir(), "e.aof"), EverySec)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.RunEverySec(ctx, nil); close(done) }()
	f.Append([][]byte{[]byte("PING")})
	require.NoError(t, f.Flush())
	cancel()
	<-done
	require.NoError(t, f.Close())
	_, err = ParsePolicy("sometimes")
	require.EqualError(t, err, `aof: expected appendfsync always, everysec or no, got "sometimes"`)
}
