package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/executor"
)

const (
	accounts       = 4
	initialBalance = 1_000_000
)

type transferStats struct {
	deadlocks, done, retries atomic.Int64
}

// runDeadlock: transfers move money between two accounts in one transaction. With the fault on,
// each transfer updates its rows in request order (debit, then credit), so A→B and B→A take the
// same two row locks in opposite orders and the engine's detector kills one of them (1213). The fix
// locks both rows in key order with SELECT ... FOR UPDATE, and retries a 1213 as a second line of
// defence. Sessions run on the executor directly, so each lock wait is in the transfer's stack.
func runDeadlock(ctx context.Context, env *runner.Env) error {
	st, err := startStack(env, stackOptions{frames: 256, lockWait: 2 * time.Second, registerer: env.Metrics})
	if err != nil {
		return err
	}
	err = st.load(ctx, "CREATE TABLE accounts (id INT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)", "accounts", accounts,
		func(i int) string { return fmt.Sprintf("(%d, %d)", i+1, initialBalance) })
	if err != nil {
		return err
	}
	var stats transferStats
	var lat latencies
	start := time.Now()
	err = closedLoop(ctx, env.Duration, 8, seedsFrom(env.Rand, 8), func(ctx context.Context, r *rand.Rand) error {
		sess := st.ex.NewSession()
		defer sess.Close()
		from := 1 + r.IntN(accounts)
		to := 1 + (from+r.IntN(accounts-1))%accounts
		t0 := time.Now()
		var err error
		if env.FaultOn {
			err = transferInRequestOrder(ctx, sess, from, to, &stats)
		} else {
			err = transferInKeyOrder(ctx, sess, from, to, &stats)
		}
		lat.add(time.Since(t0))
		return err
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	elapsed := time.Since(start).Seconds()
	status, err := st.ex.NewSession().Exec(context.Background(), "SHOW ENGINE INNODB STATUS")
	if err != nil {
		return err
	}
	if err := env.WriteFile("innodb_status.txt", []byte(fmt.Sprint(status.Rows[0][2]))); err != nil {
		return err
	}
	total, err := st.ex.NewSession().Exec(context.Background(), "SELECT SUM(balance) FROM accounts")
	if err != nil {
		return err
	}
	sum, _ := total.Rows[0][0].(int64)
	env.Record("deadlocks_per_second", float64(stats.deadlocks.Load())/elapsed)
	env.Record("transfers_per_second", float64(stats.done.Load())/elapsed)
	env.Record("money_created_or_lost", float64(sum-accounts*initialBalance))
	env.Record("query_p99_ms", lat.quantileMs(0.99))
	env.Record("queries_per_second", float64(stats.done.Load())/elapsed)
	return nil
}

func isDeadlock(err error) bool {
	var me *executor.Error
	return errors.As(err, &me) && me.Code == executor.ErLockDeadlock
}

// transferInRequestOrder is the defect: the debit's row lock, then the credit's, in whatever order
// the request names them. A deadlock victim's transfer is lost (reported to the user as failed).
func transferInRequestOrder(ctx context.Context, sess *executor.Session, from, to int, stats *transferStats) error {
	err := runTxn(ctx, sess,
		q("UPDATE accounts SET balance = balance - 1 WHERE id = ?", from),
		q("UPDATE accounts SET balance = balance + 1 WHERE id = ?", to))
	switch {
	case isDeadlock(err):
		stats.deadlocks.Add(1)
		return nil
	case err != nil:
		return err
	}
	stats.done.Add(1)
	return nil
}

// transferInKeyOrder is the fix: both rows locked in primary-key order first, so two transfers
// over the same accounts queue instead of waiting for each other; a 1213 is retried.
func transferInKeyOrder(ctx context.Context, sess *executor.Session, from, to int, stats *transferStats) error {
	for attempt := 0; attempt < 3; attempt++ {
		err := runTxn(ctx, sess,
			lockInKeyOrder(from, to),
			q("UPDATE accounts SET balance = balance - 1 WHERE id = ?", from),
			q("UPDATE accounts SET balance = balance + 1 WHERE id = ?", to))
		if isDeadlock(err) {
			stats.deadlocks.Add(1)
			stats.retries.Add(1)
			continue
		}
		if err != nil {
			return err
		}
		stats.done.Add(1)
		return nil
	}
	return nil
}

// lockInKeyOrder is the transfer's first statement on the fixed path: it
// locks both rows, lowest id first, before either is changed.
func lockInKeyOrder(from, to int) query {
	// exercise:begin deadlock
	lo, hi := min(from, to), max(from, to)
	return q("SELECT id FROM accounts WHERE id IN (?, ?) ORDER BY id FOR UPDATE", lo, hi)
	// exercise:stub
	// return q("SELECT id FROM accounts WHERE id = ?", from) // a plain read locks nothing: the updates lock in request order
	// exercise:end
}

func runTxn(ctx context.Context, sess *executor.Session, qs ...query) error {
	if _, err := sess.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	for _, qq := range qs {
		if _, err := sess.Exec(ctx, qq.sql, qq.args...); err != nil {
			_, _ = sess.Exec(context.Background(), "ROLLBACK")
			return err
		}
	}
	_, err := sess.Exec(ctx, "COMMIT")
	return err
}
