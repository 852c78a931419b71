#!/usr/bin/env bash
# The one script for a machine with a GPU: builds with CUDA, runs the GPU tests (a skipped GPU
# test is a failure here: it means the device was not usable), the unit tests, the device
# benchmark table and the statistics table. Exits non-zero on any failure.
#
#   scripts/gpu_check.sh                                # kernels for sm_90 (H100/H200)
#   CMAKE_CUDA_ARCHITECTURES=80 scripts/gpu_check.sh    # or CUDAARCHS=80: another GPU
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-gpu

scripts/install_deps.sh --tests

if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
command -v nvcc >/dev/null 2>&1 || { echo "gpu_check: no nvcc (CUDA toolkit) found" >&2; exit 1; }
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
else
  echo "gpu_check: warning: nvidia-smi not found" >&2
fi

arch="${CMAKE_CUDA_ARCHITECTURES:-${CUDAARCHS:-90}}"
echo "gpu_check: CUDA architectures: $arch"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_CUDA=ON \
  -DSCOPE_PROFILER_TESTS=ON -DSCOPE_PROFILER_BENCH=ON -DCMAKE_CUDA_ARCHITECTURES="$arch"
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --build "$build" -j"$jobs"

# The GPU tests: every one must run; a skip means no usable device (or a broken driver).
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
ctest --test-dir "$build" -L gpu --output-on-failure 2>&1 | tee "$log" || status=$?
if ((status != 0)); then
  echo "gpu_check: FAILED: GPU tests failed (ctest exit $status)" >&2
  exit 1
fi
if grep -q "No tests were found" "$log" || ! grep -q "tests passed" "$log"; then
  echo "gpu_check: FAILED: no GPU tests ran (is SCOPE_PROFILER_HAVE_CUDA on?)" >&2
  exit 1
fi
if grep -qE "\*\*\*Skipped|\(Skipped\)" "$log"; then
  echo "gpu_check: FAILED: GPU tests were skipped on a GPU machine:" >&2
  grep -E "\*\*\*Skipped" "$log" >&2 || true
  "$build/tests/scope_profiler_gpu_tests" --gtest_brief=1 2>&1 | grep -E -A1 "Skipped|SKIPPED" >&2 || true
  exit 1
fi
# Belt and braces: the binaries themselves must report no SKIPPED test.
for gpu_tests in scope_profiler_gpu_tests scope_profiler_stats_gpu_tests; do
  # grep without -q reads to the end: an early exit would SIGPIPE the binary and, under
  # pipefail, turn a match into a pass.
  if "$build/tests/$gpu_tests" --gtest_brief=1 2>&1 | grep "SKIPPED" >/dev/null; then
    echo "gpu_check: FAILED: $gpu_tests reports SKIPPED tests" >&2
    exit 1
  fi
done

# The unit tests (the device pipeline with a fake GPU, and everything host-side), and the same
# device tests on the simulated CUDA runtime: where they and the GPU tests above disagree, the
# GPU is right and the simulator is what needs fixing.
ctest --test-dir "$build" -j"$jobs" -L "unit|cudasim" --output-on-failure

# The device benchmark table; GPU rows must not be skipped here.
python3 bench/device_table.py "$build/bench/device_bench" --require-gpu

# The statistics table: host vs GPU by size, crossover, speedup at 1e8; GPU rows must run here.
python3 bench/stats_table.py "$build/bench/stats_bench" --require-gpu

echo "gpu_check: all GPU checks passed"
