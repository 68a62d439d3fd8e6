"""Runtimes and task handles (the synchronous part), and the process's
default runtime.

Lifetimes:
 * the default runtime (default_runtime()) is made on first use; it and
   every other runtime still open are shut down at interpreter exit
   (atexit): operations cancelled, blocking jobs waited for, every event
   loop's completion queue drained and freed (see _aio), then freed;
 * a Runtime freed by the garbage collector is never freed inline: its
   finaliser may run on any thread, a braid thread included (where
   braid_runtime_free would refuse with EDEADLK or, on another runtime's
   thread, block that thread).  The finaliser hands the pointer to a reaper
   thread, which frees it; at exit whatever is left is freed before Python
   goes.  So a finaliser neither blocks nor deadlocks, and nothing leaks;
 * blocking waits (Task.join) take a timeout in seconds and wait in slices
   of 50 ms with the GIL released, so Ctrl-C (KeyboardInterrupt) interrupts
   them.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import queue
import threading
import time
import weakref
from typing import Any, Callable, List, Optional

from ._lib import TASK_FN, WAIT_FOREVER, check, error, lib

_EBUSY = -8  # BRAID_EBUSY: a turn already runs (a callback of the turn re-entered the loop)

_SLICE_MS = 50


class Task:
    """A join handle (braid_task*).  Freed when the object goes; the task
    itself is detached then and runs on."""

    def __init__(self, ptr: int, keepalive: Any = None):
        self._ptr = ctypes.c_void_p(ptr)
        self._keepalive = keepalive

    @property
    def handle(self) -> int:
        return self._ptr.value or 0

    def join(self, timeout: Optional[float] = None) -> int:
        """Waits for the task (at most `timeout` seconds; None: no limit) and
        returns its final status (0); raises the mapped exception for a
        negative one (TimeoutError when the time ran out, CancelledError for
        a cancelled task, ...).  Ctrl-C interrupts the wait."""
        L = lib()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None:
                ms = _SLICE_MS
            else:
                left = deadline - time.monotonic()
                ms = max(0, min(_SLICE_MS, int(left * 1000)))
            rc = L.braid_task_join_blocking(self._ptr, ms)
            if rc != -5 or (deadline is not None and time.monotonic() >= deadline):  # -5: ETIMEDOUT
                return check(rc, "braid_task_join_blocking")

    def abort(self) -> None:
        check(lib().braid_task_abort(self._ptr), "braid_task_abort")

    def is_finished(self) -> bool:
        return check(lib().braid_task_is_finished(self._ptr), "braid_task_is_finished") == 1

    def __del__(self) -> None:
        try:
            if self._ptr:
                lib().braid_task_free(self._ptr)
                self._ptr = ctypes.c_void_p()
        except Exception:
            pass


class BlockingTask(Task):
    """A Python function on braid's blocking pool (braid_spawn_blocking).
    The function runs on a blocking thread (never on a worker), with the GIL."""

    def __init__(self, rt: "Runtime", fn: Callable[[], Any]):
        self._result: Any = None
        self._exc: Optional[BaseException] = None
        self._thread_ident: Optional[int] = None

        def body(_arg: Any) -> None:
            self._thread_ident = threading.get_ident()
            try:
                self._result = fn()
            except BaseException as e:  # re-raised by join()
                self._exc = e

        cb = TASK_FN(body)
        out = ctypes.c_void_p()
        check(lib().braid_spawn_blocking(ctypes.byref(out), rt._ptr, cb, None), "braid_spawn_blocking")
        super().__init__(out.value or 0, keepalive=cb)
        rt._keep(self)

    @property
    def thread_ident(self) -> Optional[int]:
        return self._thread_ident

    def join(self, timeout: Optional[float] = None) -> Any:
        """Waits for the job; returns fn's result or re-raises its exception."""
        super().join(timeout)
        if self._exc is not None:
            raise self._exc
        return self._result


class Runtime:
    """A braid runtime (braid_runtime*).

    Runtime(workers=n): the multi-thread flavor, with n worker threads
    (default: braid's).  Runtime(loop=loop): the host-driven flavor, run by
    an asyncio event loop: no worker thread; the loop watches the runtime's
    fd (add_reader) and runs a turn (braid_runtime_turn) when it is
    readable, so every braid task of this runtime (I/O, timers' wake-ups,
    spawned C functions) runs on the loop's thread, with no hand-over
    between threads, as uvloop's I/O does.  A C function spawned on it must
    not block: it would stall the loop.  Make it on the loop's thread and
    close it there (close() takes the fd off the loop)."""

    def __init__(self, workers: Optional[int] = None, thread_name: Optional[str] = None, *,
                 loop: Optional[asyncio.AbstractEventLoop] = None):
        self._ptr = ctypes.c_void_p()
        self._jobs: List[BlockingTask] = []
        self._jobs_lock = threading.Lock()
        self._loop = loop
        self._fd = -1
        L = lib()
        if loop is not None and workers is not None:
            raise ValueError("a runtime driven by an event loop has no worker threads")
        b = ctypes.c_void_p()
        check(L.braid_runtime_builder_new(ctypes.byref(b)), "braid_runtime_builder_new")
        try:
            if loop is not None:
                check(L.braid_runtime_builder_host_driven(b), "braid_runtime_builder_host_driven")
            elif workers is not None:
                check(L.braid_runtime_builder_worker_threads(b, workers), "braid_runtime_builder_worker_threads")
            if thread_name is not None:
                check(L.braid_runtime_builder_thread_name(b, thread_name.encode()),
                      "braid_runtime_builder_thread_name")
            rt = ctypes.c_void_p()
            check(L.braid_runtime_build(ctypes.byref(rt), b), "braid_runtime_build")
        finally:
            L.braid_runtime_builder_free(b)
        self._ptr = rt
        _live.add(self)
        if loop is not None:
            self._fd = check(L.braid_runtime_fd(rt), "braid_runtime_fd")
            self._turn_fn = L.braid_runtime_turn
            loop.add_reader(self._fd, self._turn)

    def _turn(self) -> None:
        """The loop's reader callback until the loop has a completion queue
        (see _aio): a plain turn.  From then on the loop calls the queue's
        turn directly (it takes the completions the turn posted and handles
        them in the same call, not on the loop's next iteration); the
        reader's arguments keep this runtime alive, as this bound method
        did."""
        turn = loop_turns.get(self._loop)  # type: ignore[arg-type]
        if turn is not None:
            self._loop.add_reader(self._fd, turn, self._ptr.value, self)  # type: ignore[union-attr]
            turn(self._ptr.value)
            return
        rc = self._turn_fn(self._ptr, 0)
        if rc < 0 and rc != _EBUSY:
            raise error(rc, "braid_runtime_turn")

    @property
    def loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """The event loop that drives this runtime (None: worker threads)."""
        return self._loop

    @property
    def handle(self) -> int:
        """The braid_runtime* as an integer (to hand to C code)."""
        return self._ptr.value or 0

    @property
    def worker_count(self) -> int:
        return check(lib().braid_runtime_worker_count(self._ptr), "braid_runtime_worker_count")

    def now(self) -> int:
        """The runtime's clock in ns."""
        return lib().braid_now(self._ptr)

    def _keep(self, job: BlockingTask) -> None:
        # A job's ctypes callback must outlive the job: kept until finished.
        with self._jobs_lock:
            self._jobs = [j for j in self._jobs if not j.is_finished()]
            self._jobs.append(job)

    def spawn_blocking(self, fn: Callable[[], Any]) -> BlockingTask:
        """Runs fn() on the blocking pool; join() gives its result."""
        return BlockingTask(self, fn)

    def shutdown(self, timeout: Optional[float] = None) -> None:
        """Cancels every task and joins every thread (blocking jobs: at most
        `timeout` seconds; None: no limit).  Idempotent."""
        ms = WAIT_FOREVER if timeout is None else int(timeout * 1000)
        check(lib().braid_runtime_shutdown(self._ptr, ms), "braid_runtime_shutdown")

    def close(self) -> None:
        """Shuts down and frees the runtime.  Idempotent.  On one of braid's
        own threads it raises (EDEADLK); the garbage collector's finaliser
        never frees inline (see the module's notes)."""
        if self._ptr:
            if self._fd >= 0:
                fd, self._fd = self._fd, -1
                loop = self._loop
                if loop is not None and not loop.is_closed():
                    loop.remove_reader(fd)
            check(lib().braid_runtime_free(self._ptr), "braid_runtime_free")
            self._ptr = ctypes.c_void_p()
            with self._jobs_lock:
                # Jobs still running after a shutdown that gave up on them:
                # their callbacks are kept for the life of the process.
                _orphans.extend(j for j in self._jobs if not j.is_finished())
                self._jobs = []

    @property
    def closed(self) -> bool:
        return not self._ptr

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._ptr:
                _reaper.free_later(self._ptr.value, self._jobs)
                self._ptr = ctypes.c_void_p()
        except Exception:
            pass


_orphans: list = []


class _Reaper:
    """Frees runtimes dropped by the garbage collector, on a thread of its own."""

    def __init__(self) -> None:
        self._q: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def free_later(self, ptr: Optional[int], keep: Any) -> None:
        if not ptr:
            return
        self._q.put((ptr, keep))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="braid-reaper", daemon=True)
                self._thread.start()

    def _free(self, item: Any) -> None:
        ptr, keep = item
        lib().braid_runtime_free(ctypes.c_void_p(ptr))
        _orphans.append(keep)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            self._free(item)

    def drain(self) -> None:
        """At exit: waits for the reaper thread, then frees what is left on
        the calling thread (no braid thread may outlive the interpreter)."""
        with self._lock:
            t = self._thread
            self._thread = None
        if t is not None:
            self._q.put(None)
            t.join()
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._free(item)


_reaper = _Reaper()

_live: "weakref.WeakSet[Runtime]" = weakref.WeakSet()
# event loop -> the turn of its completion queue (_aio._Bridge.turn(rt, keep=None), registered with the queue)
loop_turns: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Callable[..., None]]" = weakref.WeakKeyDictionary()
_default: Optional[Runtime] = None
_default_lock = threading.Lock()
_exit_hooks: List[Callable[[], None]] = []


def default_workers() -> Optional[int]:
    """The default runtime's worker count: one fewer than the CPUs this
    process may run on (at least one), since the event loop's own thread
    keeps one busy; None (braid's own default) when BRAID_WORKER_THREADS
    is set.  Measured on 2 CPUs, an asyncio echo server with 32 connections
    made 30 % more round trips with 1 worker than with 2: a second worker
    only competes with the loop's thread for a CPU."""
    if os.environ.get("BRAID_WORKER_THREADS"):
        return None
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def default_runtime() -> Runtime:
    """The process's runtime (default_workers() workers), made on first use
    and shut down at interpreter exit."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Runtime(workers=default_workers(), thread_name="braid-py")
        return _default


def set_default_runtime(rt: Runtime) -> None:
    """Makes rt the runtime the asyncio functions use (before their first use)."""
    global _default
    with _default_lock:
        _default = rt


def _at_exit() -> None:
    """Every runtime still open is shut down (its operations cancelled, their
    callbacks posted to the loops' queues, its blocking jobs waited for: a
    braid thread must not call into an interpreter that is gone), the queues
    are drained and freed, then the runtimes are freed."""
    global _default
    with _default_lock:
        _default = None
    live = [rt for rt in list(_live) if not rt.closed]
    for rt in live:
        try:
            rt.shutdown()
        except Exception:
            pass
    for hook in list(_exit_hooks):
        try:
            hook()
        except Exception:
            pass
    for rt in live:
        try:
            rt.close()
        except Exception:
            pass
    _reaper.drain()


atexit.register(_at_exit)
