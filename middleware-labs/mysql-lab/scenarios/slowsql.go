package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

const (
	ordersRows  = 20000
	ordersUsers = 2000 // ten orders a user
)

const ordersDDL = "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, user_id INT NOT NULL, amount INT NOT NULL, note VARCHAR(40))"

func orderRow(i int) string {
	return fmt.Sprintf("(%d, %d, %d, 'order %d')", i+1, (i*7919)%ordersUsers, 100+i%900, i)
}

// runSlowSQL: the order history page asks for a user's orders by user_id. With the fault on, the
// table has no index on user_id, so each lookup scans all 20,000 rows (EXPLAIN type=ALL) and lands
// in the slow log. The fix is the index the query needs.
func runSlowSQL(ctx context.Context, env *runner.Env) error {
	st, err := startStack(env, stackOptions{frames: 1024, longQueryTime: 5 * time.Millisecond, registerer: env.Metrics})
	if err != nil {
		return err
	}
	if err := st.load(ctx, ordersDDL, "orders", ordersRows, orderRow); err != nil {
		return err
	}
	if !env.FaultOn {
		// exercise:begin slow-sql
		if _, err := st.db.ExecContext(ctx, "CREATE INDEX idx_user_id ON orders (user_id)"); err != nil {
			return err
		}
		// exercise:stub
		// _ = st // no index on user_id: every lookup reads the whole table
		// exercise:end
	}
	const query = "SELECT id, amount FROM orders WHERE user_id = ?"
	plan, first, err := explain(ctx, st.db, query, 42)
	if err != nil {
		return err
	}
	if err := env.WriteFile("explain.txt", []byte(plan)); err != nil {
		return err
	}
	env.Event("explain", fmt.Sprintf("type=%s key=%s rows=%s", first["type"], first["key"], first["rows"]))

	before := st.ex.Stats()
	var lat latencies
	env.Series("rows_examined_total", func() float64 { return float64(st.ex.Stats().RowsExamined - before.RowsExamined) })
	err = closedLoop(ctx, env.Duration, 4, seedsFrom(env.Rand, 4), func(ctx context.Context, r *rand.Rand) error {
		return orderHistory(ctx, st, query, r.IntN(ordersUsers), &lat)
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	after := st.ex.Stats()
	queries := float64(after.Queries - before.Queries)
	if queries == 0 {
		return errors.New("slow-sql: no query completed in the window")
	}
	env.Record("rows_examined_per_query", float64(after.RowsExamined-before.RowsExamined)/queries)
	env.Record("slow_query_share", float64(after.SlowQueries-before.SlowQueries)/queries)
	env.Record("query_p99_ms", lat.quantileMs(0.99))
	env.Record("queries_per_second", float64(lat.count())/env.Duration.Seconds())
	return nil
}

// orderHistory is the page's query.
func orderHistory(ctx context.Context, st *stack, query string, user int, lat *latencies) error {
	start := time.Now()
	rows, err := st.db.QueryContext(ctx, query, user)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil {
		return err
	}
	lat.add(time.Since(start))
	if n == 0 {
		return fmt.Errorf("user %d has no orders: the data set is wrong", user)
	}
	return nil
}
