// Package discovery is service registration and discovery on the
// replicated KV: instances register under a lease they keep alive with
// heartbeats, clients watch the registry, and a client-side balancer sends
// requests only to the instances the registry still lists.
//
// The lease is what makes a crashed instance disappear. An instance that
// deregisters on a clean shutdown is easy; one killed with -9, or cut off
// by the network, never says goodbye, and only the end of its lease tells
// the registry it is gone.
package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
)

// KV is what the registry needs from the store.
type KV interface {
	Put(ctx context.Context, key, value string) (kv.Result, error)
	Delete(ctx context.Context, key string) (kv.Result, error)
	List(ctx context.Context, prefix string) (map[string]kv.Entry, error)
}

// Instance is one registered endpoint of a service.
type Instance struct {
	Service string `json:"service"`
	ID      string `json:"id"`
	Addr    string `json:"addr"`
	// EndsMS is when the lease ends (Unix milliseconds); 0 means never: a
	// registration without a TTL.
	EndsMS int64 `json:"ends_ms"`
}

func key(service, id string) string { return "svc/" + service + "/" + id }

// Registry registers instances and lists the live ones.
type Registry struct {
	KV  KV
	Now func() time.Time // time.Now when nil
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Registration is an instance's hold on its entry.
type Registration struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Register puts inst in the registry under a lease of ttl, renewed every
// ttl/3 until ctx ends or Deregister. ttl 0 registers it for good, with no
// heartbeats: the zombie-instances fault, where a crashed instance stays
// listed forever.
func (r *Registry) Register(ctx context.Context, inst Instance, ttl time.Duration) (*Registration, error) {
	if inst.Service == "" || inst.ID == "" || inst.Addr == "" {
		return nil, errors.New("discovery: register: expected a service, an id and an address")
	}
	if err := r.put(ctx, inst, ttl); err != nil {
		return nil, err
	}
	hb, cancel := context.WithCancel(ctx)
	reg := &Registration{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(reg.done)
		if ttl == 0 {
			<-hb.Done()
			return
		}
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-hb.Done():
				return
			case <-t.C:
				// A failed heartbeat is retried at the next tick; the lease
				// gives it two more chances before it ends.
				pctx, c := context.WithTimeout(hb, ttl/3)
				reg.err = r.put(pctx, inst, ttl)
				c()
			}
		}
	}()
	return reg, nil
}

func (r *Registry) put(ctx context.Context, inst Instance, ttl time.Duration) error {
	inst.EndsMS = 0
	// exercise:begin zombie-instances
	if ttl > 0 {
		inst.EndsMS = r.now().Add(ttl).UnixMilli()
	}
	// exercise:stub
	// _ = ttl // registered for good: nobody will ever notice it is gone
	// exercise:end
	b, err := json.Marshal(inst)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if _, err := r.KV.Put(ctx, key(inst.Service, inst.ID), string(b)); err != nil {
		return fmt.Errorf("discovery: register %s/%s: %w", inst.Service, inst.ID, err)
	}
	return nil
}

// Stop ends the heartbeats without deregistering (what a crash does).
func (g *Registration) Stop() {
	g.cancel()
	<-g.done
}

// Deregister stops the heartbeats and removes the entry (a clean shutdown).
func (r *Registry) Deregister(ctx context.Context, g *Registration, inst Instance) error {
	g.Stop()
	if _, err := r.KV.Delete(ctx, key(inst.Service, inst.ID)); err != nil {
		return fmt.Errorf("discovery: deregister %s/%s: %w", inst.Service, inst.ID, err)
	}
	return nil
}

// Live lists the service's instances whose lease has not ended, by ID.
func (r *Registry) Live(ctx context.Context, service string) ([]Instance, error) {
	entries, err := r.KV.List(ctx, "svc/"+service+"/")
	if err != nil {
		return nil, fmt.Errorf("discovery: list %s: %w", service, err)
	}
	now := r.now().UnixMilli()
	var out []Instance
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		var inst Instance
		if err := json.Unmarshal([]byte(entries[k].Value), &inst); err != nil {
			continue // not an instance record; nothing to route to
		}
		if inst.EndsMS == 0 || inst.EndsMS > now {
			out = append(out, inst)
		}
	}
	return out, nil
}

// Watch sends the live instances each time the set changes, polling every
// interval, until ctx ends. The KV has no server-side watch, so this is a
// poll of linearizable lists; the first value is sent at once.
func (r *Registry) Watch(ctx context.Context, service string, interval time.Duration) <-chan []Instance {
	out := make(chan []Instance, 1)
	go func() {
		defer close(out)
		var last string
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if insts, err := r.Live(ctx, service); err == nil {
				if sig := signature(insts); sig != last {
					last = sig
					select {
					case out <- insts:
					case <-ctx.Done():
						return
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func signature(insts []Instance) string {
	var b strings.Builder
	for _, i := range insts {
		b.WriteString(i.ID + "@" + i.Addr + ";")
	}
	return b.String()
}

// ErrNoInstances is returned by Pick when the registry lists none.
var ErrNoInstances = errors.New("discovery: no live instances")

// Balancer round-robins over the instances a watch reports.
type Balancer struct {
	mu    sync.Mutex
	insts []Instance
	next  int
	// failing is when each instance started failing without a success
	// since; zombieAfter is how long that may last while it stays listed.
	failing     map[string]time.Time
	zombieAfter time.Duration
	log         *zap.Logger
	zombies     map[string]bool
}

// NewBalancer follows watch until it closes. An instance that keeps failing
// for zombieAfter while the registry still lists it is reported to warn
// once: the registry has a dead instance it does not know is dead.
func NewBalancer(watch <-chan []Instance, zombieAfter time.Duration, log *zap.Logger) *Balancer {
	if log == nil {
		log = zap.NewNop()
	}
	b := &Balancer{failing: map[string]time.Time{}, zombieAfter: zombieAfter, log: log, zombies: map[string]bool{}}
	go func() {
		for insts := range watch {
			b.mu.Lock()
			b.insts = insts
			b.mu.Unlock()
		}
	}()
	return b
}

// Pick returns the next instance in turn.
func (b *Balancer) Pick() (Instance, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.insts) == 0 {
		return Instance{}, ErrNoInstances
	}
	inst := b.insts[b.next%len(b.insts)]
	b.next++
	return inst, nil
}

// Done reports how a request to inst went.
func (b *Balancer) Done(inst Instance, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.failing, inst.ID)
		return
	}
	since, ok := b.failing[inst.ID]
	if !ok {
		b.failing[inst.ID] = time.Now()
		return
	}
	b.noteFailure(inst, time.Since(since))
}

// noteFailure warns, once per instance, when one has failed for longer
// than the registry should have needed to notice. It runs whatever the
// registration mode; with leases a dead instance leaves the list first.
func (b *Balancer) noteFailure(inst Instance, failingFor time.Duration) {
	if failingFor < b.zombieAfter || b.zombies[inst.ID] || !slices.ContainsFunc(b.insts, func(i Instance) bool { return i.ID == inst.ID }) {
		return
	}
	b.zombies[inst.ID] = true
	b.log.Warn("an instance the registry lists has been failing longer than a lease: a zombie registration",
		zap.String("service", inst.Service), zap.String("instance", inst.ID), zap.String("addr", inst.Addr),
		zap.Duration("failing_for", failingFor))
}
