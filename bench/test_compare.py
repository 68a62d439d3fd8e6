#!/usr/bin/env python3
"""Tests of bench/compare.py against fake benchmark binaries.

The fake binaries (bench/fake_bench.py) print the JSON line of the
workload they are asked for, from a table of figures given when they are
made, exit 2 for a workload they lack (as a real binary does for an
unknown workload) and 1 for one they are told to fail. Standard library
only.
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fake_bench  # noqa: E402

COMPARE = os.path.join(HERE, "compare.py")


class CompareTest(fake_bench.ScriptTest):
    SCRIPT = COMPARE

    def compare(self, *args):
        return self.run_script(*args)

    def test_every_peer_has_a_column_and_the_best_peer_is_named(self):
        braid = self.fake("braid", {"spawn_many": {"ops_per_s": 300.0}})
        tokio = self.fake("tokio", {"spawn_many": {"ops_per_s": 200.0}})
        go = self.fake("go", {"spawn_many": {"ops_per_s": 400.0}})
        slow = self.fake("slow", {"spawn_many": {"ops_per_s": 100.0}})
        code, out, err = self.compare("--braid", braid, "--tokio", tokio, "--peer", f"go={go}",
                                      "--peer", f"slow={slow}", "--workloads", "spawn_many")
        self.assertEqual(code, 0, err)
        self.assertIn("| workload | braid | tokio | go | slow | braid/tokio | braid/best peer | target met? |", out)
        self.assertEqual(self.row(out, "spawn_many"),
                         ["spawn_many", "300 /s", "200 /s", "400 /s", "100 /s", "1.50", "0.75 (go)", "yes"])

    def test_latency_rows_are_lower_is_better_and_a_missing_workload_is_na(self):
        latency = {"p50_us": 10.0, "p99_us": 40.0, "max_us": 90.0}
        braid = self.fake("braid", {"wake_latency": latency})
        tokio = self.fake("tokio", {"wake_latency": {"p50_us": 20.0, "p99_us": 30.0, "max_us": 90.0}})
        go = self.fake("go", {"spawn_many": {}})
        asio = self.fake("asio", {"wake_latency": {"p50_us": 5.0, "p99_us": 80.0, "max_us": 100.0}})
        code, out, err = self.compare("--braid", braid, "--tokio", tokio, "--peer", f"go={go}",
                                      "--peer", f"asio={asio}", "--workloads", "wake_latency")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.row(out, "wake_latency p50"),
                         ["wake_latency p50", "10.0 µs", "20.0 µs", "n/a", "5.0 µs", "0.50", "2.00 (asio)", "yes"])
        self.assertEqual(self.row(out, "wake_latency p99"),
                         ["wake_latency p99", "40.0 µs", "30.0 µs", "n/a", "80.0 µs", "1.33", "1.33 (tokio)", "no"])
        self.assertEqual(self.row(out, "wake_latency max")[5:], ["1.00", "1.00 (tokio)", "yes"])
        # The peer without the workload ran once, then not again.
        self.assertEqual(err.count("wake_latency go run"), 1)

    def test_tcp_latency_has_a_row_per_phase_and_figure(self):
        figures = {"p50_us": 1.0, "p99_us": 2.0, "max_us": 3.0,
                   "burst_p50_us": 4.0, "burst_p99_us": 5.0, "burst_max_us": 6.0}
        braid = self.fake("braid", {"tcp_latency": figures})
        tokio = self.fake("tokio", {"tcp_latency": figures})
        code, out, err = self.compare("--braid", braid, "--tokio", tokio, "--workloads", "tcp_latency")
        self.assertEqual(code, 0, err)
        for label, cell in (("p50", "1.0 µs"), ("p99", "2.0 µs"), ("max", "3.0 µs"), ("after burst p50", "4.0 µs"),
                            ("after burst p99", "5.0 µs"), ("after burst max", "6.0 µs")):
            self.assertEqual(self.row(out, f"tcp_latency {label}")[1:3], [cell, cell])

    def test_a_missing_figure_or_a_failed_check_is_a_failure(self):
        braid = self.fake("braid", {"wake_latency": {"p50_us": 1.0, "p99_us": 2.0}, "timers": {}},
                          failing=["spawn_many"])
        tokio = self.fake("tokio", {"wake_latency": {"p50_us": 1.0, "p99_us": 2.0, "max_us": 3.0},
                                    "timers": {"overshoot_ms": 5.0}, "spawn_many": {}})
        code, out, err = self.compare("--braid", braid, "--tokio", tokio,
                                      "--workloads", "wake_latency,spawn_many")
        self.assertEqual(code, 1)
        self.assertEqual(self.row(out, "wake_latency p50")[1:], ["FAILED", "1.0 µs", "—", "—", "no"])
        self.assertEqual(self.row(out, "spawn_many")[1:], ["FAILED", "1 /s", "—", "—", "no"])
        self.assertIn("JSON line has no numeric max_us", err)
        self.assertIn("exit 1: check failed: sum", err)

    def test_json_has_the_peers_and_the_medians_of_every_figure(self):
        braid = self.fake("braid", {"timers": {"overshoot_ms": 10.0}})
        tokio = self.fake("tokio", {"timers": {"overshoot_ms": 20.0}})
        go = self.fake("go", {})
        path = os.path.join(self.dir.name, "runs.json")
        code, out, err = self.compare("--braid", braid, "--tokio", tokio, "--peer", f"go={go}",
                                      "--workloads", "timers", "--json", path)
        self.assertEqual(code, 0, err)
        with open(path) as f:
            raw = json.load(f)
        self.assertEqual(raw["peers"], {"go": go})
        self.assertEqual(raw["medians"]["timers"], {"braid": {"overshoot_ms": 10.0},
                                                    "tokio": {"overshoot_ms": 20.0}, "go": {}})
        self.assertEqual([(r["impl"], r["status"]) for r in raw["records"]],
                         [("braid", "ok"), ("tokio", "ok"), ("go", "n/a"), ("braid", "ok"), ("tokio", "ok")])

    def test_bad_peer_arguments_are_usage_errors(self):
        braid = self.fake("braid", {})
        for spec in ("go", "=x", f"tokio={braid}", f"go={self.dir.name}/missing"):
            code, _, err = self.compare("--braid", braid, "--tokio", braid, "--peer", spec)
            self.assertEqual(code, 2, spec)
            self.assertIn("--peer" if "missing" not in spec else "not an executable file", err)


if __name__ == "__main__":
    unittest.main()
