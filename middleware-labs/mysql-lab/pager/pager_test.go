package pager

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func page(size int, fill byte) []byte {
	b := make([]byte, size)
	b[4] = TypeLeaf
	for i := HeaderSize; i < size; i++ {
		b[i] = fill
	}
	return b
}

func TestBatchesSurviveReopenWithMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	p, err := Open(path, MinPageSize)
	require.NoError(t, err)
	a, b := p.Grow(), p.Grow()
	p.UpdateMeta(func(m *Meta) { m.CheckpointLSN = 42; m.Catalog = []byte("trees") })
	require.NoError(t, p.WriteBatch(map[uint64][]byte{a: page(MinPageSize, 'a'), b: page(MinPageSize, 'b')}))
	require.NoError(t, p.Close())

	p, err = Open(path, MinPageSize)
	require.NoError(t, err)
	defer p.Close()
	m := p.Meta()
	require.Equal(t, uint64(3), m.PageCount)
	require.Equal(t, uint64(42), m.CheckpointLSN)
	require.Equal(t, "trees", string(m.Catalog))
	buf := make([]byte, MinPageSize)
	require.NoError(t, p.ReadPage(b, buf))
	require.Equal(t, byte('b'), buf[100])

	_, err = Open(path, 4096)
	require.ErrorContains(t, err, "512-byte pages")
}

// A crash during the in-place writes tears a page; the doublewrite copy
// repairs it at the next Open. A crash while the doublewrite file itself was
// written leaves it damaged; then it is ignored (the data file was not touched).
func TestTornPagesAreRepairedFromTheDoublewriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	p, err := Open(path, MinPageSize)
	require.NoError(t, err)
	id := p.Grow()
	require.NoError(t, p.WriteBatch(map[uint64][]byte{id: page(MinPageSize, 'x')}))
	require.NoError(t, p.Close())

	// Tear the page: its second half is zeros, as if power failed mid-write.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, MinPageSize/2), int64(id)*MinPageSize+MinPageSize/2)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	p, err = Open(path, MinPageSize)
	require.NoError(t, err)
	buf := make([]byte, MinPageSize)
	require.NoError(t, p.ReadPage(id, buf), "the doublewrite copy repairs the torn page")
	require.Equal(t, byte('x'), buf[MinPageSize-1])
	require.NoError(t, p.Close())

	// Now a torn doublewrite file and a torn page: the page is reported corrupt, not served.
	dw, err := os.ReadFile(path + ".dblwr")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+".dblwr", dw[:len(dw)-10], 0o644))
	f, err = os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xde, 0xad}, int64(id)*MinPageSize+100)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	p, err = Open(path, MinPageSize)
	require.NoError(t, err)
	defer p.Close()
	require.ErrorIs(t, p.ReadPage(id, buf), ErrCorrupt)
}

func FuzzDecodeMeta(f *testing.F) {
	good := make([]byte, MinPageSize)
	require.NoError(f, EncodeMeta(good, Meta{PageCount: 9, FreeHead: 3, CheckpointLSN: 7, Catalog: []byte("cat")}))
	f.Add(good)
	f.Add(make([]byte, MinPageSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		buf := make([]byte, MinPageSize)
		copy(buf, b)
		Seal(buf) // past the checksum, so the fuzzer reaches the field checks
		if m, err := DecodeMeta(buf); err == nil && len(m.Catalog) > MinPageSize {
			t.Fatalf("catalog of %d bytes from a %d-byte page", len(m.Catalog), MinPageSize)
		}
		_, _ = DecodeDoublewrite(b, MinPageSize)
	})
}
