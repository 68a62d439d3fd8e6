"""ffi.python: braid's C ABI through ctypes (bindings/python/braid.py).

Run: BRAID_LIB=/path/to/libbraid.so PYTHONPATH=bindings/python python3 -m unittest -v
(from tests/python).  Standard library only.
"""

import ctypes
import gc
import os
import threading
import time
import unittest

import braid

TIMEOUT_S = 30.0  # generous: CI machines can be slow


class LoadTest(unittest.TestCase):
    def test_loads_the_library(self):
        lib = braid.load()
        self.assertIsInstance(lib, ctypes.CDLL)
        want = os.environ.get("BRAID_LIB")
        if want:
            self.assertEqual(os.path.realpath(lib._name), os.path.realpath(want))

    def test_version(self):
        v = braid.version()
        self.assertRegex(v, r"^\d+\.\d+\.\d+$")
        major, minor, patch = (int(x) for x in v.split("."))
        self.assertEqual(braid.lib().braid_version_number(), major * 10000 + minor * 100 + patch)

    def test_now_is_monotonic(self):
        a = braid.now()
        b = braid.now()
        self.assertGreater(a, 0)
        self.assertGreaterEqual(b, a)

    def test_error_names(self):
        self.assertEqual(braid.err_name(0), "OK")
        self.assertEqual(braid.err_name(-1), "EINVAL")
        self.assertEqual(braid.err_name(-3), "ESHUTDOWN")
        self.assertEqual(braid.err_name(-4), "ECANCELED")
        self.assertEqual(braid.err_name(braid.PENDING), "PENDING")
        self.assertEqual(braid.err_name(-12345), "UNKNOWN")
        self.assertEqual(braid.strerror(-1), "invalid argument")
        self.assertEqual(braid.strerror(-12345), "unknown error")


class RuntimeTest(unittest.TestCase):
    def setUp(self):
        self.rt = braid.Runtime(workers=2)

    def tearDown(self):
        self.rt.close()

    def test_worker_count(self):
        self.assertEqual(self.rt.worker_count, 2)

    def test_sleep_callback_on_a_worker(self):
        main = threading.get_ident()
        done = threading.Event()
        seen = []

        def on_timer(status):
            seen.append((status, threading.get_ident()))
            done.set()

        t0 = self.rt.now()
        task = self.rt.sleep(5, on_timer)
        self.assertTrue(done.wait(TIMEOUT_S), "the timer callback never came")
        self.assertEqual(task.join(int(TIMEOUT_S * 1000)), 0)
        self.assertGreaterEqual(self.rt.now() - t0, 5_000_000)
        time.sleep(0.05)  # a second (wrong) call would show up here
        self.assertEqual(len(seen), 1, f"callback called {len(seen)} times")
        status, ident = seen[0]
        self.assertEqual(status, 0)
        self.assertNotEqual(ident, main, "the callback ran on the main thread, not on a worker")

    def test_many_sleeps_keep_callbacks_alive(self):
        n = 200
        count = [0]
        lock = threading.Lock()
        done = threading.Event()

        def on_timer(status):
            self.assertEqual(status, 0)
            with lock:
                count[0] += 1
                if count[0] == n:
                    done.set()

        for i in range(n):
            self.rt.sleep(i % 7, on_timer)  # handles dropped at once: detached
        gc.collect()
        self.assertTrue(done.wait(TIMEOUT_S), f"only {count[0]} of {n} callbacks came")
        time.sleep(0.05)
        self.assertEqual(count[0], n)

    def test_sleep_aborted(self):
        done = threading.Event()
        seen = []

        def on_timer(status):
            seen.append(status)
            done.set()

        task = self.rt.sleep(60_000, on_timer)
        task.abort()
        self.assertTrue(done.wait(TIMEOUT_S))
        with self.assertRaises(braid.BraidError) as cm:
            task.join(int(TIMEOUT_S * 1000))
        self.assertEqual(cm.exception.name, "ECANCELED")
        time.sleep(0.05)
        self.assertEqual(seen, [-4])

    def test_blocking_job(self):
        main = threading.get_ident()

        def job():
            time.sleep(0.01)  # blocking is what the pool is for
            return threading.get_ident(), 6 * 7

        task = self.rt.spawn_blocking(job)
        ident, value = task.join(int(TIMEOUT_S * 1000))
        self.assertEqual(value, 42)
        self.assertNotEqual(ident, main)
        self.assertEqual(task.thread_ident, ident)
        self.assertTrue(task.is_finished())

    def test_blocking_job_raw_ctypes(self):
        """braid_spawn_blocking + braid_task_join_blocking through the raw calls."""
        lib = braid.lib()
        ran = []

        @braid.TASK_FN
        def body(arg):
            ran.append((arg, threading.get_ident()))

        out = ctypes.c_void_p()
        rc = lib.braid_spawn_blocking(ctypes.byref(out), self.rt._ptr, body, ctypes.c_void_p(1234))
        self.assertEqual(rc, 0, braid.err_name(rc))
        self.assertTrue(out.value)
        try:
            rc = lib.braid_task_join_blocking(out, int(TIMEOUT_S * 1000))
            self.assertEqual(rc, 0, braid.err_name(rc))
        finally:
            lib.braid_task_free(out)
        self.assertEqual(len(ran), 1)
        self.assertEqual(ran[0][0], 1234)
        self.assertNotEqual(ran[0][1], threading.get_ident())

    def test_blocking_job_exception_is_reraised(self):
        def job():
            raise ValueError("from the blocking pool")

        with self.assertRaises(ValueError):
            self.rt.spawn_blocking(job).join(int(TIMEOUT_S * 1000))

    def test_negative_durations(self):
        with self.assertRaises(braid.BraidError) as cm:
            self.rt.sleep(-1, lambda status: self.fail("callback after an error"))
        self.assertEqual(cm.exception.name, "EINVAL")
        task = self.rt.sleep(0, lambda status: None)
        # A negative timeout is no error: it waits without limit (WAIT_FOREVER).
        self.assertEqual(task.join(braid.WAIT_FOREVER), 0)

    def test_join_timeout_zero_does_not_wait(self):
        task = self.rt.sleep(3600 * 1000, lambda status: None)
        with self.assertRaises(braid.BraidError) as cm:
            task.join(0)
        self.assertEqual(cm.exception.name, "ETIMEDOUT")

    def test_shutdown_refuses_new_work(self):
        done = threading.Event()
        seen = []

        def on_timer(status):
            seen.append(status)
            done.set()

        self.rt.sleep(60_000, on_timer)
        self.rt.shutdown(5000)
        # pending at shutdown: exactly one ECANCELED callback, before shutdown returned
        self.assertEqual(seen, [-4])
        with self.assertRaises(braid.BraidError) as cm:
            self.rt.sleep(1, lambda status: self.fail("callback after an error"))
        self.assertEqual(cm.exception.name, "ESHUTDOWN")
        with self.assertRaises(braid.BraidError) as cm:
            self.rt.spawn_blocking(lambda: None)
        self.assertEqual(cm.exception.name, "ESHUTDOWN")
        self.rt.shutdown(0)  # idempotent


class ErrorTest(unittest.TestCase):
    def test_sleep_with_null_runtime_is_einval(self):
        lib = braid.lib()
        called = []
        cb = braid.CALLBACK(lambda ud, status: called.append(status))
        out = ctypes.c_void_p()
        rc = lib.braid_sleep(ctypes.byref(out), None, 1, cb, None)
        self.assertEqual(rc, -1)
        self.assertEqual(braid.err_name(rc), "EINVAL")
        time.sleep(0.05)
        self.assertEqual(called, [], "a call that failed invoked its callback")

    def test_wrapper_raises_with_name(self):
        rt = braid.Runtime(workers=1)
        rt.close()
        self.assertTrue(rt.closed)
        with self.assertRaises(braid.BraidError) as cm:
            rt.sleep(1, lambda status: None)  # NULL runtime reaches braid_sleep
        self.assertEqual(cm.exception.name, "EINVAL")
        self.assertEqual(cm.exception.code, -1)
        self.assertIn("EINVAL", str(cm.exception))
        rt.close()  # idempotent

    def test_null_handles(self):
        lib = braid.lib()
        self.assertEqual(lib.braid_task_join_blocking(None, 0), -1)
        self.assertEqual(lib.braid_runtime_shutdown(None, 0), -1)
        self.assertEqual(lib.braid_runtime_free(None), 0)
        lib.braid_task_free(None)
        lib.braid_runtime_builder_free(None)
        out = ctypes.c_void_p()
        self.assertEqual(lib.braid_spawn_blocking(ctypes.byref(out), None, braid.TASK_FN(lambda a: None), None), -1)

    def test_bad_builder_arguments(self):
        with self.assertRaises(braid.BraidError) as cm:
            braid.Runtime(workers=0)
        self.assertEqual(cm.exception.name, "EINVAL")


if __name__ == "__main__":
    unittest.main(verbosity=2)
