package server

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShutdownDeadline: a command that keeps the executor busy must not keep shutdown waiting.
// Close returns after ShutdownTimeout with an error naming the command.
func TestShutdownDeadline(t *testing.T) {
	s, err := New(Config{ScriptTimeout: 3 * time.Second, ShutdownTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: -1, MaxRetries: -1})
	defer rdb.Close()
	evalDone := make(chan error, 1)
	go func() { evalDone <- rdb.Eval(context.Background(), "while true do end", nil).Err() }()
	require.Eventually(t, func() bool { return s.busy.Load() != nil }, 2*time.Second, 5*time.Millisecond)

	begin := time.Now()
	err = s.Close()
	took := time.Since(begin)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "command EVAL")
	assert.Less(t, took, 2*time.Second, "Close waited for the running script")
	assert.Error(t, <-evalDone, "the client's connection is closed")
	select {
	case <-s.drained: // the script hit its own timeout; every goroutine is gone for goleak
	case <-time.After(10 * time.Second):
		t.Fatal("the server's goroutines did not stop after the script timed out")
	}
}

// TestShutdownWaitsForInFlight: within the deadline, shutdown lets the running command finish
// and deliver its reply, and returns no error.
func TestShutdownWaitsForInFlight(t *testing.T) {
	s, err := New(Config{ScriptTimeout: 300 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	addr, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	evalDone := make(chan error, 1)
	go func() { evalDone <- rdb.Eval(context.Background(), "while true do end", nil).Err() }()
	require.Eventually(t, func() bool { return s.busy.Load() != nil }, 2*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Close())
	// The script's own timeout ended it; its reply reached the client before the close.
	assert.ErrorContains(t, <-evalDone, "exceeded the time limit")
}
