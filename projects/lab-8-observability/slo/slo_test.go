package slo_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-8-observability/slo"
)

// rulesDir is where the generated rules are checked in, from this package.
var rulesDir = filepath.Join("..", "..", "..", "docker-env", "prometheus", "rules")

func TestCheckedInRulesAreWhatTheSpecsGenerate(t *testing.T) {
	files, err := slo.GenerateAll("specs", rulesDir)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		assert.False(t, f.Stale, "%s is stale: run `go run ./projects/lab-8-observability/cmd/slogen` from the repository root", f.Path)
	}
}

const good = `
service: shop
window: 30d
min_request_rate: 1
slos:
  - name: availability
    objective: 0.999
    total: http_requests_total{job="shop"}
    errors: http_requests_total{job="shop",code=~"5.."}
`

func TestParseRejectsWhatCannotBeAnSLO(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"a misspelled key", strings.Replace(good, "objective:", "objectve:", 1), "field objectve not found"},
		{"a percentage for a fraction", strings.Replace(good, "0.999", "99.9", 1), "expected a fraction between 0.5 and 1"},
		{"a window of a day", strings.Replace(good, "30d", "1d", 1), "expected 7d to 90d"},
		{"both errors and good", strings.Replace(good, "errors:", "good: x_bucket{le=\"1\"}\n    errors:", 1), "exactly one of errors and good"},
		{"a PromQL expression for a selector", strings.Replace(good, `http_requests_total{job="shop"}`, `sum(rate(http_requests_total[5m]))`, 1), "expected metric{label=\"value\",...}"},
		{"no objectives", "service: shop\nwindow: 28d\n", "no slos"},
		{"an upper-case service", strings.Replace(good, "shop", "Shop", 1), "expected lower-case letters"},
		{"not YAML", "service: [", "slo spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := slo.Parse("spec.yaml", []byte(tt.spec))
			require.ErrorIs(t, err, slo.ErrSpec)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestEveryObjectiveGetsThreeBurnRatesAndAnAbsentAlert(t *testing.T) {
	s, err := slo.Parse("spec.yaml", []byte(good))
	require.NoError(t, err)
	groups := s.Groups()
	require.Len(t, groups, 2)
	var thresholds []string
	for _, r := range groups[1].Rules {
		if r.Alert == "ErrorBudgetBurn" {
			thresholds = append(thresholds, r.Labels["severity"]+" "+r.Labels["long_window"]+"/"+r.Labels["short_window"]+" "+
				strings.Fields(strings.Split(r.Expr, "\n")[0])[2])
			assert.Contains(t, r.Expr, `slo:requests:rate1h{service="shop",slo="availability"} > 1`, "the minimum-traffic guard")
		}
	}
	// 30 days at 99.9%: a budget of 0.1% of requests; 14.4× of it is 1.44%.
	assert.Equal(t, []string{"page 1h/5m 0.0144", "page 6h/30m 0.006", "ticket 3d/6h 0.001"}, thresholds)
	assert.Equal(t, "SLOMetricAbsent", groups[1].Rules[len(groups[1].Rules)-1].Alert)

	var records []string
	for _, r := range groups[0].Rules {
		records = append(records, r.Record)
	}
	assert.Subset(t, records, []string{"slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate30m", "slo:sli_error:ratio_rate1h",
		"slo:sli_error:ratio_rate6h", "slo:sli_error:ratio_rate3d", "slo:sli_error:ratio_rate30d", "slo:error_budget:remaining_ratio"})
}

func TestGenerateAllRefusesTwoSpecsForOneService(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yaml"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(good), 0o644))
	}
	_, err := slo.GenerateAll(dir, t.TempDir())
	require.ErrorIs(t, err, slo.ErrSpec)
	assert.Contains(t, err.Error(), "service shop is in both")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	for _, p := range []string{"specs/lab-0.yaml", "specs/lab-3.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("service: x\nwindow: 28d\nslos: [{name: a, objective: 0.9, total: m, good: g}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := slo.Parse("fuzz.yaml", b)
		if err != nil {
			return
		}
		// Whatever parses must generate rules without failing.
		_, err = s.File("fuzz.yaml")
		require.NoError(t, err)
	})
}

// TestMain checks that no test leaves a goroutine behind: the package starts
// none today, and a generator that grows a worker pool must stop it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// BenchmarkGenerateAll is the cost of `slogen -check` on the checked-in
// specs: parse, validate, generate and compare every rule file.
func BenchmarkGenerateAll(b *testing.B) {
	for b.Loop() {
		if _, err := slo.GenerateAll("specs", rulesDir); err != nil {
			b.Fatal(err)
		}
	}
}
