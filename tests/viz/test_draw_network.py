"""draw_network: an MLP drawn as the book draws one, every connection's width and colour its weight's."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn.nn import MLP, Conv2d, Layer, Sequential
from tinygrad_nn.viz import draw_network, network

pytest.importorskip("matplotlib")


def test_every_connection_is_a_line_sized_and_coloured_by_its_weight():
    net = MLP(12, [3, 2], seed=0)
    fig = draw_network(net)
    lines = fig.axes[0].lines
    weights = np.concatenate([layer.weight.data.reshape(-1) for layer in net.layers])  # layer by layer, j, then i
    assert len(lines) == weights.size == 12 * 3 + 3 * 2
    scale = np.abs(weights).max()
    np.testing.assert_allclose([ln.get_linewidth() for ln in lines], 0.3 + 6.0 * np.abs(weights) / scale)
    colours = [ln.get_color() for ln in lines]
    assert colours == [network.POSITIVE if w >= 0 else network.NEGATIVE for w in weights]
    from matplotlib.patches import Circle

    assert sum(isinstance(p, Circle) for p in fig.axes[0].patches) == 12 + 3 + 2  # one circle per unit
    fig.clf()


def test_written_beside_the_book_figures(tmp_path):
    path = draw_network(MLP(12, [3, 2], seed=1), tmp_path / "network.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="no fully connected layer"):
        draw_network(Sequential(Conv2d(1, 2, 3)))
    with pytest.raises(ValueError, match="layer 1 takes 5 inputs but layer 0 gives 3"):
        draw_network(Sequential(Layer(4, 3), Layer(5, 2)))
