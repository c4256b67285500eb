module github.com/architect-roadmap/architect-roadmap/projects/lab-2-middleware

go 1.26

require github.com/architect-roadmap/architect-roadmap/labkit v0.0.0

replace github.com/architect-roadmap/architect-roadmap/labkit => ../../labkit
