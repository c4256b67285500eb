package app

import "testing"

// unitBackends need nothing but Go: the embedded database, with the auth module in-process and
// split out behind gRPC.
func unitBackends() []backend {
	return []backend{{name: "sqlite", dialect: "sqlite"}, {name: "sqlite+grpc-auth", dialect: "sqlite", grpcAuth: true}}
}

func onEach(t *testing.T, bs []backend, fn func(*testing.T, backend)) {
	for _, b := range bs {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}
