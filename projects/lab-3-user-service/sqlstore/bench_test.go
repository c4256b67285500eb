package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// BenchmarkList shows the slow-request fault's signature: the N+1 listing with the unindexable
// filter costs in proportion to the table, the fixed listing does not.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{3000, 30000} {
		ctx := context.Background()
		s, cleanup, err := OpenScratch(ctx, Config{Dialect: SQLite, Pool: DefaultPool()})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Seed(ctx, n, n/75, "h"); err != nil {
			b.Fatal(err)
		}
		q := user.ListQuery{Department: "security", Limit: 50}
		for _, path := range []struct {
			name string
			list func(context.Context, user.ListQuery) (user.Page, error)
		}{{"fixed", s.List}, {"n-plus-one", s.ListNPlusOne}} {
			b.Run(fmt.Sprintf("%s/users=%d", path.name, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := path.list(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		cleanup()
	}
}
