package registry

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/resolver"
)

// Scheme is the gRPC target scheme the resolver serves: "registry:///authd".
const Scheme = "registry"

// Resolver lets a gRPC client dial a service by name: the target "registry:///authd" resolves
// to the live instances of "authd", re-read every Every, and the client's load balancer spreads
// calls over them. Pass it with grpc.WithResolvers.
type Resolver struct {
	Client *Client
	Every  time.Duration
}

// Scheme implements resolver.Builder.
func (r *Resolver) Scheme() string { return Scheme }

// Build implements resolver.Builder.
func (r *Resolver) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	service := target.Endpoint()
	if !validName(service) {
		return nil, fmt.Errorf("registry resolver: target %q: expected registry:///<service>", target.URL.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := r.Client.Watch(ctx, service, r.Every)
	res := &watchResolver{w: w, cc: cc, cancel: cancel, done: make(chan struct{})}
	go res.run(ctx)
	return res, nil
}

type watchResolver struct {
	w      *Watcher
	cc     resolver.ClientConn
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *watchResolver) run(ctx context.Context) {
	defer close(r.done)
	var last []Instance
	for {
		updated := r.w.Updated()
		list, err := r.w.Instances()
		switch {
		case len(list) == 0 && err != nil:
			r.cc.ReportError(err)
		case !slices.Equal(list, last):
			addrs := make([]resolver.Address, len(list))
			for i, in := range list {
				addrs[i] = resolver.Address{Addr: in.Addr}
			}
			if err := r.cc.UpdateState(resolver.State{Addresses: addrs}); err == nil {
				last = list
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-updated:
		}
	}
}

// ResolveNow implements resolver.Resolver; the watcher polls on its own schedule.
func (r *watchResolver) ResolveNow(resolver.ResolveNowOptions) {}

// Close implements resolver.Resolver.
func (r *watchResolver) Close() {
	r.cancel()
	r.w.Close()
	<-r.done
}
