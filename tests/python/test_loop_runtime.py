"""A runtime driven by the asyncio loop (braid.Runtime(loop=...)): every
braid task of it runs on the loop's thread, inside the loop's reader
callback; TCP, timers, channels fed from C and C tasks work as on the
default runtime; cancelling, closing and interpreter exit stay clean."""

import asyncio
import ctypes
import subprocess
import sys
import textwrap
import threading

import pytest

import braid
from conftest import SquareJob, echo

TIMEOUT_S = 30.0


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT_S))


def test_tasks_of_a_loop_runtime_run_on_the_loop_thread(helper):
    helper.record_thread.argtypes = [ctypes.c_void_p]
    tid = ctypes.c_int64(0)
    job = SquareJob(9, 0)

    async def main():
        rt = braid.Runtime(loop=asyncio.get_running_loop())
        try:
            assert rt.loop is asyncio.get_running_loop()
            assert rt.worker_count == 1
            await braid.spawn(helper.record_thread, ctypes.addressof(tid), runtime=rt)
            await braid.spawn(helper.square, ctypes.addressof(job), runtime=rt)
            assert await braid.sleep(0.01, "slept", runtime=rt) == "slept"
            return threading.get_native_id()
        finally:
            rt.close()

    assert run(main()) == tid.value
    assert job.out == 81


def test_tcp_echo_on_a_loop_runtime():
    async def main():
        rt = braid.Runtime(loop=asyncio.get_running_loop())
        try:
            server = await braid.start_server(echo, "127.0.0.1", 0, runtime=rt)
            async with server:
                reader, writer = await braid.open_connection("127.0.0.1", server.port, runtime=rt)
                big = bytes(range(256)) * 2000
                writer.write(b"hello\n" + big)
                await writer.drain()
                assert await reader.readline() == b"hello\n"
                assert await reader.readexactly(len(big)) == big
                writer.write_eof()
                assert await reader.read() == b""
                writer.close()
                await writer.wait_closed()
        finally:
            rt.close()

    run(main())


def test_channel_fed_from_a_c_thread_to_a_loop_runtime(helper):
    async def main():
        rt = braid.Runtime(loop=asyncio.get_running_loop())
        try:
            tx, rx = braid.channel(4, 8)
            assert helper.feed_from_thread(tx.detach(), 200) == 0
            got = []
            while len(got) < 200:
                got.append(int.from_bytes(await rx.recv(runtime=rt), sys.byteorder, signed=True))
            return got
        finally:
            rt.close()

    assert run(main()) == [i * 10 for i in range(200)]


def test_cancelling_a_sleep_on_a_loop_runtime():
    async def main():
        rt = braid.Runtime(loop=asyncio.get_running_loop())
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(braid.sleep(3600, runtime=rt), 0.02)
            assert await braid.sleep(0, 1, runtime=rt) == 1  # still turning
        finally:
            rt.close()

    run(main())


def test_close_takes_the_fd_off_the_loop():
    async def main():
        loop = asyncio.get_running_loop()
        rt = braid.Runtime(loop=loop)
        fd = rt._fd
        rt.close()
        assert rt.closed
        assert not loop.remove_reader(fd)  # nothing left registered
        rt.close()  # idempotent

    run(main())


def test_a_loop_runtime_has_no_workers():
    async def main():
        with pytest.raises(ValueError):
            braid.Runtime(workers=2, loop=asyncio.get_running_loop())

    run(main())


def test_interpreter_exit_with_a_loop_runtime_open():
    code = """
        import asyncio, braid
        async def main():
            rt = braid.Runtime(loop=asyncio.get_running_loop())
            braid.set_default_runtime(rt)
            server = await braid.start_server(lambda r, w: None, "127.0.0.1", 0)
            asyncio.ensure_future(braid.sleep(3600))
            await braid.sleep(0.01)
            global keep
            keep = (rt, server)
            print("leaving", flush=True)
        asyncio.run(main())
        print("bye", flush=True)
    """
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["leaving", "bye"]
