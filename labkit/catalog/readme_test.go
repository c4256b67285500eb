package catalog_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

// The English and the Chinese README are two views of one page. A learner
// who reads either must get the same commands and the same labs, so these
// tests compare what can drift: the `make` commands in the shell blocks, the
// lab table, the blueprint's project-name map, and the length of the loop.

var readmes = []string{"README.md", "README.zh-CN.md"}

func readRepoFile(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", name))
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

// makeCommands returns the `make ...` commands of a page's sh blocks,
// without their trailing comments.
func makeCommands(lines []string) []string {
	var out []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in && strings.HasPrefix(l, "make "):
			cmd, _, _ := strings.Cut(l, "#")
			out = append(out, strings.Join(strings.Fields(cmd), " "))
		}
	}
	sort.Strings(out)
	return out
}

// tableRows returns the cells of the table whose header row starts with
// header, one []string per data row.
func tableRows(lines []string, header string) [][]string {
	var rows [][]string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, header):
			in = true
		case in && strings.HasPrefix(l, "| ---"):
		case in && strings.HasPrefix(l, "|"):
			cells := strings.Split(strings.Trim(l, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	return rows
}

var linkText = regexp.MustCompile(`^\[([^\]]*)\]\([^)]*\)$`)

// plain turns "[0](projects/...)" into "0" and "`dir` (planned)" into "dir".
func plain(cell string) string {
	if m := linkText.FindStringSubmatch(cell); m != nil {
		cell = m[1]
	}
	if i := strings.IndexAny(cell, " （("); i > 0 {
		cell = cell[:i]
	}
	return strings.Trim(cell, "`")
}

func TestBothReadmesGiveTheSameCommands(t *testing.T) {
	en := makeCommands(readRepoFile(t, readmes[0]))
	zh := makeCommands(readRepoFile(t, readmes[1]))
	require.NotEmpty(t, en, "README.md has no make commands in a ```sh block")
	assert.Equal(t, en, zh, "the make commands of README.md and README.zh-CN.md differ")
}

func TestBothReadmesListEveryLabAsTheCatalogDoes(t *testing.T) {
	for _, name := range readmes {
		t.Run(name, func(t *testing.T) {
			rows := tableRows(readRepoFile(t, name), "| lab | stage | status | faults |")
			stages := catalog.Stages()
			require.Len(t, rows, len(stages), "%s: the lab table should have one row per stage", name)
			for i, s := range stages {
				row := rows[i]
				require.Len(t, row, 4, "%s row %d", name, i)
				assert.Equal(t, strconv.Itoa(s.Number), plain(row[0]), "%s row %d: lab number", name, i)
				assert.Equal(t, s.Status, row[2], "%s lab %d: status", name, s.Number)
				assert.Equal(t, strings.Join(s.Faults, ", "), row[3], "%s lab %d: faults", name, s.Number)
				if s.Status == catalog.Ready {
					assert.Contains(t, row[0], "("+s.Dir+"/)", "%s lab %d: links its folder", name, s.Number)
				}
			}
		})
	}
}

func TestBothReadmesMapTheBlueprintProjectsToTheCatalogFolders(t *testing.T) {
	headers := map[string]string{
		readmes[0]: "| blueprint project | lab | folder |",
		readmes[1]: "| 蓝图中的项目 | lab | 本仓库目录 |",
	}
	for _, name := range readmes {
		rows := tableRows(readRepoFile(t, name), headers[name])
		require.Len(t, rows, len(catalog.Stages()), "%s: one blueprint project per stage", name)
		for _, row := range rows {
			n, err := strconv.Atoi(row[1])
			require.NoError(t, err, "%s: lab column %q", name, row[1])
			s, err := catalog.Lookup(n)
			require.NoError(t, err)
			assert.Equal(t, s.Dir, plain(row[2]), "%s: folder of %s", name, row[0])
		}
	}
}

// The loop has the blueprint's seven steps everywhere it is written down.
func TestTheLearningLoopHasSevenStepsEverywhere(t *testing.T) {
	numbered := regexp.MustCompile(`^\d+\. \*\*`)
	for name, heading := range map[string]string{"README.md": "## The learning loop", "README.zh-CN.md": "## 学习闭环"} {
		steps, in := 0, false
		for _, l := range readRepoFile(t, name) {
			if strings.HasPrefix(l, "## ") {
				in = l == heading
			}
			if in && numbered.MatchString(l) {
				steps++
			}
		}
		assert.Equal(t, 7, steps, "%s: steps under %q", name, heading)
	}
	rows := tableRows(readRepoFile(t, "roadmap.md"), "| step | what you do | how |")
	assert.Len(t, rows, 7, "roadmap.md: rows of the loop table")
	for i, row := range rows {
		assert.True(t, strings.HasPrefix(row[0], fmt.Sprintf("%d. ", i+1)), "roadmap.md loop row %d: %q", i+1, row[0])
	}
}
