"""`draw_network`: a fully connected network drawn as the book draws one (matplotlib, optional extra `plot`).

Units are circles in columns, one column per layer, inputs on the left; each connection is a line whose width is
its weight's size and whose colour its sign (red positive, blue negative), so what a unit is fond of shows at a
glance. A unit's bias is printed beside it.
"""

from __future__ import annotations

import numpy as np

from .figures import pyplot, save_figure

POSITIVE, NEGATIVE = "#c82828", "#285ac8"


def dense_layers(module):
    """The weight matrices (nout, nin) and biases of `module`'s fully connected layers, in order: every
    submodule with a 2-D `weight` (a `Layer`, as `MLP` holds them), each feeding the next.

    >>> from tinygrad_nn.nn import MLP
    >>> weights, biases = dense_layers(MLP(12, [3, 2]))
    >>> [w.shape for w in weights], [b.shape for b in biases]
    ([(3, 12), (2, 3)], [(3,), (2,)])
    """
    from ..nn import Layer

    layers = [m for m in module.modules() if isinstance(m, Layer)]
    if not layers:
        raise ValueError(f"draw_network: found no fully connected layer (Layer, as in MLP) in {module!r}; "
                         f"it draws networks such as MLP(12, [3, 2])")
    weights = [np.asarray(m.weight.data, dtype=np.float64) for m in layers]
    biases = [np.asarray(m.bias.data, dtype=np.float64) if m.bias is not None else None for m in layers]
    for i in range(1, len(weights)):
        if weights[i].shape[1] != weights[i - 1].shape[0]:
            raise ValueError(f"draw_network: layer {i} takes {weights[i].shape[1]} inputs but layer {i - 1} gives "
                             f"{weights[i - 1].shape[0]}; it draws layers that feed one another, as in an MLP")
    return weights, biases


def draw_network(module, path=None, title=None, max_width=6.0, input_labels=None):
    """Draw the fully connected layers of `module` (an `MLP`, or any module holding `Layer`s that feed one
    another): units as circles by layer, each connection's width and colour its weight's size and sign.

    With `path`, the figure is written there (PNG, or the format of the extension) and the path returned;
    without, the matplotlib Figure is returned. Needs matplotlib.

    >>> from tinygrad_nn.nn import MLP
    >>> fig = draw_network(MLP(12, [3, 2], seed=0)) if pyplot(quiet=True) else None
    >>> fig is None or len(fig.axes[0].lines) == 12 * 3 + 3 * 2
    True
    """
    weights, biases = dense_layers(module)
    plt = pyplot()
    if plt is None:
        raise RuntimeError("draw_network: needs matplotlib: pip install \"tinygrad_nn[plot]\"")
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    tallest = max(sizes)
    fig, ax = plt.subplots(figsize=(2.0 * len(sizes) + 1.5, max(3.0, 0.42 * tallest + 1.2)))

    def ys(n):  # a layer's units spread over the height of the tallest, top to bottom, as in the book's figures
        return [(tallest - 1) - (i + 0.5) * tallest / n + 0.5 for i in range(n)]

    xs = [3.5 * i for i in range(len(sizes))]
    scale = max((float(np.nanmax(np.abs(w))) for w in weights if w.size), default=1.0) or 1.0
    for layer, w in enumerate(weights):
        y_in, y_out = ys(w.shape[1]), ys(w.shape[0])
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                v = w[j, i]
                size = abs(v) / scale if np.isfinite(v) else 1.0
                ax.plot([xs[layer], xs[layer + 1]], [y_in[i], y_out[j]], solid_capstyle="round", zorder=1,
                        color=POSITIVE if v >= 0 else NEGATIVE, alpha=0.35 + 0.6 * min(size, 1.0),
                        linewidth=0.3 + max_width * size)
    radius = 0.28
    for layer, n in enumerate(sizes):
        for i, y in enumerate(ys(n)):
            ax.add_patch(plt.Circle((xs[layer], y), radius, facecolor="white" if layer == 0 else "#f2f2f2",
                                    edgecolor="black", linewidth=1.2, zorder=2))
            if layer == 0:
                label = input_labels[i] if input_labels is not None else f"x{i + 1}"
                ax.text(xs[0] - radius - 0.12, y, label, ha="right", va="center", fontsize=8)
            elif biases[layer - 1] is not None:
                ax.text(xs[layer] + radius + 0.1, y - radius - 0.05, f"b {biases[layer - 1][i]:+.2f}", fontsize=7,
                        ha="left", va="top", color="#444")
    names = ["input"] + [f"hidden {k}" if len(sizes) > 3 else "hidden" for k in range(1, len(sizes) - 1)] + ["output"]
    for x, name, n in zip(xs, names, sizes):
        ax.text(x, tallest - 0.3, f"{name}\n({n})", ha="center", va="bottom", fontsize=9)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color=POSITIVE, linewidth=3, label="positive weight"),
                       Line2D([], [], color=NEGATIVE, linewidth=3, label="negative weight")],
              loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False, fontsize=8,
              title=f"line width: |weight| (largest {scale:.3g})", title_fontsize=8)
    ax.set_xlim(xs[0] - 1.0, xs[-1] + 1.0)
    ax.set_ylim(-1.0, tallest + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or repr(module), fontsize=10)
    if path is None:
        return fig
    return save_figure(fig, path)
