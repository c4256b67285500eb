package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

func TestPrintTable(t *testing.T) {
	tests := []struct {
		lang  string
		title func(catalog.Stage) string
	}{
		{"en", func(s catalog.Stage) string { return s.Name }},
		{"zh", func(s catalog.Stage) string { return s.TitleZH }},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, printTable(&b, t.TempDir(), t.TempDir(), tt.lang))
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			require.Len(t, lines, 1+len(catalog.Stages()))
			for i, s := range catalog.Stages() {
				assert.Contains(t, lines[i+1], tt.title(s), "lab %d", s.Number)
			}
		})
	}
}

func TestPrintTableRejectsUnknownLang(t *testing.T) {
	var b strings.Builder
	err := printTable(&b, t.TempDir(), t.TempDir(), "xx")
	require.EqualError(t, err, `unknown lang "xx" (expected en or zh)`)
	assert.Empty(t, b.String())
}
