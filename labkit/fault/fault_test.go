package fault_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/fault"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func registry(t *testing.T) *fault.Registry {
	t.Helper()
	r, err := fault.NewRegistry(
		fault.Fault{Name: "sync-logging"},
		fault.Fault{Name: "no-server-timeouts"},
		fault.Fault{Name: "no-graceful-shutdown"},
	)
	require.NoError(t, err)
	return r
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		mode    fault.Mode
		on      []string
		wantErr string
	}{
		{in: "", mode: fault.ModeOff},
		{in: "off", mode: fault.ModeOff},
		{in: "on", mode: fault.ModeOn, on: []string{"sync-logging", "no-server-timeouts", "no-graceful-shutdown"}},
		{in: "list", mode: fault.ModeList},
		{in: "compare", mode: fault.ModeCompare, on: []string{"sync-logging", "no-server-timeouts", "no-graceful-shutdown"}},
		{in: "sync-logging", mode: fault.ModeOn, on: []string{"sync-logging"}},
		{in: "no-server-timeouts, sync-logging,sync-logging", mode: fault.ModeOn, on: []string{"no-server-timeouts", "sync-logging"}},
		{in: "bogus", wantErr: `unknown fault "bogus"; valid: off, on, list, mystery, sync-logging, no-server-timeouts, no-graceful-shutdown, or compare`},
		{in: "sync-logging,bogus", wantErr: `unknown fault "bogus"`},
		{in: ",", wantErr: `unknown fault ","`},
	}
	r := registry(t)
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := r.Parse(tt.in, 1)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, fault.ErrUnknown)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.mode, sel.Mode)
			assert.Equal(t, tt.on, sel.On)
			if tt.in == "on" || tt.in == "off" || tt.in == "compare" {
				assert.Equal(t, tt.in, sel.Label())
			}
		})
	}
}

func TestMysteryIsAPureFunctionOfTheSeed(t *testing.T) {
	r := registry(t)
	seen := map[string]bool{}
	for seed := uint64(0); seed < 64; seed++ {
		a, err := r.Mystery(seed)
		require.NoError(t, err)
		b, err := r.Mystery(seed)
		require.NoError(t, err)
		assert.Equal(t, a, b, "seed %d", seed)
		seen[a] = true
	}
	assert.Len(t, seen, 3, "64 seeds should reach every fault")

	sel, err := r.Parse("mystery", 7)
	require.NoError(t, err)
	assert.Equal(t, "mystery", sel.Label(), "the label must not give the answer away")
	want, _ := r.Mystery(7)
	assert.Equal(t, []string{want}, sel.On)
}

func TestNewRegistryRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "on", "list", "a,b", "dup"} {
		faults := []fault.Fault{{Name: name}}
		if name == "dup" {
			faults = append(faults, fault.Fault{Name: "dup"})
		}
		_, err := fault.NewRegistry(faults...)
		assert.Error(t, err, "name %q", name)
	}
}

// FuzzParse: whatever a learner types after fault=, Parse answers a valid
// selection or an ErrUnknown naming the choices; it never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "off", "on", "compare", "list", "mystery", "sync-logging", "a,b", ",,", " on ", "sync-logging,,no-server-timeouts"} {
		f.Add(s, uint64(7))
	}
	r, err := fault.NewRegistry(fault.Fault{Name: "sync-logging"}, fault.Fault{Name: "no-server-timeouts"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string, seed uint64) {
		sel, err := r.Parse(in, seed)
		if err != nil {
			if !errors.Is(err, fault.ErrUnknown) {
				t.Fatalf("Parse(%q) returned %v, want an ErrUnknown", in, err)
			}
			return
		}
		for _, name := range sel.On {
			if _, ok := r.Lookup(name); !ok {
				t.Fatalf("Parse(%q) selected %q, which is not in the registry", in, name)
			}
		}
	})
}
