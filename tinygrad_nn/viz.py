"""Pictures: the graph as Graphviz DOT text (no dependency), and matplotlib figures (optional extra `plot`).

>>> from tinygrad_nn import Value
>>> x = Value(2.0, name="x")
>>> print(to_dot(x * x + 1).splitlines()[0])
digraph tinygrad_nn {
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

PLOT_HINT = 'figures need matplotlib: pip install "tinygrad_nn[plot]"'


def to_dot(root) -> str:
    """The graph that computed `root` in Graphviz DOT: one box per node (name or op, payload, grad)."""
    nodes, edges, stack, seen = [], [], [root], {id(root)}
    while stack:
        v = stack.pop()
        nodes.append(v)
        for p in v._prev:
            edges.append((p, v))
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)

    def show(x):
        if x is None:
            return "-"
        if isinstance(x, float):
            return f"{x:.4g}"
        x = getattr(x, "data", x)
        return f"{float(x):.4g}" if np.ndim(x) == 0 else f"shape {np.shape(x)}"

    lines = ["digraph tinygrad_nn {", "  rankdir=LR; node [shape=record];"]
    for v in nodes:
        label = v.name or v.op or "leaf"
        lines.append(f'  n{id(v)} [label="{{ {label} | data {show(v.data)} | grad {show(v.grad)} }}"];')
    lines += [f"  n{id(a)} -> n{id(b)};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pyplot(quiet=False):
    """matplotlib's pyplot on the file-only Agg backend (works with no screen), or None when matplotlib is
    not installed (then, unless quiet, a line saying how to get it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if not quiet:
            print(f"no figure: {PLOT_HINT}")
        return None
    return plt


def save_figure(fig, path, **savefig_options):
    """Write the figure to path atomically (a reader never sees a half-written PNG), then close it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, **{"dpi": 110, "bbox_inches": "tight", **savefig_options})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        fig.clear()
        pyplot().close(fig)
    return path


def plot_cost_curve(costs, path, title="C_T during training"):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(len(costs)), costs, color="tab:blue")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("C_T (log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_weight_maps(weights, path, titles=None, shape=(4, 3)):
    """Each row of `weights` drawn as a `shape` picture (red positive, blue negative)."""
    plt = pyplot()
    weights = np.asarray(weights)
    n = len(weights)
    fig, axes = plt.subplots(1, n, figsize=(1.8 * n, 2.6))
    axes = np.atleast_1d(axes)
    lim = float(np.abs(weights).max()) or 1.0
    for i, (ax, w) in enumerate(zip(axes, weights)):
        im = ax.imshow(w.reshape(shape), cmap="coolwarm", vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[i] if titles else f"unit {i}")
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    return save_figure(fig, path)


def plot_step_vs_sigmoid(path):
    from .ops import sigmoid, step

    plt = pyplot()
    z = np.linspace(-6, 6, 601)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(z, step(z), label="unit step (fires when z >= 0)", drawstyle="steps-post")
    ax.plot(z, sigmoid(z), label="sigmoid 1 / (1 + e^-z)")
    ax.set_xlabel("z = w . x + b")
    ax.set_ylabel("a(z)")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


# -- chapter 5: a convolutional network's filters and feature maps -----------------------------------------


def plot_filters(filters, path, titles=None, title="learned filters"):
    """Each filter of a one-channel convolution, shape (C_out, 1, kh, kw) or (C_out, kh, kw), as a kh x kw
    picture (red positive, blue negative, one colour scale for all)."""
    filters = np.asarray(filters)
    if filters.ndim == 4:
        if filters.shape[1] != 1:
            raise ValueError(f"plot_filters: draws one-channel filters (C_out, 1, kh, kw), got shape {filters.shape}; "
                             f"pass one input channel at a time, e.g. weight[:, c]")
        filters = filters[:, 0]
    if filters.ndim != 3:
        raise ValueError(f"plot_filters: expected filters of shape (C_out, kh, kw), got {filters.shape}")
    titles = titles or [f"filter {i + 1}" for i in range(len(filters))]
    return plot_weight_maps(filters.reshape(len(filters), -1), path, titles=titles, shape=filters.shape[1:])


def plot_feature_maps(image, maps, pooled, path, title=None, labels=("after conv + sigmoid", "after max pooling")):
    """One input image beside its feature maps (C, h, w) before pooling (top row) and after (bottom row).
    Activations in [0, 1] are drawn on one grey scale, 0 white and 1 black, like the book's ink."""
    plt = pyplot()
    image, maps, pooled = np.asarray(image), np.asarray(maps), np.asarray(pooled)
    n = len(maps)
    fig, axes = plt.subplots(2, n + 1, figsize=(1.9 * (n + 1), 4.0))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0)
    axes[0, 0].set_title(f"input {image.shape[0]}x{image.shape[1]}")
    axes[1, 0].axis("off")
    for c in range(n):
        axes[0, c + 1].imshow(maps[c], cmap="gray_r", vmin=0.0, vmax=1.0)
        axes[0, c + 1].set_title(f"map {c + 1} ({maps.shape[1]}x{maps.shape[2]})")
        axes[1, c + 1].imshow(pooled[c], cmap="gray_r", vmin=0.0, vmax=1.0)
        axes[1, c + 1].set_title(f"pooled {c + 1} ({pooled.shape[1]}x{pooled.shape[2]})")
    axes[0, 1].set_ylabel(labels[0], fontsize=8)
    axes[1, 1].set_ylabel(labels[1], fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
