#!/usr/bin/env python3
"""Tests of bench/scaling.py against fake benchmark binaries.

The fake binaries (bench/fake_bench.py) print the JSON line of the
workload they are asked for, with figures that depend on the worker count
they are given (a table of figures per count), exit 2 for a workload they
lack and 1 for one they are told to fail. Standard library only.
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fake_bench  # noqa: E402

SCALING = os.path.join(HERE, "scaling.py")


class ScalingTest(fake_bench.ScriptTest):
    SCRIPT = SCALING
    BY_THREADS = True  # figures: workload -> worker count (as a string) -> extra JSON keys

    def scaling(self, *args):
        return self.run_script(*args)

    def test_every_count_has_both_sides_and_the_ratio_and_scaling_is_judged_from_the_ends(self):
        braid = self.fake("braid", {
            "yield_many": {"2": {"ops_per_s": 100.0}, "4": {"ops_per_s": 300.0}, "8": {"ops_per_s": 250.0}},
            "spawn_many": {"2": {"ops_per_s": 100.0}, "4": {"ops_per_s": 150.0}, "8": {"ops_per_s": 90.0}},
        })
        tokio = self.fake("tokio", {
            "yield_many": {"2": {"ops_per_s": 50.0}, "4": {"ops_per_s": 100.0}, "8": {"ops_per_s": 500.0}},
            "spawn_many": {"2": {"ops_per_s": 100.0}, "4": {"ops_per_s": 100.0}, "8": {"ops_per_s": 100.0}},
        })
        code, out, err = self.scaling("--braid", braid, "--tokio", tokio, "--threads", "8,2,4",
                                      "--workloads", "yield_many,spawn_many")
        self.assertEqual(code, 0, err)
        self.assertIn("| workload | braid 2 | tokio 2 | braid/tokio 2 | braid 4 | tokio 4 | braid/tokio 4 | "
                      "braid 8 | tokio 8 | braid/tokio 8 | braid 8/2 | scales? |", out)
        self.assertEqual(self.row(out, "yield_many"),
                         ["yield_many", "100 /s", "50 /s", "2.00", "300 /s", "100 /s", "3.00",
                          "250 /s", "500 /s", "0.50", "2.50", "yes"])
        self.assertEqual(self.row(out, "spawn_many")[-2:], ["0.90", "**no**"])
        # Alternating: every count of one run before the next run, braid before Tokio.
        order = [line.split(" run ")[0].strip() for line in err.splitlines() if "yield_many" in line]
        self.assertEqual(order[:6], ["yield_many braid --threads 2", "yield_many tokio --threads 2",
                                     "yield_many braid --threads 4", "yield_many tokio --threads 4",
                                     "yield_many braid --threads 8", "yield_many tokio --threads 8"])

    def test_lower_is_better_rows_scale_when_they_do_not_grow(self):
        def latency(p50):
            return {"p50_us": p50, "p99_us": 10.0, "max_us": 20.0}
        braid = self.fake("braid", {"wake_latency": {"2": latency(5.0), "16": latency(4.0)}})
        tokio = self.fake("tokio", {"wake_latency": {"2": latency(5.0), "16": latency(8.0)}})
        code, out, err = self.scaling("--braid", braid, "--tokio", tokio, "--threads", "2,16",
                                      "--workloads", "wake_latency")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.row(out, "wake_latency p50")[-3:], ["0.50", "0.80", "yes"])
        self.assertEqual(self.row(out, "wake_latency p99")[-2:], ["1.00", "yes"])

    def test_a_failed_run_fails_the_script_and_a_missing_workload_is_na(self):
        braid = self.fake("braid", {"timers": {"2": {"overshoot_ms": 5.0}, "4": {"overshoot_ms": 5.0}}},
                          failing=["spawn_many"])
        tokio = self.fake("tokio", {"spawn_many": {"2": {}, "4": {}}})
        code, out, err = self.scaling("--braid", braid, "--tokio", tokio, "--threads", "2,4",
                                      "--workloads", "timers,spawn_many")
        self.assertEqual(code, 1)
        self.assertEqual(self.row(out, "timers")[1:4], ["5.0 ms", "n/a", "—"])
        self.assertEqual(self.row(out, "timers")[-2:], ["1.00", "yes"])
        self.assertEqual(self.row(out, "spawn_many")[1:4], ["FAILED", "1 /s", "—"])
        self.assertEqual(self.row(out, "spawn_many")[-2:], ["—", "—"])
        # A side that failed or lacks the workload runs once per count, then not again.
        self.assertEqual(err.count("spawn_many braid --threads 2 run"), 1)
        self.assertEqual(err.count("timers tokio --threads 4 run"), 1)

    def test_json_has_the_medians_by_count(self):
        braid = self.fake("braid", {"timers": {"1": {"overshoot_ms": 10.0}, "2": {"overshoot_ms": 12.0}}})
        tokio = self.fake("tokio", {"timers": {"1": {"overshoot_ms": 20.0}, "2": {"overshoot_ms": 30.0}}})
        path = os.path.join(self.dir.name, "runs.json")
        code, out, err = self.scaling("--braid", braid, "--tokio", tokio, "--threads", "1,2",
                                      "--workloads", "timers", "--json", path)
        self.assertEqual(code, 0, err)
        with open(path) as f:
            raw = json.load(f)
        self.assertEqual(raw["threads"], [1, 2])
        self.assertEqual(raw["medians"]["timers"],
                         {"braid": {"1": {"overshoot_ms": 10.0}, "2": {"overshoot_ms": 12.0}},
                          "tokio": {"1": {"overshoot_ms": 20.0}, "2": {"overshoot_ms": 30.0}}})
        self.assertEqual(len(raw["records"]), 8)
        self.assertEqual(self.row(out, "timers")[-2:], ["1.20", "**no**"])

    def test_bad_worker_counts_are_usage_errors(self):
        braid = self.fake("braid", {})
        for spec in ("0,2", "two", ","):
            code, _, err = self.scaling("--braid", braid, "--tokio", braid, "--threads", spec)
            self.assertEqual(code, 2, spec)
            self.assertIn("--threads", err)


if __name__ == "__main__":
    unittest.main()
