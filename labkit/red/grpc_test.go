package red

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// healthServer is a gRPC service with one unary and one streaming method,
// without generated code of our own: the standard health service, answering
// by the service name it is asked about.
type healthServer struct {
	healthpb.UnimplementedHealthServer
}

func (healthServer) Check(_ context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if req.GetService() == "missing" {
		return nil, status.Error(codes.NotFound, "unknown service missing")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (healthServer) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	if req.GetService() == "down" {
		return status.Error(codes.Unavailable, "backend down")
	}
	for range 3 {
		if err := stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}); err != nil {
			return err
		}
	}
	return nil
}

// startGRPC runs the health service in-process over bufconn, behind the RED
// interceptors, and returns a connection to it. Everything stops when the
// test ends.
func startGRPC(t *testing.T, m *Metrics) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(m.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(m.StreamServerInterceptor()),
	)
	healthpb.RegisterHealthServer(srv, healthServer{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, conn.Close())
		srv.Stop()
		assert.NoError(t, <-served)
	})
	return conn
}

func TestInterceptorsCountCodes(t *testing.T) {
	const (
		check = "/grpc.health.v1.Health/Check"
		watch = "/grpc.health.v1.Health/Watch"
	)
	unary := func(service string) func(context.Context, healthpb.HealthClient) error {
		return func(ctx context.Context, c healthpb.HealthClient) error {
			_, err := c.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
			return err
		}
	}
	stream := func(service string) func(context.Context, healthpb.HealthClient) error {
		return func(ctx context.Context, c healthpb.HealthClient) error {
			s, err := c.Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
			if err != nil {
				return err
			}
			for {
				if _, err := s.Recv(); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
			}
		}
	}
	tests := []struct {
		name   string
		call   func(context.Context, healthpb.HealthClient) error
		times  int
		method string
		code   codes.Code
	}{
		{name: "unary ok", call: unary(""), times: 3, method: check, code: codes.OK},
		{name: "unary error", call: unary("missing"), times: 2, method: check, code: codes.NotFound},
		{name: "stream ok", call: stream(""), times: 2, method: watch, code: codes.OK},
		{name: "stream error", call: stream("down"), times: 1, method: watch, code: codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t, Options{})
			client := healthpb.NewHealthClient(startGRPC(t, m))
			for range tt.times {
				err := tt.call(t.Context(), client)
				assert.Equal(t, tt.code, status.Code(err), "client saw %v", err)
			}
			// The interceptor records before grpc-go sends the status, so
			// the count is final once the client has seen it.
			assert.InDelta(t, tt.times, testutil.ToFloat64(m.grpcHandled.WithLabelValues(tt.method, tt.code.String())), 0)
			assert.Equal(t, 1, testutil.CollectAndCount(m.grpcHandled))
			hist := histogram(t, reg, "grpc_server_handling_seconds", map[string]string{"method": tt.method})
			require.NotNil(t, hist)
			assert.Equal(t, uint64(tt.times), hist.GetSampleCount())
			problems, err := testutil.GatherAndLint(reg)
			require.NoError(t, err)
			assert.Empty(t, problems)
		})
	}
}

// TestInterceptorMethodsAreBounded checks the claim that the method label
// is bounded by the service definitions: a method the service declares but
// does not implement is counted, and a made-up method name never reaches
// the interceptors, so a client cannot mint series.
func TestInterceptorMethodsAreBounded(t *testing.T) {
	m, _ := newMetrics(t, Options{})
	conn := startGRPC(t, m)
	_, err := healthpb.NewHealthClient(conn).List(t.Context(), &healthpb.HealthListRequest{})
	require.Equal(t, codes.Unimplemented, status.Code(err))
	for _, method := range []string{"/grpc.health.v1.Health/Nope", "/scanner.v1.Random/X1234"} {
		err := conn.Invoke(t.Context(), method, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		require.Equal(t, codes.Unimplemented, status.Code(err), method)
	}
	assert.InDelta(t, 1, testutil.ToFloat64(m.grpcHandled.WithLabelValues("/grpc.health.v1.Health/List", "Unimplemented")), 0)
	assert.Equal(t, 1, testutil.CollectAndCount(m.grpcHandled), "only the declared method has a series")
}
