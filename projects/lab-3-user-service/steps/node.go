package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/app"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/registry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/token"
)

// NodeMain is the child side: it becomes the registry, authd or a user service, as the
// environment Start gave it says, and never returns.
func NodeMain() {
	gin.SetMode(gin.ReleaseMode)
	node.Main(func(ctx context.Context, self *node.Self) error {
		switch role := os.Getenv(envRole); role {
		case Registry:
			return serveHTTP(ctx, self, registry.NewServer().Handler())
		case Authd:
			return serveAuthd(ctx, self)
		case Users:
			return serveUsers(ctx, self)
		default:
			return fmt.Errorf("steps: %s=%q: expected %s, %s or %s", envRole, role, Registry, Authd, Users)
		}
	})
}

func passwordParams() password.Params {
	if os.Getenv(envFastHash) == "true" {
		return password.TestParams()
	}
	return password.DefaultParams()
}

func ttl() time.Duration { return time.Duration(envInt(envTTL, 1500)) * time.Millisecond }

// heartbeat announces this node as an instance of service while ctx lives (seedling only).
func heartbeat(ctx context.Context, self *node.Self, service string) (stop func()) {
	addr := os.Getenv(envRegistry)
	if addr == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		registry.NewClient(addr).Heartbeat(ctx, service, service+"-"+self.Name, self.Listener.Addr().String(), ttl(), func(err error) {
			self.Log.Warn("registry heartbeat failed", zap.Error(err))
		})
	}()
	return func() { cancel(); <-done }
}

func serveHTTP(ctx context.Context, self *node.Self, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(self.Listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// serveAuthd is cmd/authd's service on the node's listener: the same auth module behind the
// same gRPC server (authrpc), revocations in a SQLite file in the node's data directory.
func serveAuthd(ctx context.Context, self *node.Self) error {
	keys, err := token.ParseKeys(os.Getenv(envKeys))
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, sqlstore.Config{Dialect: sqlstore.SQLite, DSN: filepath.Join(self.DataDir, "revocations.db"), Pool: sqlstore.DefaultPool()})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 10))
	authrpc.Register(srv, auth.New(password.New(passwordParams()), token.NewIssuer(keys, token.DefaultConfig()), st))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(self.Listener) }()
	stop := heartbeat(ctx, self, Authd)
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	stop() // leave the registry before draining, so no new caller picks this instance
	srv.GracefulStop()
	return err
}

// serveUsers is the user service (package app) with remote auth: authd's address, or in the
// seedling "registry:///authd", resolved through the registry.
func serveUsers(ctx context.Context, self *node.Self) error {
	target := os.Getenv(envAuth)
	if target == "" {
		if len(self.Peers) == 0 {
			return errors.New("steps: a user service needs LAB3_STEP_AUTH or a peer (authd's address)")
		}
		target = self.Peers[0]
	}
	var opts []grpc.DialOption
	if addr := os.Getenv(envRegistry); addr != "" {
		opts = append(opts, grpc.WithResolvers(&registry.Resolver{Client: registry.NewClient(addr), Every: 250 * time.Millisecond}),
			grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	}
	client, err := authrpc.Dial(target, authrpc.DefaultClientConfig(), opts...)
	if err != nil {
		return err
	}
	defer client.Close()
	a, err := app.New(ctx, app.Config{Dialect: sqlstore.SQLite, DSN: os.Getenv(envDB), Auth: client,
		IPLimit: int64(envInt(envIPLimit, 30)), AccountLimit: int64(envInt(envAccountLimit, 10)),
		AuditPath: filepath.Join(self.DataDir, "audit.log"), Log: self.Log, Metrics: self.Metrics})
	if err != nil {
		return err
	}
	defer func() { _ = a.Close(context.WithoutCancel(ctx)) }()
	stop := heartbeat(ctx, self, Users)
	defer stop()
	return serveHTTP(ctx, self, a.API.Handler())
}
