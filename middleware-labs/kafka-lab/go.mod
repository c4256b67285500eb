module github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab

go 1.26.0

require github.com/architect-roadmap/architect-roadmap/labkit v0.0.0

require (
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/nats-io/nats.go v1.49.0 // indirect
	github.com/nats-io/nkeys v0.4.12 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/pierrec/lz4/v4 v4.1.15 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/segmentio/kafka-go v0.4.51 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/crypto v0.46.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/architect-roadmap/architect-roadmap/labkit => ../../labkit
