"""The binding's synchronous layer and braid's C ABI through ctypes: loading,
versions, errors as exceptions, runtimes, blocking jobs, joins with seconds
and Ctrl-C, runtimes dropped by the garbage collector."""

import ctypes
import gc
import os
import threading
import time

import pytest

import braid
from braid import _lib

TIMEOUT_S = 30.0  # generous: CI machines can be slow


def test_loads_the_library():
    lib = braid.load()
    assert isinstance(lib, ctypes.CDLL)
    want = os.environ.get("BRAID_LIB")
    if want:
        assert os.path.realpath(lib._name) == os.path.realpath(want)


def test_version_matches_the_package_series():
    v = braid.version()
    major, minor, patch = (int(x) for x in v.split("."))
    assert braid.lib().braid_version_number() == major * 10000 + minor * 100 + patch
    assert braid.__version__.split(".")[:2] == [str(major), str(minor)]
    assert _lib._series(10203) == (1, 2)


def test_now_is_monotonic():
    a = braid.now()
    b = braid.now()
    assert 0 < a <= b


def test_error_names_and_exceptions():
    assert braid.err_name(0) == "OK"
    assert braid.err_name(-1) == "EINVAL"
    assert braid.err_name(braid.PENDING) == "PENDING"
    assert braid.err_name(-12345) == "UNKNOWN"
    assert braid.strerror(-1) == "invalid argument"
    cases = {-5: TimeoutError, -16: ConnectionRefusedError, -17: ConnectionResetError, -22: FileNotFoundError,
             -21: BrokenPipeError, -1: ValueError}
    for code, cls in cases.items():
        e = braid.error(code, "what")
        assert isinstance(e, cls) and isinstance(e, braid.BraidError)
        assert e.code == code
        assert e.name == braid.err_name(code)
        assert "what" in str(e)
    import asyncio

    assert isinstance(braid.error(-4), asyncio.CancelledError)
    assert type(braid.error(-9)) is braid.BraidError  # ETHREAD: no built-in counterpart


@pytest.fixture
def rt():
    r = braid.Runtime(workers=2)
    yield r
    r.close()


def test_worker_count(rt):
    assert rt.worker_count == 2


def test_blocking_job(rt):
    task = rt.spawn_blocking(lambda: 6 * 7)
    assert task.join(TIMEOUT_S) == 42
    assert task.thread_ident not in (None, threading.get_ident())


def test_blocking_job_raw_ctypes(rt):
    lib = braid.lib()
    ran = []

    @braid.TASK_FN
    def body(arg):
        ran.append((arg, threading.get_ident()))

    out = ctypes.c_void_p()
    rc = lib.braid_spawn_blocking(ctypes.byref(out), rt._ptr, body, ctypes.c_void_p(1234))
    assert rc == 0, braid.err_name(rc)
    assert lib.braid_task_join_blocking(out, int(TIMEOUT_S * 1000)) == 0
    lib.braid_task_free(out)
    assert ran[0][0] == 1234
    assert ran[0][1] != threading.get_ident()


def test_blocking_job_exception_is_reraised(rt):
    def job():
        raise KeyError("from the blocking pool")

    with pytest.raises(KeyError):
        rt.spawn_blocking(job).join(TIMEOUT_S)


def test_join_timeout_raises_timeout_error(rt):
    ev = threading.Event()
    task = rt.spawn_blocking(lambda: ev.wait(TIMEOUT_S))
    with pytest.raises(TimeoutError) as ei:
        task.join(0)
    assert ei.value.code == -5
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        task.join(0.12)
    assert time.monotonic() - t0 >= 0.1
    ev.set()
    assert task.join(TIMEOUT_S) is True


def test_ctrl_c_interrupts_a_join(rt):
    ev = threading.Event()
    task = rt.spawn_blocking(lambda: ev.wait(TIMEOUT_S))
    import _thread

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        threading.Timer(0.05, _thread.interrupt_main).start()
        task.join()  # no limit: only the interrupt ends it
    assert time.monotonic() - t0 < TIMEOUT_S / 2
    ev.set()
    task.join(TIMEOUT_S)


def test_shutdown_refuses_new_work(rt):
    rt.shutdown(5.0)
    with pytest.raises(braid.BraidError) as ei:
        rt.spawn_blocking(lambda: None)
    assert ei.value.name == "ESHUTDOWN"
    rt.shutdown(0)  # idempotent


def test_null_handles():
    lib = braid.lib()
    assert lib.braid_task_join_blocking(None, 0) == -1
    assert lib.braid_runtime_shutdown(None, 0) == -1
    assert lib.braid_runtime_free(None) == 0
    lib.braid_task_free(None)
    lib.braid_runtime_builder_free(None)
    out = ctypes.c_void_p()
    assert lib.braid_spawn_blocking(ctypes.byref(out), None, braid.TASK_FN(lambda a: None), None) == -1


def test_bad_builder_arguments():
    with pytest.raises(ValueError) as ei:
        braid.Runtime(workers=0)
    assert ei.value.code == -1


def test_closed_runtime():
    r = braid.Runtime(workers=1)
    r.close()
    assert r.closed
    with pytest.raises(ValueError):  # NULL runtime: EINVAL
        r.spawn_blocking(lambda: None)
    r.close()  # idempotent


def _threads_named(prefix):
    # the reaper thread is not counted: made from a braid thread, it starts
    # with that thread's name (Linux copies it)
    from braid import _runtime

    reaper = _runtime._reaper._thread
    skip = str(reaper.native_id) if reaper is not None else None
    names = []
    for tid in os.listdir("/proc/self/task"):
        if tid == skip:
            continue
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return [n for n in names if n.startswith(prefix)]


def test_runtime_dropped_on_its_own_blocking_thread_is_freed_without_deadlock():
    # The last reference goes on one of the runtime's own threads, where
    # braid_runtime_free cannot run: the finaliser hands it to the reaper.
    r = braid.Runtime(workers=1, thread_name="braid-gc-test")
    holder = [r]
    del r
    task = holder[0].spawn_blocking(lambda: holder.clear())
    assert task.join(TIMEOUT_S) is None
    del task
    gc.collect()
    deadline = time.monotonic() + TIMEOUT_S
    while _threads_named("braid-gc-test") and time.monotonic() < deadline:
        time.sleep(0.01)  # the reaper frees it: its threads go
    assert _threads_named("braid-gc-test") == []
