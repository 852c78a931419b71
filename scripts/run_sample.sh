#!/usr/bin/env bash
# The main job: install what is missing, build, run the sample workload (host regions, then
# device regions on CUDA streams), print the summaries, and render the report and the charts of
# the HDF5 files (profiling_data.h5, profiling_data_saxpy.h5) with the scope-profiler program.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_SAMPLES=ON \
  -DSCOPE_PROFILER_TESTS=OFF -DSCOPE_PROFILER_BENCH=OFF
cmake --build build -j2
files=(profiling_data.h5)
./build/samples/regions/regions                 # host regions: writes profiling_data.h5
if [[ -x build/samples/cuda_saxpy/cuda_saxpy ]]; then
  echo
  echo "== samples/cuda_saxpy (device regions; on a machine without a GPU they fall back to host timing)"
  # Its own file, named through the environment (Config::from_env), so both files stay.
  SCOPE_PROFILER_FILE_PATH=profiling_data_saxpy.h5 ./build/samples/cuda_saxpy/cuda_saxpy
  files+=(profiling_data_saxpy.h5)
fi
echo
echo "== scope-profiler report: the statistics of ${files[*]} (docs/cli.md)"
build/tools/scope-profiler report "${files[@]}"
echo
echo "== scope-profiler pproc: the charts of ${files[*]} (docs/cli.md) in out/"
build/tools/scope-profiler pproc "${files[@]}" -o out/
