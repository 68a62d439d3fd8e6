#!/usr/bin/env python3
"""asyncio echo servers compared: braid's TCP (the braid Python package),
plain asyncio, and uvloop (asyncio on libuv, Debian's python3-uvloop), each
in a process of its own, driven by the same client in the same run:

    braid             braid's default runtime (its I/O on a worker thread),
                      asyncio's default event loop
    braid-uvloop      the same on uvloop's event loop (the loop only watches
                      braid's completion queue)
    braid-loop        a runtime the loop drives (braid.Runtime(loop=...):
                      braid's I/O on the loop's thread), asyncio's loop
    braid-loop-uvloop the same on uvloop's event loop
    asyncio, uvloop   asyncio's own streams on either loop

    BRAID_LIB=build/libbraid.so PYTHONPATH=bindings/python \\
        python3 bench/asyncio_echo.py --runs 3 --seconds 3 --conns 32 --size 64 \\
        [--servers braid,asyncio,uvloop,braid-uvloop,braid-loop,braid-loop-uvloop] [--client c]

The braid package dispatches its completions in C when its extension
braid._speedups is built (pip install does that; for a source tree:
`cd bindings/python && python3 setup.py build_ext --inplace`); with
BRAID_SPEEDUPS=0 in the environment, or without it, in Python.

Each server is a coroutine handler `read(64 KiB) -> write -> drain` behind
the library's start_server.  The client (one process, uvloop when it is
installed, else asyncio) keeps `--conns` connections in ping-pong: each sends
`--size` bytes and waits for them to come back, for `--seconds`.  The figure
is round trips per second; "CPU us/rt" is the server process's CPU time
(user + system, all its threads, from /proc) per round trip, median of the
runs: less sensitive to other load on the machine than the rate; "client
us/rt" is the client's CPU time per round trip: when it is about 1e6 /
the rate, the client, not the server, bounds the rate.  `--client c` runs
bench/echo_client.c instead (compiled with cc into a scratch directory: one
thread, epoll, a few system calls a round trip), which leaves the server
the bottleneck.  Servers
are run in turn, `--runs` times (alternating, so a change of machine load
hits every server alike); the median run is reported with min and max.
"""

import argparse
import asyncio
import atexit
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SERVERS = ("braid", "asyncio", "uvloop", "braid-uvloop", "braid-loop", "braid-loop-uvloop")


async def _handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


def serve(kind: str) -> None:
    if kind.endswith("uvloop"):
        import uvloop

        uvloop.install()

    async def main():
        if kind.startswith("braid"):
            import braid

            if kind.startswith("braid-loop"):
                braid.set_default_runtime(braid.Runtime(loop=asyncio.get_running_loop()))
            server = await braid.start_server(_handle, "127.0.0.1", 0)
            port = server.port
        else:
            server = await asyncio.start_server(_handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the driver closes stdin

    asyncio.run(main())


async def _client(port: int, conns: int, size: int, seconds: float) -> float:
    payload = b"x" * size
    stop = time.monotonic() + seconds
    counts = []

    async def one():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        while time.monotonic() < stop:
            w.write(payload)
            await w.drain()
            await r.readexactly(size)
            n += 1
        w.close()
        counts.append(n)

    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(conns)))
    return sum(counts), time.monotonic() - t0


def _cpu_seconds(pid: int) -> float:
    """The user + system CPU time of a process, all its threads (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _build_c_client() -> str:
    """bench/echo_client.c compiled (cc -O2) into a scratch directory, removed at exit."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_client.c")
    scratch = tempfile.mkdtemp(prefix="braid-echo-client-")
    atexit.register(shutil.rmtree, scratch, True)
    exe = os.path.join(scratch, "echo_client")
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", exe, src], check=True)
    return exe


def run_once(kind: str, args) -> "tuple[float, float, float]":
    """(round trips per second, server and client CPU microseconds per round trip)."""
    p = subprocess.Popen([sys.executable, __file__, "--serve", kind], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"{kind} server did not start: {line!r}")
        port = int(line.split()[1])
        cpu0 = _cpu_seconds(p.pid)
        if args.c_client:
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run([args.c_client, str(port), str(args.conns), str(args.size), str(args.seconds)],
                                 check=True, capture_output=True, text=True).stdout.split()
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            n, elapsed = int(out[0]), float(out[1])
            mine = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        else:
            mine0 = time.process_time()
            n, elapsed = asyncio.run(_client(port, args.conns, args.size, args.seconds))
            mine = time.process_time() - mine0
        cpu = _cpu_seconds(p.pid) - cpu0
        return n / elapsed, cpu * 1e6 / max(n, 1), mine * 1e6 / max(n, 1)
    finally:
        p.stdin.close()
        p.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--client", choices=("python", "c"), default="python",
                    help="python: asyncio streams on uvloop (or asyncio); c: bench/echo_client.c, built with cc")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    kinds = [k for k in args.servers.split(",") if k]
    args.c_client = _build_c_client() if args.client == "c" else None
    try:
        import uvloop

        uvloop.install()  # the client
        client = "uvloop"
    except ImportError:
        client = "asyncio"
        kinds = [k for k in kinds if "uvloop" not in k]
    if args.c_client:
        client = "C (bench/echo_client.c)"
    results = {k: [] for k in kinds}
    for _ in range(args.runs):
        for k in kinds:
            results[k].append(run_once(k, args))
    print(f"echo round trips/s: {args.conns} connections, {args.size}-byte messages, {args.seconds:g} s, "
          f"{args.runs} runs, client on {client}")
    print(f"{'server':18} {'median':>10} {'min':>10} {'max':>10} {'CPU us/rt':>10} {'client us/rt':>13}")
    for k in kinds:
        v = [r for r, _, _ in results[k]]
        cpu = statistics.median(c for _, c, _ in results[k])
        mine = statistics.median(c for _, _, c in results[k])
        print(f"{k:18} {statistics.median(v):10.0f} {min(v):10.0f} {max(v):10.0f} {cpu:10.1f} {mine:13.1f}")


if __name__ == "__main__":
    main()
