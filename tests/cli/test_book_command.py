import os
import subprocess
import sys

import pytest

from tests.conftest import tree_env
from tinygrad_nn import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_book_runs_end_to_end(capsys):
    code, out = run(capsys, "book", "--steps", "1500", "--no-progress")
    assert code == 0
    assert "Accuracy: 64/64 images (100.0%)" in out
    assert "'010 101 101 110'" in out and "it reads a 0" in out
    assert "unit 1" in out and "unit 3" in out
    assert "Final C_T =" in out


def test_book_writes_figures_with_matplotlib(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, out = run(capsys, "book", "--steps", "30", "--no-progress", "--out", str(tmp_path / "figs"))
    assert code == 0
    names = ["cost_curve.png", "hidden_weights.png", "step_vs_sigmoid.png"]
    for name in names:
        path = tmp_path / "figs" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert name in out
    assert str(tmp_path / "figs") in out
    assert not [p for p in os.listdir(tmp_path / "figs") if p not in names]  # no temp files left


def test_book_without_matplotlib_says_how(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    code, out = run(capsys, "book", "--steps", "5", "--no-progress", "--out", str(tmp_path / "figs"))
    assert code == 0
    assert 'pip install "tinygrad_nn[plot]"' in out
    assert not (tmp_path / "figs").exists()


def test_book_options(capsys):
    code, out = run(capsys, "book", "--steps", "200", "--optimizer", "adam", "--lr", "0.05", "--seed", "3",
                    "--no-progress")
    assert code == 0 and "adam, lr 0.05, seed 3" in out
    with pytest.raises(SystemExit):
        cli.main(["book", "--steps", "0"])
    with pytest.raises(SystemExit):
        cli.main(["book", "--optimizer", "rmsprop"])


def test_progress_bar_shows_cost(capsys):
    code, out = run(capsys, "book", "--steps", "40")
    assert code == 0 and "C_T" in out


def test_python_dash_m_and_help():
    r = subprocess.run([sys.executable, "-m", "tinygrad_nn", "book", "--help"], capture_output=True, text=True,
                       check=True, env=tree_env())
    for word in ("--seed", "--steps", "--lr", "--optimizer", "--out"):
        assert word in r.stdout
