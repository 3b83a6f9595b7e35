import os
import sys

import pytest

from tinygrad_nn import Value, viz


def test_to_dot_draws_every_node_and_edge_with_labels():
    x = Value(2.0, name="x")
    y = x * x + 1.0
    y.backward()
    dot = viz.to_dot(y)
    assert dot.startswith("digraph tinygrad_nn {") and dot.rstrip().endswith("}")
    assert dot.count("[label=") == 4  # x, the constant 1.0, mul, add
    assert dot.count(" -> ") == 4  # x twice into mul, mul and 1.0 into add
    assert "{ x | data 2 | grad 4 }" in dot
    assert "{ add | data 5 | grad 1 }" in dot


def test_pyplot_without_matplotlib_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert viz.pyplot() is None
    assert 'pip install "tinygrad_nn[plot]"' in capsys.readouterr().out
    assert viz.pyplot(quiet=True) is None and capsys.readouterr().out == ""


def test_save_figure_is_atomic_and_cleans_up(tmp_path):
    plt = viz.pyplot()
    if plt is None:
        pytest.skip("matplotlib is not installed")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = viz.save_figure(fig, tmp_path / "sub" / "line.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path / "sub") == ["line.png"]

    fig, _ = plt.subplots()
    with pytest.raises(ValueError):  # an unknown format: nothing half-written is left behind
        viz.save_figure(fig, tmp_path / "sub" / "bad.png", format="not-a-format")
    assert os.listdir(tmp_path / "sub") == ["line.png"]
