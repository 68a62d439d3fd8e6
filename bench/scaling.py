#!/usr/bin/env python3
"""How braid and Tokio scale with the number of worker threads.

Runs the braid benchmark binary and the Tokio peer at every worker count of
--threads (default 2,4,8,16), alternately (for each run of a workload: every
worker count, braid then Tokio at each), --runs times, and prints a Markdown
table of the medians: braid, Tokio and braid/Tokio at each count, then
braid's figure at the most workers against the fewest ("scales?": not worse
with more workers). Meant for a machine with at least as many cores as the
largest count; on fewer cores the workers share them and the table shows
that, not scaling. The workloads and their JSON lines are those of
compare.py (bench/WORKLOADS.md); see bench/README.md, "Scaling".

Standard library only.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
import compare  # noqa: E402  (the runner, figures and formats shared with compare.py)

OK, NA, FAILED = compare.OK, compare.NA, compare.FAILED


def parse_counts(text):
    """'2,4,8,16' -> [2, 4, 8, 16] (sorted, no repeats); ValueError if not counts >= 1."""
    counts = sorted({int(part) for part in text.split(",") if part.strip()})
    if not counts or counts[0] < 1:
        raise ValueError(text)
    return counts


def figure_rows(workload, runs, counts):
    """The table rows of one workload (one per figure), and whether a run failed.

    `runs` maps (side, count) -> that side's records at that count.
    """
    rows = []
    for label, key, higher_is_better in compare.figures_of(workload):
        cells = []
        braid_by_count = {}
        for count in counts:
            b_status, b_value = compare.summarize(runs[("braid", count)], key)
            t_status, t_value = compare.summarize(runs[("tokio", count)], key)
            cells.append(compare.format_figure(key, b_value) if b_status == OK else b_status)
            cells.append(compare.format_figure(key, t_value) if t_status == OK else t_status)
            cells.append(compare.ratio_cell(b_value, t_value) if OK == b_status == t_status else "—")
            if b_status == OK:
                braid_by_count[count] = b_value
        lo, hi = counts[0], counts[-1]
        if lo in braid_by_count and hi in braid_by_count and len(counts) > 1:
            change = compare.ratio_cell(braid_by_count[hi], braid_by_count[lo])
            value_lo, value_hi = braid_by_count[lo], braid_by_count[hi]
            holds = value_hi >= value_lo if higher_is_better else value_hi <= value_lo
            cells += [change, "yes" if holds else "**no**"]
        else:
            cells += ["—", "—"]
        rows.append(f"| {workload}{label} | " + " | ".join(cells) + " |")
    failed = any(r["status"] == FAILED for records in runs.values() for r in records)
    return rows, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--braid", default=compare.DEFAULT_BRAID, help="braid benchmark binary (default: %(default)s)")
    parser.add_argument("--tokio", default=compare.DEFAULT_TOKIO, help="Tokio peer binary (default: %(default)s)")
    parser.add_argument("--threads", default="2,4,8,16", help="worker counts, comma-separated (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each binary per count (default: %(default)s)")
    parser.add_argument("--workloads", help="comma-separated workloads (default: those `braid_bench --list` prints)")
    parser.add_argument("--timeout", type=float, default=300, help="per-run timeout in seconds (default: %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="write every raw run to PATH as JSON")
    args = parser.parse_args()

    try:
        counts = parse_counts(args.threads)
    except ValueError:
        parser.error(f"--threads {args.threads}: expected worker counts >= 1, e.g. 2,4,8,16")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    sides = [("braid", args.braid), ("tokio", args.tokio)]
    for name, path in sides:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            parser.error(f"{name}: {path} is not an executable file")
    if args.workloads:
        workloads = list(dict.fromkeys(w.strip() for w in args.workloads.split(",") if w.strip()))
    else:
        workloads = compare.list_workloads(args.braid, min(args.timeout, 30))

    runs = {(side, w, c): [] for side, _ in sides for w in workloads for c in counts}
    chronological = []
    for workload in workloads:
        for i in range(args.runs):
            for count in counts:
                for side, binary in sides:
                    done = runs[(side, workload, count)]
                    # A side that lacks the workload or failed it is not run again at that count.
                    if any(r["status"] != OK for r in done):
                        continue
                    record = compare.run_once(side, binary, workload, count, args.timeout)
                    record.update(run=i + 1, threads=count)
                    done.append(record)
                    chronological.append(record)
                    note = record.get("reason", "")
                    print(f"  {workload} {side} --threads {count} run {i + 1}/{args.runs}: {record['status']}"
                          + (f" ({note})" if note else ""), file=sys.stderr, flush=True)

    head = " | ".join(f"braid {c} | tokio {c} | braid/tokio {c}" for c in counts)
    lines = [
        f"{args.runs} runs each, alternating, median shown ({os.cpu_count()} CPUs); "
        f"last columns: braid at {counts[-1]} workers / at {counts[0]} "
        "(lower-is-better rows: not above 1 to hold).",
        "",
        f"| workload | {head} | braid {counts[-1]}/{counts[0]} | scales? |",
        "|---|" + "---:|" * (3 * len(counts) + 1) + ":---:|",
    ]
    any_failed = False
    medians = {}
    for workload in workloads:
        by_count = {(side, c): runs[(side, workload, c)] for side, _ in sides for c in counts}
        rows, failed = figure_rows(workload, by_count, counts)
        lines.extend(rows)
        any_failed |= failed
        medians[workload] = {
            side: {str(c): {key: value for _, key, _ in compare.figures_of(workload)
                            for status, value in [compare.summarize(by_count[(side, c)], key)] if status == OK}
                   for c in counts}
            for side, _ in sides
        }
    print("\n".join(lines))

    if args.json:
        compare.write_json(args.json, {
            "braid": args.braid,
            "tokio": args.tokio,
            "threads": counts,
            "runs": args.runs,
            "medians": medians,
            "records": chronological,
        })
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
