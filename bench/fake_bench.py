"""Fake benchmark binaries for the tests of compare.py and scaling.py.

A fake binary is a small Python script that prints the JSON line of the
workload it is asked for, from a table of figures given when it is made,
lists its workloads for `--list`, exits 2 for a workload it lacks (as a
real binary does for an unknown workload) and 1 for one it is told to
fail. Standard library only.
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest


def make(directory, name, figures, failing=(), by_threads=False):
    """The path of a new fake binary `name` in `directory`.

    figures maps workload -> extra JSON keys; with by_threads, workload ->
    worker count (as the string given to --threads) -> extra JSON keys.
    """
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(f"""\
            #!{sys.executable}
            import json, sys
            figures, failing, by_threads = {figures!r}, {list(failing)!r}, {by_threads!r}
            workload = sys.argv[1]
            if workload == "--list":
                print("\\n".join(figures))
                sys.exit(0)
            if workload in failing:
                print("check failed: sum", file=sys.stderr)
                sys.exit(1)
            if workload not in figures:
                print("{name}: unknown workload: " + workload, file=sys.stderr)
                sys.exit(2)
            threads = sys.argv[3]
            line = {{"impl": "{name}", "workload": workload, "threads": int(threads), "n": 1,
                     "seconds": 1.0, "ops_per_s": 1.0, "peak_rss_kb": 1}}
            line.update(figures[workload][threads] if by_threads else figures[workload])
            print(json.dumps(line))
            """))
    os.chmod(path, 0o755)
    return path


def row(stdout, label):
    """The cells of the Markdown table row whose first cell is `label`, or None."""
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == label:
            return cells
    return None


class ScriptTest(unittest.TestCase):
    """A test of one of the bench scripts (SCRIPT, run with --runs 2) in a fresh temporary directory."""

    SCRIPT = None
    BY_THREADS = False

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def fake(self, name, figures, failing=()):
        """A fake binary in the test's directory (see make)."""
        return make(self.dir.name, name, figures, failing, self.BY_THREADS)

    def run_script(self, *args):
        proc = subprocess.run([sys.executable, self.SCRIPT, "--runs", "2", *args], capture_output=True, text=True,
                              timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def row(self, stdout, label):
        """The table row whose first cell is `label`, as a list of cells."""
        cells = row(stdout, label)
        if cells is None:
            self.fail(f"no row {label!r} in:\n{stdout}")
        return cells
