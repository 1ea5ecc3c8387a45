#!/usr/bin/env bash
# `make test` after deps and the main build: the unit, integration and end-to-end tests run while
# the clang fuzz tree (build-fuzz/) builds beside them at the lowest CPU priority, then the
# fuzz-smoke tests run. The first tests spend about half their time waiting on the daemons they
# start, and the fuzz build takes that idle CPU instead of running after them (a clean
# `make test`: ~60 s less on a 2-core machine).
# Usage: scripts/test.sh [JOBS]
set -uo pipefail
jobs=${1:-2}
cd "$(dirname "$0")/.."

# Its own session and process group, so that an interrupted run stops the whole build (cmake,
# ninja and the compilers it started) and nothing else.
setsid nice -n 19 cmake --build build-fuzz --target fuzzers -j "$jobs" >build-fuzz/build.log 2>&1 &
fuzz_build=$!
trap 'kill -- -"$fuzz_build" 2>/dev/null' EXIT

(cd build && ctest -L '^(unit|integration|e2e)$' -j "$jobs" --output-on-failure)
tests=$?

wait "$fuzz_build"
built=$?
trap - EXIT
if [ "$built" -ne 0 ]; then
  tail -n 60 build-fuzz/build.log
  echo "test.sh: the fuzz tree did not build (whole log: build-fuzz/build.log)" >&2
  exit 1
fi
(cd build && ctest -L '^fuzz-smoke$' -j "$jobs" --output-on-failure)
fuzz=$?
[ "$tests" -eq 0 ] && [ "$fuzz" -eq 0 ]
