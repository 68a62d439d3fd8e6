"""asyncio on braid, through a completion queue per event loop.

Each event loop that uses braid gets a braid completion queue
(braid/completion_queue.h) whose eventfd the loop watches with add_reader.
Every braid operation is started with that queue current on the loop's
thread, so its callback is posted there and runs when the loop drains the
queue: on the loop's thread, never on a braid worker.  The callback resolves
an asyncio future.  Cancelling the awaiting asyncio task aborts the braid
operation (braid_task_abort).
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import math
import os
import socket
import struct
import threading
import weakref
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Union

from . import _runtime
from ._lib import CALLBACK, IO_CALLBACK, READ_CALLBACK, STREAM_CALLBACK, TASK_FN, check, error, lib

_speedups: Any
try:  # the C dispatch (braid/_speedups.c), when pip built it; BRAID_SPEEDUPS=0 runs the Python one
    if os.environ.get("BRAID_SPEEDUPS", "1") == "0":
        raise ImportError("BRAID_SPEEDUPS=0")
    from . import _speedups
except ImportError:
    _speedups = None

_ECANCELED = -4
_EBUSY = -8  # a turn already runs on the runtime
_EEOF = -27
_ECLOSED = -11
# the statuses that end a repeating accept (braid_tcp_listener_accept_start):
# ECANCELED, ETIMEDOUT, ECLOSED, ESHUTDOWN, EINVAL, EBADF
_ACCEPT_FINAL = frozenset((-4, -5, -11, -3, -1, -14))

# id (the operations' user_data) -> the handler its completions go to
_handlers: Dict[int, Callable[..., None]] = {}
_ids = itertools.count(1)


_get_handler = _handlers.get
_string_at = ctypes.string_at
_os_write = os.write


# One C entry point per callback type, alive for the life of the process.
# They run once per completion (on the loop's thread, from
# braid_completion_queue_run): one Python frame each, straight to the handler.
@CALLBACK
def _on_status(ud: Optional[int], st: int) -> None:
    h = _get_handler(ud)
    if h is not None:
        h(st)


@IO_CALLBACK
def _on_io(ud: Optional[int], st: int, n: int) -> None:
    h = _get_handler(ud)
    if h is not None:
        h(st, n)


@STREAM_CALLBACK
def _on_stream(ud: Optional[int], st: int, s: Optional[int]) -> None:
    h = _get_handler(ud)
    if h is not None:
        h(st, s)


@READ_CALLBACK
def _on_read(ud: Optional[int], st: int, d: Optional[int], n: int) -> None:
    h = _get_handler(ud)
    if h is not None:
        h(st, _string_at(d, n) if st == 0 else b"")


class _Completion(ctypes.Structure):
    """braid_completion (braid/completion_queue.h): its size is the record
    size passed to braid_completion_queue_take."""

    _fields_ = [("callback", ctypes.c_void_p), ("user_data", ctypes.c_void_p), ("status", ctypes.c_int),
                ("kind", ctypes.c_int), ("size", ctypes.c_size_t), ("handle", ctypes.c_void_p),
                ("data", ctypes.c_void_p)]


# The same record for struct: pointer, pointer, int, int, size_t, pointer, pointer.
_RECORD = struct.Struct("@PPiiNPP")
assert _RECORD.size == ctypes.sizeof(_Completion)
_iter_records = _RECORD.iter_unpack
_BATCH = 256  # records taken per call
_ARENA = 1 << 18  # bytes of reads copied per call (a 64 KiB read fits four times)
# braid_completion kinds
_K_STATUS, _K_SIZE, _K_HANDLE, _K_BYTES = 1, 2, 3, 4
assert _speedups is None or _speedups.RECORD_SIZE == _RECORD.size


class _Bridge:
    """An event loop's completion queue.

    The loop drains it with braid_completion_queue_take_bytes: one call
    moves up to _BATCH completions into `records` (callbacks are not
    called) and copies the bytes that reads delivered into `arena`; each
    completion reaches its handler in dispatch.  A runtime this loop drives
    takes its turns through turn(rt): the turn and the take of what it
    posted in one call, with no eventfd write and read between them.

    With braid._speedups (built by pip install where a C compiler and
    Python's headers are there) drain and turn are a _speedups.Pump's: the
    same steps in C, one call from the loop each.  Otherwise they are the
    Python methods below: a ctypes call, struct.iter_unpack over the
    records, and the bytes sliced from the arena."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        L = lib()
        q = ctypes.c_void_p()
        check(L.braid_completion_queue_new(ctypes.byref(q)), "braid_completion_queue_new")
        self.q = q
        self.loop_ref = weakref.ref(loop)
        self.fd = L.braid_completion_queue_fd(q)
        self.pump: Optional[Any] = None
        if _speedups is not None:
            self.pump = _speedups.Pump(_address(L.braid_completion_queue_take_bytes),
                                       _address(L.braid_runtime_turn_take), _address(L.braid_runtime_turn), q.value,
                                       _handlers, error, self.report, _BATCH, _ARENA)
            self.drain = self.pump.drain  # type: ignore[method-assign]
            self.turn = self.pump.turn  # type: ignore[method-assign]
        else:
            self.records = bytearray(_RECORD.size * _BATCH)
            self.view = memoryview(self.records)
            self.addr = ctypes.addressof((ctypes.c_char * len(self.records)).from_buffer(self.records))
            self.arena = bytearray(_ARENA)
            self.arena_view = memoryview(self.arena)
            self.arena_addr = ctypes.addressof((ctypes.c_char * _ARENA).from_buffer(self.arena))
            self.take = L.braid_completion_queue_take_bytes
            self.turn_take = L.braid_runtime_turn_take
            self.busy = False  # dispatching: the records and the arena are in use
        loop.add_reader(self.fd, self.drain)
        _runtime.loop_turns[loop] = self.turn  # how a runtime this loop drives takes its turns
        _runtime._exit_hooks.append(self.close)

    def drain(self) -> None:
        """The queue fd's reader: takes what is queued and dispatches it."""
        if self.busy or not self.q:
            return
        take, q, addr, base = self.take, self.q, self.addr, self.arena_addr
        size = _RECORD.size
        while True:
            n = take(q, addr, _BATCH, size, base, _ARENA)
            if n <= 0:
                return  # empty, or a C++ callback the take ran threw (EPANIC): the loop calls again
            self.dispatch(n)
            if n < _BATCH or not self.q:
                return

    def turn(self, rt: int, keep: Any = None) -> None:
        """One turn of a runtime this loop drives (rt: its braid_runtime*;
        keep: what the caller's reference keeps alive, unused) and the
        completions it posted, in one ctypes call
        (braid_runtime_turn_take); raises the turn's error (another turn
        running is not one).  Closed at exit, or called from a handler: a
        plain turn, whose completions go through the queue's fd."""
        if not self.q or self.busy:
            rc = lib().braid_runtime_turn(rt, 0)
            if rc < 0 and rc != _EBUSY:
                raise error(rc, "braid_runtime_turn")
            return
        n = self.turn_take(rt, 0, self.q, self.addr, _BATCH, _RECORD.size, self.arena_addr, _ARENA)
        if n < 0:
            if n != _EBUSY:
                raise error(n, "braid_runtime_turn_take")
            return
        if n > 0:
            self.dispatch(n)
            if n == _BATCH:
                self.drain()

    def dispatch(self, n: int) -> None:
        """Hands the n records just taken to their handlers.  A handler that
        raises does not stop the batch (the records after it are other
        operations' completions): the first exception is raised at the end."""
        view, get, base, arena = self.view, _get_handler, self.arena_addr, self.arena_view
        end = base + _ARENA
        first: Optional[BaseException] = None
        self.busy = True
        try:
            for _cb, ud, st, kind, nbytes, handle, data in _iter_records(view[:n * _RECORD.size]):
                h = get(ud)
                if h is None:
                    continue
                try:
                    if kind == _K_BYTES:
                        if st != 0:
                            h(st, b"")
                        elif base <= data < end:
                            off = data - base
                            h(st, bytes(arena[off:off + nbytes]))
                        else:
                            h(st, _string_at(data, nbytes))
                    elif kind == _K_STATUS:
                        h(st)
                    elif kind == _K_SIZE:
                        h(st, nbytes)
                    else:
                        h(st, handle)
                except BaseException as e:  # noqa: B036 - re-raised once the batch is done
                    if first is None:
                        first = e
                    else:
                        self.report(e)
        finally:
            self.busy = False
        if first is not None:
            raise first

    def report(self, e: BaseException) -> None:
        """A handler's exception after the first of a batch (the first is
        raised to the loop when the batch is done)."""
        loop = self.loop_ref()
        if loop is not None:
            loop.call_exception_handler({"message": "braid completion handler failed", "exception": e})

    def start(self, fn: Callable[..., int], *args: Any) -> int:
        """Calls a braid function that starts an operation, with this queue
        current on the calling thread.  The loop's thread keeps it current
        (set again only when another loop of the same thread set its own)."""
        if getattr(_current, "q", None) is not self.q:
            lib().braid_completion_queue_set_current(self.q)
            _current.q = self.q
        return fn(*args)

    def close(self) -> None:
        """At exit (the runtime is shut down: every operation has posted its
        last callback): runs what is queued, then frees the queue."""
        if not self.q:
            return
        L = lib()
        loop = self.loop_ref()
        if loop is not None:
            _runtime.loop_turns.pop(loop, None)
            if not loop.is_closed():
                try:
                    loop.remove_reader(self.fd)
                except Exception:
                    pass
        while L.braid_completion_queue_pending(self.q) > 0:
            L.braid_completion_queue_run(self.q, 0)
        if getattr(_current, "q", None) is self.q:
            _current.q = None  # free unsets it on this thread
        if self.pump is not None:
            self.pump.close()  # its turns are plain turns from now on
        if L.braid_completion_queue_free(self.q) == 0:
            self.q = ctypes.c_void_p()


_current = threading.local()  # .q: the queue this thread has made current
_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bridge]" = weakref.WeakKeyDictionary()
_bridges_lock = threading.Lock()


def _bridge() -> Tuple[asyncio.AbstractEventLoop, _Bridge]:
    loop = asyncio.get_running_loop()
    br = _bridges.get(loop)
    if br is None:
        with _bridges_lock:
            br = _bridges.get(loop)
            if br is None:
                br = _bridges[loop] = _Bridge(loop)
    return loop, br


def _rt(rt: Optional[_runtime.Runtime]) -> ctypes.c_void_p:
    r = rt if rt is not None else _runtime.default_runtime()
    if r.closed:
        raise error(-3, "runtime closed")  # ESHUTDOWN
    return r._ptr


class _Op:
    """One braid operation whose completions resolve a future.

    on_done(status, *args) -> None runs on the loop's thread for each
    completion; `final(status, *args)` says whether it was the last one
    (default: every completion is)."""

    __slots__ = ("id", "task", "keep", "__weakref__")

    def __init__(self) -> None:
        self.id = next(_ids)
        self.task = ctypes.c_void_p()
        self.keep: Any = None  # buffers the operation uses, until its last callback

    def register(self, handler: Callable[..., None]) -> None:
        _handlers[self.id] = handler

    def finish(self) -> None:
        _handlers.pop(self.id, None)
        if self.task:
            lib().braid_task_free(self.task)
            self.task = ctypes.c_void_p()
        self.keep = None

    def abort(self) -> None:
        if self.task:
            lib().braid_task_abort(self.task)


async def _run_op(start: Callable[[_Op, _Bridge], int], what: str,
                  result: Callable[..., Any] = lambda st, *a: None,
                  lost: Callable[..., None] = lambda st, *a: None, keep: Any = None,
                  always: Optional[Callable[[], None]] = None) -> Any:
    """Starts an operation and awaits its one completion.

    start(op, bridge) starts it (through bridge.start) and returns the braid
    code; result(status, *args) turns a BRAID_OK completion into the value
    returned; lost(status, *args) cleans up after a completion that came
    after the awaiting task was cancelled (a stream nobody will take);
    always() runs first at every completion."""
    loop, br = _bridge()
    fut = loop.create_future()
    op = _Op()
    op.keep = keep

    def done(status: int, *args: Any) -> None:
        op.finish()
        if always is not None:
            always()
        if fut.done():
            lost(status, *args)
            return
        if status < 0:
            fut.set_exception(error(status, what))
        else:
            try:
                fut.set_result(result(status, *args))
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
                fut.set_exception(e)

    op.register(done)
    rc = start(op, br)
    if rc < 0:
        op.finish()
        raise error(rc, what)
    try:
        return await fut
    except asyncio.CancelledError:
        if not fut.done() or fut.cancelled():
            op.abort()  # its callback still comes (ECANCELED): `lost` cleans up
        raise


# ---- time and tasks --------------------------------------------------------------------


async def sleep(delay: float, result: Any = None, *, runtime: Optional[_runtime.Runtime] = None) -> Any:
    """Sleeps `delay` seconds on braid's timers; returns `result`."""
    if delay < 0 or math.isnan(delay):
        raise ValueError("negative delay")
    rt = _rt(runtime)
    L = lib()
    ns = min(int(delay * 1e9), 2**62)
    deadline = L.braid_now(rt) + ns

    def start(op: _Op, br: _Bridge) -> int:
        return br.start(L.braid_sleep_until, ctypes.byref(op.task), rt, deadline, _on_status, op.id)

    await _run_op(start, "braid_sleep_until")
    return result


CFunction = Union[int, ctypes._CFuncPtr]  # type: ignore[name-defined]


def _address(fn: CFunction) -> int:
    if isinstance(fn, int):
        return fn
    return ctypes.cast(fn, ctypes.c_void_p).value or 0


async def _join(op: _Op, br: _Bridge, what: str, keep: Any = None) -> int:
    """Awaits op.task (a running task) through braid_task_join.  `keep` is
    held until the join's callback, which comes after the task has ended
    (also when the wait was cancelled)."""
    L = lib()

    def start(jop: _Op, b: _Bridge) -> int:
        jop.task = ctypes.c_void_p()  # the join has no handle of its own: abort goes to op.task
        return b.start(L.braid_task_join, op.task, _on_status, jop.id)

    try:
        return await _run_op(start, what, keep=keep)
    except asyncio.CancelledError:
        op.abort()
        raise
    except BaseException:
        if keep is not None:
            _runtime._orphans.append(keep)  # the join never started: keep it for good
        raise


async def spawn(fn: CFunction, arg: Optional[int] = None, *, runtime: Optional[_runtime.Runtime] = None) -> None:
    """Runs the C function fn(arg) (void (*)(void *)) as a braid task on a
    worker and waits for it.  Cancelling the wait aborts the task (one not
    yet running does not run)."""
    rt = _rt(runtime)
    L = lib()
    loop, br = _bridge()
    op = _Op()
    check(L.braid_spawn(ctypes.byref(op.task), rt, _address(fn), arg), "braid_spawn")
    try:
        await _join(op, br, "braid_spawn")
    finally:
        op.finish()


async def spawn_blocking(fn: Callable[..., Any], *args: Any, runtime: Optional[_runtime.Runtime] = None) -> Any:
    """Runs fn(*args) on braid's blocking pool (a braid thread that is not a
    worker, with the GIL while it runs Python) and returns its result or
    raises its exception.  Cancelling the wait drops a job that has not
    started; a running one runs to its end."""
    rt = _rt(runtime)
    L = lib()
    loop, br = _bridge()
    box: Dict[str, Any] = {}

    def body(_arg: Any) -> None:
        try:
            box["result"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised on the loop
            box["exc"] = e

    cb = TASK_FN(body)
    op = _Op()
    check(L.braid_spawn_blocking(ctypes.byref(op.task), rt, cb, None), "braid_spawn_blocking")
    try:
        await _join(op, br, "braid_spawn_blocking", keep=cb)  # cb lives until the job has ended
    finally:
        op.finish()
    if "exc" in box:
        raise box["exc"]
    return box.get("result")


# ---- TCP streams (the shape of asyncio's streams) ----------------------------------------------

_CHUNK = 65536


class _Conn:
    """A braid_tcp_stream*, freed when the reader and the writer are gone."""

    def __init__(self, ptr: int):
        self.ptr = ctypes.c_void_p(ptr)
        L = lib()
        self.bs = ctypes.c_void_p(L.braid_tcp_stream_as_byte_stream(self.ptr))
        self.fd = L.braid_tcp_stream_fd(self.ptr)  # non-blocking; the stream's: written inline, never closed here
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            lib().braid_tcp_stream_close(self.ptr)

    def __del__(self) -> None:
        try:
            if self.ptr:
                lib().braid_tcp_stream_free(self.ptr)
                self.ptr = ctypes.c_void_p()
        except Exception:
            pass


class StreamReader:
    """Reads from a braid TCP stream: read, readexactly, readline, readuntil,
    at_eof, as asyncio.StreamReader.

    One repeating braid read (braid_byte_stream_read_start) per stream feeds
    the buffer from the start; it is stopped while more than
    `limit` bytes wait unread, and started again when they are taken.
    Cancelling a read loses nothing: the bytes stay in the buffer."""

    def __init__(self, conn: _Conn, limit: int = 4 * _CHUNK):
        self._conn = conn
        self._buf = bytearray()
        self._eof = False
        self._exc: Optional[BaseException] = None
        self._limit = limit
        self._op: Optional[_Op] = None
        self._stopping = False
        # the pending read's future: its result is None (look at the buffer),
        # or, when the buffer was empty and read(n) waits, a chunk of at most
        # _direct bytes handed over as it is
        self._waiter: "Optional[asyncio.Future[Optional[bytes]]]" = None
        self._direct = 0
        self._new_future = asyncio.get_running_loop().create_future  # made on the loop it serves

    def _wake(self) -> None:
        w, self._waiter = self._waiter, None
        if w is not None and not w.done():
            w.set_result(None)

    def _start(self) -> None:
        L = lib()
        loop, br = _bridge()
        op = _Op()
        cbuf = ctypes.create_string_buffer(_CHUNK)
        op.keep = cbuf  # until the final call
        bs = self._conn.bs

        def on_read(status: int, data: bytes) -> None:
            if status == 0:
                buf = self._buf
                w = self._waiter
                if w is not None:
                    self._waiter = None
                    if not w.done():
                        if not buf and len(data) <= self._direct:
                            w.set_result(data)  # read() returns the chunk itself
                            return
                        w.set_result(None)
                buf += data
                if len(buf) > self._limit and not self._stopping:
                    self._stopping = True
                    L.braid_byte_stream_read_stop(bs)
                return
            else:  # the final call
                op.finish()
                self._op = None
                if status == _EEOF:
                    self._eof = True
                elif not (status == _ECANCELED and self._stopping):
                    self._exc = error(status, "braid_byte_stream_read_start")
                self._stopping = False
            self._wake()

        op.register(on_read)
        rc = br.start(L.braid_byte_stream_read_start, ctypes.byref(op.task), bs, cbuf, _CHUNK, _on_read, op.id)
        if rc < 0:
            op.finish()
            raise error(rc, "braid_byte_stream_read_start")
        self._op = op

    async def _fill(self) -> bool:
        """Waits for more bytes (or the end); False at end of stream."""
        if self._exc is not None:
            raise self._exc
        if self._eof:
            return False
        if self._op is None:
            self._start()
        self._direct = 0
        self._waiter = self._new_future()
        await self._waiter
        if self._exc is not None:
            raise self._exc
        return bool(self._buf) or not self._eof

    def _take(self, n: int) -> bytes:
        buf = self._buf
        if n >= len(buf):
            data = bytes(buf)
            buf.clear()
            return data
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def at_eof(self) -> bool:
        return self._eof and not self._buf

    async def read(self, n: int = -1) -> bytes:
        """Up to n bytes (n < 0: everything until end of stream); b"" at the end."""
        if n == 0:
            return b""
        if n < 0:
            while await self._fill():
                pass
            data, self._buf = bytes(self._buf), bytearray()
            return data
        while not self._buf:
            if self._op is None:  # not reading: an error, the end, or stopped
                if self._exc is not None:
                    raise self._exc
                if self._eof:
                    return b""
                self._start()
            self._direct = n
            w = self._waiter = self._new_future()
            chunk = await w
            if chunk is not None:
                return chunk
        return self._take(n)

    async def readexactly(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not await self._fill():
                partial = bytes(self._buf)
                self._buf.clear()
                raise asyncio.IncompleteReadError(partial, n)
        return self._take(n)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        start = 0
        while True:
            i = self._buf.find(separator, start)
            if i >= 0:
                return self._take(i + len(separator))
            start = max(0, len(self._buf) - len(separator) + 1)
            if not await self._fill():
                partial = bytes(self._buf)
                self._buf.clear()
                raise asyncio.IncompleteReadError(partial, None)

    async def readline(self) -> bytes:
        try:
            return await self.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:
            return e.partial

    def __aiter__(self) -> "StreamReader":
        return self

    async def __anext__(self) -> bytes:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class StreamWriter:
    """Writes to a braid TCP stream: write + drain, write_eof, close +
    wait_closed, get_extra_info, as asyncio.StreamWriter.

    write() tries the socket at once, from the loop's thread (one os.write
    on the stream's non-blocking fd: no ctypes call, never waiting).  What the socket
    does not take (its buffer is full: EAGAIN, or a partial write) waits in
    a buffer and goes out through braid write operations, one at a time, in
    order; while any byte waits there, write() appends behind it instead of
    trying the socket, so the bytes keep their order.  drain() returns at
    once when nothing waits, else when the buffer is out; it raises the
    error a write met (BrokenPipeError, ConnectionResetError, ...).
    Cancelling the task awaiting drain() aborts the braid write."""

    def __init__(self, conn: _Conn):
        self._conn = conn
        self._pending = bytearray()  # not yet handed to the socket or to a braid write
        self._op: Optional[_Op] = None  # the braid write in flight
        self._exc: Optional[BaseException] = None  # the error a write met
        self._waiters: "list[asyncio.Future[None]]" = []
        self._aborting = False  # drain() was cancelled: the write in flight is being aborted
        self._eof_pending = False  # write_eof() waits for the buffer to go out
        self._closing = False  # close() waits for the buffer to go out

    def write(self, data: Union[bytes, bytearray, memoryview]) -> None:
        conn = self._conn
        if conn.closed or self._closing:
            raise ConnectionResetError("the stream is closed")
        if self._exc is not None:
            return  # the stream is broken: drain() raises
        if self._pending or self._op is not None:
            self._pending += data  # behind what waits: keeps the order
            return
        if not isinstance(data, bytes):
            data = bytes(data)
        if not data:
            return
        try:
            n = _os_write(conn.fd, data)
        except OSError:
            # EAGAIN, or an error (EPIPE, ECONNRESET): the braid write below
            # waits for room, or meets the error and reports braid's code
            n = 0
        if n == len(data):
            return
        self._pending += memoryview(data)[n:]
        self._flush()

    def writelines(self, data: "Any") -> None:
        for d in data:
            self.write(d)

    def _fail(self, exc: BaseException) -> None:
        self._exc = exc
        self._pending = bytearray()
        self._wake()

    def _wake(self) -> None:
        ws, self._waiters = self._waiters, []
        for w in ws:
            if not w.done():
                w.set_result(None)

    def _flush(self) -> None:
        """Hands the buffer to a braid write (the stream ready or not: the
        operation waits for room on braid's reactor)."""
        L = lib()
        loop, br = _bridge()
        data, self._pending = bytes(self._pending), bytearray()
        op = _Op()
        op.keep = data  # until its callback

        def done(status: int, n: int) -> None:
            op.finish()
            self._op = None
            aborted, self._aborting = self._aborting, False
            if status == _ECANCELED and aborted:
                self._wake()
            elif status < 0:
                self._fail(error(status, "braid_byte_stream_write_all"))
            elif self._pending and not self._conn.closed:
                self._flush()
            else:
                if self._eof_pending and not self._conn.closed:
                    self._shutdown_write()
                self._wake()
            if self._closing and self._op is None:
                self._closing = False
                self._conn.close()

        op.register(done)
        rc = br.start(L.braid_byte_stream_write_all, ctypes.byref(op.task), self._conn.bs, data, len(data),
                      _on_io, op.id)
        if rc < 0:
            op.finish()
            self._fail(error(rc, "braid_byte_stream_write_all"))
            return
        self._op = op

    async def drain(self) -> None:
        """Waits until everything written so far is handed to the socket."""
        if self._op is None and not self._pending and self._exc is None:
            return
        while True:
            if self._exc is not None:
                raise self._exc
            if self._op is None:
                if not self._pending:
                    return
                self._flush()
                continue
            w = asyncio.get_running_loop().create_future()
            self._waiters.append(w)
            try:
                await w
            except asyncio.CancelledError:
                op = self._op
                if op is not None and (not w.done() or w.cancelled()):
                    self._pending = bytearray()  # as the aborted write's bytes: not sent
                    self._aborting = True
                    op.abort()  # its callback comes (ECANCELED) and ends it
                raise

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """Shuts the sending side down after the bytes written so far (at
        once when none waits, else when the braid write has sent them)."""
        if self._op is None and not self._pending:
            check(lib().braid_byte_stream_shutdown_write(self._conn.bs), "braid_byte_stream_shutdown_write")
        else:
            self._eof_pending = True

    def _shutdown_write(self) -> None:
        self._eof_pending = False
        rc = lib().braid_byte_stream_shutdown_write(self._conn.bs)
        if rc < 0:
            self._fail(error(rc, "braid_byte_stream_shutdown_write"))

    def is_closing(self) -> bool:
        return self._conn.closed or self._closing

    def close(self) -> None:
        """Closes the stream: at once when no byte waits, else once the
        braid write has sent them (or failed), as asyncio's transports do."""
        if self._op is None or self._exc is not None:
            self._conn.close()
        else:
            self._closing = True

    async def wait_closed(self) -> None:
        """Waits until close() has closed the stream (its queued bytes out)."""
        while self._closing and self._op is not None:
            w = asyncio.get_running_loop().create_future()
            self._waiters.append(w)
            await w

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name not in ("peername", "sockname", "socket"):
            return default
        fd = lib().braid_tcp_stream_fd(self._conn.ptr)
        if fd < 0:
            return default
        s = socket.socket(fileno=os.dup(fd))
        try:
            if name == "peername":
                return s.getpeername()
            if name == "sockname":
                return s.getsockname()
            return None
        finally:
            s.close()

    async def __aenter__(self) -> "StreamWriter":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


def _streams(ptr: int) -> Tuple[StreamReader, StreamWriter]:
    conn = _Conn(ptr)
    lib().braid_tcp_stream_set_nodelay(conn.ptr, 1)
    reader = StreamReader(conn)
    reader._start()  # reads at once, as asyncio's streams do
    return reader, StreamWriter(conn)


async def open_connection(host: str, port: int, *,
                          runtime: Optional[_runtime.Runtime] = None) -> Tuple[StreamReader, StreamWriter]:
    """Connects with braid's TCP (host: a name or an address; each address
    tried in turn) and returns (reader, writer).  ConnectionRefusedError,
    OSError (ENOTFOUND, EUNREACH), TimeoutError, ..., with .code."""
    rt = _rt(runtime)
    L = lib()
    hb = host.encode()

    def start(op: _Op, br: _Bridge) -> int:
        return br.start(L.braid_tcp_connect_host, ctypes.byref(op.task), rt, hb, port, _on_stream, op.id)

    def lost(st: int, s: Optional[int]) -> None:
        if s:
            L.braid_tcp_stream_free(ctypes.c_void_p(s))

    ptr = await _run_op(start, "braid_tcp_connect_host", result=lambda st, s: s, lost=lost)
    return _streams(ptr)


class Server:
    """A listening braid TCP socket that hands each connection to a callback
    (see start_server).  Close with close() + await wait_closed(), or use it
    as an async context manager."""

    def __init__(self, loop: asyncio.AbstractEventLoop, listener: ctypes.c_void_p, sockname: Any):
        self._loop = loop
        self._listener = listener
        self._sockname = sockname
        self._closed = asyncio.Event()
        self._op: Optional[_Op] = None

    @property
    def sockname(self) -> Any:
        """The bound address, (host, port)."""
        return self._sockname

    @property
    def port(self) -> int:
        return int(self._sockname[1])

    def is_serving(self) -> bool:
        return not self._closed.is_set()

    def close(self) -> None:
        if self._listener:
            L = lib()
            L.braid_tcp_listener_accept_stop(self._listener)
            L.braid_tcp_listener_close(self._listener)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def serve_forever(self) -> None:
        try:
            await self._closed.wait()
        except asyncio.CancelledError:
            self.close()
            raise

    def _ended(self) -> None:
        if self._listener:
            lib().braid_tcp_listener_free(self._listener)
            self._listener = ctypes.c_void_p()
        self._closed.set()

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
        await self.wait_closed()


ClientConnected = Callable[[StreamReader, StreamWriter], Union[Awaitable[None], None]]


async def start_server(client_connected_cb: ClientConnected, host: Optional[str] = None, port: int = 0, *,
                       backlog: int = 128, reuse_address: bool = True,
                       runtime: Optional[_runtime.Runtime] = None) -> Server:
    """Listens on (host, port) with braid's TCP and calls
    client_connected_cb(reader, writer) for every connection (a coroutine
    function's coroutine becomes a task), as asyncio.start_server."""
    rt = _rt(runtime)
    L = lib()
    loop, br = _bridge()
    sock = socket.create_server((host or "", port), backlog=backlog, reuse_port=False)
    if reuse_address:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sockname = sock.getsockname()
    fd = sock.detach()
    listener = ctypes.c_void_p()
    rc = L.braid_tcp_listener_from_fd(ctypes.byref(listener), rt, fd)
    if rc < 0:
        os.close(fd)
        raise error(rc, "braid_tcp_listener_from_fd")
    server = Server(loop, listener, sockname)
    op = _Op()
    tasks: "set[asyncio.Task[Any]]" = set()

    def on_conn(status: int, s: Optional[int]) -> None:
        if status == 0 and s:
            r, w = _streams(s)
            res = client_connected_cb(r, w)
            if asyncio.iscoroutine(res):
                t = loop.create_task(res)
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            return
        if status in _ACCEPT_FINAL:  # else a failed accept (EMFILE, ...): it goes on
            op.finish()
            server._op = None
            server._ended()

    op.register(on_conn)
    server._op = op
    rc = br.start(L.braid_tcp_listener_accept_start, ctypes.byref(op.task), listener, _on_stream, op.id)
    if rc < 0:
        op.finish()
        server._ended()
        raise error(rc, "braid_tcp_listener_accept_start")
    return server


# ---- channels: braid's mpsc, between Python and C ----------------------------------------


class Receiver:
    """The receiving end of a braid mpsc channel of fixed-size elements
    (bytes of elem_size).  The sending end may be anywhere: C or C++ code
    holding the braid_mpsc_tx* (Sender.handle), or Python (Sender)."""

    def __init__(self, ptr: int, elem_size: int, owned: bool = True):
        self._ptr = ctypes.c_void_p(ptr)
        self.elem_size = elem_size
        self._owned = owned
        self._stash: list = []  # values received for a wait that was cancelled meanwhile

    @property
    def handle(self) -> int:
        """The braid_mpsc_rx*."""
        return self._ptr.value or 0

    async def recv(self, *, runtime: Optional[_runtime.Runtime] = None) -> bytes:
        """The next value; ConnectionError (ECLOSED) once every sender is gone
        and nothing is left."""
        if self._stash:
            return self._stash.pop(0)
        rt = _rt(runtime)
        L = lib()
        buf = ctypes.create_string_buffer(self.elem_size)
        rx = self._ptr

        def start(op: _Op, br: _Bridge) -> int:
            return br.start(L.braid_mpsc_recv, ctypes.byref(op.task), rt, rx, buf, self.elem_size, _on_status,
                            op.id)

        def lost(st: int) -> None:
            if st == 0:
                self._stash.append(buf.raw)

        return await _run_op(start, "braid_mpsc_recv", result=lambda st: buf.raw, lost=lost, keep=buf)

    def try_recv(self) -> Optional[bytes]:
        """A value if one is there now, else None (raises once closed and empty)."""
        if self._stash:
            return self._stash.pop(0)
        buf = ctypes.create_string_buffer(self.elem_size)
        rc = lib().braid_mpsc_try_recv(self._ptr, buf, self.elem_size)
        if rc == -12:  # EAGAIN
            return None
        check(rc, "braid_mpsc_try_recv")
        return buf.raw

    def close(self) -> None:
        lib().braid_mpsc_rx_close(self._ptr)

    def __aiter__(self) -> "Receiver":
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionError as e:
            if getattr(e, "code", None) == _ECLOSED:
                raise StopAsyncIteration
            raise

    def __del__(self) -> None:
        try:
            if self._ptr and self._owned:
                lib().braid_mpsc_rx_free(self._ptr)
                self._ptr = ctypes.c_void_p()
        except Exception:
            pass


class Sender:
    """The sending end of a braid mpsc channel (see Receiver)."""

    def __init__(self, ptr: int, elem_size: int, owned: bool = True):
        self._ptr = ctypes.c_void_p(ptr)
        self.elem_size = elem_size
        self._owned = owned

    @property
    def handle(self) -> int:
        """The braid_mpsc_tx* (hand a clone() of it to C code that sends)."""
        return self._ptr.value or 0

    def clone(self) -> "Sender":
        out = ctypes.c_void_p()
        check(lib().braid_mpsc_tx_clone(ctypes.byref(out), self._ptr), "braid_mpsc_tx_clone")
        return Sender(out.value or 0, self.elem_size)

    def detach(self) -> int:
        """Gives the braid_mpsc_tx* away (to C code that will free it)."""
        ptr, self._ptr = self._ptr.value or 0, ctypes.c_void_p()
        return ptr

    def _value(self, data: bytes) -> ctypes.Array:
        if len(data) != self.elem_size:
            raise ValueError(f"a value of this channel is {self.elem_size} bytes, not {len(data)}")
        return ctypes.create_string_buffer(bytes(data), self.elem_size)

    async def send(self, data: bytes, *, runtime: Optional[_runtime.Runtime] = None) -> None:
        """Sends, waiting for room; ConnectionError (ECLOSED) when the receiver is gone."""
        rt = _rt(runtime)
        L = lib()
        buf = self._value(data)
        tx = self._ptr

        def start(op: _Op, br: _Bridge) -> int:
            return br.start(L.braid_mpsc_send, ctypes.byref(op.task), rt, tx, buf, self.elem_size, _on_status,
                            op.id)

        await _run_op(start, "braid_mpsc_send", keep=buf)

    def try_send(self, data: bytes) -> bool:
        """Sends if there is room now: True; False when full."""
        rc = lib().braid_mpsc_try_send(self._ptr, self._value(data), self.elem_size)
        if rc == -12:
            return False
        check(rc, "braid_mpsc_try_send")
        return True

    def close(self) -> None:
        """Drops this sender (the channel closes when every sender is gone)."""
        if self._ptr and self._owned:
            lib().braid_mpsc_tx_free(self._ptr)
        self._ptr = ctypes.c_void_p()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def channel(capacity: int, elem_size: int) -> Tuple[Sender, Receiver]:
    """A bounded braid mpsc channel of elem_size-byte values."""
    tx, rx = ctypes.c_void_p(), ctypes.c_void_p()
    align = 8 if elem_size % 8 == 0 else 1
    check(lib().braid_mpsc_new(ctypes.byref(tx), ctypes.byref(rx), capacity, elem_size, align, None, None),
          "braid_mpsc_new")
    return Sender(tx.value or 0, elem_size), Receiver(rx.value or 0, elem_size)
