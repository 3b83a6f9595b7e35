"""The book's own data sets, plus helpers to type in and draw small 0/1 images.

The CSV and JSON files next to this module are read with :mod:`importlib.resources`, so they load the
same way from a source checkout and from an installed wheel.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from importlib.resources import files
from typing import NamedTuple

import numpy as np

__all__ = [
    "BookImages",
    "Regression",
    "TEST_IMAGE_GAP_ZERO",
    "load_backprop_params",
    "load_digits_4x3",
    "load_digits_6x6",
    "load_regression",
    "parse_image",
    "render_image",
]


class BookImages(NamedTuple):
    """Training images of the book with their labels (every field is a fresh numpy array).

    ``images`` has shape (n, rows, cols) with 1 = ink; ``inputs`` holds the same pixels flattened row-major
    to (n, rows * cols) (a separate copy, so editing one leaves the other alone); ``targets`` is the
    book's one-hot teacher signal; ``digits`` the digit each image shows; ``ids`` the book's image numbers.

    >>> data = load_digits_4x3()
    >>> data.images.shape, data.inputs.shape, data.targets.shape
    ((64, 4, 3), (64, 12), (64, 2))
    >>> data.digits[0], data.targets[0], data.ids[0]
    (np.int64(0), array([1., 0.]), np.int64(1))
    """

    images: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray
    digits: np.ndarray
    ids: np.ndarray


class Regression(NamedTuple):
    """Section 2-12's (height, weight) pairs as two aligned float64 arrays.

    >>> heights, weights = load_regression()
    >>> len(heights), heights[0], weights[0]
    (7, np.float64(153.3), np.float64(45.5))
    """

    heights: np.ndarray
    weights: np.ndarray


def _read_csv(name: str) -> dict[str, np.ndarray]:
    """Return the columns of a packaged CSV file, keyed by header name, as float64 arrays."""
    text = files("tinygrad_nn.data").joinpath(name).read_text(encoding="utf-8")
    header, *rows = csv.reader(io.StringIO(text))
    table = np.array([[float(v) for v in row] for row in rows if row], dtype=np.float64)
    return {column: table[:, j] for j, column in enumerate(header)}


def _load_images(name: str, shape: tuple[int, int], n_classes: int) -> BookImages:
    cols = _read_csv(name)
    n_pixels = shape[0] * shape[1]
    inputs = np.column_stack([cols[f"p{i}"] for i in range(1, n_pixels + 1)])
    targets = np.column_stack([cols[f"t{k}"] for k in range(1, n_classes + 1)])
    return BookImages(
        images=inputs.reshape(-1, *shape).copy(),
        inputs=inputs,
        targets=targets,
        digits=cols["digit"].astype(np.int64),
        ids=cols["id"].astype(np.int64),
    )


def load_digits_4x3() -> BookImages:
    """Load Appendix A's 64 images of a handwritten 0 or 1 (4 rows x 3 columns).

    Images 1-32 are zeros and 33-64 ones. ``targets[:, 0]`` is 1 for a 0 and ``targets[:, 1]`` is 1 for
    a 1. The book's duplicates are kept as printed (image 33 equals 35, and 34 equals 49).

    >>> data = load_digits_4x3()
    >>> data.images.shape, data.inputs.shape, data.targets.shape
    ((64, 4, 3), (64, 12), (64, 2))
    >>> print(render_image(data.images[0]))
    ███
    █·█
    █·█
    ███
    >>> int(data.digits[0]), data.targets[0].tolist(), int(data.ids[-1])
    (0, [1.0, 0.0], 64)
    """
    return _load_images("images_4x3.csv", (4, 3), n_classes=2)


def load_digits_6x6() -> BookImages:
    """Load Appendix B's 96 images of the digits 1, 2 and 3 (6 x 6) used by chapter 5's CNN.

    Images 1-32 are ones, 33-64 twos and 65-96 threes; ``targets`` columns stand for the digits 1, 2, 3.

    >>> data = load_digits_6x6()
    >>> data.images.shape, data.inputs.shape, data.targets.shape
    ((96, 6, 6), (96, 36), (96, 3))
    >>> sorted(set(data.digits.tolist()))
    [1, 2, 3]
    >>> bool((data.targets.argmax(axis=1) + 1 == data.digits).all())
    True
    """
    return _load_images("images_6x6_cnn.csv", (6, 6), n_classes=3)


def load_backprop_params() -> dict:
    """Load the starting parameters of section 4-4's back-propagation run on the 12-3-2 network.

    Returns a dict with float64 arrays ``W_hidden`` (3, 12), ``b_hidden`` (3,), ``W_out`` (2, 3),
    ``b_out`` (2,) and the learning rate ``eta`` (a float, 0.2). ``W_hidden[j, i]`` is the weight from
    pixel i+1 to hidden unit j, so a hidden layer computes ``W_hidden @ x + b_hidden``. Each call
    returns new arrays, so training them in place does not change what the next call returns.

    >>> params = load_backprop_params()
    >>> {name: value.shape for name, value in params.items() if name != "eta"}
    {'W_hidden': (3, 12), 'b_hidden': (3,), 'W_out': (2, 3), 'b_out': (2,)}
    >>> params["eta"]
    0.2
    """
    text = files("tinygrad_nn.data").joinpath("backprop_4-4_initial_params.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    params: dict = {
        name: np.array(raw[name], dtype=np.float64) for name in ("W_hidden", "b_hidden", "W_out", "b_out")
    }
    params["eta"] = float(raw["eta"])
    return params


def load_regression() -> Regression:
    """Load section 2-12's seven (height cm, weight kg) pairs for least-squares regression.

    >>> heights, weights = load_regression()
    >>> heights.shape, float(heights[0]), float(weights[0])
    ((7,), 153.3, 45.5)
    """
    cols = _read_csv("regression_2-12.csv")
    return Regression(heights=cols["height_x"], weights=cols["weight_y"])


def parse_image(rows: str | Iterable[str]) -> np.ndarray:
    """Turn rows of '0'/'1' characters into a float64 image of shape (n_rows, n_cols).

    ``rows`` is either one string whose rows are separated by whitespace (spaces or newlines), or a list
    of row strings. Raises ValueError naming the offending row if a row holds anything but 0 and 1, or if
    the rows differ in width.

    >>> parse_image("010 101 101 110").shape
    (4, 3)
    >>> parse_image(["01", "10"]).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    >>> parse_image("01 1")
    Traceback (most recent call last):
    ...
    ValueError: row 2 ('1') has 1 pixel(s) but row 1 has 2; every row must have the same width
    """
    if isinstance(rows, str):
        row_list = rows.split()
    else:
        row_list = [r.strip() if isinstance(r, str) else r for r in rows]
    if not row_list:
        raise ValueError("no rows given; expected e.g. '010 101 101 110' or ['010', '101', '101', '110']")
    for number, row in enumerate(row_list, start=1):
        if not isinstance(row, str):
            raise ValueError(f"row {number} is {type(row).__name__} {row!r}; expected a string of 0s and 1s")
        if not row:
            raise ValueError(f"row {number} is empty; expected a string of 0s and 1s such as '010'")
        for column, char in enumerate(row, start=1):
            if char not in "01":
                raise ValueError(
                    f"row {number} ({row!r}) has {char!r} at column {column}; only '0' and '1' are allowed"
                )
        if len(row) != len(row_list[0]):
            raise ValueError(
                f"row {number} ({row!r}) has {len(row)} pixel(s) but row 1 has {len(row_list[0])}; "
                "every row must have the same width"
            )
    return np.array([[float(c) for c in row] for row in row_list], dtype=np.float64)


TEST_IMAGE_GAP_ZERO = parse_image("010 101 101 110")
"""The book's test image: a 0 drawn with a gap in its lower right, float64 of shape (4, 3), read-only.

>>> from tinygrad_nn.data import TEST_IMAGE_GAP_ZERO, render_image
>>> print(render_image(TEST_IMAGE_GAP_ZERO))
·█·
█·█
█·█
██·
"""
# A shared module constant: read-only so that one caller cannot silently change it for every other.
TEST_IMAGE_GAP_ZERO.flags.writeable = False

_SHADES_BETWEEN = "░▒▓"


def render_image(image, on: str = "█", off: str = "·") -> str:
    """Draw a 2-D image as text, one character per pixel and one line per row (no trailing newline).

    A 0/1 image uses ``off`` for 0 and ``on`` for 1. Any other values are drawn in five shades,
    ``off``, '░', '▒', '▓', ``on``, from light to dark:

    - values inside [0, 1] (grey pixels, sigmoid activations) are drawn by their own value, so 0.5 is
      always mid-grey whatever else is in the image;
    - if any value lies outside [0, 1] (weights, filters, raw sums) the image is min-max scaled first, so
      the most negative value is drawn ``off`` and the most positive ``on``; a constant image of this
      kind has no contrast to show and is drawn all mid-shade '▒'.

    >>> print(render_image(TEST_IMAGE_GAP_ZERO))
    ·█·
    █·█
    █·█
    ██·
    >>> print(render_image([[0.0, 0.25, 0.5, 0.75, 1.0]]))
    ·░▒▓█
    >>> print(render_image([[-2.0, 0.0, 2.0]], on="#", off="."))
    .▒#
    """
    values = np.asarray(image, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"render_image expects a 2-D image (rows, cols), got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("render_image cannot draw NaN or infinite pixels")
    if values.size and (values.min() < 0.0 or values.max() > 1.0):
        span = values.max() - values.min()
        values = (values - values.min()) / span if span > 0 else np.full_like(values, 0.5)
    shades = [off, *_SHADES_BETWEEN, on]
    levels = np.rint(values * (len(shades) - 1)).astype(int)
    return "\n".join("".join(shades[level] for level in row) for row in levels)


def render_side_by_side(pictures, titles, gap: str = "   ") -> str:
    """Several images drawn by `render_image` next to each other, each under its title (indented two spaces).

    >>> print(render_side_by_side([[[1, 0], [0, 1]], [[0, 1], [1, 0]]], ["a", "b"]))
      a    b
      █·   ·█
      ·█   █·
    """
    blocks = [render_image(p).splitlines() for p in pictures]
    widths = [max(len(t), len(b[0])) for t, b in zip(titles, blocks)]
    lines = [gap.join(t.ljust(w) for t, w in zip(titles, widths))]
    for row in range(max(len(b) for b in blocks)):
        lines.append(gap.join((b[row] if row < len(b) else "").ljust(w) for b, w in zip(blocks, widths)))
    return "\n".join("  " + line.rstrip() for line in lines)
