"""tests/conformance/run.py: the Autobahn TestSuite against epws, both sides. Layer: tests/.

  server side: `wstest -m fuzzingclient` against the real server on /echo, for --threads 1 and 2
               and --deflate shared and dedicated (four agents, one server process each);
  client side: `wstest -m fuzzingserver` on a loopback port, played by build/BUILD/conformance_client
               (ws/client_connection), with and without permessage-deflate offered.
Cases: 1-7, 9, 10, and the first four of every 12.x/13.x group (--full: all of 12 and 13; the
client without deflate skips 12 and 13, which test compression). A case passes only when both
its behaviour and its close behaviour are OK or INFORMATIONAL (tests/conformance/report.py).
Reports stay in build/BUILD/conformance/{server,client}/ (index.html for a browser).

Ends with one line tests/run_all.sh parses: "conformance: N passed, N failed, N skipped" (one
test per agent and case). Without the suite it says how to get one and reports 1 skipped.

Usage: /usr/bin/python3 tests/conformance/run.py [--build B] [--side server|client|both] [--full]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import report  # noqa: E402

BASE_CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"]
# Exact ids: "12.*.1" would also select 12.1.10 and up (the suite's pattern match is fnmatch).
FIRST_FOUR = [f"12.{g}.{i}" for g in range(1, 6) for i in range(1, 5)] + \
             [f"13.{g}.{i}" for g in range(1, 8) for i in range(1, 5)]
FULL_COMPRESSION = ["12.*", "13.*"]

SERVER_AGENTS = [(threads, mode) for mode in ("shared", "dedicated") for threads in (1, 2)]
CLIENT_AGENTS = [("epws-client", False), ("epws-client-deflate", True)]

HOW_TO_GET = """\
conformance: SKIPPED: no Autobahn TestSuite (wstest) found.
conformance: looked for $WSTEST, `wstest` on PATH and ../shared/autobahn/wstest beside the
conformance: repository (or beside its main checkout, for a git worktree).
conformance: to get one, either
conformance:   - install it for Python 2.7: python2.7 -m pip install autobahntestsuite
conformance:     (then `wstest` is on PATH, or set WSTEST=/path/to/wstest), or
conformance:   - use the Docker image: docker pull crossbario/autobahn-testsuite, and set WSTEST to a
conformance:     script that runs `docker run --rm --network host -v "$PWD:$PWD" -w "$PWD"
conformance:     crossbario/autobahn-testsuite wstest "$@"`.
conformance: NOTHING WAS TESTED: this run counts as skipped, not passed."""


def find_wstest():
    """(launcher, explicit): $WSTEST (explicit: if it cannot run, the run fails), else wstest on
    PATH, else ../shared/autobahn/wstest; (None, False) when there is none."""
    if os.environ.get("WSTEST"):
        return os.environ["WSTEST"], True
    on_path = shutil.which("wstest")
    if on_path:
        return on_path, False
    roots = [REPO]
    try:
        common = subprocess.run(["git", "-C", REPO, "rev-parse", "--path-format=absolute",
                                 "--git-common-dir"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        if common:
            roots.append(os.path.dirname(common))  # the main checkout of a worktree
    except (OSError, subprocess.TimeoutExpired):
        pass
    for root in roots:
        cand = os.path.join(os.path.dirname(root), "shared", "autobahn", "wstest")
        if os.access(cand, os.X_OK):
            return cand, False
    return None, False


def suite_runs(wstest):
    """(True, "") when wstest starts; (False, why) when its interpreter is missing (exit 127)."""
    try:
        p = subprocess.run([wstest, "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    if p.returncode == 127:
        return False, (p.stderr or p.stdout).strip()
    return True, ""


def run_wstest(wstest, mode, spec, workdir, log_path, limit_s):
    """Runs wstest -m MODE with spec (a dict) from workdir; returns the Popen (mode
    fuzzingserver: still running) or the exit status (fuzzingclient)."""
    spec_path = os.path.join(workdir, f"{mode}.json")
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=2)
    log = open(log_path, "wb")
    cmd = [wstest, "-m", mode, "-s", spec_path]
    proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    if mode == "fuzzingserver":
        return proc
    try:
        return proc.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        stop(proc)
        print(f"conformance: wstest -m {mode} ran over {limit_s}s and was stopped")
        return None


def stop(proc):
    """Ends a process group we started (wstest runs Python under bash)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            proc.wait()


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def count(index, outdir, agents_cases):
    """Judges every (agent, cases) pair; prints each failing case with what it expected and
    received. Returns (passed, failed, results by agent)."""
    passed = failed = 0
    by_agent = {}
    for agent, cases in agents_cases:
        results = report.judge(index, agent, cases)
        by_agent[agent] = results
        for case_id, ok, b, bc in results:
            if ok:
                passed += 1
                continue
            failed += 1
            print(f"conformance: FAILED {agent} {case_id} (behavior {b}, close {bc})")
            for line in report.explain(outdir, index, agent, case_id):
                print(f"conformance: {line}")
    return passed, failed, by_agent


def case_ids(index, patterns, excluded=()):
    """The case ids the report holds for any agent that the patterns select."""
    ids = set()
    for cases in index.values():
        if isinstance(cases, dict):
            ids.update(c for c in cases if report.wanted(c, patterns, excluded))
    return ids


def server_side(wstest, args, out):
    from harness import Server  # tests/integration/harness.py: starts the real binary

    outdir = fresh_dir(os.path.join(out, "server"))
    cases = BASE_CASES + (FULL_COMPRESSION if args.full else FIRST_FOUR)
    servers, spec_servers = [], []
    try:
        for threads, mode in SERVER_AGENTS:
            s = Server("--host", "127.0.0.1", "--threads", threads, "--deflate", mode).start()
            servers.append(s)
            spec_servers.append({"agent": f"epws-t{threads}-{mode}",
                                 "url": f"ws://127.0.0.1:{s.port}/echo"})
        spec = {"outdir": outdir, "servers": spec_servers, "cases": cases,
                "exclude-cases": [], "exclude-agent-cases": {}}
        rc = run_wstest(wstest, "fuzzingclient", spec, outdir,
                        os.path.join(outdir, "wstest.log"), args.limit)
        dead = [a["agent"] for a, s in zip(spec_servers, servers) if not s.alive()]
    finally:
        for s in servers:
            s.close()
    return judge_run("server", outdir, rc, cases, [a["agent"] for a in spec_servers], dead)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, deadline_s):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            # Polling for the suite's listener to appear: nothing to select on before it exists.
            time.sleep(0.1)
    return False


def client_side(wstest, args, out):
    driver = os.path.join(REPO, "build", args.build, "conformance_client")
    if not os.access(driver, os.X_OK):
        print(f"conformance: {driver} is missing (make BUILD={args.build} {driver[len(REPO) + 1:]})")
        return 0, 1, {}
    compression = FULL_COMPRESSION if args.full else FIRST_FOUR
    total = [0, 0, {}]
    for agent, deflate in CLIENT_AGENTS:
        outdir = fresh_dir(os.path.join(out, "client", agent))
        cases = BASE_CASES + (compression if deflate else [])
        port = free_port()
        spec = {"url": f"ws://127.0.0.1:{port}", "outdir": outdir, "cases": cases,
                "exclude-cases": [], "exclude-agent-cases": {}}
        proc = run_wstest(wstest, "fuzzingserver", spec, outdir,
                          os.path.join(outdir, "wstest.log"), args.limit)
        try:
            if not wait_listening(port, proc, 60):
                print(f"conformance: wstest -m fuzzingserver did not listen on {port}; see "
                      f"{os.path.join(outdir, 'wstest.log')}")
                total[1] += 1
                continue
            cmd = [driver, "--port", str(port), "--agent", agent] + (["--deflate"] if deflate else [])
            try:
                rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=args.limit).returncode
            except subprocess.TimeoutExpired:
                rc = None
                print(f"conformance: {agent} ran over {args.limit}s")
        finally:
            stop(proc)
        p, f, by = judge_run("client", outdir, rc, cases, [agent], [])
        total[0] += p
        total[1] += f
        total[2].update(by)
    return tuple(total)


def judge_run(side, outdir, rc, patterns, agents, dead):
    """Counts of one run; a run that crashed or wrote no report is a failure, never a pass."""
    try:
        index = report.load(outdir)
    except ValueError as e:
        print(f"conformance: {side}: {e}; wstest exit status {rc}; see {outdir}/wstest.log")
        return 0, 1, {}
    # Exact ids must be there even if no agent ran them; patterns, as far as any agent ran.
    expected = case_ids(index, patterns) | {p for p in patterns if "*" not in p}
    passed, failed, by_agent = count(index, outdir, [(a, expected) for a in agents])
    if rc != 0:
        print(f"conformance: {side}: wstest/driver exit status {rc}: counting 1 failed")
        failed += 1
    for agent in dead:
        print(f"conformance: {side}: the server of {agent} died during the run: counting 1 failed")
        failed += 1
    if not expected:
        print(f"conformance: {side}: the report holds none of the cases asked for")
        failed += 1
    return passed, failed, by_agent


def summary(by_agent):
    for agent, results in sorted(by_agent.items()):
        parts = []
        for sec, c in sorted(report.section_counts(results).items(), key=lambda x: int(x[0])):
            bad = "".join(f" {k} {v}" for k, v in c.items() if k != "OK" and v)
            parts.append(f"{sec}: {c['OK']} OK{bad}")
        print(f"conformance: {agent}: " + "; ".join(parts))


def markdown(by_agent, sides, full):
    """The per-section table docs/conformance.md shows: one per side, sections down, agents
    across, each cell the count of cases per verdict (the worse of behaviour and close)."""
    lines = [f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} with autobahn-testsuite "
             f"25.10.1 (wstest), cases 1-7, 9, 10 and "
             + ("all of 12 and 13." if full else "the first four of every 12.x and 13.x group."),
             ""]
    for side, agents in sides:
        agents = [a for a in agents if a in by_agent]
        if not agents:
            continue
        counts = {a: report.section_counts(by_agent[a]) for a in agents}
        secs = sorted({sec for c in counts.values() for sec in c}, key=int)
        lines += [f"**{side}**", "", "| section | " + " | ".join(f"`{a}`" for a in agents) + " |",
                  "|---|" + "---|" * len(agents)]
        for sec in secs:
            cells = []
            for a in agents:
                c = counts[a].get(sec)
                cells.append(" · ".join(f"{n} {k}" for k, n in c.items() if n) if c else "-")
            lines.append(f"| {sec} {report.SECTIONS.get(sec, '')} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def update_doc(path, text):
    begin, end = "<!-- conformance:begin -->\n", "<!-- conformance:end -->"
    with open(path, encoding="utf-8") as f:
        page = f.read()
    a, b = page.find(begin), page.find(end)
    if a < 0 or b < a:
        print(f"conformance: {path} has no {begin.strip()} ... {end} block")
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write(page[:a + len(begin)] + text + page[b:])
    print(f"conformance: {path} updated")
    return True


def from_reports(out):
    """Judges the reports a previous run left (no suite is run)."""
    passed = failed = 0
    by_agent = {}
    runs = [os.path.join(out, "server")] + sorted(
        os.path.join(out, "client", d) for d in os.listdir(os.path.join(out, "client"))
        if os.path.isdir(os.path.join(out, "client", d))) if os.path.isdir(out) else []
    for outdir in runs:
        try:
            index = report.load(outdir)
        except ValueError as e:
            print(f"conformance: {e}")
            failed += 1
            continue
        expected = case_ids(index, ["*"])
        p, f, by = count(index, outdir, [(a, expected) for a in index])
        passed, failed = passed + p, failed + f
        by_agent.update(by)
    return passed, failed, by_agent


def selftest():
    """The judge's own tests (test_report.py); True when they pass."""
    import unittest
    import test_report
    suite = unittest.defaultTestLoader.loadTestsFromModule(test_report)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=0).run(suite)
    return result.wasSuccessful()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("EPWS_BUILD", "release"))
    ap.add_argument("--side", choices=("server", "client", "both"), default="both")
    ap.add_argument("--full", action="store_true", help="all of sections 12 and 13 (hours)")
    ap.add_argument("--limit", type=int, default=None, help="seconds per wstest run")
    ap.add_argument("--doc", help="write the per-section tables into this page's "
                    "<!-- conformance:begin/end --> block (docs/conformance.md)")
    ap.add_argument("--from-reports", action="store_true",
                    help="judge the reports of the last run instead of running the suite")
    args = ap.parse_args()
    if args.limit is None:
        args.limit = 6 * 3600 if args.full else 1200
    os.environ.setdefault("EPWS_BIN", os.path.join(REPO, "build", args.build, "epws"))
    os.environ["EPWS_BUILD"] = args.build

    if not selftest():
        print("conformance: the report judge fails its own tests (tests/conformance/test_report.py)")
        print("conformance: 0 passed, 1 failed, 0 skipped")
        return 1
    out = os.path.join(REPO, "build", args.build, "conformance")
    sides = [("Server (the fuzzing client against build/" + args.build + "/epws /echo)",
              [f"epws-t{t}-{m}" for t, m in SERVER_AGENTS]),
             ("Client (the fuzzing server against ws/client_connection)",
              [a for a, _ in CLIENT_AGENTS])]
    if args.from_reports:
        passed, failed, by_agent = from_reports(out)
        summary(by_agent)
        if args.doc and not update_doc(args.doc, markdown(by_agent, sides, args.full)):
            failed += 1
        print(f"conformance: {passed} passed, {failed} failed, 0 skipped (from the last reports)")
        return 1 if failed else 0

    wstest, explicit = find_wstest()
    if wstest:
        ok, why = suite_runs(wstest)
        if not ok:
            print(f"conformance: {wstest} cannot run: {why}")
            if explicit:  # asked for by name: a broken suite is a failure, not a skip
                print("conformance: WSTEST names a suite that does not run")
                print("conformance: 0 passed, 1 failed, 0 skipped")
                return 1
            wstest = None
    if not wstest:
        print(HOW_TO_GET)
        print("conformance: 0 passed, 0 failed, 1 skipped")
        return 0

    os.makedirs(out, exist_ok=True)
    print(f"conformance: suite {wstest}; reports in {out}")
    start = time.monotonic()
    passed = failed = 0
    by_agent = {}
    for side, fn in (("server", server_side), ("client", client_side)):
        if args.side not in (side, "both"):
            continue
        t0 = time.monotonic()
        p, f, by = fn(wstest, args, out)
        print(f"conformance: {side} side: {p} passed, {f} failed ({time.monotonic() - t0:.0f} s)")
        passed, failed = passed + p, failed + f
        by_agent.update(by)
    summary(by_agent)
    with open(os.path.join(out, "summary.md"), "w", encoding="utf-8") as f:
        f.write(markdown(by_agent, sides, args.full))
    if args.doc and not update_doc(args.doc, markdown(by_agent, sides, args.full)):
        failed += 1
    print(f"conformance: {passed} passed, {failed} failed, 0 skipped "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
