#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test with ctest (labels unit,
# integration, tools, mpi, gpu, and cudasim: the device path on the simulated CUDA runtime, which
# must not skip), the NVTX tests again in a build without the CUDA layer, then build the library
# and its unit and cudasim tests under ThreadSanitizer,
# and under Address and UndefinedBehavior Sanitizers (with the tools' tests), and run them again;
# last, fuzz the reader of profiling files for 60 s (scripts/fuzz.sh).
# (Tests labelled gpu report Skipped on a machine without one.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --tests

# With MPI built in: the mpi-labelled test runs under mpirun -np 2, every other test without MPI
# initialized (the library then runs as rank 0 of 1).
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_TESTS=ON -DSCOPE_PROFILER_MPI=ON
cmake --build build -j2
ctest --test-dir build -j2 --output-on-failure -LE cudasim

# The device path on the simulated CUDA runtime (label cudasim): it must run whole, with no test
# skipped (a skip would mean the simulator was not linked or not found).
if [[ -n "$(ctest --test-dir build -N -L cudasim | grep -E '^\s+Test +#')" ]]; then
  log="$(mktemp)"
  ctest --test-dir build -L cudasim --output-on-failure | tee "$log"
  if grep -qE "\*\*\*Skipped|\(Skipped\)|\[  SKIPPED \]" "$log"; then
    echo "test.sh: FAILED: tests on the simulated CUDA runtime were skipped" >&2
    exit 1
  fi
  rm -f "$log"
elif [[ -x /usr/local/cuda/bin/nvcc ]] || command -v nvcc >/dev/null 2>&1; then
  echo "test.sh: FAILED: the CUDA toolkit is installed but no cudasim test was built" >&2
  exit 1
fi

# NVTX is not CUDA: a host-only build (the CUDA layer off) that finds the NVTX3 headers (the
# toolkit's) emits the same ranges; the capture tests run there too, and must run.
if [[ -f /usr/local/cuda/include/nvtx3/nvToolsExt.h ]]; then
  cmake -S . -B build-host -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_CUDA=OFF \
    -DSCOPE_PROFILER_TESTS=ON -DSCOPE_PROFILER_BENCH=OFF -DSCOPE_PROFILER_SAMPLES=OFF \
    -DSCOPE_PROFILER_TOOLS=OFF
  cmake --build build-host -j2 --target scope_profiler_nvtx_test nvtx_capture_selftest
  ctest --test-dir build-host -R nvtx --no-tests=error --output-on-failure
fi
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCOPE_PROFILER_SANITIZE=thread \
  -DSCOPE_PROFILER_TESTS=ON -DSCOPE_PROFILER_BENCH=OFF -DSCOPE_PROFILER_SAMPLES=OFF \
  -DSCOPE_PROFILER_TOOLS=OFF
cmake --build build-tsan -j2
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan -j2 -L "unit|cudasim" --output-on-failure

# Address, undefined-behaviour and leak checks of the same unit tests, and of the scope-profiler
# program's tests (bad input: truncated and damaged files).
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DSCOPE_PROFILER_SANITIZE=address,undefined" \
  -DSCOPE_PROFILER_TESTS=ON -DSCOPE_PROFILER_BENCH=OFF -DSCOPE_PROFILER_SAMPLES=OFF
cmake --build build-asan -j2
UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1" ASAN_OPTIONS="detect_leaks=1" \
  ctest --test-dir build-asan -j2 -L "unit|tools|cudasim" --output-on-failure

# The reader fuzzed for 60 s (libFuzzer, clang, ASan + UBSan): every finding must lie in libhdf5
# and become exit code 2 in the command (scripts/fuzz.sh).
scripts/fuzz.sh 60
