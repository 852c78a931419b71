#!/usr/bin/env python3
"""Runs bench/device_bench and prints the device-overhead table (Markdown).

    python3 bench/device_table.py build/bench/device_bench [--repetitions 7] [--require-gpu] [--strict]
    python3 bench/device_table.py build/bench/device_bench_sim --simulated

Every number is the median over the repetitions. Rows:
  - host region with NVTX on (no tool attached) against the steady_clock-pair baseline (<= 1.2x);
  - the CPU cost of an empty device scope against two raw cudaEventRecord (<= raw pair + 200 ns);
  - resolution throughput of completed event pairs (>= 1,000,000 pairs/s).
GPU rows print "skipped: no GPU" when the binary found no usable device.
--require-gpu: exit 1 when a GPU row was skipped. --strict: exit 1 when a target is missed.
--simulated: the binary runs on the simulated CUDA runtime (scope_profiler::cuda_sim); the device
rows are marked "simulated": CPU costs on the simulator, not what a GPU's driver costs.
"""
import sys

from benchjson import collect as collect_rows, finish, run, to_ns, table_parser

GPU_BENCHMARKS = ("BM_RawEventRecordPair", "BM_DeviceScope", "BM_ResolveThroughput")





def base(name):
    return name.split("/")[0]


def collect(rows):
    return collect_rows(rows, base)








def main():
    parser = table_parser(__doc__, repetitions=7, min_time="0.3", gpu=True)
    parser.add_argument("--simulated", action="store_true", help="label the device rows as simulated")
    a = parser.parse_args()
    sim = " (simulated runtime)" if a.simulated else ""

    med, skipped = collect(run(a.binary, [
        f"--benchmark_repetitions={a.repetitions}", f"--benchmark_min_time={a.min_time}",
        "--benchmark_report_aggregates_only=true"]))

    missing = [n for n in ("BM_Baseline_SteadyClockPair", "BM_HostRegion_NvtxOn", "BM_HostRegion_NvtxOff")
               if n not in med]
    if missing:
        raise SystemExit(f"device_table: no result for {', '.join(missing)}")

    def gpu_skip(name):
        if name in med:
            return None
        msg = skipped.get(name, "no result")
        return "skipped: no GPU" if "no usable CUDA device" in msg else f"skipped: {msg}"

    base_ns = to_ns(med["BM_Baseline_SteadyClockPair"])
    off_ns = to_ns(med["BM_HostRegion_NvtxOff"])
    on_ns = to_ns(med["BM_HostRegion_NvtxOn"])
    missed, gpu_skipped = [], []

    print("| case | median | ratio / difference | target | met |")
    print("|---|---:|---:|---|---|")
    print(f"| baseline: two steady_clock::now() | {base_ns:.2f} ns | 1.000 x | | |")
    print(f"| host region, cached Region&, NVTX off | {off_ns:.2f} ns | {off_ns / base_ns:.3f} x | | |")
    ok = on_ns / base_ns <= 1.2
    missed += [] if ok else ["host region with NVTX on"]
    print(f"| host region, cached Region&, NVTX on (no tool) | {on_ns:.2f} ns | {on_ns / base_ns:.3f} x "
          f"| <= 1.2 x baseline | {'yes' if ok else 'NO'} |")

    raw_skip, scope_skip = gpu_skip("BM_RawEventRecordPair"), gpu_skip("BM_DeviceScope")
    if raw_skip:
        gpu_skipped.append("BM_RawEventRecordPair")
        print(f"| raw pair: 2 x cudaEventRecord{sim} | {raw_skip} | | | |")
    else:
        print(f"| raw pair: 2 x cudaEventRecord{sim} | {to_ns(med['BM_RawEventRecordPair']):.1f} ns | | | |")
    if scope_skip or raw_skip:
        if scope_skip:
            gpu_skipped.append("BM_DeviceScope")
        print(f"| empty device scope (CPU cost){sim} | {scope_skip or raw_skip} | | <= raw pair + 200 ns | |")
    else:
        raw_ns, scope_ns = to_ns(med["BM_RawEventRecordPair"]), to_ns(med["BM_DeviceScope"])
        ok = scope_ns <= raw_ns + 200.0
        if a.simulated:  # the targets are a GPU's; the simulator's calls cost what they cost
            print(f"| empty device scope (CPU cost){sim} | {scope_ns:.1f} ns | {scope_ns - raw_ns:+.1f} ns vs raw "
                  f"pair, {scope_ns / (raw_ns / 2):.1f} simulated calls' worth | (GPU target) | n/a |")
        else:
            missed += [] if ok else ["device scope CPU cost"]
            print(f"| empty device scope (CPU cost){sim} | {scope_ns:.1f} ns | {scope_ns - raw_ns:+.1f} ns vs raw pair "
                  f"| <= raw pair + 200 ns | {'yes' if ok else 'NO'} |")

    resolve_skip = gpu_skip("BM_ResolveThroughput")
    if resolve_skip:
        gpu_skipped.append("BM_ResolveThroughput")
        print(f"| resolution throughput (get_device_durations(false), 100,000 completed pairs){sim} | {resolve_skip} "
              f"| | >= 1,000,000 pairs/s | |")
    else:
        r = med["BM_ResolveThroughput"]
        rate = r.get("items_per_second", 0.0)
        ok = rate >= 1e6
        if not a.simulated:
            missed += [] if ok else ["resolution throughput"]
        note = ""
        if r.get("watchdog_fired", 0):
            note = f" (recording blocked: {r.get('pairs_per_call', 0):.0f} pairs pending per call)"
        print(f"| resolution throughput (get_device_durations(false), 100,000 completed pairs){sim} "
              f"| {rate:,.0f} pairs/s{note} | {1e9 / rate if rate else float('inf'):.0f} ns per pair "
              f"| >= 1,000,000 pairs/s | {'n/a' if a.simulated else ('yes' if ok else 'NO')} |")

    return finish(missed, gpu_skipped, a.require_gpu, a.strict)


if __name__ == "__main__":
    sys.exit(main())
