#!/usr/bin/env bash
# tests/run_all.sh: runs every suite against each build in $BUILDS and ends with one line for CI:
#     N passed, N failed
# Suites, per build, in order: doctest units (build/NAME/unit_tests), python, node integration,
# and for the release build the browser suite (tests/e2e, headless chromium); then the threaded
# units and both integration suites under ThreadSanitizer (build/tsan); then the fuzz smoke.
# First of all, tests/fresh-machine.sh (does deps.sh install everything the suites need?).
# A suite that crashes, hangs or prints no counts counts as at least 1 failed; so does a suite
# that cannot run because something it needs (tests/needs.txt) is missing, naming the fix.
# Called by `make test` (after `make deps` and the builds) and by `make check` (BUILDS=release
# RUN_TSAN=0 RUN_FUZZ=0: no TSan suites, no fuzz smoke).
set -uo pipefail

cd "$(dirname "$0")/.."
# BUILDS: the builds to test, each under build/NAME (make test passes "release asan").
BUILDS=${BUILDS:-${BUILD:-release}}
RUN_TSAN=${RUN_TSAN:-1}
RUN_FUZZ=${RUN_FUZZ:-1}
RUN_CONFORMANCE=${RUN_CONFORMANCE:-1}
export PYTHONDONTWRITEBYTECODE=1
# The Debian interpreter, which has python3-websockets; not whatever python3 is first on PATH.
PYTHON=/usr/bin/python3

total_passed=0
total_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_suite NAME TIMEOUT_S COMMAND...: shows the output, then adds the suite's counts (parsed by
# parse_NAME from the output) to the totals.
run_suite() {
    local name=$1 limit=$2
    shift 2
    echo ">>> $name: $*"
    # timeout signals the whole process group, so a hung suite dies with the servers it started.
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local counts passed failed
    # Strip colour codes before parsing.
    counts=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | "parse_$name")
    read -r passed failed <<<"${counts:-x x}"
    if [[ ! $passed =~ ^[0-9]+$ || ! $failed =~ ^[0-9]+$ ]]; then
        echo ">>> $name: printed no test counts (exit status $rc)"
        passed=0 failed=1
    elif ((rc != 0 && failed == 0)); then
        [[ $rc -eq 124 || $rc -eq 137 ]] && echo ">>> $name: timed out after ${limit}s"
        echo ">>> $name: exit status $rc with no failed test: counting 1 failed"
        failed=1
    fi
    echo ">>> $name: passed=$passed failed=$failed exit=$rc"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

# doctest: "[doctest] test cases: 12 | 12 passed | 0 failed | 0 skipped" (test cases, not asserts).
parse_unit() {
    sed -nE 's/.*test cases:[[:space:]]*[0-9]+[[:space:]]*\|[[:space:]]*([0-9]+)[[:space:]]*passed[[:space:]]*\|[[:space:]]*([0-9]+)[[:space:]]*failed.*/\1 \2/p' | tail -n 1
}

# The bench unit tests are doctest too; the bench smoke run prints the same counts line.
parse_bench() { parse_unit; }
parse_smoke() { parse_unit; }

# tests/integration/run_python.py: "python: N passed, N failed, N skipped (T s)".
parse_python() {
    sed -nE 's/^python: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' | tail -n 1
}

# node --test, TAP reporter: "# pass N" and "# fail N" (spec reporter: "ℹ pass N").
parse_node() {
    awk '/^(# |ℹ )pass [0-9]+$/ { p = $3 } /^(# |ℹ )fail [0-9]+$/ { f = $3 }
         END { if (p != "" && f != "") print p, f }'
}

# tests/e2e (node --test, TAP): the browser suite; same counts as the node suite.
parse_e2e() { parse_node; }

# tests/fresh-machine.sh: "fresh-machine: N passed, N failed".
parse_fresh() {
    sed -nE 's/^fresh-machine: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' | tail -n 1
}

# can_run SUITE: true when everything SUITE needs (tests/needs.txt) is installed; otherwise shows
# what is missing with the fix and counts the suite as 1 failed.
can_run() {
    local why
    why=$(bash tests/fresh-machine.sh --suite "$1") && return 0
    echo "$why" | sed "s/^/>>> $1: cannot run: /"
    total_failed=$((total_failed + 1))
    return 1
}

# run_integration: the python and node suites against $EPWS_BIN.
run_integration() {
    can_run python && run_suite python $((300 * ${SLOWDOWN:-1})) "$PYTHON" tests/integration/run_python.py

    shopt -s nullglob
    node_tests=(tests/integration/*.test.mjs)
    if ((${#node_tests[@]} == 0)); then
        echo ">>> node: no tests/integration/*.test.mjs found"
        total_failed=$((total_failed + 1))
    elif can_run node; then
        run_suite node $((300 * ${SLOWDOWN:-1})) node --test --test-reporter=tap "${node_tests[@]}"
    fi
}

# run_build NAME: every suite against build/NAME.
run_build() {
    O="build/$1"
    export EPWS_BIN="$PWD/$O/epws" EPWS_BUILD=$1
    echo ">>> build $1"
    if [[ -x $O/unit_tests ]]; then
        run_suite unit 600 "$O/unit_tests"
    else
        echo ">>> unit: $O/unit_tests is missing (build it with make BUILD=$1 $O/unit_tests)"
        total_failed=$((total_failed + 1))
    fi

    if [[ -x $O/bench_tests ]]; then
        run_suite bench 300 "$O/bench_tests"
        # The load generator against the real server: "[smoke] test cases: N | N passed | N failed".
        run_suite smoke 300 env BUILD="$1" bash tests/bench/smoke.sh
    else
        echo ">>> bench: $O/bench_tests is missing (build it: make BUILD=$1 $O/bench_tests $O/epws-bench)"
        total_failed=$((total_failed + 1))
    fi

    run_integration

    # The browser suite: headless chromium against the release build only (a sanitizer build
    # adds nothing the browser can see, only minutes).
    if [[ $1 == release ]]; then
        # One browser at a time: --test-concurrency=1, where node knows the flag (Node 20 does;
        # Debian 12's node 18 refuses to start with it). There is one e2e file today.
        one_at_a_time=()
        node --test-concurrency=1 -e 0 >/dev/null 2>&1 && one_at_a_time=(--test-concurrency=1)
        can_run e2e &&
            run_suite e2e 180 node --test --test-reporter=tap "${one_at_a_time[@]}" tests/e2e/*.test.mjs
    fi
}

run_suite fresh 300 bash tests/fresh-machine.sh

for b in $BUILDS; do
    run_build "$b"
done

# The Autobahn TestSuite (tests/conformance/run.py) against the release server and client:
# "conformance: N passed, N failed, N skipped". Without the suite it says how to get one and
# prints 0 passed, 0 failed, 1 skipped: it adds nothing, never a pass.
parse_conformance() { sed -nE 's/^conformance: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/p' | tail -n 1; }
if ((RUN_CONFORMANCE == 0)); then
    echo ">>> conformance: not run (RUN_CONFORMANCE=0; make test runs it)"
elif [[ " $BUILDS " == *" release "* ]]; then
    run_suite conformance 2400 "$PYTHON" tests/conformance/run.py --build release
fi

# ThreadSanitizer: the threaded units (the ring's multi-producer, multi-consumer stress, the
# hub's cross-thread wake-ups, the per-address connection count, the connection registry read
# from other loops), then every integration suite against the server built with it, which runs
# --threads 2 in the cross-loop tests. halt_on_error: a report ends the process with status 66,
# so the test that caused it fails.
if ((RUN_TSAN == 0)); then
    echo ">>> tsan: not run (RUN_TSAN=0; make test runs it)"
elif [[ -x build/tsan/unit_tests && -x build/tsan/epws ]]; then
    echo ">>> build tsan"
    export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
    run_suite unit 300 build/tsan/unit_tests -ts='chat/broadcast_ring,chat/memory_bus,chat/rooms,net/peer_limit,chat/connection_registry'
    export EPWS_BIN="$PWD/build/tsan/epws" EPWS_BUILD=tsan
    SLOWDOWN=2 run_integration
    unset TSAN_OPTIONS
else
    echo ">>> tsan: build/tsan/unit_tests or build/tsan/epws is missing (build them: make BUILD=tsan build/tsan/unit_tests build/tsan/epws)"
    total_failed=$((total_failed + 1))
fi

# The fuzz targets (clang, libFuzzer + ASan + UBSan, their own build in build/fuzz/): every
# committed corpus input once, then a few seconds of fuzzing each:
# "[fuzz] test cases: N | N passed | N failed".
parse_fuzz() { parse_unit; }
if ((RUN_FUZZ == 0)); then
    echo ">>> fuzz: not run (RUN_FUZZ=0; make test runs it)"
elif can_run fuzz; then
    run_suite fuzz 900 bash tests/fuzz/smoke.sh
fi

echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
