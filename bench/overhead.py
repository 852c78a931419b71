#!/usr/bin/env python3
"""Runs bench/overhead_bench and prints the overhead table of docs/overhead.md.

    python3 bench/overhead.py build/bench/overhead_bench [--repetitions 7]

Every time is the median over the repetitions; every ratio is against the steady_clock-pair
baseline measured in the same run. Memory is measured in a process of its own.
"""
import argparse
import sys

from benchjson import run





def medians(rows):
    return {r["run_name"]: r for r in rows
            if r.get("run_type") == "aggregate" and r.get("aggregate_name") == "median"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--min-time", default="0.3")
    a = parser.parse_args()

    timing = medians(run(a.binary, [
        "--benchmark_filter=-BM_Memory|BM_Read10M|BM_Finalize10M",
        f"--benchmark_repetitions={a.repetitions}",
        f"--benchmark_min_time={a.min_time}", "--benchmark_report_aggregates_only=true"]))
    # The conversion rows: steady and tsc sessions of 10 M intervals, their repetitions
    # interleaved in random order (most of the time goes to the kernel's page faults, which
    # drift with the machine's load; interleaving spreads the drift over both clocks).
    conversion = medians(run(a.binary, [
        "--benchmark_filter=BM_Read10M|BM_Finalize10M", f"--benchmark_repetitions={a.repetitions}",
        "--benchmark_enable_random_interleaving=true", "--benchmark_report_aggregates_only=true"]))
    memory = run(a.binary, ["--benchmark_filter=BM_MemoryPerInterval"])

    def ns(name):
        return timing[name]["real_time"]

    base1 = ns("BM_Baseline_SteadyClockPair/real_time/threads:1")
    base2 = ns("BM_Baseline_SteadyClockPair/real_time/threads:2")
    # With threads:2 and real time, the time is wall time over both threads' iterations, so one
    # thread's rate relative to running alone is t1 / (2 * t2).
    rows = [
        ("baseline: two steady_clock::now()", base1, None, ""),
        ("cached handle (Region& + RegionScope)", ns("BM_Handle/real_time/threads:1"), 1.15, "x"),
        ("cached handle, NVTX on (no tool attached)", ns("BM_Handle_Nvtx"), 1.2, "x"),
        ("SCOPE_PROFILE_REGION (handle cached per call site)", ns("BM_Macro"), 1.15, "x"),
        ("profile() wrapper", ns("BM_Wrapper"), 1.15, "x"),
        ("profile_region(\"name\"), 1000 other regions", ns("BM_ByName/real_time/threads:1"), 1.4, "x"),
        ("baseline of `clock = tsc`: two rdtsc", ns("BM_Baseline_RdtscPair"), None, "x"),
        ("`clock = tsc`: cached handle", ns("BM_Tsc_Handle"), 0.5, "x"),
        ("`clock = tsc`: SCOPE_PROFILE_REGION", ns("BM_Tsc_Macro"), 0.5, "x"),
        ("`clock = tsc`: profile() wrapper", ns("BM_Tsc_Wrapper"), 0.5, "x"),
        ("`clock = tsc`: profile_region(\"name\"), 1000 other regions", ns("BM_Tsc_ByName"), 0.7, "x"),
        ("counts only, cached handle", ns("BM_Counts_Handle"), 0.1, "x"),
        ("counts only, by name", ns("BM_Counts_ByName"), None, "x"),
        ("disabled, cached handle", ns("BM_Off_Handle"), 1.0, "ns"),
        ("disabled, macro", ns("BM_Off_Macro"), 1.0, "ns"),
        ("disabled, by name", ns("BM_Off_ByName"), None, "ns"),
    ]
    print(f"| case | median ns | ratio to baseline | target | met |")
    print(f"|---|---:|---:|---|---|")
    for label, t, target, unit in rows:
        ratio = t / base1
        if target is None:
            goal, met = "", ""
        elif unit == "ns":
            goal, met = f"<= {target} ns", "yes" if t <= target else "NO"
        else:
            goal, met = f"<= {target} x", "yes" if ratio <= target else "NO"
        print(f"| {label} | {t:.2f} | {ratio:.3f} | {goal} | {met} |")

    for label, name in (("cached handle", "BM_Handle/real_time"), ("by name", "BM_ByName/real_time")):
        single = ns(f"{name}/threads:1")
        per_thread = single / (2 * ns(f"{name}/threads:2"))
        base_rate = base1 / (2 * base2)
        print(f"| 2 threads, {label}: each thread's rate vs alone | | {per_thread:.3f} "
              f"(baseline pair: {base_rate:.3f}) | >= 0.9 | {'yes' if per_thread >= 0.9 else 'NO'} |")
    for label, name in (("reading 10 M intervals back (get_durations + get_start_times)",
                         "BM_Read10M/{}/iterations:3"),
                        ("finalize() of 10 M intervals (statistics and the file)",
                         "BM_Finalize10M/{}/iterations:1/real_time")):
        steady = conversion[name.format(0)]["real_time"]
        tsc = conversion[name.format(1)]["real_time"]
        print(f"| `clock = tsc`: {label} vs a steady session | | {tsc / steady:.3f} "
              f"({tsc:.0f} vs {steady:.0f} ms) | <= 1.05 | {'yes' if tsc / steady <= 1.05 else 'NO'} |")
    bpi = memory[0]["bytes_per_interval"]
    print(f"| memory per recorded interval (resident bytes) | | {bpi:.2f} B | <= 24 B | "
          f"{'yes' if bpi <= 24 else 'NO'} |")


if __name__ == "__main__":
    sys.exit(main())
