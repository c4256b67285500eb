package scenarios

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/labkit/loopback"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/bufpool"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/executor"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/server"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

// stack is the embedded mini MySQL of one scenario: storage engine, executor and protocol server
// on a free loopback port, and a go-sql-driver pool connected to it, all stopped at env cleanup.
type stack struct {
	eng  *storage.Engine
	ex   *executor.Executor
	db   *sql.DB
	addr string
	dir  string
}

type stackOptions struct {
	name          string // the engine's folder under the evidence folder
	frames        int
	pageSize      int
	policy        bufpool.Policy
	oldBlocksTime time.Duration
	longQueryTime time.Duration
	lockWait      time.Duration
	registerer    prometheus.Registerer
}

func startStack(env *runner.Env, o stackOptions) (*stack, error) {
	if o.name == "" {
		o.name = "mini-mysql"
	}
	dir := filepath.Join(env.Dir, o.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := storage.Open(ctx, storage.Options{Dir: dir, PoolFrames: o.frames, PageSize: o.pageSize, Policy: o.policy,
		OldBlocksTime: o.oldBlocksTime, LockWaitTimeout: o.lockWait, Registerer: o.registerer})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open the mini engine: %w", err)
	}
	slow, err := os.Create(filepath.Join(env.Dir, o.name+"-slow.log"))
	if err != nil {
		cancel()
		_ = eng.Close()
		return nil, fmt.Errorf("slow log: %w", err)
	}
	ex, err := executor.New(ctx, executor.FromStorage(eng), executor.Options{LongQueryTime: o.longQueryTime, SlowLog: slow, Registerer: o.registerer})
	if err != nil {
		cancel()
		_ = eng.Close()
		_ = slow.Close()
		return nil, err
	}
	srv := server.New(ex, server.Config{Log: env.Log})
	// Cleanups run last-registered first: the pool closes, then the server, then the engine.
	env.Cleanup(func() {
		_ = eng.Close()
		_ = slow.Close()
	})
	addr, err := loopback.Serve(env, func(ln net.Listener) error { return srv.Serve(ctx, ln) }, cancel)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", addr, "test"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxIdleConns(16)
	env.Cleanup(func() { _ = db.Close() })
	return &stack{eng: eng, ex: ex, db: db, addr: addr, dir: dir}, nil
}

// load creates a table and fills it through an executor session (multi-row INSERTs, no network),
// rows built by row(i) as a VALUES tuple.
func (s *stack) load(ctx context.Context, ddl string, table string, n int, row func(i int) string) error {
	sess := s.ex.NewSession()
	defer sess.Close()
	// Loading is not the workload under study: keep its INSERTs out of the slow log.
	if _, err := sess.Exec(ctx, "SET long_query_time = 3600"); err != nil {
		return err
	}
	if _, err := sess.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}
	const batch = 500
	for i := 0; i < n; i += batch {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s VALUES ", table)
		for j := i; j < min(n, i+batch); j++ {
			if j > i {
				b.WriteByte(',')
			}
			b.WriteString(row(j))
		}
		if _, err := sess.Exec(ctx, b.String()); err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
	}
	return nil
}

// explain runs EXPLAIN through the protocol and renders it as the mysql client's table.
func explain(ctx context.Context, db *sql.DB, query string, args ...any) (string, map[string]string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		return "", nil, fmt.Errorf("EXPLAIN %s: %w", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "EXPLAIN %s\n%s\n", query, strings.Join(cols, "\t"))
	first := map[string]string{}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", nil, err
		}
		var cells []string
		for i, v := range vals {
			cell := "NULL"
			if v.Valid {
				cell = v.String
			}
			cells = append(cells, cell)
			if len(first) < len(cols) {
				first[cols[i]] = cell
			}
		}
		b.WriteString(strings.Join(cells, "\t") + "\n")
	}
	return b.String(), first, rows.Err()
}
