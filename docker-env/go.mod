module github.com/architect-roadmap/architect-roadmap/docker-env

go 1.26
