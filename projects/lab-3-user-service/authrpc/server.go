// Package authrpc puts the auth module behind gRPC: Server exposes an in-process module, Client
// implements the same interface the service layer uses, with a deadline on every call, retries
// with backoff for idempotent calls only, and a circuit breaker, so a slow or dead auth service
// turns into fast 503s instead of a pile of stuck requests.
package authrpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/authrpc/authpb"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// Module is what the server exposes: the in-process auth module.
type Module interface {
	HashPassword(ctx context.Context, pw string) (string, error)
	CheckPassword(ctx context.Context, hash, pw string) error
	Issue(ctx context.Context, id user.ID, role rbac.Role, version int64, family string) (auth.TokenPair, error)
	Redeem(ctx context.Context, refresh string) (auth.Grant, error)
	Verify(ctx context.Context, access string) (auth.Identity, error)
	Revoke(ctx context.Context, access string) error
}

// Server is the gRPC face of a Module.
type Server struct {
	authpb.UnimplementedAuthServer
	m Module
}

// NewServer returns a Server for m.
func NewServer(m Module) *Server { return &Server{m: m} }

// toStatus maps domain errors to gRPC codes; the client maps them back.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrTokenReuse):
		return status.Error(codes.Unauthenticated, "refresh token reused; session revoked")
	case errors.Is(err, user.ErrUnauthenticated):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.Is(err, user.ErrUnavailable):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, user.ErrInvalidInput):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	default:
		return status.Error(codes.Internal, err.Error())
	}
}

// HashPassword implements authpb.AuthServer.
func (s *Server) HashPassword(ctx context.Context, r *authpb.HashPasswordRequest) (*authpb.HashPasswordResponse, error) {
	h, err := s.m.HashPassword(ctx, r.GetPassword())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authpb.HashPasswordResponse{Hash: h}, nil
}

// CheckPassword implements authpb.AuthServer. A mismatch is an answer, not an error.
func (s *Server) CheckPassword(ctx context.Context, r *authpb.CheckPasswordRequest) (*authpb.CheckPasswordResponse, error) {
	err := s.m.CheckPassword(ctx, r.GetHash(), r.GetPassword())
	if errors.Is(err, user.ErrInvalidCredentials) {
		return &authpb.CheckPasswordResponse{Match: false}, nil
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &authpb.CheckPasswordResponse{Match: true}, nil
}

// Issue implements authpb.AuthServer.
func (s *Server) Issue(ctx context.Context, r *authpb.IssueRequest) (*authpb.TokenPair, error) {
	role, err := rbac.ParseRole(r.GetRole())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	p, err := s.m.Issue(ctx, user.ID(r.GetUserId()), role, r.GetTokenVersion(), r.GetFamily())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authpb.TokenPair{Access: p.Access, Refresh: p.Refresh, AccessExpiresUnix: p.AccessExpires.Unix()}, nil
}

// Redeem implements authpb.AuthServer.
func (s *Server) Redeem(ctx context.Context, r *authpb.RedeemRequest) (*authpb.Grant, error) {
	g, err := s.m.Redeem(ctx, r.GetRefresh())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authpb.Grant{UserId: int64(g.UserID), Family: g.Family, TokenVersion: g.Version}, nil
}

// Verify implements authpb.AuthServer.
func (s *Server) Verify(ctx context.Context, r *authpb.VerifyRequest) (*authpb.Identity, error) {
	id, err := s.m.Verify(ctx, r.GetAccess())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authpb.Identity{UserId: int64(id.UserID), Role: string(id.Role), TokenId: id.TokenID, Family: id.Family, ExpiresUnix: id.Expires.Unix(), TokenVersion: id.Version}, nil
}

// Revoke implements authpb.AuthServer.
func (s *Server) Revoke(ctx context.Context, r *authpb.RevokeRequest) (*authpb.RevokeResponse, error) {
	if err := s.m.Revoke(ctx, r.GetAccess()); err != nil {
		return nil, toStatus(err)
	}
	return &authpb.RevokeResponse{}, nil
}

func unix(s int64) time.Time { return time.Unix(s, 0) }

// Register mounts m on a gRPC server.
func Register(s *grpc.Server, m Module) { authpb.RegisterAuthServer(s, NewServer(m)) }
