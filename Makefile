# prospect — the front door. CMake does the building; this file installs what is missing,
# configures the build trees and runs things.
#
#   make run     install deps, build, run the newest capability (see README)
#   make test    install deps, build release + ASan/UBSan trees, run ctest in both; build every
#                source with clang -Werror too (so `make fuzz` cannot break unseen)
#   make bench   build release, run the benchmarks
#   make fuzz    build libFuzzer targets with clang and fuzz each for FUZZ_SECONDS
#   make model   download all-MiniLM-L6-v2 (needs internet) and verify its sha256
#   make format / format-check / checkstyle / clean

BUILD      ?= build
ASAN_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE      ?= cmake

.PHONY: all deps build build-asan build-clang run test test-release test-asan bench fuzz model \
        format format-check checkstyle clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

$(ASAN_BUILD)/CMakeCache.txt: | deps
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPX_SANITIZE=ON \
	    -DCMAKE_C_FLAGS_DEBUG="-O1 -g"

$(CLANG_BUILD)/CMakeCache.txt: | deps
	CC=clang $(CMAKE) -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)

# clang -Werror over every source (library, binary, tests, benches); built, not run
build-clang: deps $(CLANG_BUILD)/CMakeCache.txt
	$(CMAKE) --build $(CLANG_BUILD) -j $(JOBS)

run: build
	@scripts/run-demo $(BUILD)/prospect

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

test: checkstyle build-clang test-release test-asan

bench: build
	@scripts/install-deps --bench
	@scripts/run-bench $(BUILD)

fuzz:
	@scripts/install-deps --fuzz
	CC=clang $(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPX_FUZZ=ON \
	    -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
	$(CMAKE) --build $(FUZZ_BUILD) -j $(JOBS)
	@for t in $(FUZZ_BUILD)/tests/fuzz_*; do \
	    name=$$(basename $$t); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	    work=$(FUZZ_BUILD)/corpus/$${name#fuzz_}; mkdir -p $$work; \
	    dict=tests/fuzz/$$name.dict; dictopt=; [ -f $$dict ] && dictopt=-dict=$$dict; \
	    echo "== $$name ($(FUZZ_SECONDS)s)"; \
	    $$t $$dictopt -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $$work $$corpus || exit 1; \
	done

model:
	@scripts/fetch-model

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

checkstyle:
	@scripts/checkstyle.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
