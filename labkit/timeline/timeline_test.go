package timeline_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

func TestEventJSONIsInSecondsAndRoundTrips(t *testing.T) {
	tests := []timeline.Event{
		{At: 1250 * time.Millisecond, Time: time.Date(2026, 12, 1, 9, 0, 1, 250e6, time.UTC), Kind: timeline.Kill, Detail: "node2 (pid 7)"},
		{At: 3 * time.Nanosecond, Time: time.Date(2026, 12, 1, 9, 0, 0, 3, time.UTC), Kind: "leader-elected"},
		{At: 0, Kind: timeline.Heal},
	}
	for _, want := range tests {
		t.Run(want.Kind, func(t *testing.T) {
			b, err := json.Marshal(want)
			require.NoError(t, err)
			var raw map[string]any
			require.NoError(t, json.Unmarshal(b, &raw))
			assert.InDelta(t, want.At.Seconds(), raw["at_seconds"], 1e-12)
			var got timeline.Event
			require.NoError(t, json.Unmarshal(b, &got))
			assert.Equal(t, want, got)
		})
	}
	var e timeline.Event
	require.Error(t, json.Unmarshal([]byte(`{"at_seconds":"soon"}`), &e))
}

func TestEventString(t *testing.T) {
	assert.Equal(t, "+1.250s kill node2", timeline.Event{At: 1250 * time.Millisecond, Kind: "kill", Detail: "node2"}.String())
	assert.Equal(t, "+0.000s heal", timeline.Event{Kind: "heal"}.String())
}
