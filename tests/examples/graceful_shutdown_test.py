#!/usr/bin/env python3
"""examples/graceful_shutdown under SIGTERM: it must exit 0 and account for
every job it started exactly once (finished + cancelled == started).

Usage: graceful_shutdown_test.py PATH-TO-graceful_shutdown
"""
import re
import signal
import subprocess
import sys


def main() -> int:
    exe = sys.argv[1]
    proc = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
    lines = []
    started = 0
    # Wait (on the program's own output, not on time) until it is listening
    # and a few jobs are in flight.
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("job "):
            started += 1
            if started == 5:
                break
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=60)
    lines += rest.splitlines()
    print("\n".join(lines[-5:]))
    if proc.returncode != 0:
        print(f"FAIL: exit code {proc.returncode}")
        return 1
    if "ready" not in lines:
        print("FAIL: never printed ready")
        return 1
    summary = [l for l in lines if l.startswith("jobs: ")]
    if len(summary) != 1:
        print("FAIL: no summary line")
        return 1
    m = re.match(r"jobs: started=(\d+) finished=(\d+) cancelled=(\d+)$", summary[0])
    s, f, c = (int(x) for x in m.groups())
    job_lines = sum(1 for l in lines if re.match(r"job \d+ started$", l))
    if s != job_lines or s != f + c or s < 5:
        print(f"FAIL: started={s} (lines {job_lines}) finished={f} cancelled={c}")
        return 1
    print("OK: every job finished or was cancelled exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
