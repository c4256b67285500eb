// Command loadrun measures the user service over real HTTP on loopback: profile reads and logins
// at a fixed concurrency, on the embedded SQLite or on MariaDB/PostgreSQL (a scratch database it
// creates and drops). It prints one Markdown table row per workload, the rows of the README's
// performance table.
//
//	go run ./cmd/loadrun -db sqlite -c 16 -d 5s
//	MYSQL_DSN='root@tcp(127.0.0.1:3306)/test?parseTime=true' go run ./cmd/loadrun -db mysql -c 16 -d 5s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/app"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/password"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(2)
	}
}

func run() error {
	db := flag.String("db", "sqlite", "database: sqlite, mysql (MYSQL_DSN) or postgres (POSTGRES_DSN)")
	conc := flag.Int("c", 16, "concurrent clients (closed loop)")
	dur := flag.Duration("d", 5*time.Second, "duration of each workload")
	flag.Parse()
	gin.SetMode(gin.ReleaseMode)
	var cfg sqlstore.Config
	switch *db {
	case "sqlite":
		cfg.Dialect = sqlstore.SQLite
	case "mysql":
		cfg.Dialect, cfg.DSN = sqlstore.MySQL, os.Getenv("MYSQL_DSN")
	case "postgres":
		cfg.Dialect, cfg.DSN = sqlstore.Postgres, os.Getenv("POSTGRES_DSN")
	default:
		return fmt.Errorf("unknown -db %q: expected sqlite, mysql or postgres", *db)
	}
	if cfg.Dialect != sqlstore.SQLite && cfg.DSN == "" {
		return fmt.Errorf("-db %s needs %s", *db, map[sqlstore.Dialect]string{sqlstore.MySQL: "MYSQL_DSN", sqlstore.Postgres: "POSTGRES_DSN"}[cfg.Dialect])
	}
	if *conc < 1 || *dur <= 0 {
		return fmt.Errorf("expected -c >= 1 and a positive -d")
	}
	cfg.Pool = sqlstore.DefaultPool()
	ctx := context.Background()
	st, drop, err := sqlstore.OpenScratch(ctx, cfg)
	if err != nil {
		return err
	}
	defer drop()
	if err := st.Seed(ctx, 10000, 400, "unused"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "lab-3-loadrun-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a, err := app.New(ctx, app.Config{Store: st, Password: password.DefaultParams(), IPLimit: 1 << 40, AccountLimit: 1 << 40, AuditPath: filepath.Join(dir, "audit.log")})
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.API.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	base := "http://" + lis.Addr().String()
	client := loadgen.NewHTTPClient(*conc)

	post := func(path, body string) (*http.Response, error) {
		return client.Post(base+path, "application/json", bytes.NewBufferString(body))
	}
	resp, err := post("/v1/auth/register", `{"email":"load@example.com","password":"correct-horse-battery","name":"Load"}`)
	if err != nil {
		return err
	}
	resp.Body.Close()
	resp, err = post("/v1/auth/login", `{"email":"load@example.com","password":"correct-horse-battery"}`)
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("login for the load run failed: %w", err)
	}
	if tok.AccessToken == "" {
		return errors.New("login for the load run returned no access token")
	}

	workloads := []struct {
		name   string
		target loadgen.Target
	}{
		{"GET /v1/me (profile read)", loadgen.HTTP(client, func(ctx context.Context) (*http.Request, error) {
			r, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/me", nil)
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			}
			return r, err
		})},
		{"POST /v1/auth/login (argon2id 19 MiB, t=2)", loadgen.HTTP(client, func(ctx context.Context) (*http.Request, error) {
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/auth/login",
				bytes.NewBufferString(`{"email":"load@example.com","password":"correct-horse-battery"}`))
			if err == nil {
				r.Header.Set("Content-Type", "application/json")
			}
			return r, err
		})},
	}
	fmt.Printf("| database | workload | concurrency | requests | errors | p50 | p99 | req/s |\n|---|---|---|---|---|---|---|---|\n")
	for _, w := range workloads {
		res, err := loadgen.Run(ctx, loadgen.Config{Workers: *conc, Duration: *dur}, w.target)
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %s | %d | %d | %d | %.2f ms | %.2f ms | %.0f |\n", *db, w.name, *conc, res.Requests, res.Errors,
			float64(res.Latency.P50.Microseconds())/1000, float64(res.Latency.P99.Microseconds())/1000, res.Throughput)
	}
	return nil
}
