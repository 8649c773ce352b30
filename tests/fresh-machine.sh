#!/usr/bin/env bash
# tests/fresh-machine.sh: would `make test` work on a fresh Debian 12 machine? Checks, need by need,
# that everything each suite needs (tests/needs.txt) comes from a package that tests/deps.sh
# installs (tests/deps.txt), that it is installed here, that each suite's files run no command
# and import no module the table leaves out, and that README.md lists exactly tests/deps.txt.
#   bash tests/fresh-machine.sh               every check, then its own self-test; ends with
#                                             "fresh-machine: N passed, N failed" (tests/run_all.sh)
#   bash tests/fresh-machine.sh --suite NAME  only: is everything NAME needs installed? Prints what
#                                             is missing and the fix; exit 1 if anything is.
# DEPS_FILE, NEEDS_FILE and README name other files to check (the self-test uses them).
set -uo pipefail

cd "$(dirname "$0")/.."
export DEPS_FILE=${DEPS_FILE:-tests/deps.txt}
NEEDS_FILE=${NEEDS_FILE:-tests/needs.txt}
README=${README:-README.md}
PYTHON=/usr/bin/python3
FIX="run: make deps (as root; it installs every package of tests/deps.txt)"

# Distinctive names of programs a suite might run; a suite's files mentioning one must declare it
# (cmd:) or say why not (ignore:). Every cmd: of the table is watched too.
WATCH=(chromium chromium-browser google-chrome firefox redis-server redis-cli nginx haproxy openssl
    testssl testssl.sh promtool prometheus strace perf systemd-analyze clang clang++ g++ gcc ccache
    node npm npx python3 curl wget socat websocat jq gnuplot valgrind gdb llvm-symbolizer lsof
    taskset wrk h2load docker)

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "fresh-machine: FAILED: $*"
}

declare -A in_deps dep_cmd
while read -r name cmd; do
    in_deps[$name]=1
    dep_cmd[$name]=$cmd
done < <(bash tests/deps.sh --table)

# needs: "SUITE KIND NAME FROM" per line of the table, comments stripped.
needs() {
    sed -e 's/#.*//' "$NEEDS_FILE" | awk 'NF { k = $2; n = k; sub(/:.*/, "", k); sub(/^[^:]*:/, "", n); print $1, k, n, ($3 == "" ? "-" : $3) }'
}

# owner PATH: the Debian package that installed PATH (following symlinks, and /bin for /usr/bin
# on a merged-/usr system), or nothing.
owner() {
    local p
    for p in "$1" "$(readlink -f "$1")" "${1/#\/usr\/bin\//\/bin\/}" "${1/#\/usr\/sbin\//\/sbin\/}"; do
        dpkg -S "$p" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1 | grep . && return
    done
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# present SUITE KIND NAME FROM: is the need installed on this machine? Prints why not.
present() {
    local suite=$1 kind=$2 name=$3 from=$4
    case $kind in
    cmd) command -v "$name" >/dev/null 2>&1 && return 0
        echo "suite $suite needs the command $name (package $from), which is not installed; $FIX" ;;
    pkg) installed "$name" && return 0
        echo "suite $suite needs the package $name, which is not installed; $FIX" ;;
    py) "$PYTHON" -c "import $name" 2>/dev/null && return 0
        echo "suite $suite needs the python module $name (package $from) for $PYTHON, which cannot import it; $FIX" ;;
    node) [[ -d $from/node_modules/$name ]] && return 0
        echo "suite $suite needs the node package $name in $from/node_modules, which is missing; $FIX" ;;
    *) return 0 ;;
    esac
    return 1
}

if [[ ${1:-} == --suite ]]; then
    suite=${2:?usage: fresh-machine.sh --suite NAME}
    rc=0
    while read -r s kind name from; do
        [[ $s == "$suite" ]] || continue
        present "$s" "$kind" "$name" "$from" || rc=1
    done < <(needs)
    exit $rc
fi

# 1. README.md lists exactly tests/deps.txt, in its order.
readme_list=$(sed -n '/<!-- deps:begin/,/<!-- deps:end/p' "$README" | grep -v '<!--' | tr -d '`' | tr -s ' \n' '\n\n' | grep .)
deps_list=$(bash tests/deps.sh --list)
if [[ -z $readme_list ]]; then
    bad "$README has no <!-- deps:begin --> ... <!-- deps:end --> list"
elif [[ $readme_list != "$deps_list" ]]; then
    bad "$README's package list differs from $DEPS_FILE (< README, > deps.txt):" \
        "$(diff <(echo "$readme_list") <(echo "$deps_list") | grep '^[<>]' | tr '\n' ' ')"
else
    ok
fi

# 2. Every package of tests/deps.txt is installed, or one apt-get can install (a typo or a name
# from another release would make deps.sh fail on a fresh machine).
while read -r name cmd; do
    if [[ $cmd != - ]] && command -v "$cmd" >/dev/null 2>&1; then ok
    elif installed "$name" || apt-cache show "$name" >/dev/null 2>&1; then ok
    else bad "$DEPS_FILE lists $name, which is neither installed nor known to apt-cache (run apt-get update?)"
    fi
done < <(bash tests/deps.sh --table)

# 3. Each need comes from a package of tests/deps.txt (the table says which, and dpkg agrees when
# it is installed), and is installed here.
declare -A declared files ignores
while read -r suite kind name from; do
    declared[$suite:$name]=1
    case $kind in
    files)
        files[$suite]+=" $name"
        continue
        ;;
    ignore)
        ignores[$suite]+=" $name"
        continue
        ;;
    # make is also an English word (and every suite's files say it); the build suite declares it.
    cmd) [[ $name == make ]] || WATCH+=("$name") ;;
    pkg) from=$name ;;
    node)
        # The package is in DIR/package.json, and deps.sh runs npm ci for DIR.
        if grep -q "\"$name\"" "$from/package.json" 2>/dev/null && grep -qE "^npm_ci $from( |$)" tests/deps.sh; then ok; else
            bad "suite $suite needs the node package $name, but $from/package.json does not list it or tests/deps.sh does not run npm ci for $from"
        fi
        if msg=$(present "$suite" "$kind" "$name" "$from"); then ok; else bad "$msg"; fi
        continue
        ;;
    py) ;;
    *)
        bad "$NEEDS_FILE: unknown kind '$kind:' in '$suite $kind:$name'"
        continue
        ;;
    esac
    if [[ $from == base ]]; then
        # Part of every Debian system: the owner of the command has Priority: required.
        p=$(owner "$(command -v "$name" 2>/dev/null || echo "/nonexistent/$name")")
        if [[ -n $p && $(dpkg-query -W -f='${Priority}' "$p" 2>/dev/null) == required ]]; then ok; else
            bad "suite $suite needs $kind $name from the base system, but its package (${p:-none}) is not Priority: required"
        fi
        continue
    fi
    if [[ -z ${in_deps[$from]:-} ]]; then
        bad "suite $suite needs $kind $name from the package $from, which $DEPS_FILE does not list (tests/deps.sh would not install it)"
        continue
    fi
    real=""
    # (FRESH_SKIP_OWNER=1, in the self-test's runs: dpkg -S is the slow part, and not under test.)
    [[ ${FRESH_SKIP_OWNER:-0} == 1 ]] && kind=skip-$kind
    case $kind in
    cmd) command -v "$name" >/dev/null 2>&1 && real=$(owner "$(command -v "$name")") ;;
    py) f=$("$PYTHON" -c "import $name; print($name.__file__)" 2>/dev/null) && real=$(owner "$f") ;;
    esac
    # node and npm from nodesource or nvm belong to no package of that name: deps.txt's cmd: says
    # the command is what counts.
    if [[ -n $real && $real != "$from" && ${dep_cmd[$from]} != "$name" ]]; then
        bad "suite $suite: $NEEDS_FILE says $kind $name comes from $from, but dpkg -S says $real"
        continue
    fi
    if msg=$(present "$suite" "${kind#skip-}" "$name" "$from"); then ok; else bad "$msg"; fi
done < <(needs)

# 4. Each suite's files run no watched command and import no module the table does not declare.
mapfile -t stdlib < <("$PYTHON" -c 'import sys; print("\n".join(sorted(sys.stdlib_module_names)))')
declare -A is_stdlib
for m in "${stdlib[@]}"; do is_stdlib[$m]=1; done
node_builtins=" $(node -p 'require("module").builtinModules.join(" ")' 2>/dev/null) "

for suite in "${!files[@]}"; do
    list=()
    for g in ${files[$suite]}; do
        shopt -s nullglob
        m=($g)
        shopt -u nullglob
        ((${#m[@]} > 0)) || bad "suite $suite: $NEEDS_FILE names files:$g, which matches no file"
        list+=("${m[@]}")
    done
    ((${#list[@]} > 0)) || continue
    # Where a command name would be: the code of shell and make files without comments; only the
    # string literals of C++, JS and python (where a program is spawned by a name in a string).
    code=$(for f in "${list[@]}"; do
        case $f in
        *.cc | *.h | *.mjs | *.js | *.py) grep -oE "\"[^\"]*\"|'[^']*'|\`[^\`]*\`" "$f" ;;
        *) sed -e 's/#.*$//' "$f" ;;
        esac
    done)
    # One grep for every watched name at once: a name not inside a longer word, path part
    # excepted ("/usr/bin/chromium" runs chromium; "clang" is not found in "clang++").
    alt=$(printf '%s\n' "${WATCH[@]}" | sort -u | sed 's/[.+]/\\&/g' | paste -sd'|')
    found=$(grep -oE "(^|[^A-Za-z0-9_.-])($alt)(\$|[^A-Za-z0-9_+:-])" <<<"$code" |
        sed -E 's/^[^A-Za-z0-9_.+-]//; s/[^A-Za-z0-9_.+-]$//' | sort -u)
    for w in $found; do
        if [[ -n ${declared[$suite:$w]:-} ]]; then ok; else
            bad "suite $suite: its files (${files[$suite]# }) run $w, which $NEEDS_FILE does not declare for it (add '$suite cmd:$w PACKAGE', and PACKAGE to $DEPS_FILE; or '$suite ignore:$w' saying why)"
        fi
    done
    # An ignore: whose word the files no longer hold is stale: it would hide a future use.
    for w in ${ignores[$suite]:-}; do
        if grep -qxF -- "$w" <<<"$found"; then ok; else
            bad "suite $suite: $NEEDS_FILE has '$suite ignore:$w', but its files no longer mention $w (remove the line)"
        fi
    done
    # Python imports that are neither the standard library nor the suite's own modules.
    for f in "${list[@]}"; do
        [[ $f == *.py ]] || continue
        for mod in $(sed -nE 's/^[[:space:]]*(import|from)[[:space:]]+([A-Za-z_][A-Za-z0-9_]*).*/\2/p' "$f" | sort -u); do
            [[ -n ${is_stdlib[$mod]:-} || -e $(dirname "$f")/$mod.py || -d $(dirname "$f")/$mod ]] && continue
            if [[ -n ${declared[$suite:$mod]:-} ]]; then ok; else
                bad "suite $suite: $f imports $mod, which $NEEDS_FILE does not declare (add '$suite py:$mod PACKAGE', and PACKAGE to $DEPS_FILE)"
            fi
        done
    done
    # Node imports that are neither built in nor relative.
    for f in "${list[@]}"; do
        [[ $f == *.mjs || $f == *.js ]] || continue
        for mod in $(grep -oE "(from|import\(|require\()[[:space:]]*['\"][^'\"]+['\"]" "$f" | sed -E "s/.*['\"]([^'\"]+)['\"]/\1/" | sort -u); do
            [[ $mod == .* || $mod == node:* || $node_builtins == *" $mod "* ]] && continue
            [[ $mod == @* ]] && mod=$(cut -d/ -f1-2 <<<"$mod") || mod=${mod%%/*}
            if [[ -n ${declared[$suite:$mod]:-} ]]; then ok; else
                bad "suite $suite: $f imports the node package $mod, which $NEEDS_FILE does not declare (add '$suite node:$mod DIR' with DIR/package.json listing it)"
            fi
        done
    done
done

# 5. The self-test: the checks above must catch a list without chromium, a table that forgets a
# command the e2e suite runs and a README that lists one package too many; deps.sh must find a
# missing package and, for a user who is not root, stop with the one command to run.
if [[ ${FRESH_SELF_TEST:-1} == 1 ]]; then
    scratch=$(mktemp -d)
    grep -v '^chromium ' "$DEPS_FILE" >"$scratch/deps.txt"
    grep -v '^e2e cmd:chromium' "$NEEDS_FILE" >"$scratch/needs.txt"
    sed '/<!-- deps:begin/a nginx-full' "$README" >"$scratch/README.md"
    # expect_failure NAME PATTERN ENV...: a run with ENV must fail with a line matching PATTERN.
    expect_failure() {
        local what=$1 pattern=$2 out
        shift 2
        out=$(env FRESH_SELF_TEST=0 FRESH_SKIP_OWNER=1 "$@" bash tests/fresh-machine.sh 2>&1)
        if [[ $? -ne 0 ]] && grep -qE "$pattern" <<<"$out"; then ok; else
            bad "self-test: $what was not caught (expected a failure matching: $pattern)"
        fi
    }
    expect_failure "chromium missing from deps.txt" \
        'FAILED: suite e2e needs cmd chromium from the package chromium, which .* does not list' \
        DEPS_FILE="$scratch/deps.txt"
    expect_failure "e2e not declaring chromium" \
        'FAILED: suite e2e: .* run chromium, which .* does not declare' NEEDS_FILE="$scratch/needs.txt"
    expect_failure "README listing a package deps.txt lacks" \
        "FAILED: .*README.md's package list differs .*< nginx-full" README="$scratch/README.md"
    # deps.sh itself: a package that is not installed is missing, and a user who is not root is
    # told the one command to run (nothing is installed: DEPS_UID=1000 stands in for that user).
    printf 'g++\nepws-no-such-package cmd:epws-no-such-command\n' >"$scratch/fake-deps.txt"
    if [[ $(DEPS_FILE="$scratch/fake-deps.txt" bash tests/deps.sh --missing) == epws-no-such-package ]]; then ok; else
        bad "self-test: deps.sh --missing does not name a package whose command is absent"
    fi
    out=$(DEPS_FILE="$scratch/fake-deps.txt" DEPS_UID=1000 bash tests/deps.sh 2>&1)
    if [[ $? -eq 1 && $out == *"apt-get install -y --no-install-recommends epws-no-such-package" ]]; then ok; else
        bad "self-test: deps.sh as a user who is not root does not stop with the one command to run: $out"
    fi
    rm -rf "$scratch"
fi

echo "fresh-machine: $passed passed, $failed failed"
((failed == 0))
