// Package timeline is what happened during a scenario, in order: a partition,
// a heal, a kill, a restart. The runner records events, the report prints
// them, and the charts draw them as vertical markers; this package is the one
// type they share, so none of them has to import another.
package timeline

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Kinds of events the harness and the labs record. A lab may record kinds
// of its own ("leader-elected", "rebalance-done"): a kind is just a word.
const (
	Start     = "start"     // a node's process started
	Stop      = "stop"      // a node was asked to stop (SIGTERM)
	Kill      = "kill"      // a node was killed (SIGKILL)
	Crash     = "crash"     // a node exited without being asked to
	Pause     = "pause"     // a node was frozen (SIGSTOP)
	Resume    = "resume"    // a frozen node was thawed (SIGCONT)
	Restart   = "restart"   // a node was stopped and started again
	Partition = "partition" // a network link was cut
	Heal      = "heal"      // cut links were restored
	Rebalance = "rebalance" // partitions or slots moved between nodes
	Failover  = "failover"  // another node took over a role
)

// Event is one thing that happened, at a real time.
type Event struct {
	At     time.Duration // since the scenario's evidence window opened
	Time   time.Time     // wall clock, UTC
	Kind   string
	Detail string
}

// String is the form a timeline line takes: "+1.250s kill node2 (pid 4242)".
func (e Event) String() string {
	s := fmt.Sprintf("+%.3fs %s", e.At.Seconds(), e.Kind)
	if e.Detail != "" {
		s += " " + e.Detail
	}
	return s
}

// jsonEvent is the report.json form: seconds, because a reader of JSON
// should not have to know that Go counts durations in nanoseconds.
type jsonEvent struct {
	AtSeconds float64   `json:"at_seconds"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Detail    string    `json:"detail,omitempty"`
}

// MarshalJSON writes the event with its offset in seconds.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonEvent{AtSeconds: e.At.Seconds(), Time: e.Time, Kind: e.Kind, Detail: e.Detail})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j jsonEvent
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("timeline: decode event: %w", err)
	}
	*e = Event{At: time.Duration(math.Round(j.AtSeconds * float64(time.Second))), Time: j.Time, Kind: j.Kind, Detail: j.Detail}
	return nil
}
