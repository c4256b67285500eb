package lock

import "errors"

var (
	// ErrLockWaitTimeout means the wait for a lock exceeded the wait timeout
	// (MySQL's ER_LOCK_WAIT_TIMEOUT, 1205).
	ErrLockWaitTimeout = errors.New("lock wait timeout exceeded; try restarting transaction")
	// ErrDeadlock means the requester was chosen as a deadlock victim
	// (MySQL's ER_LOCK_DEADLOCK, 1213).
	ErrDeadlock = errors.New("deadlock found when trying to get lock; try restarting transaction")
)
