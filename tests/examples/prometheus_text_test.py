#!/usr/bin/env python3
"""The exposition-format parser that metrics_server_test.py relies on
(prometheus_text.py) refuses what promtool refuses: each case below is a
text that breaks one rule, and one well-formed text passes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_text  # noqa: E402

GOOD = ('# HELP a_total Help with \\\\ and \\n escapes.\n# TYPE a_total counter\na_total 3\n'
        '# TYPE g gauge\ng{worker="0"} 1.5\ng{worker="1",x="a\\"b"} -2e3 1700000000000\n'
        '# a comment\nh NaN\nh{a="1"} +Inf\n')
BAD = {
    "no final newline": "# TYPE a gauge\na 1",
    "bad name": "# TYPE 1a gauge\n1a 1\n",
    "bad type": "# TYPE a number\na 1\n",
    "two TYPEs": "# TYPE a gauge\n# TYPE a gauge\na 1\n",
    "two HELPs": "# HELP a x\n# HELP a y\na 1\n",
    "TYPE after sample": "a 1\n# TYPE a gauge\n",
    "not grouped": "a 1\nb 1\na{x=\"1\"} 2\n",
    "same series twice": "a{x=\"1\"} 1\na{x=\"1\"} 2\n",
    "unquoted label": "a{x=1} 1\n",
    "bad escape in label": "a{x=\"\\q\"} 1\n",
    "no value": "a\n",
    "bad value": "a one\n",
    "label twice": "a{x=\"1\",x=\"2\"} 1\n",
    "negative counter": "# TYPE a_total counter\na_total -1\n",
    "malformed TYPE": "# TYPE a\na 1\n",
}


def main():
    failed = 0
    prometheus_text.parse(GOOD)
    for why, text in BAD.items():
        try:
            prometheus_text.parse(text)
        except prometheus_text.FormatError:
            continue
        print(f"FAIL: accepted ({why}): {text!r}")
        failed += 1
    print("ok" if not failed else f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
