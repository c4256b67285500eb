package evidence

import (
	"sync"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// eventLog is the window's timeline; a Capture holds one.
type eventLog struct {
	mu     sync.Mutex
	events []timeline.Event
}

// Started is when the window opened: the zero of every event's At.
func (c *Capture) Started() time.Time { return c.started }

// Event records that something happened now (a partition, a kill), so the
// report's timeline and the charts' markers can show it where it happened.
func (c *Capture) Event(kind, detail string) {
	now := time.Now()
	c.events.mu.Lock()
	defer c.events.mu.Unlock()
	c.events.events = append(c.events.events, timeline.Event{At: now.Sub(c.started), Time: now.UTC(), Kind: kind, Detail: detail})
}

// Events returns the window's events in the order they were recorded.
func (c *Capture) Events() []timeline.Event {
	c.events.mu.Lock()
	defer c.events.mu.Unlock()
	return append([]timeline.Event(nil), c.events.events...)
}
