package authrpc

// Regenerating needs protoc (Debian: apt-get install -y --no-install-recommends protobuf-compiler)
// and the two plugins at the versions the committed code was made with:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//
//go:generate protoc --proto_path=authpb --go_out=authpb --go_opt=paths=source_relative --go-grpc_out=authpb --go-grpc_opt=paths=source_relative auth.proto
