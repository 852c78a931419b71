#!/usr/bin/env python3
"""Runs bench/stats_bench and prints the statistics-engine table (Markdown).

    python3 bench/stats_table.py build/bench/stats_bench [--repetitions 5] [--require-gpu] [--strict]

Every time is the median over the repetitions. Rows:
  - moments: detail::host_moments (Thrust, CPP backend) against a hand-written loop (<= 1.2x);
  - percentiles: detail::select_ranks (radix select) against std::nth_element (<= 1.2x);
  - detail::compute_stats on the host and on the GPU per N, the GPU speedup, the crossover N
    (the smallest N where the GPU is faster) and the speedup at N = 1e8 (>= 5x).
GPU rows print "skipped: no GPU" when the binary found no usable device.
--require-gpu: exit 1 when a GPU row was skipped. --strict: exit 1 when a target is missed.
"""
import sys

from benchjson import collect as collect_rows, finish, run, to_ns, table_parser

SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)





def key(name):
    """'BM_Stats_Host/1000/iterations:5' -> ('BM_Stats_Host', 1000); 'BM_Moments_Thrust' -> (.., None)."""
    parts = name.split("/")
    arg = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return parts[0], arg


def collect(rows):
    return collect_rows(rows, key)








def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} us"
    return f"{ns:.0f} ns"


def main():
    parser = table_parser(__doc__, repetitions=5, min_time="0.5", gpu=True)
    parser.add_argument("--filter", default="", help="passed on as --benchmark_filter (default: all)")
    a = parser.parse_args()

    args = [f"--benchmark_repetitions={a.repetitions}", f"--benchmark_min_time={a.min_time}",
            "--benchmark_report_aggregates_only=true"]
    if a.filter:
        args.append(f"--benchmark_filter={a.filter}")
    med, skipped = collect(run(a.binary, args))

    def skip_text(k):
        msg = skipped.get(k, "no result")
        return "skipped: no GPU" if "no usable CUDA device" in msg else f"skipped: {msg}"

    missed, gpu_skipped = [], []

    print("| case | median | ratio | target | met |")
    print("|---|---:|---:|---|---|")
    for label, base_name, base_label, name, name_label in (
            ("moments, 10M values", "BM_Moments_HandLoop", "hand-written loop", "BM_Moments_Thrust",
             "detail::host_moments"),
            ("percentiles p50/p95/p99, 10M values", "BM_Percentiles_NthElement", "3 x std::nth_element",
             "BM_Percentiles_RadixSelect", "detail::select_ranks (radix select)")):
        base_k, k = (base_name, None), (name, None)
        if base_k not in med or k not in med:
            why = skip_text(k if k not in med else base_k)
            print(f"| {label}: {name_label} | {why} | | <= 1.2 x {base_label} | |")
            missed.append(label)
            continue
        base_ns, ns = to_ns(med[base_k]), to_ns(med[k])
        ratio = ns / base_ns
        ok = ratio <= 1.2
        missed += [] if ok else [label]
        print(f"| {label}: baseline, {base_label} | {fmt_time(base_ns)} | 1.000 x | | |")
        print(f"| {label}: {name_label} | {fmt_time(ns)} | {ratio:.3f} x "
              f"| <= 1.2 x {base_label} | {'yes' if ok else 'NO'} |")

    threshold = None
    for r in med.values():
        if "gpu_threshold" in r:
            threshold = int(r["gpu_threshold"])
    print()
    print("| N | host | GPU | GPU speedup |")
    print("|---:|---:|---:|---:|")
    crossover, speedups = None, {}
    for n in SIZES:
        hk, gk = ("BM_Stats_Host", n), ("BM_Stats_Gpu", n)
        host = fmt_time(to_ns(med[hk])) if hk in med else skip_text(hk)
        if gk in med:
            gpu = fmt_time(to_ns(med[gk]))
        else:
            gpu = skip_text(gk)
            gpu_skipped.append(f"BM_Stats_Gpu/{n}")
        speedup = ""
        if hk in med and gk in med:
            s = to_ns(med[hk]) / to_ns(med[gk])
            speedups[n] = s
            speedup = f"{s:.2f} x"
            if crossover is None and s > 1.0:
                crossover = n
        elif gk not in med:
            speedup = "skipped: no GPU" if "no GPU" in gpu else ""
        print(f"| {n:,} | {host} | {gpu} | {speedup} |")

    print()
    print("| result | value | target | met |")
    print("|---|---:|---|---|")
    if not speedups:
        cross = "no GPU"
    elif crossover is None:
        cross = "none (the host is faster at every N measured)"
    else:
        cross = f"{crossover:,}"
    note = f" (automatic switches at {threshold:,})" if threshold is not None else ""
    print(f"| crossover N: smallest N where the GPU is faster | {cross}{note} | | |")
    top = SIZES[-1]
    if top in speedups:
        ok = speedups[top] >= 5.0
        missed += [] if ok else ["GPU speedup at 1e8"]
        print(f"| GPU speedup at N = {top:,} | {speedups[top]:.2f} x | >= 5 x | {'yes' if ok else 'NO'} |")
    else:
        print(f"| GPU speedup at N = {top:,} | {skip_text(('BM_Stats_Gpu', top))} | >= 5 x | |")

    return finish(missed, gpu_skipped, a.require_gpu, a.strict)


if __name__ == "__main__":
    sys.exit(main())
