"""`python -m benchmarks.ab`: the A/B of tinygrad_nn's own step against an older commit. Checked here on
HEAD against HEAD with --quick (it measures nothing worth asserting: only that both sides ran and the
report is whole), and on bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import tree_env

ROOT = Path(__file__).resolve().parents[2]


def _ab(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "benchmarks.ab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=tree_env())


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout (it makes a worktree of the base)")
def test_head_against_head_runs_both_sides_and_cleans_up(tmp_path):
    before = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    out = tmp_path / "ab.json"
    p = _ab("--base", "HEAD", "--workloads", "2", "--rounds", "2", "--quick", "--json", str(out))
    assert p.returncode == 0, p.stderr[-3000:]
    doc = json.loads(out.read_text())
    (row,) = doc["results"]
    assert row["row"].startswith("W2") and len(row["base_s"]) == len(row["head_s"]) == 2
    assert all(t > 0 for t in row["base_s"] + row["head_s"])
    assert "| W2 book 12-3-2 network |" in p.stdout
    after = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before  # the base's worktree is gone again


@pytest.mark.parametrize("args,message", [
    (["--base", "HEAD", "--workloads", "9"], "choose among 1, 2, 3, 4"),
    (["--base", "HEAD", "--rounds", "0"], "at least 1"),
    (["--base", "no-such-revision-xyz"], "does not know the revision"),
])
def test_bad_arguments_are_usage_errors(args, message):
    p = _ab(*args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_counting_instructions_needs_valgrind_or_counts():
    import shutil

    if shutil.which("valgrind") is None:
        p = _ab("--base", "HEAD", "--workloads", "4", "--instructions")
        assert p.returncode == 2 and "needs valgrind" in p.stderr
        return
    from benchmarks import ab

    # one process under cachegrind (the table's numbers are differences of two such counts)
    assert ab._count(str(ROOT), "4", 1, True) > 1_000_000
