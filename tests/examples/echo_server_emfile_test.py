#!/usr/bin/env python3
"""examples/echo_server under `ulimit -n 64` with 200 clients at once.

The server process may hold 64 file descriptors; 200 clients connect at once
(the kernel queues them in the listener's backlog), so its accept fails with
EMFILE until earlier connections close.  The server must log that, back off
and keep accepting: every client gets its echo, a client that resets its
connection before it is accepted costs nothing but that connection, the
server still serves a client afterwards, and it exits 0 on SIGINT.

Clients are non-blocking sockets driven by one selector, so no client waits
on another (the client side has its own, higher, fd limit).  They connect
first and send nothing until the server has logged its first EMFILE: idle
connections stay open on the server, so it certainly runs out of
descriptors, however fast it serves (a fast server that closed each
connection before accepting the next would otherwise never reach the limit).

Usage: echo_server_emfile_test.py PATH-TO-echo_server
"""
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

CLIENTS = 200
SERVER_FDS = 64
DEADLINE_S = 90  # far above what this takes; only a server that stopped serving reaches it


def limit_fds():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FDS, hard))


def raise_own_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def echo_once(addr, msg):
    try:
        with socket.create_connection(addr, timeout=DEADLINE_S) as s:
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = s.recv(len(msg) - len(got))
                if not chunk:
                    break
                got += chunk
            return got
    except OSError as e:
        return f"{e}".encode()


def run_clients(addr, out_of_fds):
    """Connects CLIENTS sockets at once, waits until the server has run out of
    descriptors (out_of_fds is set), then sends a line on each, reads each
    echo back and closes.  Returns the number echoed correctly and the errors
    seen."""
    sel = selectors.DefaultSelector()
    state = {}
    for i in range(CLIENTS):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(addr)
        msg = f"client {i} says hello\n".encode()
        state[s] = {"msg": msg, "sent": 0, "got": b""}
    out_of_fds.wait(timeout=DEADLINE_S)
    for s in state:
        sel.register(s, selectors.EVENT_WRITE)
    ok = 0
    errors = {}
    deadline = time.monotonic() + DEADLINE_S
    while state and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=1.0):
            s = key.fileobj
            st = state[s]
            try:
                if ev & selectors.EVENT_WRITE:
                    st["sent"] += s.send(st["msg"][st["sent"]:])
                    if st["sent"] == len(st["msg"]):
                        sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                errors[e.strerror] = errors.get(e.strerror, 0) + 1
                chunk = b""
            st["got"] += chunk
            if not chunk or len(st["got"]) >= len(st["msg"]):
                if st["got"] == st["msg"]:
                    ok += 1
                sel.unregister(s)
                s.close()
                del state[s]
    for s in state:
        s.close()
    return ok, errors


def main() -> int:
    exe = sys.argv[1]
    raise_own_fd_limit(4 * CLIENTS)
    proc = subprocess.Popen([exe, "127.0.0.1:0"], stdout=subprocess.PIPE, text=True, preexec_fn=limit_fds)
    first = proc.stdout.readline()
    if "listening on" not in first:
        print(f"FAIL: unexpected first line {first!r}")
        proc.kill()
        return 1
    host, port = first.split("listening on ")[1].split()[0].rsplit(":", 1)
    addr = (host, int(port))
    lines = [first.rstrip("\n")]
    out_of_fds = threading.Event()

    def read_lines():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("accept failed (EMFILE"):
                out_of_fds.set()

    reader = threading.Thread(target=read_lines)
    reader.start()

    # A client that resets its connection before the server gets to it.
    rst = socket.create_connection(addr)
    rst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rst.close()

    echoed, errors = run_clients(addr, out_of_fds)
    after = echo_once(addr, b"still there?\n")

    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        print("FAIL: the server did not stop on SIGINT")
        return 1
    reader.join()
    emfile = [l for l in lines if l.startswith("accept failed (EMFILE")]
    print("\n".join(lines[:2] + emfile[:2] + lines[-2:]))
    failed = False
    if echoed != CLIENTS:
        print(f"FAIL: {echoed} of {CLIENTS} clients got their echo (client errors: {errors})")
        failed = True
    if after != b"still there?\n":
        print(f"FAIL: the server stopped serving (got {after!r})")
        failed = True
    if not emfile:
        print("FAIL: the server never ran out of file descriptors: the test did not test that")
        failed = True
    if proc.returncode != 0:
        print(f"FAIL: exit code {proc.returncode}")
        failed = True
    if failed:
        return 1
    print(f"OK: {CLIENTS} clients echoed under a limit of {SERVER_FDS} fds "
          f"({len(emfile)} EMFILE back-offs), and the server kept serving")
    return 0


if __name__ == "__main__":
    sys.exit(main())
