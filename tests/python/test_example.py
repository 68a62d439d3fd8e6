"""The example program of bindings/python/examples runs and prints what it should."""

import os
import subprocess
import sys

import pytest

import braid

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python", "examples")


@pytest.mark.parametrize("args", [[], ["--loop"]], ids=["worker-runtime", "loop-runtime"])
def test_echo_feed_example_runs(args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(braid.__file__)),
                                                      env.get("PYTHONPATH", "")] if p)
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "echo_feed.py"), *args], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["echo: HELLO", "echo: FROM", "echo: BRAID", f"sum from C: {sum(range(0, 1000, 10))}"]
