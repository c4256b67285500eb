// Package reqstats carries per-request counters in the context, so the repository can count the
// SQL statements one HTTP request caused without the handler knowing about SQL. An N+1 query
// pattern shows up as a request with dozens of statements.
package reqstats

import (
	"context"
	"sync/atomic"
)

type key struct{}

// Stats are the counters of one request.
type Stats struct {
	Queries atomic.Int64
}

// With returns a context carrying fresh Stats.
func With(ctx context.Context) (context.Context, *Stats) {
	s := &Stats{}
	return context.WithValue(ctx, key{}, s), s
}

// AddQuery counts one SQL statement against the request in ctx, if any.
func AddQuery(ctx context.Context) {
	if s, ok := ctx.Value(key{}).(*Stats); ok {
		s.Queries.Add(1)
	}
}
