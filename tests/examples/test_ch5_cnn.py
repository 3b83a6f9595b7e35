"""examples/ch5_cnn.py: the book's chapter 5 network trains, reads the serif 1, and shows what it learned.

What the example prints is checked against numbers computed here independently: a numpy forward pass of
the trained weights with loops over positions (the book's formulas), and the accuracy it gives.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import tree_env
from tests.examples.test_examples import EXAMPLES, PLOT_HINT, _example, _has_matplotlib
from tinygrad_nn.data import load_digits_6x6, parse_image


def numpy_forward(state, images):
    """The chapter 5 network in numpy, from its four parameter arrays: outputs (N, 3)."""
    (w, b), (W, c) = state
    n = len(images)
    maps = np.zeros((n, 3, 4, 4))
    for i in range(4):
        for j in range(4):
            patch = images[:, i:i + 3, j:j + 3]                      # (N, 3, 3) under the filter
            maps[:, :, i, j] = np.einsum("npq,kpq->nk", patch, w[:, 0]) + b
    maps = 1.0 / (1.0 + np.exp(-maps))
    pooled = maps.reshape(n, 3, 2, 2, 2, 2).max(axis=(3, 5))          # 2x2 blocks
    z = pooled.reshape(n, 12) @ W.T + c
    return 1.0 / (1.0 + np.exp(-z))


def trained_state(net):
    params = [p.data for p in net.parameters()]
    return (params[0], params[1]), (params[2], params[3])


def test_trains_to_all_96_and_reads_the_serif_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _example("ch5_cnn").main(["--steps", "200", "--every", "100"])
    out = capsys.readouterr().out
    data = load_digits_6x6()
    state = trained_state(result["net"])
    a = numpy_forward(state, data.images)
    # C_T after the last step and the accuracy, from the numpy forward pass
    assert result["costs"][-1] == pytest.approx(0.5 * np.sum((data.targets - a) ** 2), rel=1e-12)
    assert int((a.argmax(axis=1) + 1 == data.digits).sum()) == result["right"] == 96
    steps = result["all_right_at"]
    assert steps is not None and 0 < steps <= 200
    assert f"all 96 images read right after {steps} steps; after 200: 96/96" in out
    assert f"  step  100   C_T = {result['costs'][100]:9.5f}" in out
    # the serif 1, read by the numpy forward pass too
    serif = numpy_forward(state, parse_image("001110 000100 000100 000100 000100 001110")[None])[0]
    np.testing.assert_allclose(result["serif_outputs"], serif, rtol=1e-12)
    assert result["guess"] == 1 == int(serif.argmax()) + 1 and "it reads a 1" in out
    assert result["hand_difference"] < 1e-12
    assert result["maps"].shape == (3, 4, 4) and result["pooled"].shape == (3, 2, 2)
    for k in range(3):  # the filters' numbers, as printed
        row = " | ".join(" ".join(f"{v:+5.1f}" for v in r) for r in result["filters"][k])
        assert f"  filter {k + 1}: {row}" in out
    assert list(tmp_path.iterdir()) == []  # no --out, no files


def test_figures(capsys, tmp_path):
    _example("ch5_cnn").main(["--steps", "3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    names = ["cnn_cost_curve.png", "cnn_filters.png", "cnn_feature_maps.png"]
    if _has_matplotlib():
        for name in names:
            assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert PLOT_HINT in out and not any((tmp_path / name).exists() for name in names)


def test_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    _example("ch5_cnn").main(["--steps", "2", "--out", str(tmp_path)])
    assert PLOT_HINT in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_runs_as_a_script_and_writes_nothing(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "ch5_cnn.py"), "--steps", "5"], cwd=tmp_path,
                          env=tree_env(MPLBACKEND="Agg"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "it reads a" in proc.stdout and "step    5" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_has_a_docstring_and_main():
    source = (EXAMPLES / "ch5_cnn.py").read_text(encoding="utf-8")
    assert source.lstrip().startswith('"""')
    assert "def main(argv=None)" in source and 'if __name__ == "__main__":' in source
