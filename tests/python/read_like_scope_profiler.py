#!/usr/bin/env python3
"""Reads a scope-profiler HDF5 file with h5py the way the Python scope-profiler's reader does.

That reader (scope_profiler/h5reader.py, ProfilingH5Reader, on the library's main branch of
2026-07-23) reads the ``metadata`` group's attributes, takes every other top-level group as
``rank<N>`` (``int(name.replace("rank", ""))``), and for each region group under
``rank<N>/regions`` reads ``start_times[()]`` and ``end_times[()]``; it reads no root attribute.
This script does exactly that and prints one line per region: rank, region (the group name),
number of calls.

    read_like_scope_profiler.py FILE.h5 [--expected EXPECTED.json]

With --expected (written by scope_profiler_h5_write_sample), it also checks the counts and the
values, the "name" attribute of each region group (the original bytes, which the group name
percent-encodes), and the metadata fields; it exits 1 on any difference.
"""

import argparse
import json
import sys
import urllib.parse

import h5py
import numpy as np

METADATA_FIELDS = (
    "timestamp", "hostname", "platform", "user", "working_directory", "scope_profiler_version",
    "compiler", "omp_num_threads", "mpi_size", "total_cores", "hardware_cores", "clock",
)


def read(path):
    """rank -> {region group name: (start_times, end_times, name attribute)}, and metadata."""
    ranks = {}
    with h5py.File(path, "r") as f:
        metadata = dict(f["metadata"].attrs.items()) if "metadata" in f else {}
        rank_group_names = sorted(
            (name for name in f if name != "metadata"),
            key=lambda name: int(name.replace("rank", "")),
        )
        for rank_group_name in rank_group_names:
            rank = int(rank_group_name.replace("rank", ""))
            rank_group = f[rank_group_name]
            ranks[rank] = {}
            if "regions" not in rank_group:
                continue
            for region_name, region_grp in rank_group["regions"].items():
                ranks[rank][region_name] = (
                    region_grp["start_times"][()],
                    region_grp["end_times"][()],
                    region_grp.attrs.get("name"),
                    region_grp["device_start_times"][()],
                )
    return ranks, metadata


def check(ranks, metadata, expected):
    problems = []
    for field in METADATA_FIELDS:
        if field not in metadata:
            problems.append(f"metadata has no {field}")
    for field in ("omp_num_threads", "mpi_size", "total_cores", "hardware_cores"):
        if field in metadata and not isinstance(metadata[field], (int, np.integer)):
            problems.append(f"metadata {field} is {metadata[field]!r}, not an integer")
    if metadata.get("mpi_size") != 2:
        problems.append(f"metadata mpi_size is {metadata.get('mpi_size')!r}, expected 2")
    # The Python library's meaning (its metadata.py): mpi_size x omp_num_threads.
    if metadata.get("total_cores") != metadata.get("mpi_size", 0) * metadata.get("omp_num_threads", 0):
        problems.append(f"metadata total_cores is {metadata.get('total_cores')!r}, not mpi_size x omp_num_threads")
    if not isinstance(metadata.get("timestamp"), str):
        problems.append(f"metadata timestamp is {metadata.get('timestamp')!r}, not a str")

    want = {int(rank): regions for rank, regions in expected["ranks"].items()}
    if sorted(ranks) != sorted(want):
        problems.append(f"ranks {sorted(ranks)}, expected {sorted(want)}")
    for rank, regions in want.items():
        got = ranks.get(rank, {})
        if sorted(got) != sorted(regions):
            problems.append(f"rank{rank}: regions {sorted(got)}, expected {sorted(regions)}")
        for name, values in regions.items():
            if name not in got:
                continue
            start, end, name_attribute, device_start = got[name]
            for label, array, expected_values in (
                ("start_times", start, values["start_times"]),
                ("end_times", end, values["end_times"]),
                ("device_start_times", device_start, values["device_start_times"]),
            ):
                if array.dtype != np.int64:
                    problems.append(f"rank{rank}/{name}/{label}: dtype {array.dtype}, not int64")
                if array.tolist() != expected_values:
                    problems.append(f"rank{rank}/{name}/{label}: {array.tolist()} != {expected_values}")
            original = bytes.fromhex(values["name_hex"])
            if bytes(name_attribute) != original:
                problems.append(f"rank{rank}/{name}: name attribute {name_attribute!r} != {original!r}")
            if urllib.parse.unquote_to_bytes(name) != original:
                problems.append(f"rank{rank}/{name}: the group name does not percent-decode to the name")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--expected")
    args = parser.parse_args()

    ranks, metadata = read(args.file)
    for rank, regions in ranks.items():
        for name, (start, end, _, _) in regions.items():
            print(f"rank{rank} {name} calls={len(start)} end_times={len(end)}")
    if args.expected:
        with open(args.expected, encoding="utf-8") as stream:
            expected = json.load(stream)
        problems = check(ranks, metadata, expected)
        for problem in problems:
            print("MISMATCH:", problem, file=sys.stderr)
        if problems:
            return 1
        print(f"ok: {sum(len(r) for r in ranks.values())} regions in {len(ranks)} ranks match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
