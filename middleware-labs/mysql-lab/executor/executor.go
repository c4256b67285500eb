// Package executor runs the lab's SQL on the storage engine: a catalog of tables kept in the
// engine, an order-preserving row and key encoding, secondary indexes, a planner that chooses
// between a full scan and an index (and says so in EXPLAIN), real rows-examined counts, and a slow
// query log in MySQL's format.
package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

// ServerVersion is what SELECT VERSION() and the handshake report.
const ServerVersion = "8.0.36-lab4-mini"

// Options configure an Executor.
type Options struct {
	// LongQueryTime is MySQL's long_query_time: statements at least this slow go to SlowLog.
	LongQueryTime time.Duration
	SlowLog       io.Writer // nil: no slow log
	Registerer    prometheus.Registerer
	Now           func() time.Time
}

// Executor is the SQL layer over one Store, shared by every session.
type Executor struct {
	store Store
	cat   *catalog
	opts  Options

	slowMu   sync.Mutex
	sessions atomic.Uint32
	stats    struct {
		queries, rowsExamined, slow, fullScans atomic.Int64
	}
	metrics *execMetrics
}

type execMetrics struct {
	queries      prometheus.Counter
	rowsExamined prometheus.Counter
	slow         prometheus.Counter
	fullScans    prometheus.Counter
	latency      prometheus.Histogram
}

// Stats are counters since the executor started.
type Stats struct {
	Queries      int64
	RowsExamined int64
	SlowQueries  int64
	FullScans    int64 // statements whose plan read a table with type=ALL
}

// New opens the catalog kept in store.
func New(ctx context.Context, store Store, opts Options) (*Executor, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cat, err := loadCatalog(ctx, store)
	if err != nil {
		return nil, err
	}
	ex := &Executor{store: store, cat: cat, opts: opts}
	if opts.Registerer != nil {
		m := &execMetrics{
			queries:      prometheus.NewCounter(prometheus.CounterOpts{Name: "mysql_lab_queries_total", Help: "SQL statements executed."}),
			rowsExamined: prometheus.NewCounter(prometheus.CounterOpts{Name: "mysql_lab_rows_examined_total", Help: "Rows read from the storage engine by statements (MySQL's Rows_examined)."}),
			slow:         prometheus.NewCounter(prometheus.CounterOpts{Name: "mysql_lab_slow_queries_total", Help: "Statements slower than long_query_time."}),
			fullScans:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mysql_lab_full_scans_total", Help: "Statements that read a table with a full scan (EXPLAIN type=ALL)."}),
			latency:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mysql_lab_query_seconds", Help: "Statement latency.", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18)}),
		}
		for _, c := range []prometheus.Collector{m.queries, m.rowsExamined, m.slow, m.fullScans, m.latency} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register executor metrics: %w", err)
			}
		}
		ex.metrics = m
	}
	return ex, nil
}

func (ex *Executor) now() time.Time { return ex.opts.Now() }

// Stats returns the executor's counters.
func (ex *Executor) Stats() Stats {
	return Stats{Queries: ex.stats.queries.Load(), RowsExamined: ex.stats.rowsExamined.Load(), SlowQueries: ex.stats.slow.Load(), FullScans: ex.stats.fullScans.Load()}
}

// Session is one client connection's state: its transaction, autocommit and variables. A session
// is used by one goroutine at a time.
type Session struct {
	ex           *Executor
	id           uint32
	db           string
	txn          Txn
	explicit     bool // BEGIN was issued (or autocommit=0): the transaction outlives the statement
	autocommit   bool
	lastInsertID int64
	vars         map[string]Value

	examined  int64
	fullScans int64
	sql       string // the statement running, for the deadlock report
}

// NewSession starts a session in database "test" with autocommit on.
func (ex *Executor) NewSession() *Session {
	return &Session{ex: ex, id: ex.sessions.Add(1), db: "test", autocommit: true, vars: map[string]Value{}}
}

// ID is the connection id.
func (s *Session) ID() uint32 { return s.id }

// DB is the current database.
func (s *Session) DB() string { return s.db }

// InTransaction reports whether a transaction is open (the server's status flag).
func (s *Session) InTransaction() bool { return s.txn != nil }

// Autocommit reports the session's autocommit.
func (s *Session) Autocommit() bool { return s.autocommit }

// Close rolls back an open transaction, as a disconnect does in MySQL.
func (s *Session) Close() {
	if s.txn != nil {
		_ = s.txn.Rollback()
		s.txn = nil
	}
}

// Result is a statement's outcome: a result set, or affected rows for DML.
type Result struct {
	Columns      []ResultColumn
	Rows         [][]Value
	Affected     uint64
	LastInsertID uint64
	RowsExamined int64
	IsResultSet  bool
}

// ResultColumn describes a column of a result set.
type ResultColumn struct {
	Name  string
	Table string
	Type  string // INT, BIGINT, DOUBLE, VARCHAR, CHAR, TEXT, DATETIME
}

// Exec parses and runs one statement.
func (s *Session) Exec(ctx context.Context, sql string, args ...Value) (*Result, error) {
	st, err := sqlparser.Parse(sql)
	if err != nil {
		return nil, parseError(err)
	}
	return s.ExecStatement(ctx, st, sql, args)
}

// normalize turns the Go values a caller may pass as arguments into the executor's Value kinds.
func normalize(args []Value) []Value {
	out := make([]Value, len(args))
	for i, a := range args {
		switch x := a.(type) {
		case int:
			out[i] = int64(x)
		case int32:
			out[i] = int64(x)
		case uint32:
			out[i] = int64(x)
		case uint64:
			out[i] = int64(x)
		case float32:
			out[i] = float64(x)
		case []byte:
			out[i] = string(x)
		case bool:
			out[i] = boolValue(x)
		case time.Time:
			out[i] = x.UTC().Format("2006-01-02 15:04:05")
		default:
			out[i] = a
		}
	}
	return out
}

func parseError(err error) error {
	var se *sqlparser.SyntaxError
	if errors.As(err, &se) {
		return &Error{Code: ErParse, State: "42000", Msg: se.Error(), Err: err}
	}
	return &Error{Code: ErParse, State: "42000", Msg: err.Error(), Err: err}
}

// ExecStatement runs a parsed statement; sql is its text, for the slow log.
func (s *Session) ExecStatement(ctx context.Context, st sqlparser.Statement, sql string, args []Value) (*Result, error) {
	start := s.ex.now()
	s.examined, s.fullScans = 0, 0
	args = normalize(args)
	s.sql = sql
	res, err := s.dispatch(ctx, st, args)
	elapsed := s.ex.now().Sub(start)
	s.ex.stats.queries.Add(1)
	s.ex.stats.rowsExamined.Add(s.examined)
	if s.fullScans > 0 {
		s.ex.stats.fullScans.Add(1)
	}
	if m := s.ex.metrics; m != nil {
		m.queries.Inc()
		m.rowsExamined.Add(float64(s.examined))
		m.latency.Observe(elapsed.Seconds())
		if s.fullScans > 0 {
			m.fullScans.Inc()
		}
	}
	sent := 0
	if res != nil {
		res.RowsExamined = s.examined
		sent = len(res.Rows)
	}
	if lqt := s.longQueryTime(); lqt > 0 && elapsed >= lqt {
		s.ex.stats.slow.Add(1)
		if s.ex.metrics != nil {
			s.ex.metrics.slow.Inc()
		}
		s.ex.writeSlowLog(start, elapsed, sent, s.examined, sql)
	}
	return res, mapStorageError(err)
}

// writeSlowLog appends one entry in mysqld's slow query log format, which pt-query-digest and
// mysqldumpslow read.
func (ex *Executor) writeSlowLog(start time.Time, elapsed time.Duration, sent int, examined int64, sql string) {
	if ex.opts.SlowLog == nil {
		return
	}
	ex.slowMu.Lock()
	defer ex.slowMu.Unlock()
	_, _ = fmt.Fprintf(ex.opts.SlowLog, "# Time: %s\n# User@Host: root[root] @ localhost []\n# Query_time: %.6f  Lock_time: 0.000000 Rows_sent: %d  Rows_examined: %d\nSET timestamp=%d;\n%s;\n",
		start.UTC().Format("2006-01-02T15:04:05.000000Z"), elapsed.Seconds(), sent, examined, start.Unix(), sql)
}

func mapStorageError(err error) error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return err
	}
	switch {
	case errors.Is(err, storage.ErrDeadlock):
		return &Error{Code: ErLockDeadlock, State: "40001", Msg: "Deadlock found when trying to get lock; try restarting transaction", Err: err}
	case errors.Is(err, storage.ErrLockWaitTimeout):
		return &Error{Code: ErLockWaitTimeout, State: "HY000", Msg: "Lock wait timeout exceeded; try restarting transaction", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: 1317, State: "70100", Msg: "Query execution was interrupted", Err: err}
	}
	return &Error{Code: ErUnknown, State: "HY000", Msg: err.Error(), Err: err}
}

func (s *Session) dispatch(ctx context.Context, st sqlparser.Statement, args []Value) (*Result, error) {
	switch x := st.(type) {
	case *sqlparser.Begin:
		if err := s.commit(ctx); err != nil {
			return nil, err
		}
		s.txn = s.ex.store.Begin()
		s.explicit = true
		return &Result{}, nil
	case *sqlparser.Commit:
		return &Result{}, s.commit(ctx)
	case *sqlparser.Rollback:
		if s.txn != nil {
			err := s.txn.Rollback()
			s.txn, s.explicit = nil, false
			return &Result{}, err
		}
		return &Result{}, nil
	case *sqlparser.Set:
		return s.set(x, args)
	case *sqlparser.Use:
		s.db = x.DB
		return &Result{}, nil
	case *sqlparser.Show:
		return s.show(ctx, x)
	case *sqlparser.CreateTable:
		return &Result{}, s.implicitCommit(ctx, func() error { return s.ex.createTable(ctx, x) })
	case *sqlparser.CreateIndex:
		return &Result{}, s.implicitCommit(ctx, func() error { return s.ex.createIndex(ctx, x) })
	case *sqlparser.DropTable:
		return &Result{}, s.implicitCommit(ctx, func() error { return s.ex.dropTable(ctx, x) })
	case *sqlparser.DropIndex:
		return &Result{}, s.implicitCommit(ctx, func() error { return s.ex.dropIndex(ctx, x) })
	case *sqlparser.Explain:
		return s.inTxn(ctx, func(txn Txn) (*Result, error) { return s.explain(ctx, txn, x, args) })
	case *sqlparser.Select:
		if len(x.From) == 0 {
			return s.selectNoTable(x, args)
		}
		return s.inTxn(ctx, func(txn Txn) (*Result, error) { return s.selectRows(ctx, txn, x, args) })
	case *sqlparser.Insert:
		return s.inTxn(ctx, func(txn Txn) (*Result, error) { return s.insert(ctx, txn, x, args) })
	case *sqlparser.Update:
		return s.inTxn(ctx, func(txn Txn) (*Result, error) { return s.update(ctx, txn, x, args) })
	case *sqlparser.Delete:
		return s.inTxn(ctx, func(txn Txn) (*Result, error) { return s.deleteRows(ctx, txn, x, args) })
	}
	return nil, notSupported(fmt.Sprintf("%T", st))
}

func (s *Session) commit(ctx context.Context) error {
	if s.txn == nil {
		return nil
	}
	err := s.txn.Commit(ctx)
	s.txn, s.explicit = nil, false
	return err
}

// implicitCommit commits an open transaction before DDL, as MySQL does.
func (s *Session) implicitCommit(ctx context.Context, ddl func() error) error {
	if err := s.commit(ctx); err != nil {
		return err
	}
	return ddl()
}

// inTxn runs a statement in the session's transaction, or in its own when autocommit is on.
func (s *Session) inTxn(ctx context.Context, fn func(Txn) (*Result, error)) (*Result, error) {
	if ss, ok := s.txn.(statementSetter); ok {
		ss.SetStatement(s.sql)
	}
	if s.txn != nil {
		res, err := fn(s.txn)
		if errors.Is(err, storage.ErrDeadlock) || errors.Is(err, storage.ErrTxnDone) {
			// InnoDB rolls the whole transaction back on a deadlock; the engine already has.
			s.txn, s.explicit = nil, false
		}
		return res, err
	}
	txn := s.ex.store.Begin()
	if !s.autocommit {
		s.txn, s.explicit = txn, true
		return s.inTxn(ctx, fn)
	}
	if ss, ok := txn.(statementSetter); ok {
		ss.SetStatement(s.sql)
	}
	res, err := fn(txn)
	if err != nil {
		_ = txn.Rollback()
		return nil, err
	}
	if err := txn.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Session) set(x *sqlparser.Set, args []Value) (*Result, error) {
	if x.Names != "" {
		return &Result{}, nil
	}
	env := &evalEnv{sess: s, args: args}
	for _, a := range x.Vars {
		v, err := eval(a.Value, env)
		if err != nil {
			return nil, err
		}
		switch a.Name {
		case "autocommit":
			on := truthy(v)
			if sv, ok := v.(string); ok {
				on = sv == "ON" || sv == "on" || sv == "1"
			}
			s.autocommit = on
		default:
			s.vars[a.Name] = v
		}
	}
	return &Result{}, nil
}

// sysVars are the system variables clients and tools ask for.
var sysVars = map[string]Value{
	"version_comment": "architect-roadmap lab 4 mini MySQL", "version": ServerVersion,
	"max_allowed_packet": int64(64 << 20), "transaction_isolation": "REPEATABLE-READ",
	"tx_isolation": "REPEATABLE-READ", "sql_mode": "STRICT_TRANS_TABLES", "character_set_client": "utf8mb4",
	"character_set_connection": "utf8mb4", "character_set_results": "utf8mb4", "collation_connection": "utf8mb4_bin",
	"time_zone": "SYSTEM", "system_time_zone": "UTC", "lower_case_table_names": int64(0), "wait_timeout": int64(28800),
	"interactive_timeout": int64(28800), "net_write_timeout": int64(60), "license": "GPL",
	"innodb_lock_wait_timeout": int64(50), "long_query_time": 10.0, "port": int64(3307), "hostname": "localhost",
	"performance_schema": int64(0), "query_cache_type": "OFF", "query_cache_size": int64(0),
}

// longQueryTime is the server's long_query_time, or the session's after SET long_query_time = s.
func (s *Session) longQueryTime() time.Duration {
	if v, ok := s.vars["long_query_time"]; ok && v != nil {
		return time.Duration(toFloat(v) * float64(time.Second))
	}
	return s.ex.opts.LongQueryTime
}

func (s *Session) variable(v *sqlparser.Variable) (Value, error) {
	if !v.System {
		return s.vars[v.Name], nil
	}
	switch v.Name {
	case "autocommit":
		return boolValue(s.autocommit), nil
	case "long_query_time":
		return s.longQueryTime().Seconds(), nil
	}
	if val, ok := s.vars[v.Name]; ok {
		return val, nil
	}
	if val, ok := sysVars[v.Name]; ok {
		return val, nil
	}
	return nil, &Error{Code: ErUnknownSysVar, State: "HY000", Msg: fmt.Sprintf("Unknown system variable '%s'", v.Name)}
}
