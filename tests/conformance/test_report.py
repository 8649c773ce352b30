"""tests/conformance/test_report.py: the report judge of tests/conformance/report.py on reports
written here, so the bar (only OK and INFORMATIONAL pass, both behaviours) is itself tested.
run.py runs these first; /usr/bin/python3 tests/conformance/test_report.py runs them alone."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def entry(b, bc="OK", reportfile=None):
    e = {"behavior": b, "behaviorClose": bc, "remoteCloseCode": 1000, "duration": 1}
    if reportfile:
        e["reportfile"] = reportfile
    return e


class Judge(unittest.TestCase):
    def test_only_ok_and_informational_pass_in_both_behaviours(self):
        index = {"a": {"1.1.1": entry("OK"), "7.1.6": entry("INFORMATIONAL"),
                       "2.1": entry("NON-STRICT"), "2.2": entry("OK", "NON-STRICT"),
                       "3.1": entry("UNIMPLEMENTED"), "4.1": entry("FAILED"),
                       "7.9.1": entry("OK", "WRONG CODE"), "5.1": entry("OK", "FAILED BY CLIENT")}}
        verdict = {c: ok for c, ok, _, _ in report.judge(index, "a", [])}
        self.assertEqual(verdict, {"1.1.1": True, "7.1.6": True, "2.1": False, "2.2": False,
                                   "3.1": False, "4.1": False, "7.9.1": False, "5.1": False})

    def test_a_case_asked_for_but_missing_fails(self):
        results = report.judge({"a": {"1.1.1": entry("OK")}}, "a", ["1.1.1", "1.1.2"])
        self.assertEqual([(c, ok, b) for c, ok, b, _ in results],
                         [("1.1.1", True, "OK"), ("1.1.2", False, "MISSING")])
        self.assertFalse(report.judge({}, "nobody", ["1.1.1"])[0][1])

    def test_cases_sort_by_number_not_by_text(self):
        index = {"a": {c: entry("OK") for c in ("9.10.1", "9.2.1", "10.1.1", "1.1.1")}}
        self.assertEqual([c for c, *_ in report.judge(index, "a", [])],
                         ["1.1.1", "9.2.1", "9.10.1", "10.1.1"])

    def test_section_counts_take_the_worse_behaviour(self):
        results = [("7.1.1", True, "OK", "OK"), ("7.1.6", True, "INFORMATIONAL", "OK"),
                   ("7.2.1", False, "OK", "NON-STRICT"), ("7.3.1", False, "UNIMPLEMENTED", "OK")]
        self.assertEqual(report.section_counts(results)["7"],
                         {"OK": 1, "NON-STRICT": 1, "INFORMATIONAL": 1, "FAILED": 1})

    def test_a_missing_or_broken_index_is_an_error_not_an_empty_pass(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(ValueError):
                report.load(d)
            with open(os.path.join(d, "index.json"), "w") as f:
                f.write("[1, 2")
            with self.assertRaises(ValueError):
                report.load(d)

    def test_a_failing_case_is_explained_from_its_own_report(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "a_case_2_1.json"), "w") as f:
                json.dump({"description": "Send ping", "expectation": "Pong back",
                           "expected": {"OK": [["pong", "x"]]}, "received": [["message", "y"]],
                           "result": "Did not receive a pong"}, f)
            index = {"a": {"2.1": entry("FAILED", "OK", "a_case_2_1.json")}}
            text = "\n".join(report.explain(d, index, "a", "2.1"))
        self.assertIn("behavior FAILED", text)
        self.assertIn("expected:", text)
        self.assertIn("received:", text)
        self.assertIn("Did not receive a pong", text)

    def test_a_report_file_name_cannot_leave_the_report_directory(self):
        self.assertEqual(report.case_detail("/tmp", entry("FAILED", "OK", "../etc/passwd")), {})


if __name__ == "__main__":
    unittest.main()
