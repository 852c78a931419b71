#!/usr/bin/python3
"""Writes the fuzzer's seed corpus: small files in the layouts the reader knows (docs/file_format.md):
the Python scope-profiler's plain layout, and ours (name attributes, thread ids, device datasets,
chunked datasets, a clock offset, two ranks). Usage: make_seeds.py DIR (needs h5py)."""
import os
import sys

import h5py
import numpy as np


def metadata(f):
    m = f.create_group("metadata")
    m.attrs["hostname"] = "seed"
    m.attrs["mpi_size"] = np.int64(1)
    m.attrs["modules"] = ["gcc/12", "hdf5/1.10"]


def python_layout(path):
    with h5py.File(path, "w") as f:
        metadata(f)
        for name, starts, ends in (("solve", [0, 100], [50, 180]), ("io", [60], [90])):
            g = f.create_group(f"rank0/regions/{name}")
            g["start_times"] = np.array(starts, dtype="i8")
            g["end_times"] = np.array(ends, dtype="i8")


def ours(path, ranks):
    with h5py.File(path, "w", track_order=True) as f:
        metadata(f)
        for rank in range(ranks):
            r = f.create_group(f"rank{rank}", track_order=True)
            r.attrs["clock_offset_ns"] = np.int64(1000 * rank)
            g = r.create_group("regions/step%2Fa", track_order=True)
            g.attrs["name"] = "step/a"
            n = 6
            for name, values, dtype in (("start_times", np.arange(n) * 10, "i8"),
                                        ("end_times", np.arange(n) * 10 + 5, "i8"),
                                        ("thread_ids", np.arange(n) % 2, "i4")):
                g.create_dataset(name, data=np.array(values, dtype=dtype), maxshape=(None,), chunks=(4,))
            g["device_start_times"] = np.array([1, 21], dtype="i8")
            g["device_end_times"] = np.array([4, 24], dtype="i8")
            g["device_streams"] = np.array([7, 7], dtype="i8")
            g["device_host_fallback"] = np.array([0, 1], dtype="u1")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    python_layout(os.path.join(out, "python_layout.h5"))
    ours(os.path.join(out, "ours.h5"), 1)
    ours(os.path.join(out, "two_ranks.h5"), 2)


if __name__ == "__main__":
    main()
