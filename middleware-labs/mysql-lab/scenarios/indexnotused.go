package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

const usersRows = 20000

const usersDDL = "CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32) NOT NULL, phone VARCHAR(20) NOT NULL, " +
	"nickname VARCHAR(32), city VARCHAR(16) NOT NULL, age INT NOT NULL, " +
	"KEY idx_name (name), KEY idx_phone (phone), KEY idx_city_age (city, age))"

var cities = []string{"beijing", "shanghai", "shenzhen", "hangzhou", "chengdu", "wuhan", "xian", "nanjing", "suzhou", "tianjin"}

func userRow(i int) string {
	return fmt.Sprintf("(%d, 'user%05d', '138%08d', 'nick%05d', '%s', %d)", i+1, i, i, (i*31)%usersRows, cities[i%len(cities)], 20+(i/10)%50)
}

// indexCase is one classic cause of 索引失效: a query the index cannot serve, and its sargable
// rewrite that returns the same rows.
type indexCase struct {
	name   string
	broken func(r *rand.Rand) []query
	fixed  func(r *rand.Rand) []query
}

type query struct {
	sql  string
	args []any
}

func q(sql string, args ...any) query { return query{sql, args} }

var allCities = "'" + strings.Join(cities, "','") + "'"

var indexCases = []indexCase{
	{
		name: "function-on-column",
		// SUBSTRING(phone, 1, 9) hides phone from the optimizer: the B+tree is ordered by phone, not by
		// what a function returns, so every row is read and the function run on it.
		broken: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE SUBSTRING(phone, 1, 9) = ?", fmt.Sprintf("138%06d", r.IntN(usersRows/100)))}
		},
		fixed: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE phone LIKE ?", fmt.Sprintf("138%06d%%", r.IntN(usersRows/100)))}
		},
	},
	{
		name: "implicit-conversion",
		// phone is VARCHAR; a number makes MySQL compare as numbers, converting every row's phone.
		broken: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE phone = ?", int64(13800000000+r.IntN(usersRows)))}
		},
		fixed: func(r *rand.Rand) []query {
			// exercise:begin index-not-used
			return []query{q("SELECT id FROM users WHERE phone = ?", fmt.Sprintf("138%08d", r.IntN(usersRows)))}
			// exercise:stub
			// return []query{q("SELECT id FROM users WHERE phone = ?", int64(13800000000+r.IntN(usersRows)))}
			// exercise:end
		},
	},
	{
		name: "leading-wildcard",
		// '%...' has no prefix to seek to; the search the page needs is a prefix search.
		broken: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE name LIKE ?", fmt.Sprintf("%%%05d", r.IntN(usersRows)))}
		},
		fixed: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE name LIKE ?", fmt.Sprintf("user%05d%%", r.IntN(usersRows)))}
		},
	},
	{
		name: "or-unindexed-column",
		// One side of the OR has no index, so the optimizer cannot serve either side by an index.
		// The fix indexes nickname (fixed path only) and runs the OR as two indexed lookups (a UNION).
		broken: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE name = ? OR nickname = ?", fmt.Sprintf("user%05d", r.IntN(usersRows)), fmt.Sprintf("nick%05d", r.IntN(usersRows)))}
		},
		fixed: func(r *rand.Rand) []query {
			return []query{
				q("SELECT id FROM users WHERE name = ?", fmt.Sprintf("user%05d", r.IntN(usersRows))),
				q("SELECT id FROM users WHERE nickname = ?", fmt.Sprintf("nick%05d", r.IntN(usersRows))),
			}
		},
	},
	{
		name: "composite-no-leftmost-prefix",
		// idx_city_age is sorted by city first; age alone is scattered across it.
		broken: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE age = ?", 20+r.IntN(50))}
		},
		// Supplying the leftmost column (all ten cities) makes ten short ranges of the index.
		fixed: func(r *rand.Rand) []query {
			return []query{q("SELECT id FROM users WHERE city IN ("+allCities+") AND age = ?", 20+r.IntN(50))}
		},
	},
}

// runIndexNotUsed runs the five causes of 索引失效 in turn: with the fault on the queries as the
// application wrote them, with it off their sargable rewrites. EXPLAIN of both goes to explain.txt.
func runIndexNotUsed(ctx context.Context, env *runner.Env) error {
	st, err := startStack(env, stackOptions{frames: 1024, longQueryTime: 5 * time.Millisecond, registerer: env.Metrics})
	if err != nil {
		return err
	}
	if err := st.load(ctx, usersDDL, "users", usersRows, userRow); err != nil {
		return err
	}
	if !env.FaultOn {
		if _, err := st.db.ExecContext(ctx, "CREATE INDEX idx_nickname ON users (nickname)"); err != nil {
			return err
		}
	}
	var plans strings.Builder
	r := rand.New(rand.NewPCG(env.Seed, 4))
	for _, c := range indexCases {
		for _, side := range []struct {
			label string
			qs    []query
		}{{"as written (fault on)", c.broken(r)}, {"sargable rewrite (fault off)", c.fixed(r)}} {
			for _, qq := range side.qs {
				plan, first, err := explain(ctx, st.db, qq.sql, qq.args...)
				if err != nil {
					return err
				}
				fmt.Fprintf(&plans, "-- %s, %s\n%s\n", c.name, side.label, plan)
				if (side.label[0] == 'a') == env.FaultOn {
					env.Event("explain", fmt.Sprintf("%s: type=%s key=%s rows=%s", c.name, first["type"], first["key"], first["rows"]))
				}
			}
		}
	}
	if err := env.WriteFile("explain.txt", []byte(plans.String())); err != nil {
		return err
	}

	// Each case once, on an executor session, for its exact rows examined (the load below runs
	// them concurrently, where only the total is exact).
	sess := st.ex.NewSession()
	defer sess.Close()
	for _, c := range indexCases {
		qs := c.fixed(r)
		if env.FaultOn {
			qs = c.broken(r)
		}
		var n int64
		for _, qq := range qs {
			res, err := sess.Exec(ctx, qq.sql, qq.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			n += res.RowsExamined
		}
		env.Record("rows_examined_"+strings.ReplaceAll(c.name, "-", "_"), float64(n))
	}
	var lat latencies
	before := st.ex.Stats()
	var next atomic.Int64
	err = closedLoop(ctx, env.Duration, 4, seedsFrom(env.Rand, 4), func(ctx context.Context, r *rand.Rand) error {
		i := int(next.Add(1)) % len(indexCases)
		c := indexCases[i]
		qs := c.fixed(r)
		if env.FaultOn {
			qs = c.broken(r)
		}
		for _, qq := range qs {
			if err := runQuery(ctx, st, qq, &lat); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	after := st.ex.Stats()
	queries := float64(after.Queries - before.Queries)
	if queries == 0 {
		return errors.New("index-not-used: no query completed in the window")
	}
	env.Record("rows_examined_per_query", float64(after.RowsExamined-before.RowsExamined)/queries)
	env.Record("full_scan_share", float64(after.FullScans-before.FullScans)/queries)
	env.Record("query_p99_ms", lat.quantileMs(0.99))
	env.Record("queries_per_second", float64(lat.count())/env.Duration.Seconds())
	return nil
}

func runQuery(ctx context.Context, st *stack, qq query, lat *latencies) error {
	start := time.Now()
	rows, err := st.db.QueryContext(ctx, qq.sql, qq.args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		return err
	}
	lat.add(time.Since(start))
	return nil
}
