"""Loading libbraid, its prototypes, and braid's error codes as Python exceptions.

The library is looked up, in order: the path in the environment variable
BRAID_LIB (an explicit choice: nothing else is tried); the libdir that
``pkg-config --variable=libdir braid`` names; ctypes.util.find_library("braid");
then "libbraid.so.0.1" through the dynamic loader's search path.  The loaded
library's version must be of the package's series (0.1.x for 0.1.0): another
one is refused with ImportError-like BraidVersionError.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import threading
from typing import Dict, Iterator, List, Optional, Type

__version__ = "0.1.0"
SONAME = "libbraid.so.0.1"

OK = 0
PENDING = 1
WAIT_FOREVER = -1

c_void_p = ctypes.c_void_p
CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, ctypes.c_int)  # braid_callback
TASK_FN = ctypes.CFUNCTYPE(None, c_void_p)  # braid_task_fn
# braid_io_callback: (user_data, status, n)
IO_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, ctypes.c_int, ctypes.c_size_t)
# braid_read_callback: (user_data, status, data, n)
READ_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, ctypes.c_int, c_void_p, ctypes.c_size_t)
# braid_tcp_stream_callback: (user_data, status, stream)
STREAM_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, ctypes.c_int, c_void_p)


class BraidVersionError(ImportError):
    """The libbraid found is not of this package's series."""


_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def _pkg_config_libdir() -> Optional[str]:
    exe = shutil.which("pkg-config")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--variable=libdir", "braid"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    d = out.stdout.strip()
    return d if out.returncode == 0 and d else None


def _candidates() -> Iterator[str]:
    env = os.environ.get("BRAID_LIB")
    if env:
        yield env
        return
    d = _pkg_config_libdir()
    if d:
        yield os.path.join(d, SONAME)
    found = ctypes.util.find_library("braid")
    if found:
        yield found
    yield SONAME


def _declare(lib: ctypes.CDLL) -> None:
    def fn(name: str, restype, *argtypes) -> None:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    i, i64, sz, p, s = ctypes.c_int, ctypes.c_int64, ctypes.c_size_t, c_void_p, ctypes.c_char_p
    pp = ctypes.POINTER(c_void_p)
    fn("braid_version", s)
    fn("braid_version_number", i)
    fn("braid_strerror", s, i)
    fn("braid_err_name", s, i)
    fn("braid_last_os_error", i)
    # runtime
    fn("braid_runtime_builder_new", i, pp)
    fn("braid_runtime_builder_free", None, p)
    fn("braid_runtime_builder_worker_threads", i, p, i)
    fn("braid_runtime_builder_thread_name", i, p, s)
    fn("braid_runtime_build", i, pp, p)
    fn("braid_runtime_shutdown", i, p, i64)
    fn("braid_runtime_free", i, p)
    fn("braid_runtime_worker_count", i, p)
    fn("braid_runtime_builder_host_driven", i, p)
    fn("braid_runtime_fd", i, p)
    fn("braid_runtime_turn", i, p, i)
    fn("braid_now", i64, p)
    # tasks
    fn("braid_sleep", i, pp, p, i64, CALLBACK, p)
    fn("braid_sleep_until", i, pp, p, i64, CALLBACK, p)
    fn("braid_spawn", i, pp, p, p, p)
    fn("braid_spawn_blocking", i, pp, p, TASK_FN, p)
    fn("braid_task_join", i, p, CALLBACK, p)
    fn("braid_task_join_blocking", i, p, i64)
    fn("braid_task_abort", i, p)
    fn("braid_task_is_finished", i, p)
    fn("braid_task_free", None, p)
    # completion queues
    fn("braid_completion_queue_new", i, pp)
    fn("braid_completion_queue_fd", i, p)
    fn("braid_completion_queue_set_current", i, p)
    fn("braid_completion_queue_current", p)
    fn("braid_completion_queue_run", i, p, i)
    fn("braid_completion_queue_take", i, p, p, i, sz)
    fn("braid_completion_queue_take_bytes", i, p, p, i, sz, p, sz)
    fn("braid_runtime_turn_take", i, p, i, p, p, i, sz, p, sz)
    fn("braid_completion_queue_pending", i, p)
    fn("braid_completion_queue_free", i, p)
    # mpsc channels
    fn("braid_mpsc_new", i, pp, pp, sz, sz, sz, p, p)
    fn("braid_mpsc_tx_free", None, p)
    fn("braid_mpsc_rx_free", None, p)
    fn("braid_mpsc_rx_close", None, p)
    fn("braid_mpsc_tx_clone", i, pp, p)
    fn("braid_mpsc_try_send", i, p, p, sz)
    fn("braid_mpsc_try_recv", i, p, p, sz)
    fn("braid_mpsc_send", i, pp, p, p, p, sz, CALLBACK, p)
    fn("braid_mpsc_recv", i, pp, p, p, p, sz, CALLBACK, p)
    # TCP
    fn("braid_tcp_listener_from_fd", i, pp, p, i)
    fn("braid_tcp_listener_accept_start", i, pp, p, STREAM_CALLBACK, p)
    fn("braid_tcp_listener_accept_stop", i, p)
    fn("braid_tcp_listener_close", i, p)
    fn("braid_tcp_listener_free", None, p)
    fn("braid_tcp_connect_host", i, pp, p, s, i, STREAM_CALLBACK, p)
    fn("braid_tcp_stream_as_byte_stream", p, p)
    fn("braid_tcp_stream_fd", i, p)
    fn("braid_tcp_stream_set_nodelay", i, p, i)
    fn("braid_tcp_stream_close", i, p)
    fn("braid_tcp_stream_free", None, p)
    fn("braid_byte_stream_read", i, pp, p, p, sz, IO_CALLBACK, p)
    fn("braid_byte_stream_write_all", i, pp, p, p, sz, IO_CALLBACK, p)
    fn("braid_byte_stream_try_write", i, p, p, sz, ctypes.POINTER(sz))
    fn("braid_byte_stream_read_start", i, pp, p, p, sz, READ_CALLBACK, p)
    fn("braid_byte_stream_read_stop", i, p)
    fn("braid_byte_stream_shutdown_write", i, p)


def _series(number: int) -> "tuple[int, int]":
    return number // 10000, (number // 100) % 100


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libbraid once (globally, so C code loaded later links against
    the same copy) and returns it with its prototypes declared."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        errors: List[str] = []
        for cand in [path] if path else _candidates():
            try:
                lib = ctypes.CDLL(cand, mode=ctypes.RTLD_GLOBAL)
            except OSError as e:
                errors.append(f"{cand}: {e}")
                continue
            _declare(lib)
            want = tuple(int(x) for x in __version__.split(".")[:2])
            have = _series(lib.braid_version_number())
            if have != want:
                raise BraidVersionError(
                    f"{cand} is libbraid {lib.braid_version().decode()}; "
                    f"this package (braid {__version__}) needs the {want[0]}.{want[1]} series")
            _lib = lib
            return lib
        raise OSError("cannot load libbraid (install it where pkg-config finds it, or set BRAID_LIB "
                      "to its path): " + "; ".join(errors))


def lib() -> ctypes.CDLL:
    return _lib if _lib is not None else load()


def version() -> str:
    """The loaded library's version ("0.1.0")."""
    return lib().braid_version().decode()


def strerror(code: int) -> str:
    return lib().braid_strerror(code).decode()


def err_name(code: int) -> str:
    return lib().braid_err_name(code).decode()


# ---- errors ------------------------------------------------------------------------


class BraidError(Exception):
    """A negative BRAID_E* code.  .code is the code, .name its name ("ETIMEDOUT").

    Codes with a Python counterpart raise a subclass of both (see error()):
    ETIMEDOUT is also a TimeoutError, ECONNREFUSED a ConnectionRefusedError,
    ENOENT a FileNotFoundError, ECANCELED an asyncio.CancelledError, ..."""

    def __init__(self, code: int, what: str = ""):
        self.code = code
        self.name = err_name(code)
        self.description = strerror(code)
        msg = f"{self.name} ({code}): {self.description}"
        super().__init__(f"{what}: {msg}" if what else msg)


_BUILTIN: Dict[str, Type[BaseException]] = {
    "ETIMEDOUT": TimeoutError,
    "ECONNREFUSED": ConnectionRefusedError,
    "ECONNRESET": ConnectionResetError,
    "ECONNABORTED": ConnectionAbortedError,
    "EPIPE": BrokenPipeError,
    "ECLOSED": ConnectionError,
    "ENOTCONN": ConnectionError,
    "ENOENT": FileNotFoundError,
    "EEXIST": FileExistsError,
    "EACCES": PermissionError,
    "EISDIR": IsADirectoryError,
    "ENOTDIR": NotADirectoryError,
    "EADDRINUSE": OSError,
    "EADDRNOTAVAIL": OSError,
    "EUNREACH": OSError,
    "ENOTFOUND": OSError,
    "EMFILE": OSError,
    "EIO": OSError,
    "EINVAL": ValueError,
    "ENOMEM": MemoryError,
    "ECANCELED": asyncio.CancelledError,
}
_classes: Dict[int, Type[BraidError]] = {}


def error(code: int, what: str = "") -> BraidError:
    """The exception for a negative braid code: a BraidError that is also the
    matching built-in exception when there is one."""
    cls = _classes.get(code)
    if cls is None:
        name = err_name(code)
        base = _BUILTIN.get(name)
        if base is None:
            cls = BraidError
        else:
            cls = type(f"Braid{base.__name__}", (BraidError, base), {"__init__": BraidError.__init__})
        _classes[code] = cls
    return cls(code, what)


def check(rc: int, what: str) -> int:
    if rc < 0:
        raise error(rc, what)
    return rc
