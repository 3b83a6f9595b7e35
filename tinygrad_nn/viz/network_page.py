"""`network.html`: one self-contained page (no network access, plain HTML, CSS and a little JavaScript) where a
reader clicks an image's pixels on and off and watches the book's network answer.

The page embeds the weights as JSON and computes the forward pass itself, in double precision as numpy does,
so its numbers are the Python model's. It shows the weights along the training run (a slider over snapshots,
with C_T) and, for the 12-3-2 network, the book's hand-set demons to compare with.

Testing contract (for this project's browser tests and any outside one): each input pixel is an element with
`data-pixel="i"` (row by row) that toggles on click and shows its state as `aria-pressed="true"`/`"false"`;
hidden unit j's activation is the text of the element with `data-hidden="j"`, output k's of
`data-output="k"`, printed with at least six significant digits.

>>> from tinygrad_nn.nn import MLP
>>> net = MLP(12, [3, 2], seed=0)
>>> page = render_page(mlp_page(net))
>>> page.startswith("<!DOCTYPE html>") and 'data-page="mlp"' in page
True
"""

from __future__ import annotations

import html
import json
import math
import re
from importlib.resources import files

import numpy as np

from .figures import save_text

BOOK_CREDIT = ("《深度学习的数学》 (The Mathematics of Deep Learning) by 涌井良幸 and 涌井贞美 "
               "(Yoshiyuki and Sadami Wakui)")


class TrainingSnapshots:
    """Copies of a model's parameters along a training run of `steps` steps: the frames of the page's slider.
    One is taken when this is made (the untrained weights), then, called as a hook after each step i
    (`snapshots(i)`, or `snapshots(i, cost, outputs)`), about `count` more and the last: with spacing="log"
    closer together early on, where learning moves fastest, with spacing="even" every `steps // count` steps.
    `steps[k]` is the number of updates behind `states[k]`.

    >>> from tinygrad_nn.nn import Layer
    >>> layer = Layer(2, 1, seed=0)
    >>> snaps = TrainingSnapshots(layer, steps=1000, count=20)
    >>> for i in range(1, 1001):
    ...     snaps(i)
    >>> snaps.steps[:5], snaps.steps[-1], len(snaps.steps) <= 21, sorted(snaps.states[0])
    ([0, 1, 2, 3, 5], 1000, True, ['bias', 'weight'])
    """

    def __init__(self, model, steps: int, count: int = 60, spacing: str = "log"):
        if steps < 0 or count < 1:
            raise ValueError(f"TrainingSnapshots: need steps >= 0 and count >= 1, got {steps}, {count}")
        if spacing == "log":
            chosen = (np.geomspace(1, steps + 1, count).round().astype(int) - 1).tolist()
        elif spacing == "even":
            chosen = range(0, steps + 1, max(1, steps // count))
        else:
            raise ValueError(f"TrainingSnapshots: spacing must be 'log' or 'even', got {spacing!r}")
        self.model = model
        self._wanted = {int(steps), *chosen}
        self.steps, self.states = [], []
        self._keep(0)

    def _keep(self, i):
        self.steps.append(int(i))
        self.states.append(self.model.state_dict())  # copies

    def __call__(self, i, cost=None, outputs=None):
        if i in self._wanted and i > self.steps[-1]:
            self._keep(i)


def _floats(a):
    """An array as nested lists of floats for JSON: each float as Python's repr writes it, which reads back
    as the same double in JavaScript; a NaN or infinity (a run that blew up) as null, which the page reads
    as NaN."""
    a = np.asarray(a, dtype=np.float64)
    out = a.astype(object)  # Python floats, each exactly the double it was
    out[~np.isfinite(a)] = None
    return out.tolist()


def _frames(snapshots, costs, state, final_cost):
    """The slider's frames (step, C_T, state): the snapshots taken before the last step, each with the cost
    of its weights (`costs[i]` is C_T of the weights after i steps, as a training loop records it), then
    `state`, the weights the page opens on, after all `len(costs)` steps."""
    steps = len(costs) if costs is not None else 0
    frames = [(s, costs[s], st) for s, st in zip(snapshots.steps, snapshots.states) if s < steps] \
        if snapshots is not None and costs is not None else []
    frames.append((steps, final_cost, state))
    return frames


def _cost_curve(costs, final_cost, points=2000):
    """[step, C_T] after 0, 1, ... steps (the last pair the final weights'), thinned to about `points` pairs
    evenly spread over the run, in 7 significant digits: the curve is drawn, not computed with."""
    if costs is None:
        return None
    values = [*costs, final_cost]
    keep = np.unique(np.linspace(0, len(values) - 1, min(points, len(values))).round().astype(int))
    return [[int(i), float(f"{values[i]:.7g}") if math.isfinite(values[i]) else None] for i in keep]


def _image(image, rows, cols):
    """The starting image as rows * cols pixels, each 0 or 1, or a ValueError saying what is wrong."""
    pixels = np.asarray(image, dtype=np.float64).reshape(-1)
    if pixels.size != rows * cols or not np.isin(pixels, (0.0, 1.0)).all():
        raise ValueError(f"network page: the starting image must be {rows}x{cols} pixels, each 0 or 1, got "
                         f"{pixels.size} values {np.unique(pixels)[:6].tolist()}")
    return pixels


def _sigmoid_layers(net):
    """The weights and biases of an MLP of sigmoid layers (the book's), or a ValueError saying what differs."""
    layers = getattr(net, "layers", None)
    ok = isinstance(layers, list) and layers and all(
        getattr(layer, "_activation_name", None) == "sigmoid" and getattr(layer, "weight", None) is not None
        for layer in layers)
    if not ok:
        raise ValueError(f"network page: draws an MLP of sigmoid layers (the book's, e.g. MLP(12, [3, 2])), "
                         f"got {net!r}")
    if len(layers) != 2:
        raise ValueError(f"network page: draws a network with one hidden layer (inputs, demons, outputs), got "
                         f"{len(layers)} layers in {net!r}")
    return layers


def mlp_page(net, snapshots: TrainingSnapshots | None = None, costs=None, final_cost=None, handset=None,
             image=None, shape=(4, 3), classes=("0", "1"), title="The book's 12-3-2 network, live"):
    """The data of the page of an MLP with one hidden layer of sigmoid units (the book's 12-3-2 network).

    `net` holds the weights the page opens on (the trained ones); `snapshots` the weights along the run
    (`TrainingSnapshots`, or anything with lists `.steps` and `.states` of state_dicts) and
    `costs` C_T after 0, 1, ... steps (as the training loop records them), `final_cost` C_T of `net`;
    `handset` a state_dict to compare with (the book's hand-set demons); `image` the input the page starts
    from (the book's test image by default), `shape` its rows and columns, `classes` the outputs' names.

    >>> from tinygrad_nn.data.demons import hand_set_demons
    >>> from tinygrad_nn.nn import MLP
    >>> data = mlp_page(MLP(12, [3, 2], seed=0), handset=hand_set_demons())
    >>> data["kind"], data["image"], len(data["frames"]), data["handset"]["layers"][0]["bias"]
    ('mlp', [0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0], 1, [-15.0, -15.0, -15.0])
    """
    from ..data import TEST_IMAGE_GAP_ZERO

    layers = _sigmoid_layers(net)
    rows, cols = shape
    nin, nout = layers[0].weight.shape[1], layers[-1].weight.shape[0]
    if nin != rows * cols or nout != len(classes):
        raise ValueError(f"network page: {net!r} takes {nin} inputs and gives {nout} outputs; the page draws "
                         f"{rows}x{cols} = {rows * cols} pixels and {len(classes)} outputs {list(classes)}")
    image = _image(TEST_IMAGE_GAP_ZERO if image is None else image, rows, cols)
    prefix = {id(m): name for name, m in net.named_children()}
    names = [f"{prefix[id(layer)]}.weight" for layer in layers]  # "0.weight", "2.weight" in an MLP

    def frame(step, cost, st):
        return {"step": step, "cost": None if cost is None or not math.isfinite(cost) else cost,
                "layers": [{"weight": _floats(st[w]), "bias": _floats(st[w[:-6] + "bias"])} for w in names]}

    data = {
        "kind": "mlp", "title": title, "credit": BOOK_CREDIT, "rows": rows, "cols": cols,
        "image": image.astype(int).tolist(), "classes": list(classes),
        "frames": [frame(*f) for f in _frames(snapshots, costs, net.state_dict(), final_cost)],
        "costs": _cost_curve(costs, final_cost),
        "handset": None,
    }
    if handset is not None:
        data["handset"] = frame(None, None, handset)
    return data


def _cnn_parts(net):
    """The book's chapter 5 network as `book_cnn` builds it: Conv2d(1, C, k) + sigmoid, max pooling, flatten,
    one sigmoid layer. Returns (conv, pool, layer) or raises a ValueError saying what differs."""
    from ..nn import Conv2d, Flatten, Layer, MaxPool2d, Sigmoid

    parts = list(getattr(net, "layers", ()))
    kinds = [Conv2d, Sigmoid, MaxPool2d, Flatten, Layer]
    if len(parts) != 5 or not all(isinstance(m, k) for m, k in zip(parts, kinds)) or \
            parts[0].in_channels != 1 or parts[0].stride != (1, 1) or parts[0].padding != (0, 0) or \
            parts[2].stride != parts[2].kernel_size or parts[4]._activation_name != "sigmoid":
        raise ValueError(f"network page: draws the book's chapter 5 network, Sequential(Conv2d(1, C, k), Sigmoid(), "
                         f"MaxPool2d(p), Flatten(), Layer(n, m, activation='sigmoid')), got {net!r}")
    return parts[0], parts[2], parts[4]


def cnn_page(net, snapshots: TrainingSnapshots | None = None, costs=None, final_cost=None, image=None,
             shape=(6, 6), classes=("1", "2", "3"), title="The book's chapter 5 convolutional network, live"):
    """The data of the page of the book's chapter 5 network (`tinygrad_nn.cli.cnn.book_cnn` builds it):
    an image, the filters and their feature maps after the sigmoid and after pooling, and the outputs.
    Arguments as for `mlp_page`; `image` is the 6x6 input the page starts from (every pixel off by default).

    >>> from tinygrad_nn.nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, Sigmoid
    >>> net = Sequential(Conv2d(1, 3, 3, seed=0), Sigmoid(), MaxPool2d(2), Flatten(), Layer(12, 3, seed=1))
    >>> data = cnn_page(net)
    >>> data["kind"], len(data["image"]), len(data["frames"][0]["filters"]), data["classes"]
    ('cnn', 36, 3, ['1', '2', '3'])
    """
    conv, pool, layer = _cnn_parts(net)
    rows, cols = shape
    kh, kw = conv.kernel_size
    p = pool.kernel_size[0]
    mh, mw = rows - kh + 1, cols - kw + 1
    if pool.kernel_size != (p, p) or mh % p or mw % p or layer.weight.shape != (len(classes), conv.out_channels
                                                                                * (mh // p) * (mw // p)):
        raise ValueError(f"network page: {net!r} does not fit a {rows}x{cols} image and {len(classes)} outputs")
    image = _image(np.zeros(rows * cols) if image is None else image, rows, cols)
    names = {id(m): name for name, m in net.named_children()}
    cw, fw = f"{names[id(conv)]}.weight", f"{names[id(layer)]}.weight"

    def frame(step, cost, st):
        return {"step": step, "cost": None if cost is None or not math.isfinite(cost) else cost,
                "filters": _floats(st[cw][:, 0]), "filter_bias": _floats(st[cw[:-6] + "bias"]),
                "weight": _floats(st[fw]), "bias": _floats(st[fw[:-6] + "bias"])}

    return {
        "kind": "cnn", "title": title, "credit": BOOK_CREDIT, "rows": rows, "cols": cols, "pool": p,
        "image": image.astype(int).tolist(), "classes": list(classes),
        "frames": [frame(*f) for f in _frames(snapshots, costs, net.state_dict(), final_cost)],
        "costs": _cost_curve(costs, final_cost),
        "handset": None,
    }


def _asset(name) -> str:
    return files("tinygrad_nn.viz").joinpath(name).read_text(encoding="utf-8")


def render_page(data) -> str:
    """The page as one HTML string: the template with its script and the data inlined (nothing to fetch).

    >>> from tinygrad_nn.nn import MLP
    >>> page = render_page(mlp_page(MLP(12, [3, 2], seed=0)))
    >>> page.count("<script"), "src=" in page
    (2, False)
    """
    # In a <script> element only "</" could end it early; "<\/" reads the same in JSON and JavaScript.
    payload = json.dumps(data, allow_nan=False, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    fill = {"__SCRIPT__": _asset("network_page.js"), "__DATA__": payload, "__KIND__": data["kind"],
            "__TITLE__": html.escape(str(data["title"]))}
    # One pass, so that nothing filled in is read again as a placeholder.
    return re.sub(r"/\*__SCRIPT__\*/|__DATA__|__KIND__|__TITLE__", lambda m: fill[m.group(0).strip("/*")],
                  _asset("network_page.html"))


def write_network_page(path, data) -> str:
    """Write the page made from `data` (`mlp_page` or `cnn_page`) to `path`, atomically (and as one of the set
    inside `figure_set()`); returns the path.

    >>> import os, tempfile
    >>> from tinygrad_nn.nn import MLP
    >>> path = write_network_page(os.path.join(tempfile.mkdtemp(), "network.html"), mlp_page(MLP(12, [3, 2])))
    >>> open(path, encoding="utf-8").read(15)
    '<!DOCTYPE html>'
    """
    return save_text(render_page(data), path)
