"""The graph behind a Value, drawn: Graphviz DOT text always (`to_dot`, no dependency), SVG or PNG when
Graphviz's `dot` program is installed (`draw_dot`, as micrograd's).

One box per node: a leaf shows its name (or "leaf"), an op's result the op's name (with the node's name when
it has one); each box shows the payload (the number for a scalar, the shape for a tensor) and the gradient.

>>> from tinygrad_nn import Value
>>> x = Value(2.0, name="x")
>>> print(to_dot(x * x + 1).splitlines()[0])
digraph tinygrad_nn {
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

GRAPHVIZ_HINT = ("drawing a graph needs Graphviz's dot program (Debian/Ubuntu: apt install graphviz; macOS: "
                 "brew install graphviz; conda: conda install graphviz); to_dot(value) gives the DOT text without it")


def _record_text(text) -> str:
    """`text` as a literal inside a Graphviz record label inside a double-quoted DOT string.

    In a record label { } | < > separate fields and name ports, and a backslash escapes; in the quoted string a
    double quote ends it. Each of them gets a backslash, so a name such as 'W{1}|"x"' is drawn as written.
    Line breaks become Graphviz's centred \\n."""
    out = []
    for ch in str(text):
        if ch in '\\{}|<>"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch in "\r\t" or not ch.isprintable():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _show(x) -> str:
    """A payload or gradient in a few characters: the number for a scalar, else the shape."""
    if x is None:  # no gradient yet (zero_grad sets tensor gradients to None)
        return "-"
    if hasattr(x, "_prev"):  # a gradient that is a graph itself, after backward(create_graph=True)
        x = x.data
    if isinstance(x, float):
        return f"{x + 0.0:.4g}"  # + 0.0: -0.0 (0 times a negative weight) is drawn as 0
    if np.ndim(x) == 0:  # a 0-d array: the gradient of a .sum() loss, for instance
        return f"{float(np.asarray(x)) + 0.0:.4g}"
    return f"shape {np.shape(x)}"


def _label(v) -> str:
    if v.op and v.name not in (None, ""):
        return f"{v.name} = {v.op}"
    return v.name if v.name not in (None, "") else (v.op or "leaf")


def graph_of(root):
    """The nodes that computed `root` (root first) and the edges (input, result) between them.

    >>> from tinygrad_nn import Value
    >>> x = Value(3.0)
    >>> nodes, edges = graph_of(x * x + 1.0)
    >>> [v.op or "leaf" for v in nodes], len(edges)
    (['add', 'leaf', 'mul', 'leaf'], 4)
    """
    nodes, edges, stack, seen = [], [], [root], {id(root)}
    while stack:
        v = stack.pop()
        nodes.append(v)
        for p in v._prev:
            edges.append((p, v))
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return nodes, edges


def to_dot(root, rankdir="LR") -> str:
    """The graph that computed `root` in Graphviz DOT: one box per node (name or op, payload, grad).

    Save it and run `dot -Tsvg graph.dot -o graph.svg` to see it, or call `draw_dot`. `rankdir` is Graphviz's
    direction of the arrows: "LR" (inputs on the left) or "TB" (inputs on top).

    >>> from tinygrad_nn import Value
    >>> w = Value(2.0, name="w")
    >>> y = w * 3.0
    >>> y.backward()
    >>> [line.strip() for line in to_dot(y).splitlines() if "w |" in line][0].split(" [")[1]
    'label="{ w | data 2 | grad 3 }"];'
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"to_dot: rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    nodes, edges = graph_of(root)
    lines = ["digraph tinygrad_nn {", f"  rankdir={rankdir}; node [shape=record];"]
    for v in nodes:
        lines.append(f'  n{id(v)} [label="{{ {_record_text(_label(v))} | data {_show(v.data)} '
                     f'| grad {_show(v.grad)} }}"];')
    lines += [f"  n{id(a)} -> n{id(b)};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


def have_graphviz() -> bool:
    """Whether Graphviz's `dot` program is on the PATH (what `draw_dot` runs).

    >>> have_graphviz() in (True, False)
    True
    """
    return shutil.which("dot") is not None


def draw_dot(root, format="svg", path=None, rankdir="LR"):
    """The graph that computed `root` drawn by Graphviz, as micrograd's `draw_dot`: SVG text for
    format="svg", PNG bytes for format="png"; with `path`, written to that file (atomically) and the
    path returned. Needs Graphviz's `dot` program (`to_dot` gives the DOT text without it).

    >>> from tinygrad_nn import Value
    >>> a = Value(3.0, name="a")
    >>> svg = draw_dot(a * a) if have_graphviz() else "<svg"
    >>> svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    True
    """
    if format not in ("svg", "png"):
        raise ValueError(f"draw_dot: format must be 'svg' or 'png', got {format!r}")
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(f"draw_dot: {GRAPHVIZ_HINT}")
    r = subprocess.run([exe, f"-T{format}"], input=to_dot(root, rankdir).encode(), capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"draw_dot: Graphviz's dot failed (exit {r.returncode}): "
                           f"{r.stderr.decode(errors='replace').strip()}")
    out = r.stdout.decode() if format == "svg" else r.stdout
    if path is None:
        return out
    from .figures import save_file

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(r.stdout)

    return save_file(path, write)
