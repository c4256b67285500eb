package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// Monitor asks the database what it is doing, over a connection of its own, so that the
// question does not queue in the pool it is asking about.
type Monitor struct {
	db      *sql.DB
	dialect Dialect
	app     *sql.DB
}

// Activity is the database's own view of the load, as far as each engine can tell it.
//   - PostgreSQL: backends of this database in pg_stat_activity, all of them and those running
//     a statement ("active").
//   - MariaDB/MySQL: this database's sessions in information_schema.PROCESSLIST, all and those
//     executing (Command = 'Query'), plus the server-wide Threads_connected and Threads_running
//     (which include every other client of the server).
//   - SQLite is a library inside this process: there is no server and no session list. What it
//     feels is statements executing at once on the process's cores, which is the pool's count of
//     connections in use; Connected is the pool's open connections (each one an open file
//     handle with its own page cache).
type Activity struct {
	Connected, Running             int
	ServerConnected, ServerRunning int // MariaDB/MySQL only
}

// OpenMonitor opens the monitor connection.
func (s *Store) OpenMonitor(ctx context.Context) (*Monitor, error) {
	m := &Monitor{dialect: s.dialect, app: s.db}
	if s.dialect == SQLite {
		return m, nil
	}
	db, err := sql.Open(s.driver, s.dsn)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	m.db = db
	return m, nil
}

// Close closes the monitor connection.
func (m *Monitor) Close() error {
	if m.db == nil {
		return nil
	}
	return m.db.Close()
}

// Activity reads the database's view now.
func (m *Monitor) Activity(ctx context.Context) (Activity, error) {
	var a Activity
	switch m.dialect {
	case Postgres:
		err := m.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'active')
			FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&a.Connected, &a.Running)
		if err != nil {
			return a, fmt.Errorf("pg_stat_activity: %w", err)
		}
	case MySQL:
		var running sql.NullInt64
		err := m.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(COMMAND = 'Query') FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND ID <> CONNECTION_ID()`).Scan(&a.Connected, &running)
		if err != nil {
			return a, fmt.Errorf("processlist: %w", err)
		}
		a.Running = int(running.Int64)
		rows, err := m.db.QueryContext(ctx, `SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Threads_running')`)
		if err != nil {
			return a, fmt.Errorf("global status: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var v int
			if err := rows.Scan(&name, &v); err != nil {
				return a, fmt.Errorf("global status: %w", err)
			}
			if name == "Threads_connected" {
				a.ServerConnected = v
			} else {
				a.ServerRunning = v - 1 // not counting the monitor's own SHOW
			}
		}
		if err := rows.Err(); err != nil {
			return a, fmt.Errorf("global status: %w", err)
		}
	default:
		st := m.app.Stats()
		a.Connected, a.Running = st.OpenConnections, st.InUse
	}
	return a, nil
}
