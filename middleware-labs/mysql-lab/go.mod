module github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab

go 1.26.0

require github.com/stretchr/testify v1.12.1

require (
	github.com/google/btree v1.1.3 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/architect-roadmap/architect-roadmap/labkit => ../../labkit
