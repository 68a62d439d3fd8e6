"""braid for Python: asyncio on braid, the async runtime for C and C++.

    import asyncio, braid

    async def main():
        await braid.sleep(0.1)                                  # braid's timers
        reader, writer = await braid.open_connection("localhost", 8080)  # braid's TCP
        print(await braid.spawn_blocking(sum, range(10)))        # braid's blocking pool

    asyncio.run(main())

Operations complete on the event loop's own thread through a braid
completion queue watched by the loop: no Python callback ever runs on a
braid worker.  Errors are BraidError subclasses that are also the matching
built-in exception (TimeoutError, ConnectionRefusedError, FileNotFoundError,
asyncio.CancelledError, ...); .code keeps the braid code.

libbraid is found through BRAID_LIB, pkg-config, or the loader's path (see
braid._lib); its version must be of this package's series.
"""

from ._aio import (
    Receiver,
    Sender,
    Server,
    StreamReader,
    StreamWriter,
    channel,
    open_connection,
    sleep,
    spawn,
    spawn_blocking,
    start_server,
)
from ._lib import (
    CALLBACK,
    OK,
    PENDING,
    TASK_FN,
    WAIT_FOREVER,
    BraidError,
    BraidVersionError,
    __version__,
    err_name,
    error,
    lib,
    load,
    strerror,
    version,
)
from ._runtime import BlockingTask, Runtime, Task, default_runtime, default_workers, set_default_runtime


def now(rt: "Runtime | None" = None) -> int:
    """The runtime's clock in ns (the monotonic clock when rt is None)."""
    return lib().braid_now(rt._ptr if rt is not None else None)


__all__ = [
    "BlockingTask", "BraidError", "BraidVersionError", "CALLBACK", "OK", "PENDING", "Receiver", "Runtime",
    "Sender", "Server", "StreamReader", "StreamWriter", "TASK_FN", "Task", "WAIT_FOREVER", "__version__",
    "channel", "default_runtime", "default_workers", "err_name", "error", "lib", "load", "now", "open_connection",
    "set_default_runtime", "sleep", "spawn", "spawn_blocking", "start_server", "strerror", "version",
]
