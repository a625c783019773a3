#!/usr/bin/env bash
# make fuzz FUZZ_TIME=60: runs each libFuzzer target for FUZZ_TIME seconds, seeded with
# fuzz/corpus/<target> and fuzz/regressions/<target>; what it adds goes to fuzz/work/<target> (not
# committed; FUZZ_WORK moves it). Prints execs/s and coverage (libFuzzer's cov: edges, ft: features) per target.
# A crash stops with its reproducer's path: fix the bug, then copy it into fuzz/regressions/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
# FUZZ_SEED fixes libFuzzer's random seed (make test: the smoke takes the same path on every run).
seed=${FUZZ_SEED:+-seed=$FUZZ_SEED}
bin=${FUZZ_BIN:-.build-fuzz/release}
status=0
for target in spec status; do
    work=${FUZZ_WORK:-fuzz/work}/$target
    mkdir -p "$work" "fuzz/regressions/$target"
    log=$work/fuzz.log
    # Swift's backtracer would answer the trap first; libFuzzer must see it to save the input.
    if SWIFT_BACKTRACE=enable=no "$bin/hone-fuzz-$target" -max_total_time="$seconds" -print_final_stats=1 \
        -max_len=8192 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" $seed \
        "$work" "fuzz/corpus/$target" "fuzz/regressions/$target" >"$log" 2>&1; then
        result="no crash"
    else
        crash=$(ls -t "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1 || true)
        result="FAILED: ${crash:-see $log}"
        status=1
    fi
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9/a-zA-Z]*' "$log" | tail -1 || true)
    echo "fuzz $target: ${seconds}s, ${runs:-?} inputs, ${execs:-?} execs/s, ${cov:-no coverage line}: $result"
    if [ $status -ne 0 ]; then tail -40 "$log" | grep -v '^\s*$' | head -30; fi
done
exit $status
