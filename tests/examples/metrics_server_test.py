#!/usr/bin/env python3
"""examples/metrics_server: start it on a free port, fetch /metrics and
/metrics.json over HTTP, and check both: the Prometheus text line by line
(prometheus_text.py; `promtool check metrics` too when its path is given),
the names and types braid promises (braid_ prefix, counters ending in
_total, one worker="N" series per worker for every per-worker metric), the
JSON's fields, and that the two agree.  SIGTERM then stops it with exit 0.

Usage: metrics_server_test.py PATH-TO-metrics_server [PATH-TO-promtool]
"""
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_text  # noqa: E402

WORKER_METRICS = ["polls", "steals", "parks", "busy_ns", "local_queue_depth", "lifo_slot_hits",
                  "budget_forced_yields", "local_schedules", "overflows"]
RUNTIME_FIELDS = ["workers", "tasks_spawned", "tasks_alive", "tasks_completed", "tasks_aborted",
                  "inject_queue_depth", "blocking_threads", "blocking_idle", "blocking_queued", "io_events",
                  "io_wakeups", "timers_pending", "slow_polls", "remote_schedules"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def main():
    exe = sys.argv[1]
    promtool = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    proc = subprocess.Popen([exe, "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"metrics at http://([0-9.]+:[0-9]+)/metrics", line)
        if not m:
            fail(f"unexpected first line {line!r}")
        base = "http://" + m.group(1)

        status, ctype, text = get(base, "/metrics")
        if status != 200 or not ctype.startswith("text/plain; version=0.0.4"):
            fail(f"/metrics: {status} {ctype}")
        try:
            metrics = prometheus_text.parse(text)
        except prometheus_text.FormatError as e:
            fail(f"/metrics: {e}")
        for name, entry in metrics.items():
            if not name.startswith("braid_"):
                fail(f"{name}: not prefixed braid_")
            if entry["type"] is None or entry["help"] is None:
                fail(f"{name}: no TYPE or no HELP")
            if (entry["type"] == "counter") != name.endswith("_total"):
                fail(f"{name}: a counter's name ends in _total, and only a counter's")
        workers = int(metrics["braid_workers"]["samples"][0][1])
        per_worker = [n for n in metrics if n.startswith("braid_worker_")]
        if len(per_worker) != len(WORKER_METRICS):
            fail(f"per-worker metrics: {per_worker}")
        for name in per_worker:
            labels = sorted(int(l["worker"]) for l, _ in metrics[name]["samples"])
            if labels != list(range(workers)):
                fail(f"{name}: worker labels {labels} for {workers} workers")
        # This request's own connection task is running.
        if metrics["braid_tasks_alive"]["samples"][0][1] < 1:
            fail("no task alive while one serves the request")
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"], input=text, text=True, capture_output=True)
            if r.returncode != 0:
                fail(f"promtool check metrics: {r.stdout}{r.stderr}")
            print("promtool check metrics: ok")

        status, ctype, body = get(base, "/metrics.json")
        if status != 200 or ctype != "application/json":
            fail(f"/metrics.json: {status} {ctype}")
        doc = json.loads(body)
        for f in RUNTIME_FIELDS:
            if not isinstance(doc.get(f), int) or doc[f] < 0:
                fail(f"/metrics.json: {f} is {doc.get(f)!r}")
        if doc["workers"] != workers or len(doc["per_worker"]) != workers:
            fail("/metrics.json: workers differ from /metrics")
        for i, w in enumerate(doc["per_worker"]):
            if w.get("worker") != i or sorted(k for k in w if k != "worker") != sorted(WORKER_METRICS):
                fail(f"/metrics.json: worker {i}: {w}")
        # Served in order: the second request's snapshot has counted more.
        spawned_then = metrics["braid_tasks_spawned_total"]["samples"][0][1]
        if doc["tasks_spawned"] <= spawned_then:
            fail(f"tasks_spawned went from {spawned_then} to {doc['tasks_spawned']}")
        if doc["io_events"] < 1:
            fail("no I/O event counted after two requests")

        try:
            get(base, "/nope")
            fail("/nope did not answer 404")
        except urllib.error.HTTPError as e:
            if e.code != 404:
                fail(f"/nope: {e.code}")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        if proc.returncode != 0 or "stopping" not in out:
            fail(f"exit {proc.returncode}, output {out!r}")
        print(f"ok: {len(metrics)} metrics, {workers} workers")
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
