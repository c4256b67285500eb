package revocation_test

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/revocation/revocationtest"
)

func TestMemory(t *testing.T) { revocationtest.Contract(t, revocation.NewMemory()) }
