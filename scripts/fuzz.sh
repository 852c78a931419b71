#!/usr/bin/env bash
# Fuzzes the reader of profiling files (tests/fuzz/profile_file_fuzzer.cpp) with libFuzzer for
# SECONDS (default 90), under AddressSanitizer and UndefinedBehaviorSanitizer, from a seed corpus
# of small files in both layouts (tests/fuzz/make_seeds.py) and the kept findings
# (tests/fuzz/regressions/). libhdf5 1.10 crashes and loops on some inputs, so the fuzzer runs in
# fork mode and goes on after a crash; then every finding is sorted:
#   - its first frame outside the sanitizer runtime and libc must be in libhdf5; a finding in our
#     code (a sanitizer report, an exception other than InputError) fails the run;
#   - the supervised command must turn it into exit code 2 and one line (tools/supervisor.hpp).
# New findings are left in build-fuzz/run/artifacts: keep small ones in tests/fuzz/regressions/.
# The command runs under ASan with tests/fuzz/libhdf5.supp (libhdf5's own out-of-bounds copies).
#   scripts/fuzz.sh [SECONDS]      (0: only sort the findings of the last run and the kept ones)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-90}"
command -v clang++ >/dev/null || { echo "fuzz.sh: needs clang++ (scripts/install_deps.sh --tests)" >&2; exit 1; }

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DSCOPE_PROFILER_SANITIZE=address,undefined,fuzzer-no-link" -DSCOPE_PROFILER_FUZZ=ON \
  -DSCOPE_PROFILER_TESTS=OFF -DSCOPE_PROFILER_BENCH=OFF -DSCOPE_PROFILER_SAMPLES=OFF \
  -DSCOPE_PROFILER_CUDA=OFF -DSCOPE_PROFILER_MPI=OFF >/dev/null
cmake --build build-fuzz -j2 --target profile_file_fuzzer scope-profiler

run="$PWD/build-fuzz/run"
((seconds > 0)) && rm -rf "$run"
mkdir -p "$run/corpus" "$run/artifacts" "$run/seeds" "$run/tmp"
/usr/bin/python3 tests/fuzz/make_seeds.py "$run/seeds"
shopt -s nullglob
kept=(tests/fuzz/regressions/*.h5)
((${#kept[@]})) && cp "${kept[@]}" "$run/seeds/"
fuzzer="$PWD/build-fuzz/tests/fuzz/profile_file_fuzzer"
command="$PWD/build-fuzz/tools/scope-profiler"
export TMPDIR="$run/tmp"
# Loops are libFuzzer's -timeout to catch here, not the reader's watchdog; leaks are the unit
# tests' business (libhdf5 keeps some memory after errors).
export SCOPE_PROFILER_READ_STALL_S=1000000
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
if ((seconds > 0)); then
echo "fuzz.sh: fuzzing the reader for ${seconds} s (log: $run/fuzz.log)"
(cd "$run" && "$fuzzer" -fork=2 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -timeout=5 \
  -rss_limit_mb=2048 -max_total_time="$seconds" -artifact_prefix="$run/artifacts/" \
  "$run/corpus" "$run/seeds" >"$run/fuzz.log" 2>&1) || true
grep -E "^#[0-9]+: cov" "$run/fuzz.log" | tail -1 || true
fi

# The first stack frame of a sanitizer report that is not the sanitizer runtime's, libFuzzer's,
# the allocator's or libc's: where the error really is. Our own code is built with debug
# information, so its frames name a source file; a frame inside one of our two programs that
# names none ("in strdup (.../profile_file_fuzzer+0xf2905)") is the sanitizer runtime or
# libFuzzer linked into it: an interceptor of whichever libc function libhdf5 called (strdup,
# strcpy, ...), which no list of names can cover.
first_own_frame() {
  grep -E '^\s+#[0-9]+ ' "$1" |
    grep -vE '\((/[^ ]*/)?(profile_file_fuzzer|scope-profiler)\+0x[0-9a-f]+\)( \(BuildId: [0-9a-f]+\))?$' |
    grep -vE '__asan|__interceptor|__sanitizer|__ubsan|__lsan|/libsanitizer/|fuzzer::|libc\.so|libc_start|/libc/|sysdeps/| in __mem| in (memcpy|memmove|memset|strlen|malloc|calloc|realloc|free|operator new|operator delete)' |
    head -1 || true
}

failed=0
findings=0
for input in "$run"/artifacts/* "${kept[@]}"; do
  [[ -f "$input" ]] || continue
  findings=$((findings + 1))
  name="$(basename "$input")"
  # Where it crashes: the target alone on this input, its report's first frame of our own.
  # An allocation over -malloc_limit_mb is reported by a malloc hook, with its stack, but only
  # after ASan has poisoned its shadow (1/8 of its size: 2 GB for libhdf5's 17 GB vlen buffer);
  # with the RSS limit as low as the malloc limit, libFuzzer's RSS thread (once a second) could
  # see that first and report an out-of-memory with no stack of the culprit, depending on load.
  # So here the RSS limit is far above the malloc limit, and ASan refuses (NULL) any allocation
  # whose shadow alone would reach it.
  ASAN_OPTIONS="$ASAN_OPTIONS:max_allocation_size_mb=16384" \
    "$fuzzer" -timeout=3 -malloc_limit_mb=2048 -rss_limit_mb=4096 "$input" >"$run/one.log" 2>&1 || true
  first="$(first_own_frame "$run/one.log")"
  if grep -qE "ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error|ALARM|deadly signal" "$run/one.log"; then
    if [[ "$first" != *libhdf5* ]]; then
      echo "fuzz.sh: FAILED: $name is a finding outside libhdf5 (first frame: ${first:-none}):" >&2
      grep -E "ERROR|runtime error|^\s+#[0-9]+ " "$run/one.log" | head -20 >&2
      failed=1
      continue
    fi
  fi
  # What a user sees: exit code 2 (or 0) and one line, never a signal.
  for sub in report export pproc; do
    case "$sub" in
      report) args=(report "$input") ;;
      export) args=(export "$input" --chrome-trace "$run/t.json") ;;
      pproc) args=(pproc "$input" -o "$run/charts") ;;
    esac
    code=0
    SCOPE_PROFILER_READ_STALL_S=2 LSAN_OPTIONS="print_suppressions=0:suppressions=$PWD/tests/fuzz/libhdf5_leaks.supp" \
      ASAN_OPTIONS="handle_segv=0:handle_sigbus=0:handle_sigfpe=0:detect_leaks=0:print_suppressions=0:allocator_may_return_null=1:abort_on_error=1:log_path=$run/asan_cmd:suppressions=$PWD/tests/fuzz/libhdf5.supp" \
      "$command" "${args[@]}" >/dev/null 2>"$run/err.txt" || code=$?
    # (less ASan's own line for an allocation it refused, where glibc returns NULL silently)
    lines="$(grep -cv '^==[0-9]*==WARNING: AddressSanitizer failed to allocate' "$run/err.txt" || true)"
    if [[ "$code" != 0 && ( "$code" != 2 || "$lines" != 1 ) ]]; then
      echo "fuzz.sh: FAILED: scope-profiler $sub on $name: exit $code, $lines lines on stderr:" >&2
      head -5 "$run/err.txt" >&2
      failed=1
    fi
    # A report ASan made of the command (an invalid free() by libhdf5: it aborts, the supervisor
    # says exit 2) must blame libhdf5 too.
    for report in "$run"/asan_cmd.*; do
      grep -q "ERROR: " "$report" || { rm -f "$report"; continue; }  # a warning: NULL returned
      culprit="$(first_own_frame "$report")"
      if [[ "$culprit" != *libhdf5* ]]; then
        echo "fuzz.sh: FAILED: ASan report outside libhdf5 for scope-profiler $sub on $name: ${culprit:-none}" >&2
        failed=1
      fi
      rm -f "$report"
    done
    rm -rf "$run/t.json" "$run/charts"
  done
done
echo "fuzz.sh: $findings findings (new ones in $run/artifacts, kept ones in tests/fuzz/regressions): $([[ $failed == 0 ]] && echo "every one in libhdf5, and exit 2 from the command" || echo FAILED)"
exit "$failed"
