#!/usr/bin/python3
"""Times `scope-profiler compare` against `report` on the same two files (docs/cli.md, "compare").

    /usr/bin/python3 bench/compare_speed.py build/tools/scope-profiler [--intervals 10000000]

Writes two files of N intervals each (Python plain layout, two regions, lognormal durations, the
new side 2 % slower in one region) into a temporary directory, then runs `report BASE NEW` and
`compare BASE NEW` alternately, 5 times each, and prints the medians of the wall times and their
ratio (the target: compare at most 2 x report). Needs h5py and numpy (Debian: python3-h5py).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np


def write(path, slowdown, seed, n):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        regions = f.create_group("rank0/regions")
        for name, median, sigma, factor in (("solver", 1e5, 0.1, slowdown), ("halo", 5e4, 0.3, 1.0)):
            d = np.round(median * factor * np.exp(sigma * rng.standard_normal(n // 2))).astype(np.int64)
            start = np.cumsum(np.concatenate([[1000], d[:-1] + 10]))
            group = regions.create_group(name)
            group["start_times"] = start
            group["end_times"] = start + d


def wall(command):
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program")
    parser.add_argument("--intervals", type=int, default=10_000_000)
    parser.add_argument("--repetitions", type=int, default=5)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        base, new = os.path.join(directory, "base.h5"), os.path.join(directory, "new.h5")
        write(base, 1.0, 1, a.intervals)
        write(new, 1.02, 2, a.intervals)
        report, compare = [], []
        for _ in range(a.repetitions):
            report.append(wall([a.program, "report", base, new]))
            compare.append(wall([a.program, "compare", base, new]))
    r, c = statistics.median(report), statistics.median(compare)
    print(f"| two files of {a.intervals:,} intervals each | report {r:.2f} s | compare {c:.2f} s | "
          f"{c / r:.2f} x | <= 2 x | {'yes' if c <= 2 * r else 'NO'} |")


if __name__ == "__main__":
    sys.exit(main())
