"""tests/tools/docs.py: pastes the captures build/BUILD/tools/protocol_examples prints into the docs
pages that show them, or checks that the committed pages already hold exactly those. Layer: tests/.

A page marks each capture it shows:

    <!-- capture: NAME -->
    ```text
    (generated: the account ws/trace gives of the bytes our codec produced)
    ```
    <!-- /capture -->

Usage: /usr/bin/python3 tests/tools/docs.py --write|--check [--tool PATH] [PAGE ...]
(default pages: docs/protocol.md, docs/zh/protocol.md). --check exits 1 and shows a diff when a
page differs from what the build produces; `make docs` runs --write."""

import argparse
import difflib
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ["docs/protocol.md", "docs/zh/protocol.md"]
BLOCK = re.compile(r"(<!-- capture: ([\w-]+) -->\n)(.*?)(<!-- /capture -->)", re.S)


def captures(tool):
    out = subprocess.run([tool], capture_output=True, check=True, timeout=60).stdout.decode()
    found = {}
    for part in re.split(r"^@@ capture ", out, flags=re.M)[1:]:
        name, _, body = part.partition("\n")
        found[name.strip()] = body
    if not found:
        raise SystemExit(f"docs: {tool} printed no captures")
    return found


def render(text, caps, page):
    used = set()

    def repl(m):
        name = m.group(2)
        if name not in caps:
            raise SystemExit(f"docs: {page} shows capture '{name}', which {os.path.basename(TOOL)} "
                             f"does not print (it prints: {', '.join(sorted(caps))})")
        used.add(name)
        return f"{m.group(1)}```text\n{caps[name]}```\n{m.group(4)}"

    return BLOCK.sub(repl, text), used


def main():
    global TOOL
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    ap.add_argument("--tool", default=os.path.join(REPO, "build", "release", "tools",
                                                   "protocol_examples"))
    ap.add_argument("pages", nargs="*")
    args = ap.parse_args()
    TOOL = args.tool
    caps = captures(args.tool)
    bad = 0
    for rel in args.pages or PAGES:
        path = os.path.join(REPO, rel)
        with open(path, encoding="utf-8") as f:
            old = f.read()
        new, used = render(old, caps, rel)
        if not used:
            print(f"docs: {rel} shows no capture")
            bad += 1
        if new == old:
            print(f"docs: {rel}: {len(used)} captures, up to date")
            continue
        if args.write:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"docs: {rel}: rewritten")
        else:
            bad += 1
            print(f"docs: {rel} differs from what the build produces (run `make docs`):")
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), rel, rel + " (generated)", n=1))
    return 1 if bad else 0


TOOL = ""
if __name__ == "__main__":
    sys.exit(main())
