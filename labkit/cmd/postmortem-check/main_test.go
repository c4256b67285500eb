package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repo builds a tiny repository: a go.work, a Makefile, and one postmortem
// that is clean and one that is not.
func repo(t *testing.T) (root, good, bad string) {
	t.Helper()
	root = t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	write("go.work", "go 1.26.0\n")
	write("Makefile", "lab-%:\n\t@true\n")
	write("projects/lab-1-concurrency/scenarios/s.go", "package scenarios\nvar f = struct{ Fault string }{Fault: \"deadlock\"}\n")
	sections := []string{"Summary", "Impact", "Detection", "Timeline", "Root cause", "Trigger",
		"Evidence", "Resolution", "Verification", "Lessons", "Action items"}
	var b strings.Builder
	b.WriteString("# Deadlock\n")
	for _, s := range sections {
		b.WriteString("\n## " + s + "\n")
		switch s {
		case "Impact", "Verification":
			b.WriteString("48 000 transfers/s before, 0 during the stall: `make lab-1 fault=deadlock`.\n")
		case "Action items":
			b.WriteString("- Document the lock order — owner: @ana\n")
		default:
			b.WriteString("Text.\n")
		}
	}
	good = write("projects/lab-1-concurrency/postmortems/deadlock.md", b.String())
	bad = write("projects/lab-1-concurrency/postmortems/bad.md",
		strings.Replace(b.String(), "## Trigger\nText.\n", "## Trigger\nTODO\n", 1)+"\n`make lab-42`\n")
	return root, good, bad
}

func TestRun(t *testing.T) {
	root, good, bad := repo(t)
	outside := filepath.Join(t.TempDir(), "x.md")
	require.NoError(t, os.WriteFile(outside, []byte("# x\n"), 0o644))

	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings, one per output line, in order
		stderr   string
		oneLiner bool
	}{
		{"clean", []string{"-file", good}, 0, nil, "", false},
		{"clean with root", []string{"-file=" + good, "-root", root}, 0, nil, "", false},
		{"problems", []string{"-file", bad}, 1, []string{
			bad + `:18: section "Trigger" is empty (expected `,
			bad + ":36: `make lab-42`: there is no lab 42 (expected a lab number among 0, 1,",
		}, "", false},
		{"no args", nil, 2, nil, "-file is required (usage: postmortem-check -file PATH [-root DIR])", true},
		{"unknown flag", []string{"-fiel", good}, 2, nil, "flag provided but not defined: -fiel", true},
		{"help", []string{"-h"}, 2, nil, "usage: postmortem-check -file PATH", true},
		{"extra argument", []string{"-file", good, "other.md"}, 2, nil, `unexpected argument "other.md"`, true},
		{"missing file", []string{"-file", filepath.Join(root, "nope.md")}, 2, nil, "no such file or directory", true},
		{"directory", []string{"-file", root}, 2, nil, "is a directory", true},
		{"outside any repository", []string{"-file", outside}, 2, nil, "no go.work found in any parent directory (expected the file inside the repository, or -root DIR)", true},
		{"bad root", []string{"-file", good, "-root", filepath.Join(root, "nope")}, 2, nil, "is not a directory", true},
	}
	lineFormat := regexp.MustCompile(`^.+:\d+: .+ \(expected .+\)$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			assert.Equal(t, tt.code, code, "stdout=%s stderr=%s", stdout.String(), stderr.String())
			out := strings.TrimSpace(stdout.String())
			if tt.stdout == nil {
				assert.Empty(t, out)
			} else {
				lines := strings.Split(out, "\n")
				require.Len(t, lines, len(tt.stdout), out)
				for i, want := range tt.stdout {
					assert.Contains(t, lines[i], want)
					assert.Regexp(t, lineFormat, lines[i])
				}
			}
			if tt.stderr == "" {
				assert.Empty(t, stderr.String())
			} else {
				assert.Contains(t, stderr.String(), tt.stderr)
			}
			if tt.oneLiner {
				assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %q", stderr.String())
				assert.True(t, strings.HasPrefix(stderr.String(), "postmortem-check: ") || strings.HasPrefix(stderr.String(), "usage: "))
			}
		})
	}
}
