"""asyncio on braid: every completion on the loop's thread, cancellation,
errors, TCP streams, channels fed from C, C tasks, blocking jobs, several
loops in several threads, and interpreter exit."""

import asyncio
import ctypes
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import braid
from conftest import SquareJob, echo

TIMEOUT_S = 30.0


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT_S))


def test_sleep_waits_on_braid_timers():
    async def main():
        t0 = braid.now()
        assert await braid.sleep(0.02, "r") == "r"
        return braid.now() - t0

    assert run(main()) >= 20_000_000


def test_sleep_rejects_negative_delays():
    with pytest.raises(ValueError):
        run(braid.sleep(-1))


def test_cancelling_the_asyncio_task_cancels_the_sleep():
    async def main():
        t = asyncio.ensure_future(braid.sleep(3600))
        await braid.sleep(0)  # the sleep has started
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        # the braid side was aborted: its callback came back (ECANCELED) and
        # nothing is left registered
        deadline = time.monotonic() + TIMEOUT_S / 2
        while braid._aio._handlers and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return dict(braid._aio._handlers)

    assert run(main()) == {}


def test_wait_for_timeout_on_a_braid_sleep():
    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(braid.sleep(3600), 0.05)

    run(main())


def test_spawn_runs_a_c_function_as_a_task(helper):
    job = SquareJob(12, 0)

    async def main():
        await braid.spawn(helper.square, ctypes.addressof(job))

    run(main())
    assert job.out == 144


def test_spawn_blocking_returns_and_raises():
    loop_thread = []

    def work(a, b):
        return (a + b, threading.get_ident())

    async def main():
        loop_thread.append(threading.get_ident())
        value, ident = await braid.spawn_blocking(work, 2, 3)
        assert value == 5
        assert ident != loop_thread[0]
        with pytest.raises(ZeroDivisionError):
            await braid.spawn_blocking(lambda: 1 / 0)

    run(main())


def test_callbacks_run_on_the_loop_thread_only():
    # every operation registers the handler its completions go to: wrap each to record its thread
    seen = []
    orig = braid._aio._Op.register

    def spy(op, handler):
        def recording(*args):
            seen.append(threading.get_ident())
            return handler(*args)

        orig(op, recording)

    braid._aio._Op.register = spy
    try:
        async def main():
            await asyncio.gather(*(braid.sleep(0.001 * i) for i in range(20)))
            await braid.spawn_blocking(lambda: None)
            return threading.get_ident()

        me = run(main())
    finally:
        braid._aio._Op.register = orig
    assert len(seen) >= 21
    assert set(seen) == {me}


def test_a_raising_handler_does_not_stop_its_batch():
    # three completions taken in one batch: the first two handlers raise; the third still runs,
    # and both exceptions reach the loop's exception handler (the first raised from the drain)
    aio = braid._aio
    L = braid.load()
    rt = braid.default_runtime()
    seen = []

    async def main():
        loop, br = aio._bridge()
        loop.set_exception_handler(lambda lp, ctx: seen.append(ctx.get("exception")))
        third = loop.create_future()

        def first(st):
            raise ValueError("first")

        def second(st):
            raise KeyError("second")

        ops = [aio._Op() for _ in range(3)]
        for op, h in zip(ops, (first, second, lambda st: third.set_result(st))):
            op.register(h)
            assert br.start(L.braid_sleep_until, ctypes.byref(op.task), rt._ptr, 0, aio._on_status, op.id) == 0
        # all three queued before the loop drains: one batch
        while L.braid_completion_queue_pending(br.q) < 3:
            time.sleep(0)
        assert await third == 0
        for op in ops:
            op.finish()
        return [type(e) for e in seen]

    assert sorted(t.__name__ for t in run(main())) == ["KeyError", "ValueError"]


def test_tcp_echo_server_and_client():
    async def main():
        server = await braid.start_server(echo, "127.0.0.1", 0)
        async with server:
            reader, writer = await braid.open_connection("127.0.0.1", server.port)
            assert writer.get_extra_info("peername") == ("127.0.0.1", server.port)
            writer.write(b"line one\nline two\n")
            await writer.drain()
            assert await reader.readline() == b"line one\n"
            assert await reader.readuntil(b"two") == b"line two"
            big = os.urandom(300_000)
            writer.write(big)
            await writer.drain()
            assert await reader.readexactly(1 + len(big)) == b"\n" + big
            writer.write_eof()
            assert await reader.read() == b""
            assert reader.at_eof()
            writer.close()
            await writer.wait_closed()
        assert not server.is_serving()

    run(main())


def test_tcp_plain_asyncio_client_against_a_braid_server():
    async def main():
        server = await braid.start_server(echo, "127.0.0.1", 0)
        async with server:
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            w.write(b"ping")
            await w.drain()
            assert await r.readexactly(4) == b"ping"
            w.close()
            await w.wait_closed()

    run(main())


def test_readexactly_at_end_raises_incomplete_read():
    async def main():
        async def short(reader, writer):
            writer.write(b"abc")
            await writer.drain()
            writer.close()

        server = await braid.start_server(short, "127.0.0.1", 0)
        async with server:
            reader, writer = await braid.open_connection("127.0.0.1", server.port)
            with pytest.raises(asyncio.IncompleteReadError) as ei:
                await reader.readexactly(10)
            assert ei.value.partial == b"abc"
            writer.close()

    run(main())


def test_connection_refused_maps_to_the_builtin_exception():
    async def main():
        server = await braid.start_server(echo, "127.0.0.1", 0)
        port = server.port
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectionRefusedError) as ei:
            await braid.open_connection("127.0.0.1", port)
        assert ei.value.code == -16
        assert isinstance(ei.value, braid.BraidError)
        with pytest.raises(OSError) as ei:
            await braid.open_connection("no-such-host.invalid", 80)
        assert ei.value.name == "ENOTFOUND"

    run(main())


def test_cancelling_a_read_loses_nothing_and_the_stream_stays_usable():
    async def main():
        server = await braid.start_server(echo, "127.0.0.1", 0)
        async with server:
            reader, writer = await braid.open_connection("127.0.0.1", server.port)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(10), 0.05)
            writer.write(b"after")
            await writer.drain()
            assert await reader.readexactly(5) == b"after"
            writer.close()

    run(main())


def test_a_slow_reader_pauses_the_stream_and_gets_everything():
    async def main():
        async def flood(reader, writer):
            writer.write(bytes(range(256)) * 8192)  # 2 MiB, more than the reader buffers
            await writer.drain()
            writer.close()

        server = await braid.start_server(flood, "127.0.0.1", 0)
        async with server:
            reader, writer = await braid.open_connection("127.0.0.1", server.port)
            while reader._op is not None:  # fills the buffer past its limit, then stops
                await braid.sleep(0.001)
            # (braid may have read more before the loop saw the limit passed)
            assert len(reader._buf) > reader._limit
            data = await reader.read()
            assert data == bytes(range(256)) * 8192
            writer.close()

    run(main())


async def _tiny_window_client(port):
    """A plain asyncio client whose receive buffer is as small as the kernel
    allows: the server's socket fills after a few hundred KiB."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


def _small_send_buffer(writer):
    import socket

    fd = braid.lib().braid_tcp_stream_fd(writer._conn.ptr)
    s = socket.socket(fileno=os.dup(fd))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    s.close()


def _one_connection(server_side, client_side, *, tiny_window=True):
    """Runs server_side(reader, writer, link) on a braid server's connection
    (its socket's send buffer made small) and client_side(reader, writer,
    link) on a plain asyncio client's (link: a future both sides may use);
    fails with the first side's exception."""

    async def main():
        served = asyncio.get_running_loop().create_future()
        link = asyncio.get_running_loop().create_future()

        async def handler(reader, writer):
            try:
                _small_send_buffer(writer)
                await server_side(reader, writer, link)
                served.set_result(None)
            except BaseException as e:  # noqa: BLE001 - reported to the test
                served.set_exception(e)

        server = await braid.start_server(handler, "127.0.0.1", 0)
        async with server:
            if tiny_window:
                r, w = await _tiny_window_client(server.port)
            else:
                r, w = await asyncio.open_connection("127.0.0.1", server.port)
            client = asyncio.ensure_future(client_side(r, w, link))
            await asyncio.wait([client, served], return_when=asyncio.FIRST_EXCEPTION)
            for side in (client, served):  # the side that failed first
                if side.done() and side.exception() is not None:
                    raise side.exception()
            await served
            await client
            w.close()

    run(main())


def test_a_write_larger_than_the_socket_takes_falls_back_and_keeps_the_order():
    chunks = [bytes([i]) * (1 << 20) for i in range(1, 17)]  # 16 MiB, each MiB its own byte
    tail = b"the end"
    eof_seen = None

    async def server_side(reader, writer, eof_seen):
        writer.write(b"head")  # an empty socket: sent inline, nothing waits
        assert writer._op is None and not writer._pending
        for c in chunks:
            writer.write(c)  # the socket fills: the rest goes to a braid write
        assert writer._op is not None
        writer.write(memoryview(tail))  # behind the waiting bytes, not inline
        assert bytes(writer._pending[-len(tail):]) == tail
        writer.write_eof()  # after the waiting bytes
        await writer.drain()
        assert writer._op is None and not writer._pending
        await writer.drain()  # nothing waits: at once
        await eof_seen  # the write_eof, not the close, ended the client's stream
        writer.close()

    async def client_side(r, w, eof_seen):
        total = 4 + sum(map(len, chunks)) + len(tail)
        data = await r.readexactly(total)
        assert data == b"head" + b"".join(chunks) + tail
        assert await r.read() == b""
        eof_seen.set_result(None)

    _one_connection(server_side, client_side)


def test_close_sends_the_queued_bytes_first():
    payload = os.urandom(8 << 20)

    async def server_side(reader, writer, _):
        writer.write(payload)
        assert writer._op is not None  # most of it waits for a braid write
        writer.close()  # no drain: the close waits for the queued bytes
        assert writer.is_closing()
        with pytest.raises(ConnectionResetError):
            writer.write(b"after close")
        await writer.wait_closed()
        assert writer._conn.closed

    async def client_side(r, w, _):
        assert await r.read() == payload  # everything, then the end of the stream

    _one_connection(server_side, client_side)


def test_cancelling_drain_aborts_the_braid_write():
    async def server_side(reader, writer, _):
        writer.write(b"x" * (32 << 20))  # far more than the socket takes
        assert writer._op is not None
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(writer.drain(), 0.05)
        while writer._op is not None:  # the aborted write's callback (ECANCELED) ends it
            await braid.sleep(0.001)
        await writer.drain()  # nothing waits any more, and no error
        writer.close()

    async def client_side(r, w, _):
        pass  # reads nothing: only the abort can end the write

    _one_connection(server_side, client_side)


def test_a_write_after_the_peer_reset_raises_connection_errors():
    import socket
    import struct

    async def server_side(reader, writer, _):
        with pytest.raises(ConnectionResetError):
            await reader.read(10)  # the peer's reset reaches the reader first
        writer.write(b"after the reset")  # the inline send fails: kept for drain
        with pytest.raises(ConnectionError) as ei:
            await writer.drain()
        assert isinstance(ei.value, braid.BraidError)
        assert ei.value.name in ("EPIPE", "ECONNRESET")
        writer.write(b"more")  # a broken stream: drain raises again
        with pytest.raises(ConnectionError):
            await writer.drain()
        writer.close()
        with pytest.raises(ConnectionResetError):
            writer.write(b"closed")

    async def client_side(r, w, _):
        sock = w.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.close()  # SO_LINGER 0: the close sends a reset

    _one_connection(server_side, client_side, tiny_window=False)


def test_channel_fed_from_a_c_thread(helper):
    async def main():
        tx, rx = braid.channel(4, 8)
        assert helper.feed_from_thread(tx.detach(), 50) == 0
        got = [int.from_bytes(v, sys.byteorder, signed=True) async for v in rx]
        return got

    assert run(main()) == [i * 10 for i in range(50)]


def test_channel_between_python_tasks_and_cancelled_receive():
    async def main():
        tx, rx = braid.channel(1, 8)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(rx.recv(), 0.02)  # cancelled: nothing taken
        await tx.send((7).to_bytes(8, "little"))
        assert not tx.try_send((8).to_bytes(8, "little"))  # full (capacity 1)
        assert await rx.recv() == (7).to_bytes(8, "little")
        assert rx.try_recv() is None
        with pytest.raises(ValueError):
            await tx.send(b"short")
        tx.close()
        with pytest.raises(ConnectionError) as ei:
            await rx.recv()
        assert ei.value.code == -11

    run(main())


def test_many_loops_in_many_threads():
    errors = []

    def worker(k):
        async def main():
            total = 0
            for i in range(20):
                total += await braid.spawn_blocking(lambda: i)
                await braid.sleep(0)
            return total

        try:
            assert asyncio.run(main()) == sum(range(20))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S)
    assert errors == []
    assert not any(t.is_alive() for t in threads)


def test_garbage_collected_streams_and_loops():
    async def main():
        server = await braid.start_server(echo, "127.0.0.1", 0)
        async with server:
            for _ in range(20):
                r, w = await braid.open_connection("127.0.0.1", server.port)
                w.write(b"a")
                await w.drain()
                assert await r.read(1) == b"a"
                del r, w  # no close: the finaliser frees the stream
                gc.collect()

    run(main())
    gc.collect()


def _python(code, timeout=TIMEOUT_S, env_set=None, env_drop=()):
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env.update(env_set or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(braid.__file__)),
                                                      env.get("PYTHONPATH", "")] if p)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_interpreter_exit_with_operations_pending():
    # Pending sleeps, a blocked receive, a listening server and a blocking
    # job still running when the interpreter exits: the runtime shuts down at
    # exit and the process ends cleanly.
    r = _python("""
        import asyncio, threading, braid
        ev = threading.Event()
        async def main():
            server = await braid.start_server(lambda r, w: None, "127.0.0.1", 0)
            tx, rx = braid.channel(1, 8)
            for d in (10, 3600):
                asyncio.ensure_future(braid.sleep(d))
            asyncio.ensure_future(rx.recv())
            asyncio.ensure_future(braid.spawn_blocking(ev.wait, 0.2))
            await braid.sleep(0.01)
            print("leaving", flush=True)
            global keep
            keep = (server, tx, rx)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main())
        print("bye", flush=True)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["leaving", "bye"]


def test_interpreter_exit_from_a_finaliser_on_a_braid_thread():
    r = _python("""
        import braid
        rt = braid.Runtime(workers=1)
        holder = [rt]
        del rt
        holder[0].spawn_blocking(lambda: holder.clear())
        print("ok", flush=True)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_a_read_smaller_than_the_chunk_keeps_the_rest():
    async def server_side(reader, writer, link):
        assert await reader.read(2) == b"ab"  # the chunk is larger: the rest waits in the buffer
        assert await reader.read(100) == b"cdef"
        link.set_result(None)
        assert await reader.read(100) == b"ghij"  # an empty buffer: the chunk itself
        assert await reader.read(100) == b""
        writer.close()

    async def client_side(r, w, link):
        w.write(b"abcdef")
        await w.drain()
        await link
        w.write(b"ghij")
        await w.drain()
        w.close()

    _one_connection(server_side, client_side)


def test_default_runtime_leaves_a_cpu_to_the_loop_thread():
    # One worker fewer than the CPUs the process may use (at least one);
    # BRAID_WORKER_THREADS still decides when it is set.
    code = """
        import os, braid
        print(len(os.sched_getaffinity(0)), braid.default_runtime().worker_count)
    """
    r = _python(code, env_drop=("BRAID_WORKER_THREADS",))
    assert r.returncode == 0, r.stderr
    cpus, workers = map(int, r.stdout.split())
    assert workers == max(1, cpus - 1)
    r = _python(code, env_set={"BRAID_WORKER_THREADS": "3"})
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[1]) == 3
