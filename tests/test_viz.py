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


# -- issue 8: any graph, any name ------------------------------------------------------------------------

import re  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402

import numpy as np  # noqa: E402


def _labels(dot):
    """Each node's record label as Graphviz draws it, field by field. A model of Graphviz's three readings: the
    DOT lexer unquotes the string (only \\" is an escape there); the record parser splits fields at unescaped |
    inside { } (a backslash makes { } | < > literal, \\<space> is a space, and keeps any other pair as it is);
    the label then turns \\n, \\l, \\r into line breaks and any other backslash pair into its second character."""
    out = {}
    for node, raw in re.findall(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"\];$', dot, flags=re.M):
        text = re.sub(r'\\(["\\])', lambda m: '"' if m.group(1) == '"' else m.group(0), raw)
        fields, cur, depth, i = [], "", 0, 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                cur += nxt if nxt in "{}|<> " else ch + nxt
                i += 2
                continue
            assert ch not in "<>", f"an unescaped {ch} would start a port name: {text!r}"
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                assert depth >= 0, text
            elif ch == "|" and depth == 1:
                fields.append(cur)
                cur = ""
            else:
                cur += ch
            i += 1
        assert depth == 0, f"unbalanced braces in {text!r}"
        out[node] = [_drawn(f.strip()) for f in fields + [cur]]
    return out


def _drawn(field):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nlr" else m.group(1), field, flags=re.S)


def test_every_node_line_is_a_well_formed_record():
    dot = viz.to_dot(Value(2.0, name="x") * 3.0)
    node_lines = [line for line in dot.splitlines() if "[label=" in line]
    assert len(_labels(dot)) == len(node_lines) == 3


def test_to_dot_draws_tensor_graphs_before_and_after_backward():
    w = Value(np.ones((2, 3)), name="w")
    b = Value(np.zeros(3), name="b")
    loss = (w * 2.0 + b).sum()  # a 0-d array payload, then a 0-d array gradient
    before = viz.to_dot(loss)
    assert ["sum", "data 12", "grad -"] in _labels(before).values()  # no gradient yet: None
    loss.backward()
    after = _labels(viz.to_dot(loss))
    assert ["sum", "data 12", "grad 1"] in after.values()
    assert ["w", "data shape (2, 3)", "grad shape (2, 3)"] in after.values()
    w.grad = None  # as zero_grad leaves tensor gradients
    assert ["w", "data shape (2, 3)", "grad -"] in _labels(viz.to_dot(loss)).values()


def test_to_dot_draws_gradients_that_are_graphs():
    x = Value(np.array([1.0, 2.0]), name="x")
    y = (x * x).sum()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert ["x", "data shape (2,)", "grad shape (2,)"] in _labels(viz.to_dot(y)).values()


NASTY = ['a"b', "a|b", "{x}", "<port>", "back\\slash", 'W{1}|"x"<y>\\', "two\nlines", "end\\", "sp ace", ""]


@pytest.mark.parametrize("name", NASTY)
def test_names_are_escaped_for_record_labels(name):
    x = Value(1.5, name=name)
    dot = viz.to_dot(x * 2.0)
    labels = _labels(dot)
    expect = name or "leaf"
    assert [expect, "data 1.5", "grad 0"] in labels.values()
    assert dot.count("\n") == len(dot.splitlines()) - 1  # the newline did not break the DOT line


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_accepts_what_to_dot_writes(tmp_path):
    x = Value(np.ones(3), name=NASTY[5])
    y = Value(2.0, name='a"b|{c}<d>')
    loss = ((x * y).sum() + y).tanh()
    loss.backward()
    r = subprocess.run(["dot", "-Tsvg"], input=viz.to_dot(loss), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "error" not in r.stderr.lower(), r.stderr
    assert "&lt;d&gt;" in r.stdout and "W{1}|" in r.stdout  # the names drawn as written, not as record syntax


# -- issue 8: figure files ---------------------------------------------------------------------------------


def _plt():
    plt = viz.pyplot(quiet=True)
    if plt is None:
        pytest.skip("matplotlib is not installed")
    return plt


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_save_figure_gives_the_permissions_of_the_umask(tmp_path, mask):
    plt = _plt()
    old = os.umask(mask)
    try:
        path = viz.save_figure(plt.figure(), tmp_path / "f.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask


def test_save_figure_without_extension_is_a_png(tmp_path):
    plt = _plt()
    path = viz.save_figure(plt.figure(), tmp_path / "figure")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_figure_set_renames_all_at_the_end_or_removes_all(tmp_path):
    plt = _plt()
    (tmp_path / "b.png").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="plotting failed"):
        with viz.figure_set():
            viz.save_figure(plt.figure(), tmp_path / "a.png")
            viz.save_figure(plt.figure(), tmp_path / "b.png")
            raise RuntimeError("plotting failed")
    assert sorted(os.listdir(tmp_path)) == ["b.png"] and (tmp_path / "b.png").read_bytes() == b"old"
    with viz.figure_set():
        viz.save_figure(plt.figure(), tmp_path / "a.png")
        viz.save_figure(plt.figure(), tmp_path / "b.png")
        assert sorted(p for p in os.listdir(tmp_path) if not p.startswith(".")) == ["b.png"]
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


def test_save_figure_takes_long_names_and_writes_through_a_link(tmp_path):
    plt = _plt()
    long_name = "f" * 251 + ".png"  # 255 bytes: the longest name most file systems take
    viz.save_figure(plt.figure(), tmp_path / long_name)
    assert os.listdir(tmp_path) == [long_name]
    if not hasattr(os, "symlink"):
        return
    (tmp_path / "real.png").write_bytes(b"old")
    os.symlink("real.png", tmp_path / "link.png")
    assert viz.save_figure(plt.figure(), tmp_path / "link.png") == str(tmp_path / "link.png")
    assert os.path.islink(tmp_path / "link.png") and (tmp_path / "real.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(os.listdir(tmp_path)) == sorted([long_name, "link.png", "real.png"])


def test_the_plots_take_values_that_require_grad(tmp_path):
    # np.asarray refuses a Value whose gradient is being recorded; drawing loses no gradient, so the plots take
    # parameters and lists of losses as they are
    _plt()
    w = Value(np.random.default_rng(0).standard_normal((3, 1, 3, 3)))
    assert os.path.exists(viz.plot_filters(w, tmp_path / "f.png"))
    assert os.path.exists(viz.plot_cost_curve([Value(2.0) * 1.0, Value(1.0) * 0.5], tmp_path / "c.png"))
    assert os.path.exists(viz.plot_weight_maps(Value(np.ones((2, 12))), tmp_path / "w.png"))
    image = Value(np.ones((6, 6)))
    assert os.path.exists(viz.plot_feature_maps(image, Value(np.ones((3, 4, 4))), Value(np.ones((3, 2, 2))),
                                                tmp_path / "m.png"))
