"""tests/integration/run_python.py: runs every tests/integration/test_*.py and prints one summary
line, "python: N passed, N failed, N skipped", that tests/run_all.sh parses.

Usage: /usr/bin/python3 tests/integration/run_python.py [-k PATTERN] [module ...]"""

import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


class CountingResult(unittest.TextTestResult):
    """Counts successes directly, and counts every test of a class whose setUpClass failed (the
    server did not start) as failed, so that passed + failed stays the number of tests."""

    passed = 0
    hidden = 0
    tests_per_class = {}

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def addError(self, test, err):
        super().addError(test, err)
        desc = getattr(test, "description", "")
        if desc.startswith("setUpClass (") and desc.endswith(")"):
            self.hidden += max(0, self.tests_per_class.get(desc[len("setUpClass ("):-1], 1) - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="patterns", action="append", help="only tests matching PATTERN")
    ap.add_argument("modules", nargs="*", help="test modules (default: every test_*.py)")
    args = ap.parse_args()

    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in args.patterns]
    if args.modules:
        names = [os.path.splitext(os.path.basename(m))[0] for m in args.modules]
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)

    start = time.monotonic()
    CountingResult.tests_per_class = {}
    for t in iter_tests(suite):
        name = f"{type(t).__module__}.{type(t).__qualname__}"
        CountingResult.tests_per_class[name] = CountingResult.tests_per_class.get(name, 0) + 1
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    failed += result.hidden
    skipped = len(result.skipped)
    passed = result.passed
    print(f"python: {passed} passed, {failed} failed, {skipped} skipped "
          f"({time.monotonic() - start:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
