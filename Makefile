# architect-roadmap runbook. `make` (or `make help`) lists every target.
#
# Every lab runs the same loop: run it healthy, turn a fault on, read the
# evidence, find the culprit, compare with the fixed path, write a postmortem.

SHELL := bash
.DEFAULT_GOAL := help
GO ?= go

# gin's msgpack codec (github.com/ugorji/go/codec) is one package that took
# 25 s of a 49 s critical path in a first build of lab 0 (measured with
# `go build -debug-actiongraph` on an empty GOCACHE); no lab uses msgpack, so
# gin is built without it. Every go command shares these tags through GOFLAGS,
# so the build cache is shared too; a command that passes its own -tags (which
# replaces GOFLAGS' -tags) adds BUILD_TAGS to them, as scripts/test.sh does.
export BUILD_TAGS := nomsgpack
export GOFLAGS := $(strip $(GOFLAGS) -tags=$(BUILD_TAGS))

# ---- the labs -------------------------------------------------------------
# Lab number → module directory. labkit/catalog is the one list of labs;
# make cannot import it, so labkit/catalog's tests read these lines and fail
# when they disagree with it.
LAB_DIR_0 := projects/lab-0-template
LAB_DIR_1 := projects/lab-1-concurrency
LAB_DIR_2 := projects/lab-2-middleware
LAB_DIR_3 := projects/lab-3-user-service
LAB_DIR_4 := middleware-labs/mysql-lab
LAB_DIR_5 := middleware-labs/redis-lab
LAB_DIR_6 := middleware-labs/kafka-lab
LAB_DIR_7 := distributed-labs/raft-lab
LABS := 0 1 2 3 4 5 6 7

# Optional knobs: fault=off|on|compare|list|mystery|NAME[,NAME]  duration=3s  out=DIR  lang=en|zh (make labs)
# seed=N  answer=NAME (with the seed of a mystery run).
LAB_ARGS = $(if $(fault),-fault=$(fault)) $(if $(duration),-duration=$(duration)) \
	$(if $(out),-out=$(out)) $(if $(seed),-seed=$(seed)) $(if $(answer),-answer=$(answer))

lab_dir = $(or $(LAB_DIR_$(1)),$(error unknown lab "$(1)"; valid labs: $(LABS) (see make labs)))

# The lab is built and its flags validated while make expands the recipe, so
# bad input is a single line from $(error) instead of a failing recipe plus
# make's own "Error 2" line.
# scripts/build-lab.sh prints progress to the terminal and only a real build
# error (one line) on stdout, which is what lab_check turns into $(error).
lab_build = $(strip $(shell GO="$(GO)" scripts/build-lab.sh $(1) $(call lab_dir,$(1))))
lab_check = $(strip $(or $(call lab_build,$(1)),$(shell bin/lab-$(1) -check $(LAB_ARGS) 2>&1)))

##@ Run a lab

.PHONY: labs
labs: ## Table of all labs: number, stage, faults, status of the last run (lang=zh: Chinese titles)
	$(if $(filter-out en zh,$(lang)),$(error unknown lang "$(lang)"; expected en or zh))
	@$(GO) run ./labkit/cmd/labs $(if $(out),-out=$(out)) $(if $(lang),-lang=$(lang))

# Exercise mode (labkit/exercise): exercise=FAULT|reset, grade[=FAULT], hint=1..3
# turn `make lab-N` into the learner's loop instead of a run of the lab.
EXERCISE_MODE = $(or $(exercise),$(grade),$(hint),$(filter grade,$(MAKECMDGOALS)))
EXERCISE_ARGS = $(if $(exercise),-start=$(exercise)) \
	$(if $(grade),-grade=$(grade),$(if $(filter grade,$(MAKECMDGOALS)),-grade=current)) \
	$(if $(hint),-hint=$(hint) $(if $(fault),-fault=$(fault))) \
	$(if $(seed),-seed=$(seed)) $(if $(duration),-duration=$(duration)) $(if $(out),-out=$(out))

# As with lab_build, the first build on a fresh machine prints "go:
# downloading" lines: they go to a log, and only a real build error (its
# first line) becomes the one-line $(error).
exercise_build = mkdir -p bin && $(GO) build -o bin/exercise ./labkit/cmd/exercise >bin/exercise.build.log 2>&1 || \
	{ echo "exercise mode does not build: $$(grep -v '^go: downloading' bin/exercise.build.log | head -1) (full log: bin/exercise.build.log)"; false; }
exercise_check = $(strip $(if $(call lab_dir,$(1)),)$(shell $(exercise_build) && \
	bin/exercise -check -lab=$(1) $(EXERCISE_ARGS) 2>&1))

lab-%: ## Run lab N: make lab-0 | lab-0 fault=on | fault=compare | fault=NAME | fault=list | fault=mystery | answer=NAME seed=S
	$(eval _err := $(if $(EXERCISE_MODE),$(call exercise_check,$*),$(call lab_check,$*)))$(if $(_err),$(error $(_err)))
	@$(if $(EXERCISE_MODE),GO="$(GO)" bin/exercise -lab=$* $(EXERCISE_ARGS),bin/lab-$* $(LAB_ARGS))

# Labs with a server are those with a cmd/server; the list is read from the
# tree, so a new lab joins it by shipping one.
SERVER_LABS = $(strip $(foreach n,$(LABS),$(if $(wildcard $(LAB_DIR_$(n))/cmd/server),$(n))))

.PHONY: serve
serve: ## Start lab N's server in the foreground: make serve lab=N (labs with a cmd/server); lab=3 step=monolith|modular|split|seedling
	$(if $(lab),,$(error serve needs lab=N; labs with a server: $(SERVER_LABS)))
	$(if $(filter $(lab),$(SERVER_LABS)),,$(error lab $(lab) has no server; labs with a server: $(SERVER_LABS)))
	$(if $(step),$(if $(filter 3,$(lab)),,$(error step= is lab 3's: make serve lab=3 step=monolith|modular|split|seedling)))
	$(if $(and $(step),$(fault)),$(error fault= runs with the modular server only: make serve lab=3 fault=NAME, without step=))
	@$(if $(step),$(GO) run ./$(call lab_dir,$(lab))/cmd/step -step=$(step),$(GO) run ./$(call lab_dir,$(lab))/cmd/server $(if $(fault),-fault=$(fault)))

##@ Exercise: you write the fix, the lab grades it

.PHONY: exercise hint grade
exercise: ## make lab-N exercise=FAULT: your copy of the fix's file, fix taken out (exercise=reset: the stub again)
	$(error exercise goes with a lab: make lab-N exercise=FAULT (make lab-N fault=list names the faults))

hint: ## make lab-N hint=1|2|3: which evidence to open, which function, which line (fault=NAME: another exercise)
	$(error hint goes with a lab: make lab-N hint=1)

grade: ## make lab-N grade (or grade=FAULT): your fix against the fault's symptom checks and culprit
	$(if $(filter lab-%,$(MAKECMDGOALS)),@:,$(error grade goes with a lab: make lab-N grade))

##@ Verify

.PHONY: test
test: ## Unit, fault-scenario and evidence tests of every module (needs only Go)
	@scripts/test.sh unit

# For test-integration only: this machine's services (and docker-env's
# compose ports) as defaults; whatever the environment already sets wins.
# (Exported globally they would switch `make lab-N` off its embedded defaults.)
INTEGRATION_ENV = REDIS_ADDR="$${REDIS_ADDR:-127.0.0.1:6379}" \
	MYSQL_DSN="$${MYSQL_DSN:-root@tcp(127.0.0.1:3306)/test?parseTime=true}" \
	POSTGRES_DSN="$${POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

.PHONY: test-exercises
test-exercises: ## Every fault of every ready lab: its stub fails its grade, the lab's own fix passes (minutes)
	@cd labkit && $(GO) test -tags=exercises,$(BUILD_TAGS) -count=1 -timeout 20m -run TestEveryFaultGrades ./exercise

.PHONY: test-integration
test-integration: ## The same scenarios against real services (REDIS_ADDR, MYSQL_DSN, POSTGRES_DSN; prometheus on PATH)
	@$(INTEGRATION_ENV) scripts/test.sh integration

.PHONY: lint
lint: ## gofmt, go vet and golangci-lint (pinned in scripts/lint) over every module
	@scripts/test.sh lint

.PHONY: rules-test
rules-test: ## promtool: check and unit-test every alert rule (apt-get install prometheus)
	@bash docker-env/validate.sh

.PHONY: fuzz
fuzz: ## Run every fuzz target briefly: make fuzz fuzztime=30s
	@scripts/fuzz.sh $(or $(fuzztime),10s)

.PHONY: postmortem-check
postmortem-check: ## Lint a postmortem: make postmortem-check file=projects/lab-0-template/postmortems/sync-logging.md
	$(if $(file),,$(error postmortem-check needs file=PATH))
	@$(GO) build -o bin/postmortem-check ./labkit/cmd/postmortem-check && bin/postmortem-check -file "$(file)"

.PHONY: postmortems-check
postmortems-check: ## Lint every lab's reference postmortems
	@$(GO) build -o bin/postmortem-check ./labkit/cmd/postmortem-check
	@status=0; for f in $(wildcard $(foreach n,$(LABS),$(LAB_DIR_$(n))/postmortems/*.md)); do \
		bin/postmortem-check -file "$$f" || status=1; done; exit $$status

##@ Measure

.PHONY: bench
bench: ## Benchmarks of lab N into bench/lab-N.txt (benchstat format): make bench lab=2 [benchtime=1s count=6]
	$(if $(lab),,$(error bench needs lab=N; valid labs: $(LABS)))
	@mkdir -p bench
	@cd $(call lab_dir,$(lab)) && $(GO) test -run '^$$' -bench . -benchmem \
		-benchtime $(or $(benchtime),1s) -count $(or $(count),6) ./... | tee $(CURDIR)/bench/lab-$(lab).txt

.PHONY: bench-compare
bench-compare: ## Compare two benchmark files: make bench-compare old=bench/base.txt new=bench/lab-2.txt
	$(if $(and $(old),$(new)),,$(error bench-compare needs old=FILE new=FILE))
	@$(GO) run golang.org/x/perf/cmd/benchstat@latest $(old) $(new)

.PHONY: loadgen-vs-wrk
loadgen-vs-wrk: ## The harness load generator against wrk and hey on one trivial server
	@bash scripts/loadgen-vs-wrk.sh

##@ Housekeeping

.PHONY: clean
clean: ## Remove run evidence, benchmarks and built tools
	rm -rf out bench bin

.PHONY: help
help: ## This list
	@awk 'BEGIN {FS = ":.*##"; printf "usage: make <target> [knob=value ...]\n"} \
		/^##@/ {printf "\n%s\n", substr($$0, 5)} \
		/^[a-zA-Z0-9_%-]+:.*##/ {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
