# skiff — the two commands a newcomer types, and a few more.
#   make run     install what is missing, build, run a first container
#   make test    the same set-up, then every test (ctest)
# Everything real lives in CMakeLists.txt and scripts/; this file stays thin.

BUILD ?= build
JOBS  ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: all deps build run test unit integration bench install clean

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

bench: build
	tests/bench/run.sh $(BUILD)/bin/skiff

install: build
	install -m 0755 $(BUILD)/bin/skiff $(BUILD)/bin/skiff-monitor $(PREFIX)/bin/

clean:
	rm -rf $(BUILD)
