"""Graph drawing for any Value (DOT always; SVG and PNG through Graphviz) and what a notebook shows for a Value
and for a model."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from tinygrad_nn import Value, viz
from tinygrad_nn.nn import MLP, Layer, Module
from tinygrad_nn.viz import graph, notebook

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _neuron():
    """One neuron of the book: a = sigmoid(w1 x1 + w2 x2 + b), and its gradients."""
    x1, x2 = Value(1.0, name="x1"), Value(0.0, name="x2")
    w1, w2, b = Value(2.0, name="w1"), Value(-1.0, name="w2"), Value(-0.5, name="b")
    z = x1 * w1 + x2 * w2 + b
    z.name = "z"
    a = z.sigmoid()
    a.backward()
    return a


def test_named_results_show_their_op_too():
    dot = viz.to_dot(_neuron())
    assert "{ z = add | data 1.5 | grad 0.1491 }" in dot  # sigmoid'(1.5) = 0.1491
    assert "{ sigmoid | data 0.8176 | grad 1 }" in dot
    assert dot.count("[label=") == 10 and dot.count(" -> ") == 9


def test_rankdir_is_checked():
    assert "rankdir=TB;" in viz.to_dot(Value(1.0) * 2.0, rankdir="TB")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        viz.to_dot(Value(1.0), rankdir="up")


@needs_dot
def test_draw_dot_makes_svg_and_png(tmp_path):
    a = _neuron()
    svg = viz.draw_dot(a)
    assert "<svg" in svg and svg.count('class="node"') == 10 and svg.count('class="edge"') == 9
    for label in ("w1", "z = add", "sigmoid", "grad 0.1491"):
        assert label in svg
    png = viz.draw_dot(a, format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    path = viz.draw_dot(a, format="png", path=tmp_path / "neuron.png")
    assert open(path, "rb").read() == png and sorted(p.name for p in tmp_path.iterdir()) == ["neuron.png"]


def test_draw_dot_without_graphviz_says_how(monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    assert not viz.have_graphviz()
    with pytest.raises(RuntimeError, match="apt install graphviz.*to_dot"):
        viz.draw_dot(Value(1.0) * 2.0)


def test_draw_dot_refuses_other_formats():
    with pytest.raises(ValueError, match="format must be 'svg' or 'png', got 'pdf'"):
        viz.draw_dot(Value(1.0), format="pdf")


# -- in a notebook ----------------------------------------------------------------------------------------


def test_a_leaf_shows_its_value_only():
    html = Value(2.5, name="w")._repr_html_()
    assert "Value(2.5, grad=0.0, name=&#x27;w&#x27;)" in html and "<svg" not in html


def test_a_tensor_shows_shape_and_dtype():
    html = Value(np.zeros((2, 3), dtype=np.float32))._repr_html_()
    assert "tensor of shape (2, 3), dtype float32" in html


@needs_dot
def test_a_computed_value_shows_its_graph():
    html = _neuron()._repr_html_()
    assert "<svg" in html and "<?xml" not in html and "DOCTYPE" not in html  # inline SVG, as HTML takes it
    assert html.count('class="node"') == 10


def test_without_graphviz_the_notebook_says_why(monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    html = _neuron()._repr_html_()
    assert "graph of 10 nodes is not drawn" in html and "apt install graphviz" in html


def test_a_big_graph_is_not_drawn_inline(monkeypatch):
    x = Value(1.0)
    y = x
    for _ in range(notebook.NOTEBOOK_MAX_NODES):
        y = y * 1.0001
    html = y._repr_html_()
    assert "<svg" not in html and "too many to draw here" in html


class _Net(Module):
    def __init__(self):
        self.body = MLP(4, [3, 2])
        self.head = Layer(2, 1)
        self.scale = Value(1.0)
        self.extra = [Value(np.ones(5))]

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_a_model_shows_its_layers_and_parameter_counts():
    net = _Net()
    assert repr(net) == ("_Net(\n  (body): MLP(4 -> 3 -> 2, activation='sigmoid', output_activation='sigmoid')\n"
                         "  (head): Layer(2, 1, activation='sigmoid')\n)")
    rows = [(name, count) for name, _, _, count in notebook.module_rows(net)]
    assert rows == [("body.0", 15), ("body.2", 8), ("head", 3), ("(the model)", 6)]
    html = net._repr_html_()
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert cells[-4:] == ["total", "", "", "32"] and sum(p.size for p in net.parameters()) == 32
    assert "weight (3, 4), bias (3,)" in html and "scale (), extra.0 (5,)" in html


def test_nested_reprs_are_indented():
    class Outer(Module):
        def __init__(self):
            self.inner = _Net()

    assert repr(Outer()).splitlines()[1:3] == ["  (inner): _Net(", "    (body): MLP(4 -> 3 -> 2, activation='sigmoid', "
                                                                      "output_activation='sigmoid')"]
    assert repr(Module()) == "Module()"
