#!/usr/bin/env bash
# bench/deps.sh: installs what the peer comparison needs, and nothing when it is all there.
# Called by `make bench`. Debian packages via apt-get, Node's ws via `npm ci` (lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(g++ make pkg-config libssl-dev zlib1g-dev libboost-dev libwebsockets-dev gnuplot-nox python3-websockets)
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

# The Node peer's ws, pinned by bench/peers/node/package-lock.json.
if [[ ! -d bench/peers/node/node_modules || bench/peers/node/package-lock.json -nt bench/peers/node/node_modules ]]; then
    echo "bench/deps: npm ci --prefix bench/peers/node"
    npm ci --prefix bench/peers/node --no-audit --no-fund --loglevel=error >/dev/null
    touch bench/peers/node/node_modules
fi
