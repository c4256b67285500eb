module github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab

go 1.26.0

require github.com/architect-roadmap/architect-roadmap/labkit v0.0.0

replace github.com/architect-roadmap/architect-roadmap/labkit => ../../labkit
