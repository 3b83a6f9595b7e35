"""Smoke test of the benchmark suite: the runner in --quick mode, for tinygrad_nn and the numpy floor only
(the peers are not installed in CI). It checks that every workload gives its rows, that ratios and
targets are computed, and that the implementations agree on the first step's loss. It measures nothing:
timings from a quick run mean nothing and are not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import tree_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--impls", "tinygrad_nn,numpy", "--json", str(out)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=tree_env())
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout, json.loads(out.read_text())


def _rows(doc):
    return {(r["row"].split()[0], r["impl"]): r for r in doc["summary"]}


def test_every_workload_has_its_rows(quick_run):
    _, doc = quick_run
    rows = _rows(doc)
    for w in "123456":
        assert (w, "tinygrad_nn") in rows, w
    assert ("1", "tinygrad_nn (gc off)") in rows
    for w in "2346":
        assert (w, "numpy") in rows, w
    for r in doc["summary"]:
        assert r["error"] is None, r
        assert r["n"] >= 1 and r["median_s"] > 0, r
        assert r["peak_rss_mb"] > 0, r
    # W5: both shapes, at least two sizes each, with a time per node
    w5 = [r for r in doc["summary"] if r["row"].startswith("5 ")]
    assert {r["row"].split()[2] for r in w5} == {"chain", "tree"}
    assert len(w5) >= 4 and all("ns/node" in r["note"] for r in w5)
    assert not {"micrograd", "torch", "jax"} & {r["impl"].split()[0] for r in doc["summary"]}


def test_ratios_and_targets_are_computed(quick_run):
    stdout, doc = quick_run
    targets = {t["name"]: t for t in doc["targets"]}
    for name in ("W2 vs numpy floor", "W3 vs numpy floor"):
        t = targets[name]
        assert t["value"] is not None and t["value"] > 0 and t["status"] in ("PASS", "MISS"), t
    for name in ("W5 linear scaling, chain (suite's own bound)", "W5 linear scaling, tree (suite's own bound)",
                 "W6 import on top of numpy"):
        assert targets[name]["status"] in ("PASS", "MISS"), targets[name]
    # peers absent from the run: their targets are skipped, not failed
    assert targets["W2 vs PyTorch"]["status"] == "SKIP"
    assert targets["W1 vs micrograd, default GC"]["status"] == "SKIP"
    # the printed table: a header, a ratio on each numpy row of W2-W4, and the targets table
    lines = stdout.splitlines()
    assert any(line.startswith("| workload | impl | time/step (median)") for line in lines)
    numpy_rows = [line for line in lines if line.startswith("| ") and "| numpy |" in line]
    numpy_rows = [line for line in numpy_rows if not line.startswith("| 6")]  # W6's numpy row is numpy alone
    assert len(numpy_rows) == 3
    for line in numpy_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[5].endswith("x") or "x (" in cells[5], line
    assert "| target | measured | bound | status |" in stdout


def test_implementations_compute_the_same_loss(quick_run):
    _, doc = quick_run
    assert len(doc["checks"]) >= 3
    for line in doc["checks"]:
        worst = float(line.rsplit("difference ", 1)[1].rstrip(")"))
        assert worst < 1e-5, line


def test_conv2d_workload_rows(quick_run):
    # W7 runs for tinygrad_nn alone here (its peer, PyTorch, is not installed in CI): both of its rows, and
    # their targets skipped rather than failed.
    _, doc = quick_run
    rows = [r for r in doc["summary"] if r["row"].startswith("7 ")]
    assert sorted(r["row"].rsplit(", ", 1)[1] for r in rows) == ["data batch", "input grad"]
    assert all(r["impl"] == "tinygrad_nn" and r["error"] is None and r["median_s"] > 0 for r in rows)
    targets = {t["name"]: t for t in doc["targets"]}
    assert targets["W7 conv2d vs PyTorch, input grad"]["status"] == "SKIP"
    assert targets["W7 conv2d vs PyTorch, data batch"]["status"] == "SKIP"
