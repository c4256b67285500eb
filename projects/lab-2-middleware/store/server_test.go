package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerRejectsBadConfig(t *testing.T) {
	for name, args := range map[string][3]int{"no workers": {0, 1, 0}, "negative queue": {1, -1, 0}, "negative service": {1, 1, -1}} {
		t.Run(name, func(t *testing.T) {
			_, err := NewServer(args[0], args[1], time.Duration(args[2]))
			assert.Error(t, err)
		})
	}
}

func TestServerAnswersAndRefusesWhenFull(t *testing.T) {
	s, err := NewServer(1, 2, 0)
	require.NoError(t, err)
	defer s.Close()
	v, err := s.Get(context.Background(), "k")
	require.NoError(t, err)
	assert.Equal(t, "value-of-k", v)

	s.Stall(time.Hour) // nothing leaves the queue: the worker holds one, the queue two
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = s.Get(ctx, "k") })
	}
	require.Eventually(t, func() bool { return s.QueueLen() == 2 }, 5*time.Second, time.Millisecond)
	_, err = s.Get(context.Background(), "k")
	require.ErrorIs(t, err, ErrOverloaded)
	assert.Equal(t, int64(1), s.Rejected())
	cancel()
	wg.Wait()
}

// TestServerServesCallersThatLeft: the property behind a metastable failure. A caller that times out
// does not take its request back; the server still spends its service time on it.
func TestServerServesCallersThatLeft(t *testing.T) {
	s, err := NewServer(1, 8, 0)
	require.NoError(t, err)
	defer s.Close()
	s.Stall(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return s.Served() == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, int64(1), s.Wasted())
}
