package raft

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileStorageReplaysSaves(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFileStorage(dir)
	require.NoError(t, err)
	require.NoError(t, s.Save(HardState{Term: 1, Vote: 2}, []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 1, Data: []byte("a")}}))
	require.NoError(t, s.Save(HardState{Term: 2, Vote: 3}, []Entry{{Index: 3, Term: 2, Data: []byte("b")}}))
	// A conflicting append replaces the tail from its first index.
	require.NoError(t, s.Save(HardState{Term: 3}, []Entry{{Index: 2, Term: 3, Data: []byte("c")}}))
	require.NoError(t, s.Close())

	s, err = OpenFileStorage(dir)
	require.NoError(t, err)
	defer func() { _ = s.Close() }()
	hs, snap, entries, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, HardState{Term: 3}, hs)
	assert.Zero(t, snap.Index)
	assert.Equal(t, []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 3, Data: []byte("c")}}, entries)
}

func TestFileStorageCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFileStorage(dir)
	require.NoError(t, err)
	require.NoError(t, s.Save(HardState{Term: 1, Vote: 1}, []Entry{{Index: 1, Term: 1, Data: []byte("kept")}}))
	require.NoError(t, s.Save(HardState{Term: 1, Vote: 1}, []Entry{{Index: 2, Term: 1, Data: []byte("torn")}}))
	require.NoError(t, s.Close())

	// A crash in the middle of the second write.
	path := filepath.Join(dir, walName)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, info.Size()-3))

	s, err = OpenFileStorage(dir)
	require.NoError(t, err)
	_, _, entries, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, []Entry{{Index: 1, Term: 1, Data: []byte("kept")}}, entries)
	// Appends after the cut land where the torn record was.
	require.NoError(t, s.Save(HardState{Term: 1, Vote: 1}, []Entry{{Index: 2, Term: 1, Data: []byte("again")}}))
	require.NoError(t, s.Close())
	s, err = OpenFileStorage(dir)
	require.NoError(t, err)
	defer func() { _ = s.Close() }()
	_, _, entries, err = s.Load()
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, []byte("again"), entries[1].Data)
}

func TestFileStorageSnapshotReplacesTheLog(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFileStorage(dir)
	require.NoError(t, err)
	for i := uint64(1); i <= 5; i++ {
		require.NoError(t, s.Save(HardState{Term: 1, Vote: 1}, []Entry{{Index: i, Term: 1, Data: []byte{byte(i)}}}))
	}
	snap := Snapshot{Index: 4, Term: 1, Data: []byte("state@4")}
	require.NoError(t, s.SaveSnapshot(HardState{Term: 2, Vote: 1}, snap, []Entry{{Index: 5, Term: 1, Data: []byte{5}}}))
	require.NoError(t, s.Save(HardState{Term: 2, Vote: 1}, []Entry{{Index: 6, Term: 2}}))
	require.NoError(t, s.Close())

	s, err = OpenFileStorage(dir)
	require.NoError(t, err)
	defer func() { _ = s.Close() }()
	hs, got, entries, err := s.Load()
	require.NoError(t, err)
	assert.Equal(t, HardState{Term: 2, Vote: 1}, hs)
	assert.Equal(t, snap, got)
	assert.Equal(t, []Entry{{Index: 5, Term: 1, Data: []byte{5}}, {Index: 6, Term: 2}}, entries)
}

func TestFileStorageRejectsACorruptSnapshot(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, snapName), []byte("not a snapshot"), 0o600))
	s, err := OpenFileStorage(dir)
	require.NoError(t, err)
	defer func() { _ = s.Close() }()
	_, _, _, err = s.Load()
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestNodeRestartsFromFiles runs a node on files, restarts it, and checks
// that its term, vote, log and snapshot come back.
func TestNodeRestartsFromFiles(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Node, *FileStorage) {
		s, err := OpenFileStorage(dir)
		require.NoError(t, err)
		n, err := New(Config{ID: 1, Peers: []int{1}, Storage: s, Transport: discard{}})
		require.NoError(t, err)
		return n, s
	}
	n, s := open()
	for range 30 {
		n.Tick()
	}
	term, leader := n.State()
	require.True(t, leader, "a single node elects itself")
	for i := range 5 {
		_, _, ok := n.Propose([]byte{byte(i)})
		require.True(t, ok)
	}
	applied := n.Applied()
	require.Len(t, applied, 6) // the no-op, then 5 commands
	n.Snapshot(3, []byte("state@3"))
	n.Stop()
	require.NoError(t, s.Close())

	n, s = open()
	defer func() { n.Stop(); _ = s.Close() }()
	st := n.Status()
	assert.Equal(t, term, st.Term)
	assert.Equal(t, uint64(6), st.LastIndex)
	assert.Equal(t, uint64(3), st.SnapIndex)
	first := n.Applied()
	require.Len(t, first, 1)
	require.NotNil(t, first[0].Snapshot)
	assert.Equal(t, []byte("state@3"), first[0].Snapshot.Data)
}

type discard struct{}

func (discard) Send([]Message) {}

func FuzzReplayWAL(f *testing.F) {
	rec := appendRecord(nil, encodeSave(HardState{Term: 3, Vote: 1}, []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 3, Data: []byte("x")}}))
	f.Add(rec)
	f.Add(rec[:len(rec)-1])
	f.Add(append(append([]byte{}, rec...), rec...))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, entries, good, err := replayWAL(data)
		if err != nil {
			return
		}
		require.LessOrEqual(t, good, len(data))
		for i := 1; i < len(entries); i++ {
			require.Equal(t, entries[i-1].Index+1, entries[i].Index, "replay returned a gap")
		}
	})
}

func FuzzSnapshotFile(f *testing.F) {
	f.Add(encodeSnapshotFile(Snapshot{Index: 9, Term: 2, Data: []byte("state")}))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSnapshotFile(data)
		if err != nil {
			return
		}
		require.Equal(t, s, mustDecodeSnapshot(t, encodeSnapshotFile(s)))
	})
}

func mustDecodeSnapshot(t *testing.T, b []byte) Snapshot {
	t.Helper()
	s, err := decodeSnapshotFile(b)
	require.NoError(t, err)
	return s
}
