#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test with ctest, then build
# the library and its unit tests under ThreadSanitizer and run them again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --tests

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_TESTS=ON
cmake --build build -j2
ctest --test-dir build -j2 --output-on-failure

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCOPE_PROFILER_SANITIZE=thread \
  -DSCOPE_PROFILER_TESTS=ON -DSCOPE_PROFILER_BENCH=OFF -DSCOPE_PROFILER_SAMPLES=OFF
cmake --build build-tsan -j2
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan -j2 -L unit --output-on-failure
