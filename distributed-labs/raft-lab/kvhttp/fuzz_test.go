package kvhttp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus/hashiraft"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
	"github.com/hashicorp/raft"
)

// FuzzHandler: any method, path, query and body from a client gets an
// HTTP answer (never a panic), and only 200, 400, 404, 405, 409, 421 or 503,
// or the mux's redirect to a cleaned path (301, 307, 308).
func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"PUT", "/kv/a?client=c&seq=1", "v"},
		{"GET", "/kv/a", ""},
		{"POST", "/cas/a?expect=v", "w"},
		{"POST", "/cas/a?absent=true", "w"},
		{"POST", "/cas/a?absent=maybe", ""},
		{"DELETE", "/kv/a/b/c", ""},
		{"GET", "/keys?prefix=%zz", ""},
		{"PUT", "/kv/a?seq=-1&client=", ""},
		{"GET", "/status", ""},
		{"PATCH", "/kv/", "x"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body)
	}
	_, trans := raft.NewInmemTransport("node1")
	store := kv.New()
	node, err := hashiraft.New(hashiraft.Config{ID: "node1", Transport: trans, Servers: []string{"node1"}, Tick: 50 * time.Millisecond}, store)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = node.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for !node.Status().Leader && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	srv, err := kvhttp.NewServer(node, store, kvhttp.ReadLinearizable, kvhttp.AckCommit, nil)
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	allowed := map[int]bool{200: true, 301: true, 307: true, 308: true, 400: true, 404: true, 405: true, 409: true, 421: true, 503: true}
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://node"+target, strings.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("%s %s: status %d: %s", method, target, rec.Code, rec.Body.String())
		}
	})
}
