// Package pipeline is a producer/consumer pipeline: a source stage, a fan-out of workers, a fan-in
// and a sink, joined by bounded channels. Every send and receive selects on ctx.Done(), and the
// stages run in an errgroup, so the first error cancels every stage and is the one Run returns.
package pipeline

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Config sizes the pipeline.
type Config struct {
	Workers int // fan-out width
	Buffer  int // capacity of every channel between stages; 0 is unbuffered
}

func (c Config) validate() error {
	if c.Workers < 1 || c.Buffer < 0 {
		return fmt.Errorf("pipeline: want Workers >= 1 and Buffer >= 0, got Workers=%d Buffer=%d", c.Workers, c.Buffer)
	}
	return nil
}

// Run feeds every item of src through work on cfg.Workers goroutines and hands each result to
// sink (on one goroutine, so sink needs no locking). Results arrive in completion order.
// It returns the first error of any stage, or ctx's error; when it returns, every goroutine it
// started has exited.
func Run[T, R any](ctx context.Context, cfg Config, src iter.Seq[T], work func(context.Context, T) (R, error),
	sink func(R) error) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	items := make(chan T, cfg.Buffer)
	g.Go(func() error {
		defer close(items)
		for it := range src {
			if err := send(ctx, items, it); err != nil {
				return err
			}
		}
		return nil
	})
	outs := make([]<-chan R, cfg.Workers)
	for i := range outs {
		out := make(chan R, cfg.Buffer)
		outs[i] = out
		g.Go(func() error {
			defer close(out)
			for it := range items {
				r, err := work(ctx, it)
				if err != nil {
					return err
				}
				if err := send(ctx, out, r); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
	}
	merged := Merge(ctx, cfg.Buffer, outs...)
	g.Go(func() error {
		for r := range merged {
			if err := sink(r); err != nil {
				drain(merged)
				return err
			}
		}
		return ctx.Err()
	})
	return g.Wait()
}

// Merge is the fan-in: one channel carrying everything the inputs carry. It closes when every
// input is closed, or soon after ctx is cancelled.
func Merge[R any](ctx context.Context, buffer int, ins ...<-chan R) <-chan R {
	out := make(chan R, buffer)
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(func() {
			for r := range in {
				if send(ctx, out, r) != nil {
					drain(in) // let the upstream worker finish its own send and exit
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain empties a channel until its sender closes it. The sender selects on ctx.Done() and so
// stops soon after cancellation; draining lets it finish a send already under way and exit
// without waiting for the select to notice.
func drain[T any](ch <-chan T) {
	for range ch {
	}
}
