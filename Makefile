# skiff — the two commands a newcomer types, and a few more.
#   make run     install what is missing, build, run a first container
#   make test    the same set-up, then every test (ctest)
# Everything real lives in CMakeLists.txt and scripts/; this file stays thin.

BUILD ?= build
JOBS  ?= $(shell nproc)
PREFIX ?= /usr/local

LAB ?=
SRC ?=
SUBMISSIONS ?=

.PHONY: all deps run-deps configure configure-run build run test vm unit integration docs labs bench install clean grade grade-all slides

all: build

# `make run` needs only what builds and runs skiff, and builds only skiff
# and its monitor (no tests, no labs): a newcomer's first container comes
# first. Every other target installs the test tools and builds everything.
deps:
	@scripts/install-deps.sh test

run-deps:
	@scripts/install-deps.sh run

# Configured once; without the tests when `make run` configures first, and
# switched on (a quick re-configure) by the first target that needs them.
configure-run:
	@[ -f $(BUILD)/CMakeCache.txt ] || \
	  cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF

configure:
	@grep -q '^BUILD_TESTING:BOOL=ON' $(BUILD)/CMakeCache.txt 2>/dev/null || \
	  cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS)

run: run-deps configure-run
	@cmake --build $(BUILD) -j $(JOBS) --target skiff skiff-monitor
	@scripts/first-run.sh $(BUILD)/bin/skiff

# The micro-VM tests (label vm) boot QEMU, two at a time; the rest run one
# at a time, as they share the host's cgroups and mounts.
test: build
	@cd $(BUILD) && { ctest --output-on-failure -j 1 -LE '^vm$$'; host=$$?; \
	  ctest --output-on-failure -j 2 -L '^vm$$'; vm=$$?; [ $$host -eq 0 ] && [ $$vm -eq 0 ]; }

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

docs: build
	cd $(BUILD) && ctest --output-on-failure -L docs

labs: build
	cd $(BUILD) && ctest --output-on-failure -L labs

vm: build
	cd $(BUILD) && ctest --output-on-failure -j 2 -L '^vm$$'

# make grade LAB=02 [SRC=DIR]: grade one lab (the starter unless SRC is given)
grade: build
	@scripts/grade.sh $(BUILD) "$(LAB)" "$(SRC)"

# make grade-all LAB=02 SUBMISSIONS=DIR: one CSV line per submission folder
grade-all: build
	@scripts/grade-all.sh $(BUILD) "$(LAB)" "$(SUBMISSIONS)"

# make slides: every deck of slides/ to HTML (and PDF when Chromium is there)
slides:
	@scripts/slides.sh $(BUILD)

bench: build
	tests/bench/run.sh $(BUILD)/bin/skiff
	tests/bench/monitor-rss.sh $(BUILD)/bin/skiff

install: build
	install -m 0755 $(BUILD)/bin/skiff $(BUILD)/bin/skiff-monitor $(PREFIX)/bin/

clean:
	rm -rf $(BUILD)
