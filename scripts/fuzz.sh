#!/bin/sh
# make fuzz: each target of Tests/FuzzTargets under libFuzzer and AddressSanitizer for
# SECONDS. libFuzzer reads the saved inputs of Tests/FuzzCorpus/TARGET, writes what it finds
# new to .build/fuzz/corpus/TARGET (not kept in git), and writes any crash, hang or memory
# error to Tests/FuzzCorpus/TARGET/crash-… (or timeout-…, oom-…), where FuzzReplayTests runs
# it on every make test until the bug is fixed and the file stays as a regression input.
set -u
seconds=$1; shift
fuzzer=.build/fuzz/release/contlab-fuzz
[ -x "$fuzzer" ] || { echo "fuzz.sh: no $fuzzer (make fuzz builds it)" >&2; exit 2; }
status=0
summary=""
for target in "$@"; do
    mkdir -p ".build/fuzz/corpus/$target" "Tests/FuzzCorpus/$target"
    log=".build/fuzz/$target.log"
    echo "== $target: $seconds s"
    CONTLAB_FUZZ_TARGET=$target "$fuzzer" ".build/fuzz/corpus/$target" "Tests/FuzzCorpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="Tests/FuzzCorpus/$target/" -print_final_stats=1 >"$log" 2>&1
    code=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$code" -ne 0 ]; then
        status=1
        echo "   FOUND a problem (exit $code): see $log and Tests/FuzzCorpus/$target/"
        grep -m 3 -E "ERROR|Fatal|deadly signal|timeout" "$log" | sed 's/^/   /'
    fi
    summary="$summary$target: ${runs:-?} inputs, exit $code
"
done
printf '\n%s' "$summary"
exit $status
