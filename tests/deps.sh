#!/usr/bin/env bash
# tests/deps.sh: installs what building, running and testing epws needs, and nothing when it is
# all there. The Debian packages are the lines of tests/deps.txt (the one list); the Node test
# clients are pinned by tests/package-lock.json and tests/e2e/package-lock.json.
#   bash tests/deps.sh            install what is missing (`make deps`, `make run`, `make test`)
#   bash tests/deps.sh --list     print the package names of tests/deps.txt, one a line
#   bash tests/deps.sh --table    the same with each one's cmd: ("-" for none): "NAME COMMAND"
#   bash tests/deps.sh --missing  print the packages that are not installed (exit 1 if any)
# As root it runs apt-get itself; as another user it prints the one command to run and exits 1.
# Prints one line per action taken; silent when nothing is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
DEPS_FILE=${DEPS_FILE:-tests/deps.txt}

# deps_lines: "NAME COMMAND" per package ("-" when no cmd: is given), comments stripped.
deps_lines() {
    sed -e 's/#.*//' "$DEPS_FILE" | awk 'NF { c = "-"; for (i = 2; i <= NF; i++) if ($i ~ /^cmd:/) c = substr($i, 5); print $1, c }'
}

# missing_packages: the packages of the list that are not installed, one a line.
missing_packages() {
    local name cmd
    while read -r name cmd; do
        if [[ $cmd != - ]]; then
            command -v "$cmd" >/dev/null 2>&1 || echo "$name"
        # dpkg -s succeeds for removed-but-configured packages too; require "install ok installed".
        elif ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q '^install ok installed$'; then
            echo "$name"
        fi
    done < <(deps_lines)
}

case ${1:-} in
--list)
    deps_lines | cut -d' ' -f1
    exit 0
    ;;
--table)
    deps_lines
    exit 0
    ;;
--missing)
    m=$(missing_packages)
    [[ -z $m ]] || { echo "$m"; exit 1; }
    exit 0
    ;;
"") ;;
*)
    echo "usage: bash tests/deps.sh [--list|--table|--missing]" >&2
    exit 2
    ;;
esac

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} > 0)); then
    install="apt-get install -y --no-install-recommends ${missing[*]}"
    # DEPS_UID stands in for id -u in tests/fresh-machine.sh's self-test.
    if [[ ${DEPS_UID:-$(id -u)} -ne 0 ]]; then
        # Not root: say the one command that fixes it, and stop (no sudo prompt in the middle of
        # a build; CI runs as root).
        if command -v sudo >/dev/null 2>&1; then
            echo "deps: missing packages: ${missing[*]}; run: sudo apt-get update && sudo $install" >&2
        else
            echo "deps: missing packages: ${missing[*]}; as root, run: apt-get update && $install" >&2
        fi
        exit 1
    fi
    echo "deps: apt-get update"
    apt-get update -qq
    echo "deps: $install"
    # The log is shown only when apt-get fails: on success it is pages of "Setting up".
    log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive $install >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -f "$log"
        echo "deps: apt-get install failed" >&2
        exit 1
    fi
    rm -f "$log"
fi

# npm_ci DIR: the Node packages of DIR, pinned by DIR/package-lock.json. `npm ci` wipes and
# reinstalls, so run it only when DIR/node_modules is absent or older than the lock file.
npm_ci() {
    if [[ ! -d $1/node_modules || $1/package-lock.json -nt $1/node_modules ]]; then
        echo "deps: npm ci --prefix $1"
        npm ci --prefix "$1" --no-audit --no-fund --loglevel=error >/dev/null
        # npm ci may leave the directory's mtime older than the lock file; mark it as fresh.
        touch "$1/node_modules"
    fi
}
npm_ci tests     # ws, for the node integration suite
npm_ci tests/e2e # playwright-core, which drives Debian's chromium (no browser download)
