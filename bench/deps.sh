#!/usr/bin/env bash
# bench/deps.sh: installs what the peer comparison needs, and nothing when it is all there.
# Called by `make bench`. Debian packages via apt-get, Node's ws via `npm ci` (lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(g++ make pkg-config libssl-dev zlib1g-dev libboost-dev libwebsockets-dev gnuplot-nox python3-websockets
      linux-perf strace)  # perf counts the servers' system calls; strace where perf cannot
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]} > 0)); then
    echo "bench/deps: missing packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "bench/deps: as root, run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Node peers: ws (bench/peers/node) and Socket.IO (bench/peers/socketio), each pinned by
# its package-lock.json.
for dir in bench/peers/node bench/peers/socketio; do
    if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules ]]; then
        echo "bench/deps: npm ci --prefix $dir"
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
        touch "$dir/node_modules"
    fi
done

# uWebSockets is not a package: bench/compare runs the peer binary named by UWS_PEER, and says
# loudly that it skipped it when that is not set.
if [[ -z ${UWS_PEER:-} ]]; then
    echo "bench/deps: UWS_PEER not set: uWebSockets will be skipped (see bench/compare)"
fi
