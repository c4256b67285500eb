package kvnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/discovery"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/lock"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

// Job shape: a holder checks its lease when a job starts, then writes
// jobSteps records jobStep apart. That is how most code uses a lock ("if I
// hold it, do the work"), and why a pause in the middle of a job needs a
// fencing token to be harmless.
const (
	jobSteps = 20
	jobStep  = 5 * time.Millisecond
	lockKey  = "lock/ledger"
)

// runWorker contends for the lock with the other nodes' workers and,
// while it holds it, writes jobs to the protected storage at storageAddr.
func runWorker(ctx context.Context, self *node.Self, addrs map[string]string, storageAddr string, ttl time.Duration) {
	cl := kvhttp.NewClient(self.Name+"-worker", addrs, 500*time.Millisecond)
	defer cl.Close()
	store := lock.NewStorageClient(storageAddr)
	defer store.HTTP.CloseIdleConnections()
	locker := &lock.Locker{KV: cl, Key: lockKey, Owner: self.Name, TTL: ttl}
	expiries := prometheus.NewCounter(prometheus.CounterOpts{Name: "raftlab_lock_lease_expiries_total",
		Help: "Lock leases this node's worker lost before it released them."})
	if err := self.Metrics.Register(expiries); err != nil {
		self.Log.Error("register metric", zap.Error(err))
	}
	for ctx.Err() == nil {
		lease, err := locker.Acquire(ctx, 50*time.Millisecond)
		if err != nil {
			continue
		}
		self.Log.Info("lock acquired", zap.Uint64("token", lease.Token))
		hold, cancel := context.WithCancel(ctx)
		sess := locker.Hold(hold, lease)
		err = writeJobs(hold, sess, store, self.Name)
		cancel()
		sess.Wait()
		if errors.Is(sess.Err(), lock.ErrLeaseLost) || errors.Is(err, lock.ErrStaleToken) {
			expiries.Inc()
		}
		self.Log.Info("lock released", zap.Uint64("token", lease.Token), zap.NamedError("why", errors.Join(err, sess.Err())))
	}
}

// writeJobs writes jobs while the session says the lock is held.
func writeJobs(ctx context.Context, sess *lock.Session, store *lock.StorageClient, name string) error {
	for job := 0; sess.Held(); job++ {
		for step := range jobSteps {
			err := store.Write(ctx, sess.Token(), name, fmt.Sprintf("%s job %d step %d", name, job, step))
			if err != nil {
				return err // a stale token ends the hold: someone newer has written
			}
			t := time.NewTimer(jobStep)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	return nil
}

// register keeps this node registered as an instance of service until ctx
// ends. It never deregisters: a node's end in these scenarios is a kill.
func register(ctx context.Context, self *node.Self, addrs map[string]string, service string, ttl time.Duration) {
	cl := kvhttp.NewClient(self.Name+"-registry", addrs, 500*time.Millisecond)
	defer cl.Close()
	r := &discovery.Registry{KV: cl}
	inst := discovery.Instance{Service: service, ID: self.Name, Addr: self.Listener.Addr().String()}
	for ctx.Err() == nil {
		reg, err := r.Register(ctx, inst, ttl)
		if err != nil {
			_ = sleep(ctx, 50*time.Millisecond)
			continue
		}
		self.Log.Info("registered", zap.String("service", service), zap.Duration("ttl", ttl))
		<-ctx.Done()
		reg.Stop()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
