module github.com/architect-roadmap/architect-roadmap/labkit

go 1.26
