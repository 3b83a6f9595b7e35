"""What Jupyter shows for a Value and for a model (`Value._repr_html_`, `Module._repr_html_` call these).

A Value shows its value (a tensor its shape and dtype, then its values in brief) and, when it was computed by
ops, the graph that computed it, drawn inline by Graphviz when that is installed. A model shows its layers as a
table: each module that holds parameters, their shapes and counts, and the total.

>>> from tinygrad_nn.nn import MLP
>>> "<td>total</td><td></td><td></td><td>47</td>" in module_html(MLP(12, [3, 2]))
True
"""

from __future__ import annotations

import html

from .graph import GRAPHVIZ_HINT, draw_dot, graph_of, have_graphviz

# A notebook draws a Value's graph inline only up to this many nodes; a bigger graph is a wall of boxes.
NOTEBOOK_MAX_NODES = 120


def value_html(v) -> str:
    """A Value as HTML: its repr (a tensor: shape and dtype first), and the graph that computed it when it has
    one, Graphviz is installed and the graph has at most NOTEBOOK_MAX_NODES nodes (else a line saying why not).

    >>> from tinygrad_nn import Value
    >>> value_html(Value(2.0))
    '<div><pre style="margin:0">Value(2.0, grad=0.0)</pre></div>'
    """
    head = repr(v)
    if v.data.__class__ is not float:
        head = f"tensor of shape {v.data.shape}, dtype {v.data.dtype}\n{head}"
    parts = [f'<pre style="margin:0">{html.escape(head)}</pre>']
    if v._prev:
        nodes, _ = graph_of(v)
        if len(nodes) > NOTEBOOK_MAX_NODES:
            parts.append(f"<p><i>its graph has {len(nodes)} nodes, too many to draw here; "
                         f"tinygrad_nn.viz.draw_dot(value, path='graph.svg') writes it to a file</i></p>")
        elif have_graphviz():
            svg = draw_dot(v)
            parts.append(svg[svg.index("<svg"):])  # without the XML prologue and doctype, which HTML does not take
        else:
            parts.append(f"<p><i>its graph of {len(nodes)} nodes is not drawn: {html.escape(GRAPHVIZ_HINT)}</i></p>")
    return "<div>" + "\n".join(parts) + "</div>"


def module_rows(module):
    """(name, module, [(parameter name, shape)], count) for each module holding parameters of its own, in order:
    the lines of the model's table.

    >>> from tinygrad_nn.nn import MLP
    >>> [(name, shapes, count) for name, _, shapes, count in module_rows(MLP(12, [3, 2]))]
    [('0', [('weight', (3, 12)), ('bias', (3,))], 39), ('2', [('weight', (2, 3)), ('bias', (2,))], 8)]
    """
    modules = dict(module.named_modules())
    own = {}
    for name, p in module.named_parameters():
        owner = name
        while owner and owner not in modules:  # the deepest module the name lies in ("" is the model)
            owner = owner.rpartition(".")[0]
        own.setdefault(owner, []).append((name[len(owner) + 1:] if owner else name, p))
    return [(owner or "(the model)", modules[owner], [(leaf, p.shape) for leaf, p in params],
             sum(p.size for _, p in params)) for owner, params in own.items()]


def module_html(module) -> str:
    """A model as an HTML table: one row per module holding parameters (its name, what it is, the shapes of
    its parameters, how many numbers they hold), then the total.

    >>> from tinygrad_nn.nn import Layer
    >>> "<td>weight (2, 4), bias (2,)</td><td>10</td>" in module_html(Layer(4, 2))
    True
    """
    rows = module_rows(module)
    total = sum(r[3] for r in rows)
    cell = lambda text: f"<td>{html.escape(str(text))}</td>"
    body = "".join(
        "<tr>" + cell(name) + f"<td><code>{html.escape(_short(m))}</code></td>"
        + cell(", ".join(f"{leaf} {tuple(shape)}" for leaf, shape in shapes)) + cell(f"{count:,}") + "</tr>"
        for name, m, shapes, count in rows)
    return (f'<div><pre style="margin:0 0 0.4em">{html.escape(repr(module))}</pre>'
            '<table><thead><tr><th>name</th><th>module</th><th>parameters</th><th>count</th></tr></thead>'
            f"<tbody>{body}<tr>{cell('total')}<td></td><td></td>{cell(f'{total:,}')}</tr></tbody></table></div>")


def _short(m) -> str:
    text = repr(m)
    return text if "\n" not in text else f"{type(m).__name__}(...)"
