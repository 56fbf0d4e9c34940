# latsurf - thin wrapper over CMake. `make run` and `make test` set up a fresh
# Debian 12 machine (packages via scripts/deps.sh), configure, build, then run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
REL_BUILD  ?= build-release
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# Tests not run under ASan: the QEMU guest tests (tests/guest; minutes of
# TCG each, and they exercise the kernel's drivers, not latsurf's memory).
ASAN_EXCLUDE ?= ^guest_|^test_validation$$
# Warnings are errors (-DLATSURF_WERROR=ON) in `make test`, not in a first
# plain build: a newer compiler's new warning must not stop a user's build.
# Unset, WERROR leaves the build folder's cached setting (no rebuild).
WERROR     ?=
test test-fast test-asan: WERROR = ON

.PHONY: all deps build run test test-fast test-asan test-release bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		$(if $(WERROR),-DLATSURF_WERROR=$(WERROR)) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/latsurf run

# The suite runs twice: an optimised build, then under ASan + UBSan; and
# Release (-O3) builds once with gcc and once with clang (build only).
test: test-fast test-asan test-release

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLATSURF_SANITIZE=ON \
		-DLATSURF_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -E '$(ASAN_EXCLUDE)'

test-release: deps
	for cc in gcc clang; do \
		cmake -S . -B $(REL_BUILD)-$$cc -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=$$cc \
			-DLATSURF_WERROR=ON $(CMAKE_ARGS) && \
		cmake --build $(REL_BUILD)-$$cc -j $(JOBS) || exit 1; \
	done

bench: build
	bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(REL_BUILD)-gcc $(REL_BUILD)-clang
