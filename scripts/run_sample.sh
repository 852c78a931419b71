#!/usr/bin/env bash
# The main job: install what is missing, build, run the sample workload, print the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_SAMPLES=ON \
  -DSCOPE_PROFILER_TESTS=OFF -DSCOPE_PROFILER_BENCH=OFF
cmake --build build -j2
./build/samples/regions/regions
if [[ -x build/samples/cuda_saxpy/cuda_saxpy ]]; then
  echo
  echo "== samples/cuda_saxpy (device regions; on a machine without a GPU they fall back to host timing)"
  ./build/samples/cuda_saxpy/cuda_saxpy
fi
echo
echo "== scope-profiler report: the statistics of profiling_data.h5 (docs/cli.md)"
build/tools/scope-profiler report profiling_data.h5
echo
echo "== scope-profiler pproc: the charts of profiling_data.h5 (docs/cli.md) in out/"
build/tools/scope-profiler pproc profiling_data.h5 -o out/
