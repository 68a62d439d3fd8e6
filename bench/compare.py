#!/usr/bin/env python3
"""Compare braid with its peers (Tokio and any others), workload by workload.

Runs the braid benchmark binary, the Tokio peer and every --peer binary
alternately (braid, tokio, peer..., braid, tokio, peer..., ...) for every
workload, --runs times each, and prints a Markdown table of the medians. The
workloads and the JSON line that each run prints are defined in
bench/WORKLOADS.md; see bench/README.md.

Standard library only.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BRAID = os.path.join(REPO, "build", "bench", "braid_bench")
DEFAULT_TOKIO = os.path.join(REPO, "bench", "peers", "tokio", "target", "release", "tokio_bench")

# Every workload of WORKLOADS.md, used when `braid_bench --list` fails.
ALL_WORKLOADS = [
    "spawn_many",
    "spawn_remote",
    "yield_many",
    "ping_pong",
    "chained_spawn",
    "mpsc_spsc",
    "mpsc_contended",
    "mutex_contended",
    "timers",
    "idle_memory",
    "tcp_echo",
    "spawn_blocking",
    "timeout_ready",
    "select_channel",
    "stream_pipeline",
    "copy_1gib",
    "tcp_latency",
    "wake_latency",
]

# workload -> its figures, one table row each: (row label after the workload's
# name, JSON key, True when higher is better). Every other workload has one
# row, ops_per_s, higher is better.
LATENCY = [(" p50", "p50_us", False), (" p99", "p99_us", False), (" max", "max_us", False)]
FIGURES = {
    "timers": [("", "overshoot_ms", False)],
    "idle_memory": [("", "bytes_per_task", False)],
    "tcp_latency": LATENCY + [(" after burst" + label, "burst_" + key, False) for label, key, _ in LATENCY],
    "wake_latency": LATENCY,
}
THROUGHPUT = [("", "ops_per_s", True)]

OK, NA, FAILED = "ok", "n/a", "FAILED"


def figures_of(workload):
    return FIGURES.get(workload, THROUGHPUT)


def format_figure(key, value):
    if key == "ops_per_s":
        for scale, unit in ((1e9, "G/s"), (1e6, "M/s"), (1e3, "k/s")):
            if value >= scale:
                scaled = value / scale
                digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
                return f"{scaled:.{digits}f} {unit}"
        return f"{value:.0f} /s"
    if key == "overshoot_ms":
        return f"{value:.1f} ms"
    if key == "bytes_per_task":
        return f"{value:.0f} B/task"
    if key.endswith("_us"):
        return f"{value:.1f} µs"
    return f"{value:g}"


def list_workloads(braid, timeout):
    """Workload names from `braid_bench --list`, or every workload if that fails."""
    try:
        proc = subprocess.run([braid, "--list"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        print(f"compare.py: `{braid} --list` failed ({err}); using every workload", file=sys.stderr)
        return list(ALL_WORKLOADS)
    names = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not names:
        print(f"compare.py: `{braid} --list` failed (exit {proc.returncode}); using every workload",
              file=sys.stderr)
        return list(ALL_WORKLOADS)
    return names


def parse_result(stdout, workload):
    """The JSON object that a run printed for `workload`, or None."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("workload") == workload:
            return obj
    return None


def run_once(impl, binary, workload, threads, timeout):
    """Runs one workload once; returns a record of the run."""
    cmd = [binary, workload, "--threads", str(threads)]
    record = {"impl": impl, "workload": workload, "cmd": cmd}
    started = time.monotonic()
    try:
        # Own session, so that a timeout kills whatever the binary started too.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    except OSError as err:
        record.update(status=FAILED, reason=str(err), wall_s=0.0)
        return record
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        record.update(status=FAILED, reason=f"timed out after {timeout:g} s",
                      wall_s=round(time.monotonic() - started, 3))
        return record
    record["wall_s"] = round(time.monotonic() - started, 3)
    record.update(returncode=proc.returncode, stderr=stderr[-2000:])
    if proc.returncode != 0:
        # Exit status 2 is a usage error: the binary does not know the workload.
        if proc.returncode == 2 or "unknown workload" in stderr.lower():
            record.update(status=NA, reason="unknown workload")
        else:
            last = stderr.strip().splitlines()[-1:] or [""]
            record.update(status=FAILED, reason=f"exit {proc.returncode}: {last[0]}")
        return record
    result = parse_result(stdout, workload)
    missing = [key for _, key, _ in figures_of(workload)
               if result is not None and not isinstance(result.get(key), (int, float))]
    if result is None:
        record.update(status=FAILED, reason="no JSON line for the workload on stdout")
    elif missing:
        record.update(status=FAILED, reason=f"JSON line has no numeric {missing[0]}", result=result)
    else:
        record.update(status=OK, result=result)
    return record


def summarize(records, key):
    """(status, median of `key` or None) over one side's runs."""
    if not records:
        return NA, None
    for status in (FAILED, NA):
        if any(r["status"] == status for r in records):
            return status, None
    return OK, statistics.median(r["result"][key] for r in records)


def ratio_cell(value, other):
    return f"{value / other:.2f}" if other != 0 else "—"


def compare(runs_by_side, workload):
    """The table rows of one workload (one per figure), and whether a run failed.

    `runs_by_side` is a list of (name, runs): braid first, then Tokio, then
    the other peers.
    """
    rows = []
    for label, key, higher_is_better in figures_of(workload):
        medians = [(name, *summarize(records, key)) for name, records in runs_by_side]
        cells = [format_figure(key, value) if status == OK else status for _, status, value in medians]
        (_, b_status, b_value), (_, t_status, t_value) = medians[0], medians[1]
        ratio, best, met = "—", "—", "—"
        if b_status == FAILED:
            met = "no"
        elif b_status == NA:
            met = "n/a"
        else:
            if t_status == OK:
                ratio = ratio_cell(b_value, t_value)
                better_or_equal = b_value >= t_value if higher_is_better else b_value <= t_value
                met = "yes" if better_or_equal else "no"
            peers = [(value, name) for name, status, value in medians[1:] if status == OK]
            if peers:
                best_value, best_name = (max if higher_is_better else min)(peers, key=lambda p: p[0])
                best = f"{ratio_cell(b_value, best_value)} ({best_name})"
        rows.append(f"| {workload}{label} | " + " | ".join(cells) + f" | {ratio} | {best} | {met} |")
    failed = any(r["status"] == FAILED for _, records in runs_by_side for r in records)
    return rows, failed


def write_json(path, raw):
    """Writes a run's raw record (with the machine's CPU count) to `path`."""
    with open(path, "w") as f:
        json.dump({**raw, "cpus": os.cpu_count()}, f, indent=1)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--braid", default=DEFAULT_BRAID, help="braid benchmark binary (default: %(default)s)")
    parser.add_argument("--tokio", default=DEFAULT_TOKIO, help="Tokio peer binary (default: %(default)s)")
    parser.add_argument("--peer", action="append", default=[], metavar="NAME=PATH",
                        help="another peer binary, e.g. go=/path/go-peer (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each binary per workload (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="worker threads passed to both (default: %(default)s)")
    parser.add_argument("--workloads", help="comma-separated workloads (default: those `braid_bench --list` prints)")
    parser.add_argument("--timeout", type=float, default=300, help="per-run timeout in seconds (default: %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="write every raw run to PATH as JSON")
    args = parser.parse_args()

    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    sides = [("braid", args.braid), ("tokio", args.tokio)]
    for spec in args.peer:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            parser.error(f"--peer {spec}: expected NAME=PATH")
        if name in (side for side, _ in sides):
            parser.error(f"--peer {spec}: the name {name} is taken")
        sides.append((name, path))
    for name, path in sides:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            parser.error(f"{name}: {path} is not an executable file")

    if args.workloads:
        workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    else:
        workloads = list_workloads(args.braid, min(args.timeout, 30))

    runs = {(impl, w): [] for impl, _ in sides for w in workloads}
    chronological = []
    for workload in workloads:
        for i in range(args.runs):
            for impl, binary in sides:
                done = runs[(impl, workload)]
                # A side that lacks the workload or failed it is not run again.
                if any(r["status"] != OK for r in done):
                    continue
                record = run_once(impl, binary, workload, args.threads, args.timeout)
                record["run"] = i + 1
                done.append(record)
                chronological.append(record)
                note = record.get("reason", "")
                print(f"  {workload} {impl} run {i + 1}/{args.runs}: {record['status']}"
                      + (f" ({note})" if note else ""), file=sys.stderr, flush=True)

    lines = [
        f"{args.runs} runs each, alternating, --threads {args.threads}, median shown "
        f"({os.cpu_count()} CPUs).",
        "",
        "| workload | " + " | ".join(name for name, _ in sides) + " | braid/tokio | braid/best peer | target met? |",
        "|---|" + "---:|" * (len(sides) + 2) + ":---:|",
    ]
    any_failed = False
    medians = {}
    for workload in workloads:
        by_side = [(name, runs[(name, workload)]) for name, _ in sides]
        rows, failed = compare(by_side, workload)
        lines.extend(rows)
        any_failed |= failed
        medians[workload] = {
            name: {key: value for _, key, _ in figures_of(workload)
                   for status, value in [summarize(records, key)] if status == OK}
            for name, records in by_side
        }
    print("\n".join(lines))

    if args.json:
        write_json(args.json, {
            "braid": args.braid,
            "tokio": args.tokio,
            "peers": {name: path for name, path in sides[2:]},
            "threads": args.threads,
            "runs": args.runs,
            "medians": medians,
            "records": chronological,
        })
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
