"""An asyncio program on braid: a TCP echo server and client on braid's TCP,
and a channel that a C thread feeds (feeder.c, built here with the system's
C compiler) while Python awaits its values.

    python3 echo_feed.py            # libbraid found through pkg-config or BRAID_LIB
    python3 echo_feed.py --loop     # the same on a runtime the asyncio loop drives

Prints what the client got back and the sum of what the C thread sent.
With --loop, braid's tasks (the reads, the accept, the receive) run on the
loop's own thread, in turns of a braid.Runtime(loop=...), instead of on
braid's worker threads.
"""

import asyncio
import ctypes
import os
import subprocess
import sys
import tempfile

import braid


def build_feeder(workdir: str) -> ctypes.CDLL:
    braid.load()  # first, and globally: feeder.c's braid calls bind to it
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "feeder.c")
    out = os.path.join(workdir, "libfeeder.so")
    subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-pthread", "-o", out, src], check=True)
    lib = ctypes.CDLL(out)
    lib.feed_from_thread.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    return lib


async def echo(reader: braid.StreamReader, writer: braid.StreamWriter) -> None:
    async for line in reader:
        writer.write(line.upper())
        await writer.drain()
    writer.close()


async def main(feeder: ctypes.CDLL, loop_runtime: bool) -> None:
    if loop_runtime:
        braid.set_default_runtime(braid.Runtime(loop=asyncio.get_running_loop()))
    server = await braid.start_server(echo, "127.0.0.1", 0)
    async with server:
        reader, writer = await braid.open_connection("127.0.0.1", server.port)
        for word in (b"hello", b"from", b"braid"):
            writer.write(word + b"\n")
            await writer.drain()
            print("echo:", (await reader.readline()).decode().strip())
        writer.close()

    tx, rx = braid.channel(16, 8)
    feeder.feed_from_thread(tx.detach(), 100)  # C sends 0, 10, ..., 990 and hangs up
    total = 0
    async for value in rx:
        total += int.from_bytes(value, sys.byteorder, signed=True)
    print("sum from C:", total)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(main(build_feeder(d), "--loop" in sys.argv[1:]))
