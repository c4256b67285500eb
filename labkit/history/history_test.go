package history

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// op builds an operation that ran from ms call to ms ret after t0.
func op(client int, kind, input, output string, outcome Outcome, call, ret int) Op {
	return Op{Client: client, Kind: kind, Input: input, Output: output, Outcome: outcome,
		Call: t0.Add(time.Duration(call) * time.Millisecond), Return: t0.Add(time.Duration(ret) * time.Millisecond)}
}

func TestLinearizableRegister(t *testing.T) {
	tests := []struct {
		name  string
		ops   []Op
		holds bool
	}{
		{"a read sees the write before it", []Op{
			op(0, "write", "1", "", OK, 0, 10), op(1, "read", "", "1", OK, 20, 30)}, true},
		{"a read concurrent with a write may see either value", []Op{
			op(0, "write", "1", "", OK, 0, 30), op(1, "read", "", "", OK, 10, 20)}, true},
		{"a stale read after an acknowledged write", []Op{
			op(0, "write", "1", "", OK, 0, 10), op(1, "read", "", "", OK, 20, 30)}, false},
		{"a timed-out write may still have been applied", []Op{
			op(0, "write", "1", "", Unknown, 0, 10), op(1, "read", "", "1", OK, 20, 30)}, true},
		{"a failed write was not applied", []Op{
			op(0, "write", "1", "", Failed, 0, 10), op(1, "read", "", "1", OK, 20, 30)}, false},
		{"a read whose reply was lost tells nothing", []Op{
			op(0, "write", "1", "", OK, 0, 10), op(1, "read", "", "", Unknown, 20, 30)}, true},
		{"values go back in time", []Op{
			op(0, "write", "1", "", OK, 0, 10), op(0, "write", "2", "", OK, 20, 30),
			op(1, "read", "", "2", OK, 40, 50), op(2, "read", "", "1", OK, 60, 70)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Linearizable(Register(""), time.Second)(context.Background(), History{Ops: tt.ops})
			require.NoError(t, err)
			assert.Equal(t, tt.holds, v.Holds, v.Detail)
			assert.Equal(t, len(tt.ops), v.Counts["operations"])
		})
	}
}

func TestKVChecksEachKeyApart(t *testing.T) {
	a := op(0, "write", "1", "", OK, 0, 10)
	a.Key = "a"
	b := op(1, "read", "", "", OK, 20, 30) // key b was never written: "" is right
	b.Key = "b"
	stale := op(1, "read", "", "", OK, 40, 50)
	stale.Key = "a"

	v, err := Linearizable(KV(""), time.Second)(context.Background(), History{Ops: []Op{a, b}})
	require.NoError(t, err)
	assert.True(t, v.Holds)
	v, err = Linearizable(KV(""), time.Second)(context.Background(), History{Ops: []Op{a, b, stale}})
	require.NoError(t, err)
	assert.False(t, v.Holds)
}

func TestLinearizableWritesTheVisualizationWithTheEvents(t *testing.T) {
	dir := t.TempDir()
	h := History{Dir: dir,
		Ops:    []Op{op(0, "write", "1", "", OK, 0, 10), op(1, "read", "", "", OK, 20, 30)},
		Events: []timeline.Event{{Time: t0.Add(5 * time.Millisecond), Kind: "partition", Detail: "n2 | n0 n1"}}}
	v, err := Linearizable(Register(""), time.Second)(context.Background(), h)
	require.NoError(t, err)
	assert.False(t, v.Holds)
	assert.Equal(t, []string{LinearizabilityFile}, v.Files)
	html, err := os.ReadFile(filepath.Join(dir, LinearizabilityFile))
	require.NoError(t, err)
	assert.Contains(t, string(html), "n2 | n0 n1", "the event's detail is annotated on the timeline")
	assert.Contains(t, string(html), `read() → \"\"`)
}

func TestLinearizableHonoursTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Linearizable(Register(""), time.Second)(ctx, History{Ops: []Op{op(0, "write", "1", "", OK, 0, 10)}})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestInvariants(t *testing.T) {
	tests := []struct {
		name   string
		check  Check
		ops    []Op
		holds  bool
		counts map[string]int
	}{
		{"every acknowledged add is read", NoLostWrites(), []Op{
			op(0, "add", "a", "", OK, 0, 1), op(0, "add", "b", "", Unknown, 2, 3), op(1, "read", "", "a", OK, 4, 5)},
			true, map[string]int{"acknowledged": 1, "lost": 0, "read": 1}},
		{"an acknowledged add is lost", NoLostWrites(), []Op{
			op(0, "add", "a", "", OK, 0, 1), op(0, "add", "b", "", OK, 2, 3), op(1, "read", "", "a", OK, 4, 5)},
			false, map[string]int{"acknowledged": 2, "lost": 1, "read": 1}},
		{"no final read", NoLostWrites(), []Op{op(0, "add", "a", "", OK, 0, 1)},
			false, map[string]int{"acknowledged": 0}},
		{"each element once", NoDuplicates(), []Op{op(1, "read", "", "a,b", OK, 4, 5)},
			true, map[string]int{"read": 2, "duplicates": 0}},
		{"an element twice", NoDuplicates(), []Op{op(1, "read", "", "a,b,a", OK, 4, 5)},
			false, map[string]int{"read": 3, "duplicates": 1}},
		{"one leader per term", AtMostOneLeaderPerTerm(), []Op{
			leader("1", "n0"), leader("1", "n0"), leader("2", "n1")},
			true, map[string]int{"observations": 3, "terms": 2, "split_terms": 0}},
		{"two leaders in a term", AtMostOneLeaderPerTerm(), []Op{
			leader("1", "n0"), leader("1", "n2"), leader("1", "n1")},
			false, map[string]int{"observations": 3, "terms": 1, "split_terms": 1}},
		{"sold within stock", NoOversell(3), []Op{
			op(0, "buy", "2", "", OK, 0, 1), op(1, "buy", "", "", OK, 0, 1), op(2, "buy", "5", "", Failed, 0, 1)},
			true, map[string]int{"stock": 3, "sold": 3, "acknowledged": 2}},
		{"oversold", NoOversell(3), []Op{
			op(0, "buy", "2", "", OK, 0, 1), op(1, "buy", "2", "", OK, 0, 1)},
			false, map[string]int{"stock": 3, "sold": 4, "acknowledged": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.check(context.Background(), History{Ops: tt.ops})
			require.NoError(t, err)
			assert.Equal(t, tt.holds, v.Holds)
			assert.Equal(t, tt.counts, v.Counts)
			if !tt.holds {
				assert.NotEmpty(t, v.Detail, "a violation names its counterexample")
			}
		})
	}
}

func leader(term, node string) Op {
	o := op(0, "leader", "", node, OK, 0, 1)
	o.Key = term
	return o
}

func TestRecorderFromManyClients(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			for i := range 50 {
				p := r.Invoke(c, "write", "", "v")
				switch i % 3 {
				case 0:
					p.OK("")
				case 1:
					p.Fail(errors.New("refused"))
				default:
					p.Unknown(errors.New("timeout"))
				}
			}
		})
	}
	wg.Wait()
	ops := r.Ops()
	require.Len(t, ops, 400)
	byOutcome := map[Outcome]int{}
	for _, o := range ops {
		byOutcome[o.Outcome]++
		assert.False(t, o.Return.Before(o.Call))
	}
	assert.Equal(t, map[Outcome]int{OK: 136, Failed: 136, Unknown: 128}, byOutcome)
}

func TestAnOperationThatNeverReturnedIsUnknown(t *testing.T) {
	r := NewRecorder()
	r.Invoke(0, "write", "", "1")
	ops := r.Ops()
	require.Len(t, ops, 1)
	assert.Equal(t, Unknown, ops[0].Outcome)
	assert.True(t, ops[0].Return.IsZero())
}
