#!/usr/bin/env bash
# tests/fuzz/smoke.sh: the fuzz targets' smoke test, for `make test` and `make fuzz-smoke`.
# Builds the targets (clang, libFuzzer + ASan + UBSan), then runs each one over its committed
# corpus (tests/fuzz/corpus/TARGET/, every input once) followed by a few seconds of fuzzing
# (FUZZ_SMOKE_SECONDS, default 5). A target that crashes, breaks an invariant, times out or leaks
# fails; its crashing input is left in build/fuzz/crashes/. Ends with one line for CI:
#     [fuzz] test cases: N | N passed | N failed
set -uo pipefail

cd "$(dirname "$0")/../.."
SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-5}
TARGETS=(${FUZZ_TARGETS:-http frame deflate_params inflate chat_protocol jwt trace redis_codec})
OUT=build/fuzz
passed=0
failed=0

mkdir -p "$OUT"
if ! make --no-print-directory -j2 fuzz-build >"$OUT.build.log" 2>&1; then
    tail -n 30 "$OUT.build.log"
    echo "[fuzz] build failed (clang++ and libclang-rt-14-dev are needed: make deps)"
    echo "[fuzz] test cases: ${#TARGETS[@]} | 0 passed | ${#TARGETS[@]} failed"
    exit 1
fi
mkdir -p "$OUT/crashes"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for t in "${TARGETS[@]}"; do
    bin=$OUT/${t}_fuzz
    corpus=tests/fuzz/corpus/$t
    log=$scratch/$t.log
    mkdir -p "$scratch/$t"
    # New inputs go to the scratch dir (first argument), so the committed corpus is not touched.
    # -timeout: one input taking over 10 s is a failure (a hang); `timeout` bounds the whole run.
    timeout --kill-after=10 $((SECONDS_EACH + 120)) "$bin" -max_total_time="$SECONDS_EACH" \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$OUT/crashes/$t-" \
        "$scratch/$t" "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$log" | tail -n 1)
    if ((rc == 0)); then
        echo "[fuzz] $t: ok, $(ls "$corpus" | wc -l) corpus inputs, ${runs:-?} runs in ${SECONDS_EACH} s"
        passed=$((passed + 1))
    else
        grep -E 'fuzz invariant broken|runtime error|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|SUMMARY|Test unit written|^    #[0-9] ' "$log" | head -n 20
        echo "[fuzz] $t: FAILED (exit status $rc); reproduce with: $bin FILE (see build/fuzz/crashes/)"
        failed=$((failed + 1))
    fi
done

echo "[fuzz] test cases: $((passed + failed)) | $passed passed | $failed failed"
((failed == 0))
