// Package catalog is the curriculum's table of stages: where each lab lives
// and which faults it ships. `make labs` prints it; labtest checks that every
// lab's scenarios match its entry, so the table cannot drift from the code.
package catalog

import (
	"fmt"
	"strings"
)

// Status of a stage.
const (
	Ready   = "ready"
	Planned = "planned"
)

// Stage is one lab of the curriculum.
type Stage struct {
	Number int
	Name   string // the stage's subject
	Title  string // the lab's title, as runner.Lab.Title
	Dir    string // module directory, relative to the repository root
	Status string
	Faults []string
}

// Stages returns stages 0..9 in order.
func Stages() []Stage {
	return []Stage{
		{0, "engineering template", "Engineering template", "projects/lab-0-template", Ready,
			[]string{"no-graceful-shutdown", "sync-logging", "no-server-timeouts"}},
		{1, "Go concurrency", "Go concurrency", "projects/lab-1-concurrency", Ready,
			[]string{"goroutine-leak", "deadlock", "cpu-spike", "memory-bloat"}},
		{2, "mini middleware", "Mini middleware", "projects/lab-2-middleware", Ready,
			[]string{"cache-breakdown", "cache-avalanche", "queue-backlog", "retry-storm"}},
		{3, "user service", "User service", "projects/lab-3-user-service", Ready,
			[]string{"slow-request", "db-overload", "thread-exhaustion"}},
		{4, "MySQL", "MySQL", "middleware-labs/mysql-lab", Planned, nil},
		{5, "Redis", "Redis", "middleware-labs/redis-lab", Ready,
			[]string{"hot-key", "big-key", "cache-penetration", "cache-avalanche", "cache-breakdown"}},
		{6, "Kafka", "Kafka", "middleware-labs/kafka-lab", Planned, nil},
		{7, "distributed systems", "Distributed systems", "distributed-labs", Planned, nil},
		{8, "observability", "Observability", "projects/lab-8-observability", Planned, nil},
		{9, "mini e-commerce (capstone)", "Mini e-commerce", "projects/lab-9-ecommerce", Planned, nil},
	}
}

// Lookup returns stage n.
func Lookup(n int) (Stage, error) {
	for _, s := range Stages() {
		if s.Number == n {
			return s, nil
		}
	}
	return Stage{}, fmt.Errorf("catalog: unknown lab %d; valid: %s", n, strings.Join(ReadyNumbers(), " "))
}

// ReadyNumbers lists the stages a learner can run today.
func ReadyNumbers() []string {
	var out []string
	for _, s := range Stages() {
		if s.Status == Ready {
			out = append(out, fmt.Sprint(s.Number))
		}
	}
	return out
}
