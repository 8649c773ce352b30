#!/usr/bin/env bash
# tests/bench/smoke.sh: a short epws-bench run of every scenario against the real server; checks
# exit status 0, the JSON line, and that a wrong target fails loudly. Prints doctest-style counts:
#     [smoke] test cases: N | N passed | N failed
set -uo pipefail
cd "$(dirname "$0")/../.."
O="build/${BUILD:-release}"
out=$(mktemp -d)
srv="" srv2=""
trap 'kill $srv $srv2 2>/dev/null; rm -rf "$out"' EXIT

start() {  # start NAME FLAGS...: a server writing NAME.out; prints its pid
    "$O/epws" --port 0 "${@:2}" >"$out/$1.out" 2>"$out/$1.err" &
    echo $!
}
srv=$(start server --threads 2)
srv2=$(start nodeflate --threads 1 --deflate off)
# Poll for the listening lines with a deadline instead of sleeping a fixed time.
for _ in $(seq 100); do
    grep -q 'listening on' "$out/server.out" 2>/dev/null && grep -q 'listening on' "$out/nodeflate.out" 2>/dev/null && break
    sleep 0.05
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/server.out" | head -1)
port2=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/nodeflate.out" | head -1)
if [[ -z "$port" || -z "$port2" ]]; then
    echo "[smoke] a server did not start:"; cat "$out"/*.err
    echo "[smoke] test cases: 1 | 0 passed | 1 failed"
    exit 1
fi
passed=0 failed=0
check() {  # check NAME COMMAND...: passes when the command succeeds
    local name=$1
    shift
    if "$@" >"$out/last" 2>&1; then passed=$((passed + 1)); else
        failed=$((failed + 1))
        echo "[smoke] FAILED: $name"
        cat "$out/last"
    fi
}
b=(timeout 30 "$O/epws-bench")
common=(--server-pid "$srv" -t 0.5 -w 0.2 --quiet --json "$out/runs.json")
check "echo" "${b[@]}" echo --url "ws://127.0.0.1:$port/echo" -c 10 -s 100 "${common[@]}"
check "echo binary, 64 KiB" "${b[@]}" echo --url "ws://127.0.0.1:$port/echo" -c 2 -d 2 -s 65536 --binary "${common[@]}"
check "broadcast" "${b[@]}" broadcast --url "ws://127.0.0.1:$port/broadcast" -c 20 -p 2 -s 64 "${common[@]}"
check "broadcast at a rate" "${b[@]}" broadcast --url "ws://127.0.0.1:$port/broadcast" -c 20 -s 64 --rate 500 "${common[@]}"
check "connect" "${b[@]}" connect --url "ws://127.0.0.1:$port/echo" -c 4 "${common[@]}"
check "idle" "${b[@]}" idle --url "ws://127.0.0.1:$port/echo" -c 200 --hold 0.2 --sources 2 "${common[@]}"
check "echo with deflate, compressible" "${b[@]}" echo --url "ws://127.0.0.1:$port/echo" -c 4 -d 2 -s 4096 --deflate "${common[@]}"
check "echo with deflate, no context, random" "${b[@]}" echo --url "ws://127.0.0.1:$port/echo" -c 4 -d 2 -s 4096 --deflate-no-context --payload random "${common[@]}"
check "chat" "${b[@]}" chat --url "ws://127.0.0.1:$port/chat" -c 40 --rooms 4 --rate 2 "${common[@]}"
check "nine JSON lines, all ok" test "$(grep -c '"ok":true' "$out/runs.json")" -eq 9
# A server that declines deflate must fail a --deflate run (exit 2).
check "declined deflate fails loudly" bash -c '"$@"; test $? -eq 2' _ "${b[@]}" echo --url "ws://127.0.0.1:$port2/echo" -c 1 -t 0.2 -w 0 --deflate --quiet
# A path the server refuses must fail (exit 2), not print a figure.
check "a refused upgrade fails loudly" bash -c '"$@"; test $? -eq 2' _ "${b[@]}" echo --url "ws://127.0.0.1:$port/nope" -c 1 -t 0.2 -w 0 --quiet
echo "[smoke] test cases: $((passed + failed)) | $passed passed | $failed failed"
((failed == 0))
