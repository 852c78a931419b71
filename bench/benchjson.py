"""Shared by the table scripts: run a Google Benchmark binary and read its JSON medians."""
import argparse
import json
import subprocess
import sys


def table_parser(doc, repetitions, min_time, gpu=False):
    """The options every table script takes: the binary, --repetitions, --min-time, --strict, and
    with gpu --require-gpu. The caller adds its own and parses."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--repetitions", type=int, default=repetitions)
    parser.add_argument("--min-time", default=min_time)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    if gpu:
        parser.add_argument("--require-gpu", action="store_true", help="fail when a GPU row was skipped")
    return parser


def run(binary, args):
    """The benchmark rows of `binary` run with `args` (JSON output)."""
    proc = subprocess.run([binary, "--benchmark_format=json", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{binary} exited with {proc.returncode}")
    return json.loads(proc.stdout)["benchmarks"]


def collect(rows, key=lambda name: name):
    """(median rows by key(run name), skip messages by key(run name))."""
    med, skipped = {}, {}
    for r in rows:
        k = key(r.get("run_name", r["name"]))
        if r.get("error_occurred") or r.get("skipped"):
            skipped[k] = r.get("error_message") or r.get("skip_message") or "skipped"
        elif r.get("run_type") == "aggregate" and r.get("aggregate_name") == "median":
            med[k] = r
    return med, skipped


def to_ns(row, field="real_time"):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[row.get("time_unit", "ns")]
    return row[field] * scale


def finish(missed, gpu_skipped, require_gpu, strict):
    """Prints what was missed and returns the exit status the table scripts end with."""
    if missed:
        print(f"\ntargets missed: {', '.join(missed)}")
    status = 0
    if gpu_skipped and require_gpu:
        print(f"\nGPU benchmarks skipped ({', '.join(gpu_skipped)}) but --require-gpu was given", file=sys.stderr)
        status = 1
    if missed and strict:
        status = 1
    return status
