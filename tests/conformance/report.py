"""tests/conformance/report.py: reads an Autobahn TestSuite report directory and judges it.

Layer: tests/. Pure apart from reading the report files. The bar: a case passes only when both
its behaviour and its close behaviour are OK or INFORMATIONAL; NON-STRICT, UNIMPLEMENTED,
WRONG CODE, FAILED (and anything else) fail, and so does a case we asked for that the report
lacks.
"""

import fnmatch
import json
import os

PASSING = ("OK", "INFORMATIONAL")

# The suite's sections, by the number before the first dot (its own case/__init__.py names).
SECTIONS = {
    "1": "Framing", "2": "Pings/Pongs", "3": "Reserved bits", "4": "Opcodes",
    "5": "Fragmentation", "6": "UTF-8 handling", "7": "Close handling",
    "9": "Limits/performance", "10": "Misc", "12": "Compression (payloads)",
    "13": "Compression (parameters)",
}


def case_key(case_id):
    """Sort key: "9.10.2" after "9.2.1"."""
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def load(outdir):
    """index.json of outdir: {agent: {case_id: entry}}. Raises ValueError when it is missing or
    malformed, so a run that wrote nothing cannot look like a run that failed nothing."""
    path = os.path.join(outdir, "index.json")
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: no readable report ({e})") from e
    if not isinstance(index, dict):
        raise ValueError(f"{path}: not a report (top level is not an object)")
    return index


def case_detail(outdir, entry):
    """The per-case report (description, expectation, expected, received, result), or {}."""
    name = entry.get("reportfile") if isinstance(entry, dict) else None
    if not name or os.path.basename(name) != name:
        return {}
    try:
        with open(os.path.join(outdir, name), encoding="utf-8") as f:
            detail = json.load(f)
    except (OSError, json.JSONDecodeError):
        return {}
    return detail if isinstance(detail, dict) else {}


def wanted(case_id, patterns, excluded=()):
    """Whether a spec's case patterns select case_id (the suite's own fnmatch-style match)."""
    def hit(pats):
        return any(fnmatch.fnmatchcase(case_id, p) for p in pats)
    return hit(patterns) and not hit(excluded)


def judge(index, agent, expected_cases):
    """Per case of agent, (case_id, passed, behavior, behaviorClose). expected_cases: the ids
    the run asked for; one missing from the report is a failure ("MISSING")."""
    cases = index.get(agent)
    if not isinstance(cases, dict):
        cases = {}
    out = []
    for case_id in sorted(set(cases) | set(expected_cases), key=case_key):
        entry = cases.get(case_id)
        if not isinstance(entry, dict):
            out.append((case_id, False, "MISSING", "MISSING"))
            continue
        b, bc = str(entry.get("behavior")), str(entry.get("behaviorClose"))
        out.append((case_id, b in PASSING and bc in PASSING, b, bc))
    return out


def _short(value, limit=300):
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def explain(outdir, index, agent, case_id):
    """Lines saying what a failing case expected and what it received."""
    entry = index.get(agent, {}).get(case_id)
    if not isinstance(entry, dict):
        return [f"  {agent} {case_id}: not in the report"]
    d = case_detail(outdir, entry)
    lines = [f"  {agent} {case_id}: behavior {entry.get('behavior')}, "
             f"close behavior {entry.get('behaviorClose')}, "
             f"remote close code {entry.get('remoteCloseCode')}"]
    for key in ("description", "expectation", "result", "resultClose"):
        if d.get(key):
            lines.append(f"    {key}: {_short(d[key])}")
    for key in ("expected", "received"):
        if key in d:
            lines.append(f"    {key}: {_short(d[key])}")
    return lines


def section_counts(results):
    """{section: {"OK": n, "NON-STRICT": n, "INFORMATIONAL": n, "FAILED": n}} over results, the
    worse of the two behaviours deciding a case (anything not OK, NON-STRICT or INFORMATIONAL
    counts as FAILED)."""
    rank = {"OK": 0, "INFORMATIONAL": 1, "NON-STRICT": 2}
    out = {}
    for case_id, _, b, bc in results:
        worst = max((b, bc), key=lambda x: rank.get(x, 3))
        label = worst if worst in rank else "FAILED"
        sec = out.setdefault(case_id.split(".")[0], dict.fromkeys(
            ("OK", "NON-STRICT", "INFORMATIONAL", "FAILED"), 0))
        sec[label] += 1
    return out
