// Command kvbench measures puts/s and latency against a running KV: this
// lab's (make serve lab=7) or etcd's, through etcd's JSON gateway, so both
// are driven the same way: HTTP/1.1 with keep-alive, one request per put,
// closed loop at each concurrency.
//
//	go run ./cmd/kvbench -target=lab  -addr=127.0.0.1:7101 -c=1,16,64
//	go run ./cmd/kvbench -target=etcd -addr=127.0.0.1:2379 -c=1,16,64
//
// The address must be the leader's for -target=lab (a follower answers 421;
// kvbench asks /status and follows the hint); etcd forwards to its leader.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kvbench:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kvbench", flag.ContinueOnError)
	target := fs.String("target", "lab", "lab | etcd")
	addr := fs.String("addr", "127.0.0.1:7101", "host:port of a node")
	conc := fs.String("c", "1,16,64", "comma-separated concurrencies")
	dur := fs.Duration("d", 5*time.Second, "duration per concurrency")
	size := fs.Int("size", 64, "value size in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target != "lab" && *target != "etcd" {
		return fmt.Errorf("-target=%q: expected lab or etcd", *target)
	}
	value := strings.Repeat("v", *size)
	if *target == "lab" {
		leader, err := findLeader(*addr)
		if err != nil {
			return err
		}
		*addr = leader
	}
	fmt.Printf("target %s at %s, %d-byte values, %s per run\n", *target, *addr, *size, *dur)
	fmt.Println("| c | puts/s | p50 ms | p99 ms | errors |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, cs := range strings.Split(*conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(cs))
		if err != nil || c < 1 {
			return fmt.Errorf("-c: %q: expected positive integers", cs)
		}
		client := loadgen.NewHTTPClient(c)
		var n atomic.Int64
		newReq := func(ctx context.Context) (*http.Request, error) {
			key := "bench/" + strconv.FormatInt(n.Add(1), 10)
			if *target == "etcd" {
				body, _ := json.Marshal(map[string]string{
					"key": base64.StdEncoding.EncodeToString([]byte(key)), "value": base64.StdEncoding.EncodeToString([]byte(value))})
				return http.NewRequestWithContext(ctx, http.MethodPost, "http://"+*addr+"/v3/kv/put", bytes.NewReader(body))
			}
			return http.NewRequestWithContext(ctx, http.MethodPut, "http://"+*addr+"/kv/"+key, strings.NewReader(value))
		}
		res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: c, Duration: *dur}, loadgen.HTTP(client, newReq))
		client.CloseIdleConnections()
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %.0f | %.2f | %.2f | %d |\n", c, res.Throughput,
			float64(res.Latency.P50)/1e6, float64(res.Latency.P99)/1e6, res.Errors)
	}
	return nil
}

// findLeader asks addr who leads and returns the leader's address, assuming
// make serve's layout: nodeN listens on the first port + N - 1.
func findLeader(addr string) (string, error) {
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return "", fmt.Errorf("status of %s: %w (is make serve lab=7 running?)", addr, err)
	}
	defer resp.Body.Close()
	var st struct {
		ID       string `json:"id"`
		LeaderID string `json:"leader_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", fmt.Errorf("status of %s: %w", addr, err)
	}
	host, port, ok := strings.Cut(addr, ":")
	self, err1 := strconv.Atoi(strings.TrimPrefix(st.ID, "node"))
	lead, err2 := strconv.Atoi(strings.TrimPrefix(st.LeaderID, "node"))
	p, err3 := strconv.Atoi(port)
	if !ok || err1 != nil || err2 != nil || err3 != nil {
		return "", fmt.Errorf("status of %s: no leader yet (%+v)", addr, st)
	}
	return host + ":" + strconv.Itoa(p-self+lead), nil
}
