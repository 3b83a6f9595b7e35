"""`tinygrad-nn read MODEL PIXELS`: a 4x3 image read by a network that `tinygrad-nn book --save` wrote.

PIXELS is the image row by row as twelve 0/1 digits, run together (010101101110) or in the spaced form the
program prints ('010 101 101 110').
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from .. import Value, load
from ..data import parse_image, render_image
from ..nn import MLP
from .options import pixels_arg

TEST_IMAGE_ROWS = "010 101 101 110"  # the book's test image: a 0 drawn with a gap


def add_parser(subparsers):
    read = subparsers.add_parser(
        "read",
        help="read a 4x3 image with a network saved by book --save",
        description="Read a 4x3 image, given as twelve 0/1 digits row by row, with a network saved by "
                    "tinygrad-nn book --save FILE: print the image, both output units and the verdict.",
    )
    read.add_argument("model", metavar="MODEL", help="the file written by tinygrad-nn book --save")
    read.add_argument("image", metavar="PIXELS", nargs="+",
                      help="the image row by row as twelve 0/1 digits, e.g. 010101101110 or 010 101 101 110 "
                           "(the book's 0 with a gap), spaced as the program prints it or not")
    return read


def run(parser, args) -> int:
    # Checked before the file: a mistyped image is the cheaper mistake to report. The spaced form may come
    # as one argument ('010 101 101 110') or, unquoted, as four.
    try:
        pixels = pixels_arg(" ".join(args.image))
    except argparse.ArgumentTypeError as e:
        parser.error(f"argument PIXELS: {e}")
    net = _book_network(parser, args.model)
    rows = " ".join(pixels[i:i + 3] for i in range(0, 12, 3))
    print(f"The image {rows!r} read by the network in {args.model} ({net!r}):")
    read_image(net, rows)
    return 0


def read_image(net, rows):
    """Draw the 4x3 image `rows`, run the network on it, print both output units and the verdict."""
    image = parse_image(rows)
    a = net(Value(image.reshape(12), requires_grad=False)).data
    print(indent(render_image(image)))
    print(f"  output units: a1 (\"0\") = {a[0]:.4f}, a2 (\"1\") = {a[1]:.4f}  ->  it reads a {int(np.argmax(a))}")


def indent(text, pad="    "):
    return "\n".join(pad + line for line in text.splitlines())


def _book_network(parser, path):
    """The network saved in `path` by `book --save`, or a usage error that says what is wrong with the file."""
    try:
        state = load(path)
    except (OSError, ValueError) as e:
        parser.error(f"MODEL {path}: {e}")
    layers = sorted((int(m.group(1)), v) for k, v in (state.items() if isinstance(state, dict) else ())
                    if (m := re.fullmatch(r"(\d+)\.weight", k)) and getattr(v, "ndim", 0) == 2)
    if not layers or layers[0][1].shape[1] != 12 or layers[-1][1].shape[0] != 2:
        parser.error(f"MODEL {path}: holds no network of 12 inputs and 2 outputs (the book's, as "
                     f"tinygrad-nn book --save writes it)")
    net = MLP(12, [w.shape[0] for _, w in layers], activation="sigmoid")
    try:
        net.load_state_dict(state)
    except (TypeError, ValueError) as e:
        parser.error(f"MODEL {path}: {e}")
    return net
