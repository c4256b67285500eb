package kvhttp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus/hashiraft"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvhttp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend starts n consensus nodes, each driving its own store, in process.
type backend struct {
	name  string
	start func(t testing.TB, ids []string, stores []*kv.Store) []consensus.Node
}

var backends = []backend{
	{name: "hashicorp", start: startHashicorp},
}

func startHashicorp(t testing.TB, ids []string, stores []*kv.Store) []consensus.Node {
	t.Helper()
	trans := make([]*raft.InmemTransport, len(ids))
	for i, id := range ids {
		_, trans[i] = raft.NewInmemTransport(raft.ServerAddress(id))
	}
	for i := range trans {
		for j := range trans {
			if i != j {
				trans[i].Connect(raft.ServerAddress(ids[j]), trans[j])
			}
		}
	}
	nodes := make([]consensus.Node, len(ids))
	for i, id := range ids {
		n, err := hashiraft.New(hashiraft.Config{ID: id, Transport: trans[i], Servers: ids, Tick: 100 * time.Millisecond}, stores[i])
		require.NoError(t, err)
		nodes[i] = n
	}
	return nodes
}

// cluster is n nodes behind HTTP servers, and a client of them.
type cluster struct {
	nodes   []consensus.Node
	servers []*httptest.Server
	addrs   map[string]string
	ids     []string
}

func startCluster(t testing.TB, b backend, n int) *cluster {
	t.Helper()
	c := &cluster{addrs: map[string]string{}}
	stores := make([]*kv.Store, n)
	for i := range n {
		c.ids = append(c.ids, "node"+string(rune('1'+i)))
		stores[i] = kv.New()
	}
	c.nodes = b.start(t, c.ids, stores)
	for i, node := range c.nodes {
		s, err := kvhttp.NewServer(node, stores[i], kvhttp.ReadLinearizable, kvhttp.AckCommit, nil)
		require.NoError(t, err)
		srv := httptest.NewServer(s.Handler())
		c.servers = append(c.servers, srv)
		c.addrs[c.ids[i]] = strings.TrimPrefix(srv.URL, "http://")
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.servers[i].Close()
			_ = c.nodes[i].Close()
		}
	})
	return c
}

func (c *cluster) leader(t testing.TB, except int) int {
	t.Helper()
	var at int
	require.Eventually(t, func() bool {
		for i, n := range c.nodes {
			if i != except && n.Status().Leader {
				at = i
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "a leader is elected")
	return at
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestKVOnEachBackend(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := startCluster(t, b, 3)
			c.leader(t, -1)
			cl := kvhttp.NewClient("suite", c.addrs, time.Second)
			defer cl.Close()

			t.Run("put get cas delete", func(t *testing.T) {
				r, err := cl.Put(ctx(t), "a", "1")
				require.NoError(t, err)
				assert.True(t, r.OK)
				got, err := cl.Get(ctx(t), "a")
				require.NoError(t, err)
				assert.Equal(t, kvhttp.GetReply{Value: "1", Found: true, Rev: r.Rev, StoreRev: r.Rev}, got)

				tests := []struct {
					name           string
					expect         string
					absent         bool
					value          string
					wantOK         bool
					wantAfterwards string
				}{
					{"expectation holds", "1", false, "2", true, "2"},
					{"expectation stale", "1", false, "3", false, "2"},
					{"absent on a present key", "", true, "4", false, "2"},
				}
				for _, tt := range tests {
					r, err := cl.CAS(ctx(t), "a", tt.expect, tt.absent, tt.value)
					require.NoError(t, err, tt.name)
					assert.Equal(t, tt.wantOK, r.OK, tt.name)
					got, err := cl.Get(ctx(t), "a")
					require.NoError(t, err)
					assert.Equal(t, tt.wantAfterwards, got.Value, tt.name)
				}
				r, err = cl.CAS(ctx(t), "fresh", "", true, "x")
				require.NoError(t, err)
				assert.True(t, r.OK, "absent on a missing key creates it")

				d, err := cl.Delete(ctx(t), "a")
				require.NoError(t, err)
				assert.True(t, d.OK)
				got, err = cl.Get(ctx(t), "a")
				require.NoError(t, err)
				assert.False(t, got.Found)
				d, err = cl.Delete(ctx(t), "a")
				require.NoError(t, err)
				assert.False(t, d.OK, "deleting an absent key changes nothing")
			})

			t.Run("a retried write applies once", func(t *testing.T) {
				l := c.leader(t, -1)
				url := "http://" + c.addrs[c.ids[l]] + "/kv/counter?client=retrier&seq=1"
				var revs []uint64
				for range 2 {
					req, err := http.NewRequestWithContext(ctx(t), http.MethodPut, url, strings.NewReader("once"))
					require.NoError(t, err)
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					var res kv.Result
					require.NoError(t, decode(resp, &res))
					revs = append(revs, res.Rev)
				}
				assert.Equal(t, revs[0], revs[1], "the retry returns the first application's revision")
			})

			t.Run("concurrent writes through one client all apply", func(t *testing.T) {
				var wg sync.WaitGroup
				for g := range 8 {
					wg.Go(func() {
						for i := range 10 {
							_, err := cl.Put(ctx(t), fmt.Sprintf("c%d-%d", g, i), "v")
							assert.NoError(t, err)
						}
					})
				}
				wg.Wait()
			})

			t.Run("a follower refuses and names the leader", func(t *testing.T) {
				l := c.leader(t, -1)
				f := (l + 1) % len(c.nodes)
				resp, err := http.Get("http://" + c.addrs[c.ids[f]] + "/kv/a")
				require.NoError(t, err)
				_ = resp.Body.Close()
				assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
				assert.Equal(t, c.ids[l], resp.Header.Get("X-Raft-Leader"))
			})

			t.Run("bad input is a 400 naming what was expected", func(t *testing.T) {
				l := c.leader(t, -1)
				for path, want := range map[string]string{
					"/cas/a":                      "expected ?expect=",
					"/cas/a?absent=maybe":         "expected true or false",
					"/cas/a?expect=x&seq=zero":    "expected a positive integer",
					"/cas/a?expect=x&client=solo": "expected both client= and seq=",
				} {
					resp, err := http.Post("http://"+c.addrs[c.ids[l]]+path, "text/plain", strings.NewReader("v"))
					require.NoError(t, err)
					var body map[string]string
					require.NoError(t, decode(resp, &body))
					assert.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
					assert.Contains(t, body["error"], want, path)
				}
			})

			t.Run("the data survives the leader", func(t *testing.T) {
				_, err := cl.Put(ctx(t), "durable", "yes")
				require.NoError(t, err)
				l := c.leader(t, -1)
				c.servers[l].Close()
				require.NoError(t, c.nodes[l].Close())
				c.leader(t, l)
				got, err := cl.Get(ctx(t), "durable")
				require.NoError(t, err)
				assert.Equal(t, "yes", got.Value)
				_, err = cl.Put(ctx(t), "after", "failover")
				require.NoError(t, err)
			})
		})
	}
}

func startClusterB(b *testing.B, be backend) *cluster {
	c := startCluster(b, be, 3)
	c.leader(b, -1)
	return c
}
