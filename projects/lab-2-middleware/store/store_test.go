package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewSimRejectsBadConfig(t *testing.T) {
	_, err := NewSim(0, time.Millisecond)
	assert.Error(t, err)
	_, err = NewSim(1, -time.Millisecond)
	assert.Error(t, err)
}

func TestSimBoundsConcurrencyAndServiceTime(t *testing.T) {
	s, err := NewSim(2, 20*time.Millisecond)
	require.NoError(t, err)
	m := NewMeter(s, 10*time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.Get(context.Background(), "k")
			assert.NoError(t, err)
			assert.Equal(t, "value-of-k", v)
		}()
	}
	wg.Wait()
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "4 calls on 2 connections take two service times")
	assert.Equal(t, int64(4), m.Calls())
	assert.Equal(t, int64(4), m.KeyCalls("k"))
	assert.Equal(t, int64(0), m.Pending())
}

func TestSimDownAndCancel(t *testing.T) {
	s, _ := NewSim(1, time.Millisecond)
	s.SetDown(true)
	_, err := s.Get(context.Background(), "k")
	assert.ErrorIs(t, err, ErrUnavailable)
	s.SetDown(false)

	slow, _ := NewSim(1, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = slow.Get(ctx, "k")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a query honours its context")
}

func TestMeterQPS(t *testing.T) {
	s, _ := NewSim(8, 0)
	m := NewMeter(s, 100*time.Millisecond)
	for range 10 {
		_, _ = m.Get(context.Background(), "a")
	}
	peak, mean := m.QPS(m.start.Add(time.Second))
	assert.Equal(t, 100.0, peak, "10 calls in one 100ms bucket")
	assert.Equal(t, 10.0, mean, "10 calls over 1s")
	m.Reset()
	assert.Equal(t, int64(0), m.Calls())
	assert.Equal(t, int64(0), m.KeyCalls("a"))
}
