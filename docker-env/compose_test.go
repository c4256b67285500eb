package dockerenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
)

const (
	composeFile = "docker-compose.yml"
	repoRoot    = ".."
	// projectName is the compose project name, taken from this directory (the file sets no
	// `name:`, which docker-compose 1.29 rejects); promtail selects containers by it.
	projectName = "docker-env"
)

// labService is what the contract (section 8) and issue 2 require of each lab server's service.
type labService struct {
	lab        int
	service    string
	entrypoint string
	addr       uint32 // ADDR port
	debugAddr  uint32 // DEBUG_ADDR port, scraped by Prometheus
	env        map[string]string
	dependsOn  []string // data services it must wait for (service_healthy)
}

var labServices = []labService{
	{
		lab: 0, service: "lab-0",
		entrypoint: "/app/server", addr: 8100, debugAddr: 8101,
	},
	{
		lab: 3, service: "user-service",
		entrypoint: "/app/user-service", addr: 8300, debugAddr: 8301,
		env: map[string]string{
			"AUTH_ADDR":  "auth:8310",
			"MYSQL_DSN":  "root@tcp(mysql:3306)/test?parseTime=true",
			"REDIS_ADDR": "redis:6379",
		},
		dependsOn: []string{"mysql", "redis"},
	},
	{
		lab: 3, service: "auth",
		entrypoint: "/app/authd", addr: 8310, debugAddr: 8311,
	},
	{
		lab: 4, service: "mini-mysql",
		entrypoint: "/app/mini-mysql", addr: 3307, debugAddr: 8401,
	},
	{
		lab: 5, service: "mini-redis",
		entrypoint: "/app/mini-redis", addr: 6380, debugAddr: 8501,
		env: map[string]string{
			"REDIS_ADDR":   "redis:6379",
			"POSTGRES_DSN": "postgres://postgres@postgres:5432/test?sslmode=disable",
		},
		dependsOn: []string{"redis", "postgres"},
	},
	{
		lab: 6, service: "mini-kafka",
		entrypoint: "/app/mini-kafka", addr: 9192, debugAddr: 8601,
	},
}

// profiles lists every profile the contract and issue 2 name, with the services each must start.
var profiles = map[string][]string{
	"lab-0":         {"lab-0"},
	"lab-3":         {"user-service", "auth", "mysql", "redis"},
	"lab-4":         {"mini-mysql"},
	"lab-5":         {"mini-redis", "redis", "postgres"},
	"lab-6":         {"mini-kafka"},
	"lab-7":         {"raft-lab"},
	"observability": {"prometheus", "grafana", "otel-collector", "jaeger", "loki", "promtail"},
	"redis":         {"redis"},
	"mysql":         {"mysql"},
	"postgres":      {"postgres"},
	"kafka":         {"kafka"},
}

// dataServices must carry a healthcheck: labs wait on them with condition service_healthy.
var dataServices = []string{"redis", "mysql", "postgres", "kafka"}

// hostMounts are the only bind sources allowed outside docker-env/: promtail reads container
// logs through the Docker socket.
var hostMounts = []string{"/var/run/docker.sock"}

// loadProject loads docker-compose.yml the way `docker compose` does, with the given profiles
// active ("*" for all) and env as the only interpolation source.
func loadProject(t *testing.T, profiles []string, env ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions(
		[]string{composeFile},
		cli.WithWorkingDirectory("."),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true),
	)
	require.NoError(t, err, "compose project options")
	project, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "docker-env/%s does not load as a compose project", composeFile)
	return project
}

func allServices(t *testing.T) *types.Project {
	t.Helper()
	p := loadProject(t, []string{"*"})
	require.Empty(t, p.DisabledServices, "with every profile active no service may stay disabled")
	return p
}

func absPath(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	return abs
}

func requireFile(t *testing.T, path, what string) {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err, "%s: %s does not exist", what, path)
	require.False(t, info.IsDir(), "%s: %s is a directory, want a file", what, path)
}

func requireDir(t *testing.T, path, what string) {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err, "%s: %s does not exist", what, path)
	require.True(t, info.IsDir(), "%s: %s is not a directory", what, path)
}

// dockerfilePath returns the absolute Dockerfile a build section refers to.
func dockerfilePath(build *types.BuildConfig) string {
	df := build.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if filepath.IsAbs(df) {
		return df
	}
	return filepath.Join(build.Context, df)
}

func portOf(t *testing.T, addr string) uint32 {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	require.GreaterOrEqual(t, i, 0, "address %q: want host:port or :port", addr)
	p, err := strconv.ParseUint(addr[i+1:], 10, 16)
	require.NoError(t, err, "address %q: want a numeric port", addr)
	return uint32(p)
}

func envValue(svc types.ServiceConfig, key string) (string, bool) {
	v, ok := svc.Environment[key]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

func TestComposeHasNoVersionKey(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	assert.NotRegexp(t, regexp.MustCompile(`(?m)^version:`), string(raw),
		"the compose spec dropped `version:`; remove it")
	assert.Equal(t, projectName, allServices(t).Name)
}

func TestBuildContextsAndDockerfilesExist(t *testing.T) {
	p := allServices(t)
	root := absPath(t, repoRoot)
	built := 0
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if svc.Build == nil {
			continue
		}
		built++
		t.Run(name, func(t *testing.T) {
			requireDir(t, svc.Build.Context, "build context of service "+name)
			assert.Equal(t, root, svc.Build.Context,
				"service %s: lab images build from the repository root so they can reach labkit/", name)
			requireFile(t, dockerfilePath(svc.Build), "Dockerfile of service "+name)
		})
	}
	assert.Positive(t, built, "no service has a build section")
}

func TestEveryLabServerHasAService(t *testing.T) {
	p := allServices(t)
	root := absPath(t, repoRoot)
	for _, want := range labServices {
		t.Run(want.service, func(t *testing.T) {
			svc, ok := p.Services[want.service]
			require.True(t, ok, "lab %d: no service %q in %s", want.lab, want.service, composeFile)
			profile := fmt.Sprintf("lab-%d", want.lab)
			assert.Contains(t, svc.Profiles, profile, "service %s: not under profile %s", want.service, profile)

			// The build context is the repository root; the Dockerfile is in the lab's
			// directory, which labkit/catalog places.
			stage, err := catalog.Lookup(want.lab)
			require.NoError(t, err)
			dockerfile := filepath.Join(root, stage.Dir, "Dockerfile")
			require.NotNil(t, svc.Build, "service %s: no build section", want.service)
			assert.Equal(t, dockerfile, dockerfilePath(svc.Build))
			_, err = os.Stat(dockerfile)
			assert.NoError(t, err, "lab %d: %s does not exist (the lab's engineer writes it)", want.lab, dockerfile)
			assert.Equal(t, types.ShellCommand{want.entrypoint}, svc.Entrypoint)
			assert.NotEmpty(t, svc.Image, "service %s: name the image so services sharing a build share it", want.service)

			addr, ok := envValue(svc, "ADDR")
			require.True(t, ok, "service %s: ADDR is not set", want.service)
			assert.Equal(t, want.addr, portOf(t, addr), "service %s: ADDR", want.service)
			debug, ok := envValue(svc, "DEBUG_ADDR")
			require.True(t, ok, "service %s: DEBUG_ADDR is not set", want.service)
			assert.Equal(t, want.debugAddr, portOf(t, debug), "service %s: DEBUG_ADDR", want.service)
			assert.True(t, strings.HasPrefix(debug, ":"),
				"service %s: DEBUG_ADDR %q must listen on all container interfaces for Prometheus", want.service, debug)
			for k, v := range want.env {
				got, ok := envValue(svc, k)
				assert.True(t, ok, "service %s: %s is not set", want.service, k)
				assert.Equal(t, v, got, "service %s: %s", want.service, k)
			}

			published := map[uint32]bool{}
			for _, port := range svc.Ports {
				published[port.Target] = true
			}
			assert.True(t, published[want.addr], "service %s: port %d is not published", want.service, want.addr)
			assert.True(t, published[want.debugAddr], "service %s: debug port %d is not published", want.service, want.debugAddr)

			for _, dep := range want.dependsOn {
				d, ok := svc.DependsOn[dep]
				assert.True(t, ok, "service %s: must depend on %s", want.service, dep)
				assert.Equal(t, types.ServiceConditionHealthy, d.Condition, "service %s: depends_on %s", want.service, dep)
			}
		})
	}
}

// A lab has a server exactly when it ships a Dockerfile (contract, section 1). Any lab that
// adds one must also get a compose service under its profile.
func TestEveryLabDockerfileIsComposed(t *testing.T) {
	p := allServices(t)
	root := absPath(t, repoRoot)
	composed := map[string][]string{} // Dockerfile -> profiles of services building it
	for _, svc := range p.Services {
		if svc.Build != nil {
			df := dockerfilePath(svc.Build)
			composed[df] = append(composed[df], svc.Profiles...)
		}
	}
	var found []string
	for _, pattern := range []string{"projects/*/Dockerfile", "middleware-labs/*/Dockerfile", "distributed-labs/*/Dockerfile"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		found = append(found, m...)
	}
	for _, df := range found {
		dir, err := filepath.Rel(root, filepath.Dir(df))
		require.NoError(t, err)
		t.Run(dir, func(t *testing.T) {
			stage, ok := catalog.ByDir(filepath.ToSlash(dir))
			require.True(t, ok, "%s: not the directory of any lab in labkit/catalog", dir)
			profile := fmt.Sprintf("lab-%d", stage.Number)
			require.Contains(t, composed, df, "%s ships a Dockerfile but no compose service builds it", dir)
			assert.Contains(t, composed[df], profile, "%s: its service is not under profile %s", dir, profile)
		})
	}
}

func TestProfiles(t *testing.T) {
	p := allServices(t)
	declared := map[string]bool{}
	for name, svc := range p.Services {
		assert.NotEmpty(t, svc.Profiles, "service %s has no profile, so it would start with every `docker compose up`", name)
		for _, pr := range svc.Profiles {
			declared[pr] = true
		}
	}
	for pr := range declared {
		assert.Contains(t, profiles, pr, "profile %q is not one the contract names (typo?)", pr)
	}

	names := make([]string, 0, len(profiles))
	for pr := range profiles {
		names = append(names, pr)
	}
	sort.Strings(names)
	for _, pr := range names {
		t.Run(pr, func(t *testing.T) {
			// Load exactly as `docker compose --profile PR up` would.
			only := loadProject(t, []string{pr})
			got := only.ServiceNames()
			assert.ElementsMatch(t, profiles[pr], got, "services started by --profile %s", pr)
			for _, name := range got {
				for dep := range only.Services[name].DependsOn {
					assert.Contains(t, got, dep,
						"--profile %s: service %s depends on %s, which that profile does not start", pr, name, dep)
				}
			}
		})
	}
}

func TestDataServicesAreHealthchecked(t *testing.T) {
	p := allServices(t)
	for _, name := range dataServices {
		t.Run(name, func(t *testing.T) {
			svc, ok := p.Services[name]
			require.True(t, ok, "no service %q", name)
			require.NotNil(t, svc.HealthCheck, "service %s: no healthcheck", name)
			assert.False(t, svc.HealthCheck.Disable, "service %s: healthcheck disabled", name)
			assert.NotEmpty(t, svc.HealthCheck.Test, "service %s: empty healthcheck", name)
		})
	}
	// Waiting for health only works when the dependency declares how to check it.
	for name, svc := range p.Services {
		for dep, d := range svc.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			target := p.Services[dep]
			assert.NotNil(t, target.HealthCheck, "service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
		}
	}
}

func TestImagesArePinned(t *testing.T) {
	p := allServices(t)
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		t.Run(name, func(t *testing.T) {
			require.NotEmpty(t, svc.Image, "service %s: no image", name)
			ref := svc.Image[strings.LastIndex(svc.Image, "/")+1:]
			i := strings.LastIndex(ref, ":")
			require.GreaterOrEqual(t, i, 0, "service %s: image %q has no tag", name, svc.Image)
			tag := ref[i+1:]
			assert.NotEqual(t, "latest", tag, "service %s: pin a version, not latest", name)
			if svc.Build == nil {
				assert.Regexp(t, `\d`, tag, "service %s: tag %q carries no version", name, tag)
			}
		})
	}
}

func TestNoHostPortClash(t *testing.T) {
	p := allServices(t)
	owner := map[string]string{} // "published/proto" -> service
	for _, name := range p.ServiceNames() {
		for _, port := range p.Services[name].Ports {
			if port.Published == "" {
				continue
			}
			assert.Equal(t, "127.0.0.1", port.HostIP,
				"service %s: port %s must bind to 127.0.0.1 (debug ports serve pprof)", name, port.Published)
			proto := port.Protocol
			if proto == "" {
				proto = "tcp"
			}
			// Any two bindings of one port clash, whatever their host IP, once one of them is 0.0.0.0.
			key := port.Published + "/" + proto
			if other, ok := owner[key]; ok {
				assert.Failf(t, "host port clash", "host port %s is published by both %s and %s", key, other, name)
				continue
			}
			owner[key] = name
		}
	}
	assert.NotEmpty(t, owner, "no service publishes a port")
}

func TestMountedConfigFilesExist(t *testing.T) {
	p := allServices(t)
	here := absPath(t, ".")
	for _, name := range p.ServiceNames() {
		for _, v := range p.Services[name].Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			t.Run(name+":"+v.Target, func(t *testing.T) {
				if slices.Contains(hostMounts, v.Source) {
					return
				}
				rel, err := filepath.Rel(here, v.Source)
				require.NoError(t, err)
				require.False(t, strings.HasPrefix(rel, ".."),
					"service %s mounts %s from outside docker-env/", name, v.Source)
				_, err = os.Stat(v.Source)
				require.NoError(t, err, "service %s mounts docker-env/%s, which does not exist", name, rel)
			})
		}
	}
}

func TestOTLPEndpointPassesThrough(t *testing.T) {
	const endpoint = "http://otel-collector:4317"
	withOTLP := loadProject(t, []string{"*"}, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint)
	without := allServices(t)
	collector, ok := withOTLP.Services["otel-collector"]
	require.True(t, ok, "no otel-collector service")
	assert.Contains(t, collector.Profiles, "observability")
	for _, want := range labServices {
		t.Run(want.service, func(t *testing.T) {
			got, _ := envValue(withOTLP.Services[want.service], "OTEL_EXPORTER_OTLP_ENDPOINT")
			assert.Equal(t, endpoint, got, "with observability up the lab must export to the collector")
			got, _ = envValue(without.Services[want.service], "OTEL_EXPORTER_OTLP_ENDPOINT")
			assert.Empty(t, got, "without it the exporter stays off (empty means unset in OpenTelemetry)")
		})
	}
}
