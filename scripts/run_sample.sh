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
  # Its own file, named through the environment (Config::from_env), so both files stay.
  saxpy=build/samples/cuda_saxpy/cuda_saxpy
  echo
  if nvidia-smi -L >/dev/null 2>&1 || [[ ! -x build/samples/cuda_saxpy/cuda_saxpy_sim ]]; then
    echo "== samples/cuda_saxpy (device regions on the GPU; without one they fall back to host timing)"
  else
    # No GPU here: the same program linked against the simulated CUDA runtime, so the report
    # and the charts show device lanes. Its kernels last what the simulator is told (100 us),
    # not what saxpy would take on a GPU.
    saxpy=build/samples/cuda_saxpy/cuda_saxpy_sim
    export SCOPE_PROFILER_SIM_KERNEL_NS=100000
    echo "== samples/cuda_saxpy on the SIMULATED CUDA runtime (no GPU found; scope_profiler::cuda_sim,"
    echo "   docs/cuda.md \"Without a GPU\"): device intervals are simulated kernels of 100 us"
  fi
  SCOPE_PROFILER_FILE_PATH=profiling_data_saxpy.h5 "./$saxpy"
  files+=(profiling_data_saxpy.h5)
fi
echo
echo "== scope-profiler report: the statistics of ${files[*]} (docs/cli.md)"
build/tools/scope-profiler report "${files[@]}"
echo
echo "== scope-profiler pproc: the charts of ${files[*]} (docs/cli.md) in out/"
build/tools/scope-profiler pproc "${files[@]}" -o out/
