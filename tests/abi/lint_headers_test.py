#!/usr/bin/python3
"""abi.lint_headers_fails — lint_headers.py can fail: a small header that
breaks each rule gives one violation per rule, and its fixed form none."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lint_headers  # noqa: E402

BAD = """\
#ifndef BAD_H
#define BAD_H
#define NOT_BRAID 1
typedef void (*wake_cb)(void *);
typedef void (*braid_wake_fn)(void *wake_data);
typedef struct braid_thing braid_thing;
int braid_thing_free(braid_thing *t);
BRAID_API int thing_count(braid_thing *t);
BRAID_API int braid_thing_poll(braid_thing *t, braid_wake_fn wake, void *wake_data);
BRAID_API int braid_thing_recv_poll(braid_thing *t, braid_wake_fn wake, void *wake_data);
/* With `wake` NULL it is a try. */
BRAID_API int braid_thing_poll_peek(braid_thing *t, braid_wake_fn wake, void *wake_data);
BRAID_API int braid_thing_poll_swapped(braid_thing *t, void *wake_data, braid_wake_fn wake);
BRAID_API int braid_thing_new(int flags, braid_thing **out);
/* Waits; timeout_ms 0: no limit. */
BRAID_API int braid_thing_wait_blocking(braid_thing *t, int64_t timeout_ms);
#endif
"""

GOOD = """\
#ifndef BRAID_GOOD_H
#define BRAID_GOOD_H
#define BRAID_GOOD 1
/* NULL waker: see docs/c-api.md */
typedef void (*braid_wake_fn)(void *wake_data);
typedef struct braid_thing braid_thing;
BRAID_API int braid_thing_free(braid_thing *t);
BRAID_API int braid_thing_poll_recv(braid_thing *t, braid_wake_fn wake, void *wake_data);
BRAID_API int braid_thing_new(braid_thing **out, int flags);
/* Waits; timeout_ms: BRAID_WAIT_FOREVER, 0 or milliseconds. */
BRAID_API int braid_thing_wait_blocking(braid_thing *t, int64_t timeout_ms);
#endif
"""


class LintCanFail(unittest.TestCase):
    def lint(self, text):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "thing.h")
            with open(path, "w") as f:
                f.write(text)
            return lint_headers.lint(path, text), lint_headers.main(["lint_headers.py", path])

    def test_bad_header_fails_on_every_rule(self):
        errors, status = self.lint(BAD)
        self.assertEqual(status, 1)
        text = "\n".join(errors)
        for expected in [
            "macro NOT_BRAID does not start with BRAID_",
            "type wake_cb does not start with braid_",
            "braid_thing_free is declared without BRAID_API",
            "thing_count does not start with braid_",
            "braid_thing_poll: a poll function is named braid_<noun>_poll_<verb>",
            "braid_thing_recv_poll: a poll function is named braid_<noun>_poll_<verb>",
            "braid_thing_poll_swapped: the braid_wake_fn parameter is not followed by its wake_data",
            "braid_thing_new: a constructor returns its handle through its first parameter, named out",
            "braid_thing_wait_blocking: the doc of a timeout_ms parameter does not name BRAID_WAIT_FOREVER",
            "braid_thing_poll_peek: its doc describes a NULL waker of its own",
            'takes a braid_wake_fn but does not say "NULL waker: see docs/c-api.md"',
            "include guard BAD_H does not start with BRAID_",
        ]:
            self.assertIn(expected, text)

    def test_good_header_passes(self):
        errors, status = self.lint(GOOD)
        self.assertEqual(errors, [])
        self.assertEqual(status, 0)


if __name__ == "__main__":
    unittest.main()
