package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRulesFor(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    []rule
		wantErr string
	}{
		{
			name: "rate interval replaced, rows walked, non-prometheus skipped",
			json: `{"uid":"lab-0-red","panels":[
				{"id":1,"type":"row","panels":[{"id":2,"datasource":{"type":"prometheus"},
					"targets":[{"refId":"A","expr":"rate(x_total[$__rate_interval])"}]}]},
				{"id":3,"datasource":{"type":"loki"},"targets":[{"refId":"A","expr":"{service=\"lab-0\"}"}]},
				{"id":4,"targets":[{"refId":"B","expr":"up","datasource":{"type":"prometheus"}}]}]}`,
			want: []rule{
				{Record: "dashboard:lab_0_red:panel_2_A", Expr: "rate(x_total[1m])"},
				{Record: "dashboard:lab_0_red:panel_4_B", Expr: "up"},
			},
		},
		{name: "not JSON", json: `{`, wantErr: "want Grafana dashboard JSON"},
		{name: "no uid", json: `{"panels":[]}`, wantErr: "no uid"},
		{name: "no query", json: `{"uid":"u","panels":[]}`, wantErr: "no Prometheus query"},
		{
			name:    "empty query",
			json:    `{"uid":"u","panels":[{"id":1,"title":"t","datasource":{"type":"prometheus"},"targets":[{"refId":"A","expr":" "}]}]}`,
			wantErr: `panel 1 "t" query A is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := rulesFor("d.json", []byte(tt.json))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, g.Rules)
		})
	}
}

func TestRunOnShippedDashboards(t *testing.T) {
	files, err := filepath.Glob("../../grafana/dashboards/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out bytes.Buffer
	require.NoError(t, run(&out, files))
	assert.Contains(t, out.String(), "record: dashboard:lab_0_red:")
	assert.NotContains(t, out.String(), "$__")
}

func TestRunMissingFile(t *testing.T) {
	err := run(&bytes.Buffer{}, []string{filepath.Join(t.TempDir(), "nope.json")})
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
