package red

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// UnaryServerInterceptor counts and times unary calls. Install it with
// grpc.ChainUnaryInterceptor(m.UnaryServerInterceptor()).
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observeGRPC(info.FullMethod, err, time.Since(start))
		return resp, err
	}
}

// StreamServerInterceptor counts and times streaming calls; the duration is
// the stream's whole life, from open to the handler's return. Install it
// with grpc.ChainStreamInterceptor(m.StreamServerInterceptor()).
func (m *Metrics) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		m.observeGRPC(info.FullMethod, err, time.Since(start))
		return err
	}
}

// observeGRPC records one finished call. The code is the one the client
// will see: status.Code gives OK for nil and Unknown for an error that
// carries no gRPC status, as grpc-go sends it.
func (m *Metrics) observeGRPC(method string, err error, d time.Duration) {
	m.grpcHandled.WithLabelValues(method, status.Code(err).String()).Inc()
	m.grpcDuration.WithLabelValues(method).Observe(d.Seconds())
}
