package scenarios

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware/store"
)

// PostgresEnv names the variable that switches the backing store from the embedded model to a real
// PostgreSQL.
const PostgresEnv = "POSTGRES_DSN"

// backend is a store that can be switched down, whichever implementation backs it.
type backend interface {
	store.Store
	SetDown(bool)
	Close()
}

// newBackend returns the backing store a scenario runs against: PostgreSQL when POSTGRES_DSN is
// set, otherwise the embedded database model. It says which in the log and in backend.txt.
func newBackend(ctx context.Context, env *runner.Env, conns int, service time.Duration) (backend, error) {
	var (
		b    backend
		desc string
		err  error
	)
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		b, err = store.NewPostgres(ctx, dsn, conns, service)
		desc = fmt.Sprintf("PostgreSQL from %s: pgx pool of %d connections, pg_sleep(%v) per query", PostgresEnv, conns, service)
	} else {
		b, err = store.NewSim(conns, service)
		desc = fmt.Sprintf("embedded database model (set %s to use PostgreSQL): %d connections, %v service time per query", PostgresEnv, conns, service)
	}
	if err != nil {
		return nil, err
	}
	env.Log.Info("backing store: " + desc)
	if err := env.WriteFile("backend.txt", []byte(desc+"\n")); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// preflight says which backing store the scenarios will use, and fails
// before any scenario runs when POSTGRES_DSN names a database that cannot be
// reached.
func preflight(ctx context.Context) (string, error) {
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		return fmt.Sprintf("backing store: embedded database model (set %s to use PostgreSQL)", PostgresEnv), nil
	}
	pg, err := store.NewPostgres(ctx, dsn, 1, 0)
	if err != nil {
		return "", err
	}
	pg.Close()
	return fmt.Sprintf("backing store: PostgreSQL from %s", PostgresEnv), nil
}

// snapshotWhen captures a profile the first time cond holds (polled every millisecond), or at the
// given fraction of the window if it never does, so the profile shows the defect mid-flight rather
// than after the load has drained. The returned func stops the watcher and waits for it.
func snapshotWhen(ctx context.Context, env *runner.Env, kind evidenceKind, fallback float64, cond func() bool) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.NewTimer(time.Duration(fallback * float64(env.Duration)))
		defer deadline.Stop()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-deadline.C:
				if err := env.Snapshot(kind); err != nil {
					env.Log.Warn("snapshot: " + err.Error())
				}
				return
			case <-tick.C:
				if cond() {
					if err := env.Snapshot(kind); err != nil {
						env.Log.Warn("snapshot: " + err.Error())
					}
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
