#!/usr/bin/env bash
# tests/deps.sh: installs what building and testing epws needs, and nothing when it is all there.
# Called by `make deps`. Prints one line per action taken; silent when nothing is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

# Debian packages the build and the test clients need. node and npm are checked as commands
# instead: they are often installed from elsewhere (nodesource, nvm) without the Debian packages.
pkgs=(g++ make pkg-config libssl-dev zlib1g-dev doctest-dev libsimdjson-dev python3 python3-websockets clang libclang-rt-14-dev)

missing=()
for p in "${pkgs[@]}"; do
    # dpkg -s succeeds for removed-but-configured packages too; require "install ok installed".
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]} > 0)); then
    echo "deps: missing packages: ${missing[*]}"
    apt_cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
    if [[ $(id -u) -eq 0 ]]; then
        echo "deps: apt-get update"
        apt-get update -qq
        echo "deps: apt-get install ${missing[*]}"
        "${apt_cmd[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1; then
        # Not root: say exactly what will run; sudo asks for a password only where it must, and
        # -n makes it fail at once rather than hang when there is no terminal (CI).
        sudo_flags=()
        [[ -t 0 ]] || sudo_flags=(-n)
        echo "deps: not root; running: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
        if ! sudo "${sudo_flags[@]}" apt-get update -qq ||
            ! sudo "${sudo_flags[@]}" "${apt_cmd[@]}" >/dev/null; then
            echo "deps: sudo failed; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 1
        fi
    else
        echo "deps: not root and no sudo; as root, run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

# Node's ws for the node integration suite, pinned by tests/package-lock.json. `npm ci` wipes and
# reinstalls, so run it only when node_modules is absent or older than the lock file.
if [[ ! -d tests/node_modules || tests/package-lock.json -nt tests/node_modules ]]; then
    echo "deps: npm ci --prefix tests"
    npm ci --prefix tests --no-audit --no-fund --loglevel=error >/dev/null
    # npm ci may leave the directory's mtime older than the lock file; mark it as fresh.
    touch tests/node_modules
fi

# playwright-core for the browser suite, pinned by tests/e2e/package-lock.json; it drives Debian's
# chromium (never `npx playwright install`: no browser download).
if [[ ! -d tests/e2e/node_modules || tests/e2e/package-lock.json -nt tests/e2e/node_modules ]]; then
    echo "deps: npm ci --prefix tests/e2e"
    npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error >/dev/null
    touch tests/e2e/node_modules
fi
