"""Fixtures of the Python tests: the C helper library, built here."""

import ctypes
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import braid  # noqa: E402  (the installed package, or bindings/python on PYTHONPATH)


@pytest.fixture(scope="session")
def helper(tmp_path_factory):
    """tests/python/helper.c and the example's feeder.c as one shared
    library, loaded after libbraid."""
    braid.load()  # first: the helper's braid symbols resolve to this copy
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    assert cc, "no C compiler"
    out = tmp_path_factory.mktemp("helper") / "libhelper.so"
    feeder = os.path.join(HERE, "..", "..", "bindings", "python", "examples", "feeder.c")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-pthread", "-o", str(out), os.path.join(HERE, "helper.c"),
                    feeder], check=True)
    lib = ctypes.CDLL(str(out))
    lib.feed_from_thread.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.feed_from_thread.restype = ctypes.c_int
    return lib


class SquareJob(ctypes.Structure):
    _fields_ = [("in_", ctypes.c_int64), ("out", ctypes.c_int64)]


async def echo(reader, writer):
    """An echo handler for start_server: reads and writes back until the end."""
    while True:
        data = await reader.read(4096)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()
