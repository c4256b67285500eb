// Package catalog is the curriculum's one table of stages: where each lab
// lives, its titles in English and Chinese, and which faults it ships.
// `make labs` prints it, the postmortem linter and docker-env's compose test
// read it, and tests prove that the Makefile and every lab's scenarios agree
// with it, so the table cannot drift from the code.
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
	Number  int
	Name    string // the stage's subject
	Title   string // the lab's title, as runner.Lab.Title
	TitleZH string // the title in Chinese, as in README.zh-CN.md
	Dir     string // module directory, relative to the repository root
	Status  string
	Faults  []string
	// Evidence are the files the lab's scenarios write beside the harness's
	// own (an EXPLAIN plan, a watchdog log), so a postmortem may cite them.
	Evidence []string
}

// Stages returns stages 0..9 in order.
func Stages() []Stage {
	return []Stage{
		{0, "engineering template", "Engineering template", "工程模板", "projects/lab-0-template", Ready,
			[]string{"no-graceful-shutdown", "sync-logging", "no-server-timeouts"},
			[]string{"access.log", "access-new.log"}},
		{1, "Go concurrency", "Go concurrency", "Go 并发", "projects/lab-1-concurrency", Ready,
			[]string{"goroutine-leak", "deadlock", "cpu-spike", "memory-bloat"},
			[]string{"watchdog.txt"}},
		{2, "mini middleware", "Mini middleware", "迷你中间件", "projects/lab-2-middleware", Ready,
			[]string{"cache-breakdown", "cache-avalanche", "queue-backlog", "retry-storm"},
			[]string{"backend.txt"}},
		{3, "user service", "User service", "用户服务", "projects/lab-3-user-service", Ready,
			[]string{"slow-request", "db-overload", "thread-exhaustion"},
			[]string{"explain.txt"}},
		{4, "MySQL", "MySQL", "MySQL：迷你关系引擎", "middleware-labs/mysql-lab", Ready,
			[]string{"slow-sql", "index-not-used", "deadlock"},
			[]string{"explain.txt", "mini-mysql-slow.log", "innodb_status.txt"}},
		{5, "Redis", "Redis", "Redis：迷你 Redis", "middleware-labs/redis-lab", Ready,
			[]string{"hot-key", "big-key", "cache-penetration", "cache-avalanche", "cache-breakdown"},
			[]string{"slowlog.txt"}},
		{6, "Kafka", "Kafka", "Kafka：迷你消息队列", "middleware-labs/kafka-lab", Ready,
			[]string{"consumer-backlog", "duplicate-consumption", "ordering-broken", "rebalance-storm"}, nil},
		{7, "distributed systems", "Distributed systems", "分布式系统", "distributed-labs/raft-lab", Ready,
			[]string{"network-partition", "split-brain", "clock-rollback", "zombie-instances", "leader-crash"},
			[]string{"linearizability.html", "history.json"}},
		{8, "observability", "Observability", "可观测性", "projects/lab-8-observability", Planned, nil, nil},
		{9, "mini e-commerce (capstone)", "Mini e-commerce", "迷你电商（综合项目）", "projects/lab-9-mini-amazon", Planned, nil, nil},
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

// ByDir returns the stage whose module lives in dir (slash-separated,
// relative to the repository root), or a subdirectory of it.
func ByDir(dir string) (Stage, bool) {
	dir = strings.Trim(dir, "/")
	for _, s := range Stages() {
		if dir == s.Dir || strings.HasPrefix(dir, s.Dir+"/") {
			return s, true
		}
	}
	return Stage{}, false
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
