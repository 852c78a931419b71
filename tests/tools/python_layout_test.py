#!/usr/bin/env python3
"""Files the Python scope-profiler writes, read by our `scope-profiler` as that library reads them.

Writes files with h5py in the Python library's plain layout, the way its writer does today
(scope_profiler/region_profiler.py flush() and profile_manager.py finalize(), main branch of
2026-07-23): each rank appends to its own file, regions/<name>/start_times and end_times
(int64, shape (0,), maxshape (None,), chunks=True, resized on each flush of buffer_limit
calls), and the merged file is a `metadata` group with collect_metadata()'s attributes (str and
int) and one `rank<r>` group per rank, copied whole from the rank's file. No escaping, no thread
ids, no device datasets, no attribute on a region group.

Then runs `scope-profiler report --json` and `scope-profiler pproc --export-data-format json`
on them and checks, against values computed here with numpy (the functions the Python library
calls: np.sum, np.min, np.max, np.mean, np.std, np.percentile):

- count, total, min and max of every region, over the ranks and per rank: exact;
- mean, std, p50, p95, p99: within a relative 1e-9;
- names as the file has them: "x%41" stays "x%41", beside a region "xA";
- the metadata's integers as JSON integers and its text as JSON strings;
- speedup.json with --speedup-metric mean (the default) as the Python library's pproc computes
  its speedup (mean duration per call over the ranks, runs of one rank count averaged), and with
  --speedup-metric total (the largest per-rank total, averaged the same way): within 1e-9.

    python_layout_test.py SCOPE_PROFILER_EXECUTABLE

Exits 1 with one line per difference.
"""

import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BUFFER_LIMIT = 300  # calls a region buffers before a flush appends them (the library's buffer_limit)


def python_metadata(mpi_size):
    """What the Python library's collect_metadata() returns: str and int values."""
    return {
        "timestamp": "2026-07-23T15:56:21.123456",
        "hostname": "node01",
        "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
        "python_version": "3.11.2",
        "scope_profiler_version": "0.4.0",
        "working_directory": "/home/alice/run",
        "omp_num_threads": 4,
        "mpi_size": mpi_size,
        "total_cores": mpi_size * 4,
        "user": "alice",
    }


def write_python_file(path, ranks, work_dir):
    """ranks: [{region name: (start_times, end_times)}], one dict per rank."""
    rank_files = []
    for r, regions in enumerate(ranks):
        rank_file = os.path.join(work_dir, f"rank_{r}.h5")
        rank_files.append(rank_file)
        if os.path.exists(rank_file):
            os.remove(rank_file)
        for name, (starts, ends) in regions.items():
            # ProfileRegion.flush(): the datasets on the first flush, then one append per flush.
            with h5py.File(rank_file, "a") as f:
                grp = f.require_group(f"regions/{name}")
                for dataset in ("start_times", "end_times"):
                    if dataset not in grp:
                        grp.create_dataset(dataset, shape=(0,), maxshape=(None,), dtype="i8", chunks=True)
            for first in range(0, len(starts), BUFFER_LIMIT):
                with h5py.File(rank_file, "a") as f:
                    grp = f[f"regions/{name}"]
                    for dataset, data in (("start_times", starts), ("end_times", ends)):
                        ds = grp[dataset]
                        chunk = data[first:first + BUFFER_LIMIT]
                        old_size = ds.shape[0]
                        ds.resize((old_size + len(chunk),))
                        ds[old_size:] = chunk
    # ProfileManager.finalize() on rank 0.
    with h5py.File(path, "w") as fout:
        meta_grp = fout.create_group("metadata")
        for key, value in python_metadata(len(ranks)).items():
            meta_grp.attrs[key] = value
        for r, rank_file in enumerate(rank_files):
            with h5py.File(rank_file, "r") as fin:
                fout.copy(fin, f"rank{r}")


def intervals(rng, calls, longest_ns):
    """calls intervals of 0 to longest_ns ns, starting at perf_counter_ns-like times."""
    starts = np.sort(rng.integers(10**12, 2 * 10**12, size=calls, dtype=np.int64))
    durations = rng.integers(0, longest_ns, size=calls, dtype=np.int64)
    return starts, starts + durations


def python_stats(durations_ns):
    """The statistics the Python library's pproc writes, and the percentiles report adds, in ns."""
    d = np.asarray(durations_ns, dtype=np.int64)
    return {
        "count": int(d.size),
        "total": int(np.sum(d)),
        "min": int(np.min(d)),
        "max": int(np.max(d)),
        "average": float(np.mean(d)),
        "std": float(np.std(d)),
        "p50": float(np.percentile(d, 50)),
        "p95": float(np.percentile(d, 95)),
        "p99": float(np.percentile(d, 99)),
    }


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def compare_stats(where, got, durations_ns, problems):
    want = python_stats(durations_ns)
    if got.get("count") != want["count"]:
        problems.append(f"{where}: count {got.get('count')!r}, expected {want['count']}")
    for key in ("total", "min", "max"):  # exact, as integers
        value = got.get(f"{key}_duration_ns")
        if not isinstance(value, int) or value != want[key]:
            problems.append(f"{where}: {key}_duration_ns {value!r}, expected {want[key]}")
    for key in ("average", "std", "p50", "p95", "p99"):
        value = got.get(f"{key}_duration_ns")
        if not isinstance(value, (int, float)) or not close(value, want[key]):
            problems.append(f"{where}: {key}_duration_ns {value!r}, expected {want[key]!r}")
    # The seconds of the Python library's keys, as it computes them (durations / 1e9 first).
    seconds = np.asarray(durations_ns, dtype=np.int64) / 1e9
    for key, value in (("average", np.mean(seconds)), ("std", np.std(seconds)),
                       ("total", np.sum(seconds)), ("min", np.min(seconds)), ("max", np.max(seconds))):
        if not close(got.get(f"{key}_duration_seconds", float("nan")), float(value)):
            problems.append(f"{where}: {key}_duration_seconds {got.get(f'{key}_duration_seconds')!r}, "
                            f"expected {float(value)!r}")


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
    return result


def check_report(cli, work_dir, problems):
    rng = np.random.default_rng(14)
    ranks = [
        {"solver": intervals(rng, 1000, 10**9), "x%41": intervals(rng, 7, 5000),
         "xA": intervals(rng, 3, 100), "100%": intervals(rng, 1, 10**6), "ünï code": intervals(rng, 650, 2000)},
        {"solver": intervals(rng, 901, 10**8), "x%41": intervals(rng, 2, 10**7)},
        {"solver": intervals(rng, 1, 10**9), "halo": intervals(rng, 299, 10**4)},
    ]
    path = os.path.join(work_dir, "python.h5")
    write_python_file(path, ranks, work_dir)
    out = os.path.join(work_dir, "report.json")
    run([cli, "report", path, "--json", out])
    with open(out, encoding="utf-8") as stream:
        report = json.load(stream)
    (file_report,) = report["files"]

    names = {name for regions in ranks for name in regions}
    got_names = set(file_report["region_statistics"])
    if got_names != names:
        problems.append(f"regions {sorted(got_names)}, expected {sorted(names)} (names as the file has them)")
    for name in sorted(names & got_names):
        got = file_report["region_statistics"][name]
        per_rank = {r: regions[name][1] - regions[name][0] for r, regions in enumerate(ranks) if name in regions}
        compare_stats(name, got, np.concatenate(list(per_rank.values())), problems)
        if sorted(got["per_rank"]) != sorted(str(r) for r in per_rank):
            problems.append(f"{name}: per_rank {sorted(got['per_rank'])}, expected {sorted(per_rank)}")
        for r, durations in per_rank.items():
            compare_stats(f"{name} rank {r}", got["per_rank"].get(str(r), {}), durations, problems)

    if file_report["num_ranks"] != len(ranks):
        problems.append(f"num_ranks {file_report['num_ranks']!r}, expected {len(ranks)}")
    want_metadata = python_metadata(len(ranks))
    got_metadata = file_report["metadata"]
    for key, value in want_metadata.items():
        if got_metadata.get(key) != value or type(got_metadata.get(key)) is not type(value):
            problems.append(f"metadata {key}: {got_metadata.get(key)!r}, expected {value!r} ({type(value).__name__})")


def speedups(runs, time_of):
    """The Python library's plot_speedup(): per region common to every run, its time at each
    rank count is the mean over the runs of that count; speedup = time at the fewest / time."""
    common = set.intersection(*(set(regions) for _, regions in runs))
    result = {}
    for name in common:
        samples = {}
        for ranks, regions in runs:
            t = time_of(regions[name])
            if np.isfinite(t) and t > 0:
                samples.setdefault(ranks, []).append(t)
        counts = sorted(samples)
        base = float(np.mean(samples[counts[0]]))
        for count in counts:
            result[(name, count)] = base / float(np.mean(samples[count]))
    return result


def check_speedup(cli, work_dir, problems):
    rng = np.random.default_rng(6)

    def run_of(rank_count, scale):
        return [{"compute": intervals(rng, 40, 10**6 // (scale * rank_count)),
                 "exchange": intervals(rng, 5 + r, 10**4 * rank_count), "io": intervals(rng, 3, 10**5)}
                for r in range(rank_count)]

    runs = [(1, run_of(1, 1)), (2, run_of(2, 1)), (4, run_of(4, 1)), (4, run_of(4, 2))]
    paths = []
    for i, (_, ranks) in enumerate(runs):
        paths.append(os.path.join(work_dir, f"scaling{i}.h5"))
        write_python_file(paths[-1], ranks, work_dir)
    # Per run: region -> the durations of every rank, and the per-rank totals.
    by_region = [(count, {name: [ranks[r][name][1] - ranks[r][name][0] for r in range(count)]
                          for name in ranks[0]}) for count, ranks in runs]
    expected = {
        "mean": speedups(by_region, lambda per_rank: float(np.mean(np.concatenate(per_rank)))),
        "total": speedups(by_region, lambda per_rank: float(max(int(np.sum(d)) for d in per_rank))),
    }
    for metric, want in expected.items():
        out = os.path.join(work_dir, f"charts_{metric}")
        run([cli, "pproc", *paths, "-o", out, "--export-data-format", "json", "--speedup-metric", metric])
        with open(os.path.join(out, "speedup.json"), encoding="utf-8") as stream:
            rows = json.load(stream)
        got = {(row["series"], row["ranks"]): row["speedup"] for row in rows if not row["series"].startswith("wall")}
        if sorted(got) != sorted(want):
            problems.append(f"speedup {metric}: points {sorted(got)}, expected {sorted(want)}")
        for point in sorted(set(got) & set(want)):
            if not close(got[point], want[point]):
                problems.append(f"speedup {metric} {point}: {got[point]!r}, expected {want[point]!r}")


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[-2].strip(), file=sys.stderr)
        return 2
    cli = sys.argv[1]
    problems = []
    with tempfile.TemporaryDirectory(prefix="sp_python_layout_") as work_dir:
        check_report(cli, work_dir, problems)
        check_speedup(cli, work_dir, problems)
    for problem in problems:
        print("MISMATCH:", problem, file=sys.stderr)
    if problems:
        return 1
    print("ok: the Python layout reads as the Python library reads it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
