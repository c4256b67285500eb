package logsink_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/logsink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSinksKeepEveryLine(t *testing.T) {
	for _, synchronous := range []bool{true, false} {
		name := map[bool]string{true: "sync", false: "buffered"}[synchronous]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "access.log")
			sink, err := logsink.Open(path, synchronous)
			require.NoError(t, err)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 50 {
						_, err := sink.Write([]byte(strings.Repeat("x", w+i%7) + "\n"))
						assert.NoError(t, err)
					}
				})
			}
			wg.Wait()
			require.NoError(t, sink.Close())
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, 400, strings.Count(string(b), "\n"), "no line may be lost or torn")
		})
	}
}

func TestSyncSinkIsOnDiskBeforeWriteReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	sink, err := logsink.Open(path, true)
	require.NoError(t, err)
	defer sink.Close()
	_, err = sink.Write([]byte("line\n"))
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "line\n", string(b))
}

func TestOpenReportsABadPath(t *testing.T) {
	_, err := logsink.Open(filepath.Join(t.TempDir(), "missing", "dir", "access.log"), false)
	require.Error(t, err)
}

func BenchmarkSink(b *testing.B) {
	line := []byte(`{"level":"info","msg":"request","route":"/api/v1/items/:id","status":200}` + "\n")
	for _, synchronous := range []bool{true, false} {
		name := map[bool]string{true: "sync-fsync", false: "buffered"}[synchronous]
		b.Run(name, func(b *testing.B) {
			sink, err := logsink.Open(filepath.Join(b.TempDir(), "access.log"), synchronous)
			require.NoError(b, err)
			defer sink.Close()
			b.SetBytes(int64(len(line)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := sink.Write(line); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
