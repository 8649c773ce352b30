"""tests/integration/test_docs.py: the byte examples of docs/protocol.md and docs/zh/protocol.md
are what the build produces (tests/tools/docs.py --check against tools/protocol_examples); the
check itself notices a stale page."""

import os
import subprocess
import sys
import unittest

from harness import REPO

DOCS = os.path.join(REPO, "tests", "tools", "docs.py")


def tool_path():
    """The examples tool of the build under test; the release one for builds that make no
    tools (make test builds them with the release and ASan builds)."""
    build = os.environ.get("EPWS_BUILD", "release")
    for b in (build, "release"):
        path = os.path.join(REPO, "build", b, "tools", "protocol_examples")
        if os.access(path, os.X_OK):
            return path
    raise AssertionError(f"no tools/protocol_examples in build/{build} or build/release "
                         f"(make BUILD=release build/release/tools/protocol_examples)")


def check(*pages):
    return subprocess.run([sys.executable, DOCS, "--check", "--tool", tool_path(), *pages],
                          capture_output=True, text=True, timeout=60)


class GeneratedExamples(unittest.TestCase):
    def test_the_committed_protocol_pages_hold_exactly_what_the_build_produces(self):
        r = check()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("docs/protocol.md", r.stdout)
        self.assertIn("docs/zh/protocol.md", r.stdout)

    def test_a_page_with_a_stale_example_fails_the_check_with_a_diff(self):
        path = os.path.join(REPO, "build", f"stale-{os.getpid()}.md")
        with open(os.path.join(REPO, "docs", "protocol.md"), encoding="utf-8") as f:
            page = f.read()
        stale = page.replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1)
        self.assertNotEqual(stale, page)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(stale)
        try:
            r = check(path)
        finally:
            os.unlink(path)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("differs from what the build produces", r.stdout)
        self.assertRegex(r.stdout, r"\n\+.*s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=")

    def test_a_page_naming_an_unknown_capture_fails(self):
        path = os.path.join(REPO, "build", f"unknown-{os.getpid()}.md")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("<!-- capture: no-such-capture -->\n```text\n```\n<!-- /capture -->\n")
        try:
            r = check(path)
        finally:
            os.unlink(path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no-such-capture", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
