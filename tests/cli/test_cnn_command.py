"""`tinygrad-nn cnn`: the book's chapter 5 network from the command line, with the options of `book`."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import tree_env
from tinygrad_nn import cli
from tinygrad_nn.cli.cnn import SERIF_ONE_ROWS, book_cnn
from tinygrad_nn.data import load_digits_6x6


def run(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_cnn_runs_end_to_end(capsys):
    code, out = run(capsys, "cnn", "--steps", "250", "--no-progress")
    assert code == 0
    assert "Training on 96 images for 250 steps (sgd, lr 0.2, seed 0)" in out
    assert "Accuracy: 96/96 images (100.0%)" in out
    first = int(re.search(r"All 96 images were first read right after (\d+) steps", out).group(1))
    assert 0 < first <= 250
    assert repr(SERIF_ONE_ROWS) in out and "it reads a 1" in out
    assert "filter 1" in out and "filter 3" in out and "map 3" in out and "pool 3" in out
    final = float(re.search(r"Final C_T = ([\d.]+) after 250 steps", out).group(1))
    assert 0 < final < 1.0


def test_cnn_reports_the_network_it_trained(capsys):
    # The numbers printed are those of the seed's network trained the same way, recomputed here.
    from tinygrad_nn.nn import squared_error
    from tinygrad_nn.optim import SGD

    code, out = run(capsys, "cnn", "--steps", "20", "--seed", "3", "--no-progress")
    assert code == 0
    data = load_digits_6x6()
    net, conv, _ = book_cnn(3)
    opt = SGD(net.parameters(), lr=0.2)
    for _ in range(20):
        opt.zero_grad()
        squared_error(net(data.images.reshape(96, 1, 6, 6)), data.targets).backward()
        opt.step()
    final = squared_error(net(data.images.reshape(96, 1, 6, 6)), data.targets).item()
    assert f"Final C_T = {final:.6f} after 20 steps" in out
    f = conv.weight.data[0, 0]
    assert "  filter 1: " + " | ".join(" ".join(f"{v:+5.1f}" for v in row) for row in f) in out


def test_cnn_writes_figures_with_matplotlib(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, out = run(capsys, "cnn", "--steps", "10", "--no-progress", "--out", str(tmp_path / "figs"))
    assert code == 0
    names = ["cost_curve.png", "filters.png", "feature_maps.png"]
    for name in names:
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert name in out
    assert str(tmp_path / "figs") in out
    assert sorted(os.listdir(tmp_path / "figs")) == sorted(names)  # no temp files left


def test_cnn_without_matplotlib_says_how(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out = run(capsys, "cnn", "--steps", "3", "--no-progress", "--out", str(tmp_path / "figs"))
    assert code == 0
    assert 'pip install "tinygrad_nn[plot]"' in out
    assert not (tmp_path / "figs").exists()


def test_cnn_options(capsys):
    code, out = run(capsys, "cnn", "--steps", "30", "--optimizer", "adam", "--lr", "0.05", "--seed", "2",
                    "--no-progress")
    assert code == 0 and "adam, lr 0.05, seed 2" in out
    for bad in (["--steps", "0"], ["--lr", "0"], ["--lr", "-1"], ["--optimizer", "rmsprop"]):
        with pytest.raises(SystemExit):
            cli.main(["cnn", *bad])
    assert "must be at least 1" in capsys.readouterr().err


def test_cnn_progress_shows_cost(capsys):
    code, out = run(capsys, "cnn", "--steps", "20")
    assert code == 0 and "C_T" in out


def test_cnn_python_dash_m_and_help():
    r = subprocess.run([sys.executable, "-m", "tinygrad_nn", "cnn", "--help"], capture_output=True, text=True,
                       check=True, env=tree_env())
    for word in ("--seed", "--steps", "--lr", "--optimizer", "--out", "--no-progress"):
        assert word in r.stdout
    top = cli.build_parser().format_help()
    assert "cnn" in top and "book" in top


def test_serif_one_is_not_a_training_image():
    from tinygrad_nn.data import parse_image

    serif = parse_image(SERIF_ONE_ROWS)
    assert not np.any(np.all(load_digits_6x6().images == serif, axis=(1, 2)))
