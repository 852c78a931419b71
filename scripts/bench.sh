#!/usr/bin/env bash
# Builds the benchmarks (Release) and prints the overhead table of docs/overhead.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --tests
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_BENCH=ON
cmake --build build -j2 --target overhead_bench
python3 bench/overhead.py build/bench/overhead_bench "$@"
