#!/usr/bin/env python3
"""Compare braid with its Tokio peer, workload by workload.

Runs the braid benchmark binary and the Tokio peer alternately (braid, tokio,
braid, tokio, ...) for every workload, at least --runs times each, and prints
a Markdown table of the medians. The workloads and the JSON line that each
run prints are defined in bench/WORKLOADS.md; see bench/README.md.

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
]

# workload -> (JSON key of the figure, True when higher is better).
# Every other workload is compared on ops_per_s, higher is better.
FIGURES = {
    "timers": ("overshoot_ms", False),
    "idle_memory": ("bytes_per_task", False),
}
THROUGHPUT = ("ops_per_s", True)

OK, NA, FAILED = "ok", "n/a", "FAILED"


def figure_of(workload):
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
        if "unknown workload" in stderr.lower():
            record.update(status=NA, reason="unknown workload")
        else:
            last = stderr.strip().splitlines()[-1:] or [""]
            record.update(status=FAILED, reason=f"exit {proc.returncode}: {last[0]}")
        return record
    result = parse_result(stdout, workload)
    key, _ = figure_of(workload)
    if result is None:
        record.update(status=FAILED, reason="no JSON line for the workload on stdout")
    elif not isinstance(result.get(key), (int, float)):
        record.update(status=FAILED, reason=f"JSON line has no numeric {key}", result=result)
    else:
        record.update(status=OK, result=result)
    return record


def summarize(records, workload):
    """(status, median figure or None, reason) over one side's runs."""
    if not records:
        return NA, None, "not run"
    for status in (FAILED, NA):
        bad = [r for r in records if r["status"] == status]
        if bad:
            return status, None, bad[0].get("reason", "")
    key, _ = figure_of(workload)
    return OK, statistics.median(r["result"][key] for r in records), ""


def compare(braid_runs, tokio_runs, workload):
    """One table row."""
    key, higher_is_better = figure_of(workload)
    b_status, b_value, _ = summarize(braid_runs, workload)
    t_status, t_value, _ = summarize(tokio_runs, workload)
    b_cell = format_figure(key, b_value) if b_status == OK else b_status
    t_cell = format_figure(key, t_value) if t_status == OK else t_status
    ratio, met = "—", "—"
    if b_status == FAILED:
        met = "no"
    elif b_status == NA:
        met = "n/a"
    elif t_status == OK:
        if t_value != 0:
            ratio = f"{b_value / t_value:.2f}"
        better_or_equal = b_value >= t_value if higher_is_better else b_value <= t_value
        met = "yes" if better_or_equal else "no"
    return f"| {workload} | {b_cell} | {t_cell} | {ratio} | {met} |", b_status == FAILED or t_status == FAILED


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--braid", default=DEFAULT_BRAID, help="braid benchmark binary (default: %(default)s)")
    parser.add_argument("--tokio", default=DEFAULT_TOKIO, help="Tokio peer binary (default: %(default)s)")
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
    for name, path in (("--braid", args.braid), ("--tokio", args.tokio)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            parser.error(f"{name}: {path} is not an executable file")

    if args.workloads:
        workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    else:
        workloads = list_workloads(args.braid, min(args.timeout, 30))

    sides = (("braid", args.braid), ("tokio", args.tokio))
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
        "| workload | braid median | tokio median | braid/tokio | target met? |",
        "|---|---:|---:|---:|:---:|",
    ]
    any_failed = False
    for workload in workloads:
        row, failed = compare(runs[("braid", workload)], runs[("tokio", workload)], workload)
        lines.append(row)
        any_failed |= failed
    print("\n".join(lines))

    if args.json:
        raw = {
            "braid": args.braid,
            "tokio": args.tokio,
            "threads": args.threads,
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "records": chronological,
        }
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
            f.write("\n")
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
