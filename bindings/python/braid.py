"""braid through ctypes: a small binding of braid's C ABI (libbraid.so.0.1).

Only the standard library is used.  The library is loaded from, in order:
the path in the environment variable BRAID_LIB, ctypes.util.find_library
("braid"), then "libbraid.so.0.1" (the SONAME of the 0.1 series this binding
is written for) through the dynamic loader's search path.

    import braid
    with braid.Runtime(workers=2) as rt:
        done = threading.Event()
        rt.sleep(10, lambda status: done.set())
        done.wait()
        result = rt.spawn_blocking(some_function).join()

Callbacks given to the runtime run on its threads (workers for sleeps,
blocking-pool threads for spawn_blocking), with the GIL taken by ctypes.  An
exception raised by a callback cannot cross the C ABI: it is reported through
sys.unraisablehook (the default prints it) and the runtime goes on.

Errors: every function that fails raises BraidError, whose .code is the
negative BRAID_E* code and .name its symbolic name ("EINVAL", ...).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Callable, Optional

__all__ = [
    "BraidError",
    "Runtime",
    "Task",
    "BlockingTask",
    "CALLBACK",
    "TASK_FN",
    "load",
    "lib",
    "version",
    "now",
    "strerror",
    "err_name",
    "OK",
    "PENDING",
]

OK = 0
PENDING = 1
WAIT_FOREVER = -1  # BRAID_WAIT_FOREVER: the timeout_ms of a wait without limit

# ---- loading -----------------------------------------------------------------------

_c_runtime_p = ctypes.c_void_p
_c_builder_p = ctypes.c_void_p
_c_task_p = ctypes.c_void_p

# void (*)(void *user_data, int status)
CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int)
# void (*)(void *arg)
TASK_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def _candidates():
    env = os.environ.get("BRAID_LIB")
    if env:
        yield env
        return  # an explicit choice: do not fall back silently
    found = ctypes.util.find_library("braid")
    if found:
        yield found
    yield "libbraid.so.0.1"


def _declare(lib: ctypes.CDLL) -> None:
    def fn(name, restype, *argtypes):
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    c_int, c_int64, c_char_p, c_void_p = ctypes.c_int, ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p
    fn("braid_version", c_char_p)
    fn("braid_version_number", c_int)
    fn("braid_strerror", c_char_p, c_int)
    fn("braid_err_name", c_char_p, c_int)
    fn("braid_runtime_builder_new", c_int, ctypes.POINTER(_c_builder_p))
    fn("braid_runtime_builder_free", None, _c_builder_p)
    fn("braid_runtime_builder_worker_threads", c_int, _c_builder_p, c_int)
    fn("braid_runtime_builder_thread_name", c_int, _c_builder_p, c_char_p)
    fn("braid_runtime_build", c_int, ctypes.POINTER(_c_runtime_p), _c_builder_p)
    fn("braid_runtime_shutdown", c_int, _c_runtime_p, c_int64)
    fn("braid_runtime_free", c_int, _c_runtime_p)
    fn("braid_runtime_worker_count", c_int, _c_runtime_p)
    fn("braid_now", c_int64, _c_runtime_p)
    fn("braid_sleep", c_int, ctypes.POINTER(_c_task_p), _c_runtime_p, c_int64, CALLBACK, c_void_p)
    fn("braid_spawn_blocking", c_int, ctypes.POINTER(_c_task_p), _c_runtime_p, TASK_FN, c_void_p)
    fn("braid_task_join_blocking", c_int, _c_task_p, c_int64)
    fn("braid_task_abort", c_int, _c_task_p)
    fn("braid_task_is_finished", c_int, _c_task_p)
    fn("braid_task_free", None, _c_task_p)


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libbraid (once) and returns the ctypes.CDLL with its prototypes."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        errors = []
        for cand in ([path] if path else _candidates()):
            try:
                lib = ctypes.CDLL(cand)
            except OSError as e:
                errors.append(f"{cand}: {e}")
                continue
            _declare(lib)
            _lib = lib
            return lib
        raise OSError("cannot load libbraid (set BRAID_LIB to its path): " + "; ".join(errors))


def lib() -> ctypes.CDLL:
    return _lib if _lib is not None else load()


# ---- errors ------------------------------------------------------------------------


def strerror(code: int) -> str:
    return lib().braid_strerror(code).decode()


def err_name(code: int) -> str:
    return lib().braid_err_name(code).decode()


class BraidError(Exception):
    """A negative BRAID_E* code returned by the C ABI."""

    def __init__(self, code: int, what: str = ""):
        self.code = code
        self.name = err_name(code)
        self.description = strerror(code)
        msg = f"{self.name} ({code}): {self.description}"
        super().__init__(f"{what}: {msg}" if what else msg)


def _check(rc: int, what: str) -> int:
    if rc < 0:
        raise BraidError(rc, what)
    return rc


def version() -> str:
    return lib().braid_version().decode()


def now(rt: Optional["Runtime"] = None) -> int:
    """The runtime's clock in ns (the monotonic clock when rt is None)."""
    return lib().braid_now(rt._ptr if rt is not None else None)


# ---- keeping callbacks alive ------------------------------------------------------------
#
# A ctypes callback object must outlive every call the C side makes through
# it, and must not be freed while the C side is still inside it.  Each
# operation keeps its callback in its Task object, and its Runtime keeps the
# Task until braid reports the task finished: braid finishes a sleep's or a
# blocking job's task only after its callback (or job) has returned, so the
# callback is then safe to drop.  After braid_runtime_free every callback has
# run; jobs still running (a shutdown that timed out) are kept for ever.

_orphans: list = []


# ---- tasks and runtimes ---------------------------------------------------------------------


class Task:
    """A join handle (braid_task*).  It is released when the last reference
    to it goes; the task itself is then detached and keeps running."""

    def __init__(self, ptr: int, keepalive=None):
        self._ptr = ctypes.c_void_p(ptr)
        self._keepalive = keepalive

    def join(self, timeout_ms: int = WAIT_FOREVER) -> int:
        """Waits for the task; returns its final status (0), raises BraidError
        for a negative one (ECANCELED, ETIMEDOUT, ...).  timeout_ms: WAIT_FOREVER (any negative
        value) no limit, 0 one look, > 0 milliseconds (ETIMEDOUT after it)."""
        return _check(lib().braid_task_join_blocking(self._ptr, timeout_ms), "braid_task_join_blocking")

    def abort(self) -> None:
        _check(lib().braid_task_abort(self._ptr), "braid_task_abort")

    def is_finished(self) -> bool:
        return _check(lib().braid_task_is_finished(self._ptr), "braid_task_is_finished") == 1

    def __del__(self):
        try:
            if getattr(self, "_ptr", None):
                lib().braid_task_free(self._ptr)
                self._ptr = ctypes.c_void_p()
        except Exception:  # interpreter shutdown
            pass


class Runtime:
    """A braid runtime (braid_runtime*) with `workers` worker threads."""

    def __init__(self, workers: Optional[int] = None, thread_name: Optional[str] = None):
        self._ptr = _c_runtime_p()
        self._ops: list = []
        self._ops_lock = threading.Lock()
        L = lib()
        b = _c_builder_p()
        _check(L.braid_runtime_builder_new(ctypes.byref(b)), "braid_runtime_builder_new")
        try:
            if workers is not None:
                _check(L.braid_runtime_builder_worker_threads(b, workers), "braid_runtime_builder_worker_threads")
            if thread_name is not None:
                _check(L.braid_runtime_builder_thread_name(b, thread_name.encode()),
                       "braid_runtime_builder_thread_name")
            rt = _c_runtime_p()
            _check(L.braid_runtime_build(ctypes.byref(rt), b), "braid_runtime_build")
        finally:
            L.braid_runtime_builder_free(b)
        self._ptr = rt

    @property
    def worker_count(self) -> int:
        return _check(lib().braid_runtime_worker_count(self._ptr), "braid_runtime_worker_count")

    def now(self) -> int:
        return lib().braid_now(self._require())

    def _track(self, task: Task) -> Task:
        with self._ops_lock:
            self._ops = [t for t in self._ops if not t.is_finished()]
            self._ops.append(task)
        return task

    def sleep(self, ms: int, callback: Callable[[int], None]) -> Task:
        """Calls callback(status) on a worker after `ms` ms (status 0), or once
        with ECANCELED (-4) if the returned task is aborted or the runtime shuts
        down.  Raises BraidError (and never calls back) on failure."""

        def trampoline(_user_data, status):
            # An exception escaping here does not reach C: ctypes reports it
            # through sys.unraisablehook and returns to braid normally.
            callback(status)

        cb = CALLBACK(trampoline)
        out = _c_task_p()
        # self._ptr, not self._require(): a freed runtime is passed on as NULL
        # and braid reports EINVAL itself.
        _check(lib().braid_sleep(ctypes.byref(out), self._ptr, ms, cb, None), "braid_sleep")
        return self._track(Task(out.value, keepalive=cb))

    def spawn_blocking(self, fn: Callable[[], object]) -> "BlockingTask":
        """Runs fn() on the runtime's blocking pool; join() gives its result."""
        return self._track(BlockingTask(self, fn))

    def shutdown(self, timeout_ms: int = -1) -> None:
        """Cancels every task and joins every thread (waits for blocking jobs at
        most timeout_ms; < 0 without limit).  Idempotent."""
        _check(lib().braid_runtime_shutdown(self._ptr, timeout_ms), "braid_runtime_shutdown")

    def close(self) -> None:
        """Shuts down and frees the runtime.  Idempotent."""
        if self._ptr:
            _check(lib().braid_runtime_free(self._ptr), "braid_runtime_free")
            self._ptr = _c_runtime_p()
            with self._ops_lock:
                _orphans.extend(t for t in self._ops if not t.is_finished())
                self._ops = []

    @property
    def closed(self) -> bool:
        return not self._ptr

    def _require(self):
        if not self._ptr:
            raise BraidError(-1, "runtime already freed")
        return self._ptr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_ptr", None):
                self.close()
        except Exception:
            pass


class BlockingTask(Task):
    """A job on the blocking pool (braid_spawn_blocking)."""

    def __init__(self, rt: Runtime, fn: Callable[[], object]):
        self._result = None
        self._exc: Optional[BaseException] = None
        self._thread_ident: Optional[int] = None

        def body(_arg):
            self._thread_ident = threading.get_ident()
            try:
                self._result = fn()
            except BaseException as e:
                self._exc = e

        cb = TASK_FN(body)
        out = _c_task_p()
        _check(lib().braid_spawn_blocking(ctypes.byref(out), rt._ptr, cb, None), "braid_spawn_blocking")
        super().__init__(out.value, keepalive=cb)

    @property
    def thread_ident(self) -> Optional[int]:
        """threading.get_ident() of the blocking thread that ran the job."""
        return self._thread_ident

    def join(self, timeout_ms: int = WAIT_FOREVER):
        """Waits for the job; returns fn's result or re-raises its exception."""
        super().join(timeout_ms)
        if self._exc is not None:
            raise self._exc
        return self._result
