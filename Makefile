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

.PHONY: all deps build run test unit integration docs labs bench install clean grade grade-all slides

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/first-run.sh $(BUILD)/bin/skiff

test: build
	cd $(BUILD) && ctest --output-on-failure -j 1

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

docs: build
	cd $(BUILD) && ctest --output-on-failure -L docs

labs: build
	cd $(BUILD) && ctest --output-on-failure -L labs

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
