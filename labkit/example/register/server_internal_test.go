package register

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

// FuzzReplicate feeds /replicate what a peer (or anything else on the
// network) might send: the node answers 200 or 400, never panics, and its
// version never goes back.
func FuzzReplicate(f *testing.F) {
	for _, seed := range []string{`{"version":3,"value":"x"}`, `{"version":-1}`, `{}`, `{"version":"3"}`, `[`, ``,
		`{"version":9223372036854775807,"value":""}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		s := &Server{self: &node.Self{ID: 2, DataDir: dir}, file: dir + "/register.json", st: State{Version: 5, Value: "five"}}
		rec := httptest.NewRecorder()
		s.handleReplicate(rec, httptest.NewRequest(http.MethodPost, "/replicate", strings.NewReader(body)))
		require.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, rec.Code, rec.Body.String())
		require.GreaterOrEqual(t, s.local().Version, int64(5))
		if rec.Code == http.StatusOK {
			var st State
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
			require.Equal(t, s.local(), st)
		}
	})
}
