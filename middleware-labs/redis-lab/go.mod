module github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab

go 1.26

require github.com/architect-roadmap/architect-roadmap/labkit v0.0.0

replace github.com/architect-roadmap/architect-roadmap/labkit => ../../labkit
