#!/usr/bin/env bash
# Builds the benchmarks (Release) and prints the overhead tables of docs/overhead.md: host
# regions, then flushing to disk (without the 3.2 GB merge; run bench/flush_table.py without
# --quick for it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --tests
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSCOPE_PROFILER_BENCH=ON
cmake --build build -j2 --target overhead_bench flush_bench
python3 bench/overhead.py build/bench/overhead_bench "$@"
echo
python3 bench/flush_table.py build/bench/flush_bench --quick
