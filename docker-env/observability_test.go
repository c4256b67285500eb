package dockerenv

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const (
	prometheusConfig = "prometheus/prometheus.yml"
	rulesDir         = "prometheus/rules"
	ruleTestsDir     = "prometheus/tests"
	collectorConfig  = "otel-collector/config.yaml"
	datasourcesFile  = "grafana/provisioning/datasources/datasources.yml"
	dashboardsFile   = "grafana/provisioning/dashboards/dashboards.yml"
	dashboardsDir    = "grafana/dashboards"
	lokiConfig       = "loki/config.yaml"
	promtailConfig   = "promtail/config.yaml"
)

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err, "read docker-env/%s", path)
	require.NoError(t, yaml.Unmarshal(raw, into), "docker-env/%s is not valid YAML", path)
}

// containerPathSource maps a path inside a service's container back to the docker-env file
// mounted there, or "" when no bind mount covers it.
func containerPathSource(svc types.ServiceConfig, inContainer string) string {
	best := ""
	source := ""
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if inContainer == v.Target || strings.HasPrefix(inContainer, strings.TrimSuffix(v.Target, "/")+"/") {
			if len(v.Target) > len(best) {
				best = v.Target
				source = filepath.Join(v.Source, strings.TrimPrefix(inContainer, v.Target))
			}
		}
	}
	return source
}

// containerPorts is every port a service's process listens on that this file knows of: its
// published targets, expose, and the ports its ADDR / DEBUG_ADDR name.
func containerPorts(svc types.ServiceConfig) map[string]bool {
	ports := map[string]bool{}
	for _, p := range svc.Ports {
		ports[strconv.Itoa(int(p.Target))] = true
	}
	for _, e := range svc.Expose {
		ports[e] = true
	}
	for _, k := range []string{"ADDR", "DEBUG_ADDR"} {
		if v, ok := envValue(svc, k); ok {
			if _, port, err := net.SplitHostPort(v); err == nil {
				ports[port] = true
			}
		}
	}
	return ports
}

type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string          `yaml:"targets"`
			Labels  map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusConfig(t *testing.T) {
	var cfg promConfig
	readYAML(t, prometheusConfig, &cfg)
	p := allServices(t)
	prom, ok := p.Services["prometheus"]
	require.True(t, ok, "no prometheus service")

	t.Run("config is mounted", func(t *testing.T) {
		assert.Equal(t, absPath(t, prometheusConfig), containerPathSource(prom, "/etc/prometheus/prometheus.yml"))
	})

	t.Run("rule_files match files, inside the container too", func(t *testing.T) {
		require.NotEmpty(t, cfg.RuleFiles, "prometheus.yml loads no rule_files")
		for _, glob := range cfg.RuleFiles {
			require.False(t, filepath.IsAbs(glob), "rule_files %q: keep it relative so promtool checks it on the host", glob)
			matches, err := filepath.Glob(filepath.Join(filepath.Dir(prometheusConfig), glob))
			require.NoError(t, err, "rule_files %q is not a valid glob", glob)
			assert.NotEmpty(t, matches, "rule_files %q matches no file in docker-env/prometheus/ (each lab adds rules/lab-N.yml)", glob)
			inContainer := filepath.Join("/etc/prometheus", filepath.Dir(glob))
			assert.Equal(t, absPath(t, filepath.Join(filepath.Dir(prometheusConfig), filepath.Dir(glob))),
				containerPathSource(prom, inContainer), "rule directory %s is not mounted into prometheus", inContainer)
		}
	})

	t.Run("every lab debug port is scraped", func(t *testing.T) {
		scraped := map[string]string{} // target -> job
		jobs := map[string]bool{}
		for _, sc := range cfg.ScrapeConfigs {
			assert.False(t, jobs[sc.JobName], "job_name %q appears twice", sc.JobName)
			jobs[sc.JobName] = true
			for _, st := range sc.StaticConfigs {
				for _, target := range st.Targets {
					scraped[target] = sc.JobName
				}
			}
		}
		for _, ls := range labServices {
			target := net.JoinHostPort(ls.service, strconv.Itoa(int(ls.debugAddr)))
			job, ok := scraped[target]
			if assert.True(t, ok, "prometheus.yml does not scrape %s (lab %d's debug port)", target, ls.lab) {
				assert.Equal(t, "lab-"+strconv.Itoa(ls.lab), job, "target %s", target)
			}
		}
	})

	t.Run("every target is a compose service port", func(t *testing.T) {
		for _, sc := range cfg.ScrapeConfigs {
			for _, st := range sc.StaticConfigs {
				for _, target := range st.Targets {
					host, port, err := net.SplitHostPort(target)
					require.NoError(t, err, "job %s: target %q is not host:port", sc.JobName, target)
					if host == "localhost" {
						continue // prometheus itself
					}
					svc, ok := p.Services[host]
					if !assert.True(t, ok, "job %s: target host %q is no compose service", sc.JobName, host) {
						continue
					}
					if svc.Build != nil || host == "otel-collector" {
						if host == "otel-collector" {
							assert.Contains(t, collectorListenPorts(t), port, "job %s: the collector does not listen on %s", sc.JobName, port)
							continue
						}
						assert.True(t, containerPorts(svc)[port], "job %s: service %s does not listen on %s", sc.JobName, host, port)
					}
				}
			}
		}
	})
}

func TestEveryRuleFileHasATest(t *testing.T) {
	rules, err := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	require.NoError(t, err)
	tests, err := filepath.Glob(filepath.Join(ruleTestsDir, "*.test.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, rules, "no rule files in docker-env/%s (each lab ships lab-N.yml)", rulesDir)

	for _, rule := range rules {
		name := strings.TrimSuffix(filepath.Base(rule), ".yml")
		t.Run(name, func(t *testing.T) {
			testFile := filepath.Join(ruleTestsDir, name+".test.yml")
			requireFile(t, testFile, "promtool test for "+rule)
			var suite struct {
				RuleFiles []string `yaml:"rule_files"`
				Tests     []any    `yaml:"tests"`
			}
			readYAML(t, testFile, &suite)
			assert.NotEmpty(t, suite.Tests, "%s has no tests", testFile)
			// promtool resolves rule_files relative to the test file.
			var loaded []string
			for _, rf := range suite.RuleFiles {
				loaded = append(loaded, filepath.Clean(filepath.Join(ruleTestsDir, rf)))
			}
			assert.Contains(t, loaded, filepath.Clean(rule), "%s does not load %s (want rule_files: [../rules/%s.yml])", testFile, rule, name)
		})
	}
	for _, test := range tests {
		name := strings.TrimSuffix(filepath.Base(test), ".test.yml")
		_, err := os.Stat(filepath.Join(rulesDir, name+".yml"))
		assert.NoError(t, err, "%s tests rules that do not exist: want %s/%s.yml", test, rulesDir, name)
	}
}

type collectorCfg struct {
	Receivers  map[string]map[string]any `yaml:"receivers"`
	Processors map[string]any            `yaml:"processors"`
	Exporters  map[string]map[string]any `yaml:"exporters"`
	Extensions map[string]map[string]any `yaml:"extensions"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Telemetry  struct {
			Metrics struct {
				Address string `yaml:"address"`
			} `yaml:"metrics"`
		} `yaml:"telemetry"`
		Pipelines map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

func readCollector(t *testing.T) collectorCfg {
	t.Helper()
	var cfg collectorCfg
	readYAML(t, collectorConfig, &cfg)
	return cfg
}

// collectorListenPorts lists the ports the collector's config makes it listen on.
func collectorListenPorts(t *testing.T) []string {
	t.Helper()
	cfg := readCollector(t)
	var ports []string
	add := func(endpoint string) {
		if _, port, err := net.SplitHostPort(endpoint); err == nil {
			ports = append(ports, port)
		}
	}
	if otlp, ok := cfg.Receivers["otlp"]; ok {
		if protocols, ok := otlp["protocols"].(map[string]any); ok {
			for _, proto := range protocols {
				if m, ok := proto.(map[string]any); ok {
					if ep, ok := m["endpoint"].(string); ok {
						add(ep)
					}
				}
			}
		}
	}
	if ep, ok := cfg.Exporters["prometheus"]["endpoint"].(string); ok {
		add(ep)
	}
	add(cfg.Service.Telemetry.Metrics.Address)
	return ports
}

func TestCollectorConfig(t *testing.T) {
	cfg := readCollector(t)
	p := allServices(t)
	collector := p.Services["otel-collector"]
	require.NotNil(t, collector.Command, "otel-collector: pass --config")

	t.Run("config is mounted where --config points", func(t *testing.T) {
		var path string
		for _, arg := range collector.Command {
			if v, ok := strings.CutPrefix(arg, "--config="); ok {
				path = v
			}
		}
		require.NotEmpty(t, path, "otel-collector: no --config= argument")
		assert.Equal(t, absPath(t, collectorConfig), containerPathSource(collector, path))
	})

	t.Run("pipelines use only declared components, and all of them", func(t *testing.T) {
		used := map[string]bool{}
		require.Contains(t, cfg.Service.Pipelines, "traces")
		require.Contains(t, cfg.Service.Pipelines, "metrics")
		require.Contains(t, cfg.Service.Pipelines, "logs")
		for name, pl := range cfg.Service.Pipelines {
			require.NotEmpty(t, pl.Receivers, "pipeline %s has no receiver", name)
			require.NotEmpty(t, pl.Exporters, "pipeline %s has no exporter", name)
			for _, r := range pl.Receivers {
				assert.Contains(t, cfg.Receivers, r, "pipeline %s: receiver %s is not declared", name, r)
				used["r/"+r] = true
			}
			for _, pr := range pl.Processors {
				assert.Contains(t, cfg.Processors, pr, "pipeline %s: processor %s is not declared", name, pr)
				used["p/"+pr] = true
			}
			for _, e := range pl.Exporters {
				assert.Contains(t, cfg.Exporters, e, "pipeline %s: exporter %s is not declared", name, e)
				used["e/"+e] = true
			}
		}
		for r := range cfg.Receivers {
			assert.True(t, used["r/"+r], "receiver %s is declared but in no pipeline", r)
		}
		for pr := range cfg.Processors {
			assert.True(t, used["p/"+pr], "processor %s is declared but in no pipeline", pr)
		}
		for e := range cfg.Exporters {
			assert.True(t, used["e/"+e], "exporter %s is declared but in no pipeline", e)
		}
		for _, ext := range cfg.Service.Extensions {
			assert.Contains(t, cfg.Extensions, ext, "extension %s is not declared", ext)
		}
	})

	t.Run("traces go to jaeger, metrics to prometheus, logs to loki", func(t *testing.T) {
		want := map[string]string{"traces": "jaeger", "metrics": "prometheus", "logs": "loki"}
		for pipeline, backend := range want {
			found := false
			for _, e := range cfg.Service.Pipelines[pipeline].Exporters {
				if strings.Contains(e, backend) {
					found = true
				}
			}
			assert.True(t, found, "pipeline %s does not export to %s", pipeline, backend)
		}
	})

	t.Run("exporter endpoints are compose services", func(t *testing.T) {
		for name, exp := range cfg.Exporters {
			ep, _ := exp["endpoint"].(string)
			require.NotEmpty(t, ep, "exporter %s has no endpoint", name)
			host := ep
			if u, err := url.Parse(ep); err == nil && u.Host != "" {
				host = u.Host
			}
			h, _, err := net.SplitHostPort(host)
			require.NoError(t, err, "exporter %s: endpoint %q has no port", name, ep)
			if h == "0.0.0.0" {
				continue // the prometheus exporter listens; prometheus.yml scrapes it
			}
			svc, ok := p.Services[h]
			if assert.True(t, ok, "exporter %s sends to %q, which is no compose service", name, h) {
				assert.Contains(t, svc.Profiles, "observability", "exporter %s: %s is not in the observability profile", name, h)
			}
		}
	})

	t.Run("OTLP ports the labs use are the ones it listens on", func(t *testing.T) {
		listen := collectorListenPorts(t)
		assert.Contains(t, listen, "4317", "collector: OTLP gRPC must listen on 4317")
		assert.Contains(t, listen, "4318", "collector: OTLP HTTP must listen on 4318")
		for _, port := range collector.Ports {
			assert.Contains(t, listen, strconv.Itoa(int(port.Target)), "otel-collector publishes %d but does not listen on it", port.Target)
		}
	})
}

type grafanaDatasources struct {
	Datasources []struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		Type      string `yaml:"type"`
		URL       string `yaml:"url"`
		IsDefault bool   `yaml:"isDefault"`
	} `yaml:"datasources"`
}

func TestGrafanaProvisioning(t *testing.T) {
	p := allServices(t)
	grafana, ok := p.Services["grafana"]
	require.True(t, ok, "no grafana service")

	var ds grafanaDatasources
	readYAML(t, datasourcesFile, &ds)
	uids := map[string]string{} // uid -> type

	t.Run("datasources", func(t *testing.T) {
		assert.Equal(t, absPath(t, datasourcesFile),
			containerPathSource(grafana, "/etc/grafana/provisioning/datasources/datasources.yml"))
		defaults := 0
		for _, d := range ds.Datasources {
			require.NotEmpty(t, d.UID, "datasource %s: give it a fixed uid so dashboards can name it", d.Name)
			uids[d.UID] = d.Type
			if d.IsDefault {
				defaults++
			}
			u, err := url.Parse(d.URL)
			require.NoError(t, err, "datasource %s: url %q", d.Name, d.URL)
			svc, ok := p.Services[u.Hostname()]
			if assert.True(t, ok, "datasource %s points at %q, which is no compose service", d.Name, u.Hostname()) {
				assert.Contains(t, svc.Profiles, "observability")
				assert.True(t, containerPorts(svc)[u.Port()] || publishesTarget(svc, u.Port()),
					"datasource %s: %s does not serve port %s", d.Name, u.Hostname(), u.Port())
			}
		}
		assert.Equal(t, 1, defaults, "exactly one default datasource")
		for _, typ := range []string{"prometheus", "loki", "jaeger"} {
			assert.Contains(t, mapValues(uids), typ, "no %s datasource", typ)
		}
	})

	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, dashboardsFile, &provider)
	require.Len(t, provider.Providers, 1)
	mounted := containerPathSource(grafana, provider.Providers[0].Options.Path)

	t.Run("dashboards are mounted where the provider reads them", func(t *testing.T) {
		assert.Equal(t, absPath(t, dashboardsFile),
			containerPathSource(grafana, "/etc/grafana/provisioning/dashboards/dashboards.yml"))
		assert.Equal(t, absPath(t, dashboardsDir), mounted)
		home, ok := envValue(grafana, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
		if ok {
			requireFile(t, containerPathSource(grafana, home), "Grafana home dashboard")
		}
	})

	dashboards, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, dashboards, "no dashboard JSON in docker-env/%s", dashboardsDir)
	for _, file := range dashboards {
		t.Run(filepath.Base(file), func(t *testing.T) {
			d := readDashboard(t, file)
			assert.NotEmpty(t, d.UID, "dashboard needs a fixed uid")
			assert.NotEmpty(t, d.Title)
			require.NotEmpty(t, d.Panels, "dashboard has no panels")
			for _, panel := range d.Panels {
				if panel.Type == "row" {
					continue
				}
				assert.NotEmpty(t, panel.Targets, "panel %q has no query", panel.Title)
				for _, target := range panel.Targets {
					ref := target.Datasource
					if ref.UID == "" {
						ref = panel.Datasource
					}
					typ, ok := uids[ref.UID]
					if assert.True(t, ok, "panel %q uses datasource uid %q, which is not provisioned", panel.Title, ref.UID) {
						assert.Equal(t, typ, ref.Type, "panel %q: datasource type", panel.Title)
					}
					assert.NotEmpty(t, target.Expr, "panel %q: empty query", panel.Title)
				}
			}
		})
	}

	t.Run("lab 0 RED dashboard queries the lab 0 metrics", func(t *testing.T) {
		d := readDashboard(t, filepath.Join(dashboardsDir, "lab-0-red.json"))
		var exprs []string
		for _, panel := range d.Panels {
			for _, target := range panel.Targets {
				exprs = append(exprs, target.Expr)
			}
		}
		all := strings.Join(exprs, "\n")
		for _, metric := range []string{
			"lab0_http_requests_total",
			"lab0_http_request_duration_seconds_bucket",
			"lab0_http_in_flight_requests",
			"lab0_http_open_connections",
			"go_goroutines",
		} {
			assert.Contains(t, all, metric, "lab-0-red.json has no panel on %s", metric)
		}
		assert.Contains(t, all, `code=~"5.."`, "lab-0-red.json shows no error rate")
		assert.Contains(t, all, "histogram_quantile(0.99", "lab-0-red.json shows no p99")
	})
}

func publishesTarget(svc types.ServiceConfig, port string) bool {
	return slices.ContainsFunc(svc.Ports, func(p types.ServicePortConfig) bool {
		return strconv.Itoa(int(p.Target)) == port
	})
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource dsRef  `json:"datasource"`
		Targets    []struct {
			Datasource dsRef  `json:"datasource"`
			Expr       string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T, path string) dashboard {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d), "%s is not valid dashboard JSON", path)
	return d
}

func TestLokiAndPromtail(t *testing.T) {
	p := allServices(t)

	t.Run("loki", func(t *testing.T) {
		var cfg struct {
			Server struct {
				HTTPListenPort int `yaml:"http_listen_port"`
			} `yaml:"server"`
			SchemaConfig struct {
				Configs []struct {
					Store  string `yaml:"store"`
					Schema string `yaml:"schema"`
				} `yaml:"configs"`
			} `yaml:"schema_config"`
			Limits struct {
				AllowStructuredMetadata bool `yaml:"allow_structured_metadata"`
			} `yaml:"limits_config"`
		}
		readYAML(t, lokiConfig, &cfg)
		loki := p.Services["loki"]
		assert.Equal(t, absPath(t, lokiConfig), containerPathSource(loki, "/etc/loki/config.yaml"))
		assert.Contains(t, loki.Command, "-config.file=/etc/loki/config.yaml")
		assert.True(t, publishesTarget(loki, strconv.Itoa(cfg.Server.HTTPListenPort)), "loki listens on %d but does not publish it", cfg.Server.HTTPListenPort)
		require.NotEmpty(t, cfg.SchemaConfig.Configs)
		last := cfg.SchemaConfig.Configs[len(cfg.SchemaConfig.Configs)-1]
		assert.Equal(t, "tsdb", last.Store, "Loki 3 wants the tsdb index")
		assert.Equal(t, "v13", last.Schema, "Loki 3 OTLP ingestion wants schema v13")
		assert.True(t, cfg.Limits.AllowStructuredMetadata, "the collector's OTLP logs need structured metadata")
	})

	t.Run("promtail", func(t *testing.T) {
		var cfg struct {
			Clients []struct {
				URL string `yaml:"url"`
			} `yaml:"clients"`
			ScrapeConfigs []struct {
				DockerSD []struct {
					Host    string `yaml:"host"`
					Filters []struct {
						Name   string   `yaml:"name"`
						Values []string `yaml:"values"`
					} `yaml:"filters"`
				} `yaml:"docker_sd_configs"`
			} `yaml:"scrape_configs"`
		}
		readYAML(t, promtailConfig, &cfg)
		promtail := p.Services["promtail"]
		assert.Equal(t, absPath(t, promtailConfig), containerPathSource(promtail, "/etc/promtail/config.yaml"))
		require.Len(t, cfg.Clients, 1)
		u, err := url.Parse(cfg.Clients[0].URL)
		require.NoError(t, err)
		assert.Equal(t, "loki", u.Hostname())
		require.NotEmpty(t, cfg.ScrapeConfigs)
		require.NotEmpty(t, cfg.ScrapeConfigs[0].DockerSD)
		sd := cfg.ScrapeConfigs[0].DockerSD[0]
		socket := strings.TrimPrefix(sd.Host, "unix://")
		assert.True(t, slices.ContainsFunc(promtail.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == socket }),
			"promtail reads %s but it is not mounted", socket)
		assert.Contains(t, sd.Filters[0].Values, "com.docker.compose.project="+projectName,
			"promtail must select this compose project's containers")
	})
}
