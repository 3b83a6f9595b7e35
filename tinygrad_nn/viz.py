"""Pictures: the graph as Graphviz DOT text (no dependency), and matplotlib figures (optional extra `plot`).

>>> from tinygrad_nn import Value
>>> x = Value(2.0, name="x")
>>> print(to_dot(x * x + 1).splitlines()[0])
digraph tinygrad_nn {
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from ._files import temp_file_beside, write_target

PLOT_HINT = 'figures need matplotlib: pip install "tinygrad_nn[plot]"'


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


def _numbers(x):
    """A drawing's numbers: Values (in lists too) by their payloads. Drawing loses no gradient, so a parameter may
    be passed as it is, where np.asarray refuses a Value whose gradient is being recorded."""
    if isinstance(x, (list, tuple)):
        return np.asarray([_numbers(e) for e in x])
    return np.asarray(x.data if hasattr(x, "_prev") else x)


def _show(x) -> str:
    """A payload or gradient in a few characters: the number for a scalar, else the shape."""
    if x is None:  # no gradient yet (zero_grad sets tensor gradients to None)
        return "-"
    if hasattr(x, "_prev"):  # a gradient that is a graph itself, after backward(create_graph=True)
        x = x.data
    if isinstance(x, float):
        return f"{x:.4g}"
    if np.ndim(x) == 0:  # a 0-d array: the gradient of a .sum() loss, for instance
        return f"{float(np.asarray(x)):.4g}"
    return f"shape {np.shape(x)}"


def to_dot(root) -> str:
    """The graph that computed `root` in Graphviz DOT: one box per node (name or op, payload, grad).

    Save it and run `dot -Tsvg graph.dot -o graph.svg` to see it."""
    nodes, edges, stack, seen = [], [], [root], {id(root)}
    while stack:
        v = stack.pop()
        nodes.append(v)
        for p in v._prev:
            edges.append((p, v))
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)

    lines = ["digraph tinygrad_nn {", "  rankdir=LR; node [shape=record];"]
    for v in nodes:
        label = _record_text(v.name if v.name not in (None, "") else (v.op or "leaf"))
        lines.append(f'  n{id(v)} [label="{{ {label} | data {_show(v.data)} | grad {_show(v.grad)} }}"];')
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


class _Staged(threading.local):
    batch = None  # inside figure_set(): the list of (temporary file, final path) written so far


_staged = _Staged()


@contextlib.contextmanager
def figure_set():
    """Write several figures as one: inside this block save_figure (and save_file) writes each to a temporary
    file beside its target; when the block ends they are all renamed into place, and if it fails, all are removed. So a
    failure (a plotting error, a full disk, a folder where a figure goes, Ctrl-C) never leaves a mix of new
    and old or missing figures: if a rename fails part-way, the figures it replaced come back.

    >>> import os, tempfile
    >>> plt = pyplot(quiet=True)
    >>> folder = tempfile.mkdtemp()
    >>> with figure_set():
    ...     if plt is not None:
    ...         _ = save_figure(plt.figure(), os.path.join(folder, "a.png"))
    ...     "a.png" in os.listdir(folder)       # not yet: only its temporary file is there
    False
    >>> os.listdir(folder) == (["a.png"] if plt is not None else [])
    True
    """
    if _staged.batch is not None:  # nested: the outer set decides
        yield
        return
    batch = _staged.batch = []
    try:
        yield
    except BaseException:
        for tmp, _ in batch:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        raise
    else:
        _move_into_place(batch)
    finally:
        _staged.batch = None


def _move_into_place(batch):
    """Rename each (temporary file, target) of `batch` over its target, all or none: a target that is a folder
    is refused before anything moves, and if a rename fails part-way the targets already replaced get their
    old files back (each was moved aside first) and the remaining temporary files are removed."""
    for _, path in batch:
        if os.path.isdir(path):
            for t, _ in batch:
                with contextlib.suppress(OSError):
                    os.remove(t)
            raise IsADirectoryError(f"{path} is a folder, where a figure goes; move it away or write elsewhere")
    moved = []  # (target, its old file moved aside, or None when there was none)
    try:
        for tmp, path in batch:
            aside = None
            if os.path.lexists(path):
                aside = temp_file_beside(path, suffix=".old")
                os.replace(path, aside)
            moved.append((path, aside))
            os.replace(tmp, path)
    except BaseException:
        for path, aside in reversed(moved):
            with contextlib.suppress(OSError):
                if aside is not None:
                    os.replace(aside, path)
                elif os.path.lexists(path):
                    os.remove(path)
        for tmp, _ in batch:
            with contextlib.suppress(OSError):
                os.remove(tmp)
        raise
    for _, aside in moved:
        if aside is not None:
            with contextlib.suppress(OSError):
                os.remove(aside)


def save_file(path, write):
    """Write a file atomically through `write(temporary_path)`, which writes the whole content there: the
    temporary file (beside `path`, with the umask's permissions) replaces `path` only once `write` returned,
    or, inside `figure_set()`, when the block ends with the rest of the set. A symbolic link at `path` is
    written through (the file it leads to is replaced). Returns `path`.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "page.html")
    >>> def write(tmp):
    ...     with open(tmp, "w", encoding="utf-8") as f:
    ...         _ = f.write("<p>C_T</p>")
    >>> save_file(path, write) == path, open(path).read()
    (True, '<p>C_T</p>')
    """
    path = os.fspath(path)
    target = write_target(path)
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    tmp = None
    try:
        tmp = temp_file_beside(target)
        write(tmp)
        if _staged.batch is not None:
            _staged.batch.append((tmp, target))
        else:
            os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return path


def save_figure(fig, path, **savefig_options):
    """Write the figure to path atomically (a reader never sees a half-written PNG), then close it.

    The file gets the permissions the umask gives a new file, like any file a program writes; a symbolic
    link at `path` is written through (the file it leads to is replaced). Inside `figure_set()` the rename
    waits for the end of the block. Returns `path`."""
    # The temporary name ends in .tmp, so the format is given, not guessed from it: the path's extension.
    fmt = savefig_options.pop("format", None) or os.path.splitext(os.fspath(path))[1][1:] or "png"
    options = {"dpi": 110, "bbox_inches": "tight", "format": fmt, **savefig_options}
    try:
        return save_file(path, lambda tmp: fig.savefig(tmp, **options))
    finally:
        fig.clear()
        pyplot().close(fig)


def plot_cost_curve(costs, path, title="C_T during training"):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(len(costs)), _numbers(costs), color="tab:blue")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("C_T (log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_weight_maps(weights, path, titles=None, shape=(4, 3)):
    """Each row of `weights` drawn as a `shape` picture (red positive, blue negative)."""
    plt = pyplot()
    weights = _numbers(weights)
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
    filters = _numbers(filters)
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
    image, maps, pooled = _numbers(image), _numbers(maps), _numbers(pooled)
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
