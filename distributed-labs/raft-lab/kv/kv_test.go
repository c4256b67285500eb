package kv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
)

func apply(t *testing.T, s *kv.Store, c kv.Command) kv.Result {
	t.Helper()
	b, err := c.Encode()
	require.NoError(t, err)
	r, ok := s.Apply(b).(kv.Result)
	require.True(t, ok)
	return r
}

func TestApply(t *testing.T) {
	s := kv.New()
	tests := []struct {
		name string
		cmd  kv.Command
		want kv.Result
	}{
		{"put", kv.Command{Op: kv.OpPut, Key: "a", Value: "1"}, kv.Result{OK: true, Value: "1", Found: true, Rev: 1}},
		{"cas holds", kv.Command{Op: kv.OpCAS, Key: "a", Expect: "1", Value: "2"}, kv.Result{OK: true, Value: "2", Found: true, Rev: 2}},
		{"cas stale returns the current value", kv.Command{Op: kv.OpCAS, Key: "a", Expect: "1", Value: "3"}, kv.Result{OK: false, Value: "2", Found: true, Rev: 2}},
		{"cas absent on a missing key", kv.Command{Op: kv.OpCAS, Key: "b", ExpectAbsent: true, Value: "x"}, kv.Result{OK: true, Value: "x", Found: true, Rev: 3}},
		{"delete", kv.Command{Op: kv.OpDelete, Key: "a"}, kv.Result{OK: true, Rev: 4}},
		{"delete absent", kv.Command{Op: kv.OpDelete, Key: "a"}, kv.Result{OK: false, Rev: 4}},
		{"cas on a deleted key", kv.Command{Op: kv.OpCAS, Key: "a", Expect: "2", Value: "5"}, kv.Result{OK: false, Rev: 4}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, apply(t, s, tt.cmd), tt.name)
	}
}

func TestSessions(t *testing.T) {
	tests := []struct {
		name    string
		store   *kv.Store
		wantRev uint64
		wantDup bool
	}{
		{"a retry applies once", kv.New(), 1, true},
		{"without sessions the retry applies twice", kv.NewWithoutDedupe(), 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := kv.Command{Op: kv.OpPut, Key: "n", Value: "1", Client: "c", Seq: 1}
			first := apply(t, tt.store, cmd)
			again := apply(t, tt.store, cmd) // the answer was lost; the client retries
			assert.Equal(t, uint64(1), first.Rev)
			assert.Equal(t, tt.wantDup, again.Duplicate)
			assert.Equal(t, tt.wantRev, tt.store.Rev())
		})
	}
	s := kv.New()
	apply(t, s, kv.Command{Op: kv.OpPut, Key: "k", Value: "v", Client: "c", Seq: 5})
	old := apply(t, s, kv.Command{Op: kv.OpPut, Key: "k", Value: "w", Client: "c", Seq: 4})
	assert.Contains(t, old.Err, "older than its last")
}

func TestSnapshotKeepsSessions(t *testing.T) {
	s := kv.New()
	apply(t, s, kv.Command{Op: kv.OpPut, Key: "a", Value: "1", Client: "c", Seq: 1})
	snap, err := s.Snapshot()
	require.NoError(t, err)
	r := kv.New()
	require.NoError(t, r.Restore(snap))
	dup := apply(t, r, kv.Command{Op: kv.OpPut, Key: "a", Value: "1", Client: "c", Seq: 1})
	assert.True(t, dup.Duplicate, "a retry of a command the snapshot covers is recognised")
	assert.Equal(t, uint64(1), r.Rev())
	assert.Equal(t, []string{"a"}, r.Keys(""))
	require.ErrorContains(t, r.Restore([]byte("{")), "expected a snapshot")
}

func TestMalformedEntriesAreErrorsNotPanics(t *testing.T) {
	s := kv.New()
	for in, want := range map[string]string{
		"not json":                "expected a JSON object",
		`{"op":"incr","key":"a"}`: "expected put, cas or delete",
		`{"op":"put"}`:            "non-empty key",
	} {
		r := s.Apply([]byte(in)).(kv.Result)
		assert.Contains(t, r.Err, want, in)
	}
}

// FuzzApply: a log entry is bytes from the network; whatever they are,
// Apply returns a Result and the store stays consistent with its snapshot.
func FuzzApply(f *testing.F) {
	for _, seed := range []string{`{"op":"put","key":"a","value":"1"}`, `{"op":"cas","key":"a","expect":"1","value":"2","client":"c","seq":1}`,
		`{"op":"delete","key":"a"}`, `{"op":"cas","key":"b","expect_absent":true}`, "", "{", `{"op":"put","key":""}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := kv.New()
		if _, ok := s.Apply(b).(kv.Result); !ok {
			t.Fatal("Apply returned something other than a Result")
		}
		snap, err := s.Snapshot()
		require.NoError(t, err)
		r := kv.New()
		require.NoError(t, r.Restore(snap))
		assert.Equal(t, s.Rev(), r.Rev())
		_ = r.Restore(b) // any bytes: an error or a state, never a panic
	})
}
