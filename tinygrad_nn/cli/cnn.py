"""`tinygrad-nn cnn`: the book's chapter 5 convolutional network, trained on its 96 6x6 images of 1, 2, 3.

The network: 3 filters of 3x3 slide over the 6x6 image (cross-correlation, one bias each), a sigmoid on each
of the 3 feature maps (4x4), 2x2 max pooling (3 maps of 2x2), and 3 sigmoid output units fully connected to
those 12 values. It learns by full-batch gradient descent on C_T, the squared error summed over the 96
images; then it reads a 1 drawn with serifs and shows its filters and that image's feature maps.
"""

from __future__ import annotations

import numpy as np

from .. import no_grad, sigmoid, viz
from ..data import load_digits_6x6, parse_image, render_side_by_side
from ..nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, Sigmoid, squared_error
from .figures import figures_wanted, write_figures
from .options import add_training_options, check_onnx_file, check_out_dir
from .train_loop import report, train_command

SERIF_ONE_ROWS = "001110 000100 000100 000100 000100 001110"
FIGURES = ("cost_curve.png", "filters.png", "feature_maps.png")


def add_parser(subparsers):
    """The `cnn` subcommand, with the options of `book`."""
    cnn = subparsers.add_parser(
        "cnn",
        help="train the book's chapter 5 convolutional network on its 96 images of 1, 2 and 3",
        description="Train the book's chapter 5 network (3 filters of 3x3 + sigmoid, 2x2 max pooling, 3 sigmoid "
                    "output units) on its 96 6x6 images of 1, 2 and 3 by full-batch gradient descent on C_T = sum "
                    "over images of 1/2 sum_k (t_k - a_k)^2, then classify a 1 drawn with serifs and show the "
                    "filters and its feature maps.",
    )
    add_training_options(cnn, default_steps=500)
    return cnn


def book_cnn(seed=0, dtype=np.float64):
    """The chapter 5 network; returns (net, conv, pool) so that the feature maps can be looked at."""
    rng = np.random.default_rng(seed)  # one generator: the whole network follows from the seed
    conv, pool = Conv2d(1, 3, 3, seed=rng, dtype=dtype), MaxPool2d(2)
    net = Sequential(conv, Sigmoid(), pool, Flatten(), Layer(12, 3, activation="sigmoid", seed=rng, dtype=dtype))
    return net, conv, pool


class _FirstAllRight:
    """A training hook: the number of steps after which every image was first read right."""

    def __init__(self, digits):
        self.digits, self.at = digits, None

    def __call__(self, i, cost, outputs):
        if self.at is None and (outputs.data.argmax(axis=1) + 1 == self.digits).all():
            self.at = i - 1  # the forward pass of step i ran with the weights after step i - 1


def run(parser, args) -> int:
    check_out_dir(parser, args.out, FIGURES)
    check_onnx_file(parser, args.onnx)
    data = load_digits_6x6()
    images = data.images.reshape(-1, 1, 6, 6)  # (96, 1, 6, 6): one channel
    net, conv, pool = book_cnn(args.seed)
    first_all_right = _FirstAllRight(data.digits)
    run_ = train_command(args, net, images, data.targets, title="The book's chapter 5 network",
                         hooks=[first_all_right])

    with no_grad():
        out = net(images).data
        final = squared_error(net(images), data.targets).item()
    report(run_, final, out.argmax(axis=1) + 1, data.digits, data.ids)
    if first_all_right.at is not None:
        print(f"All {len(data.digits)} images were first read right after {first_all_right.at} steps")

    serif = parse_image(SERIF_ONE_ROWS)
    with no_grad():
        a = net(serif.reshape(1, 1, 6, 6)).data[0]
        feature = sigmoid(conv(serif.reshape(1, 1, 6, 6)))
        maps, pooled = feature.data[0], pool(feature).data[0]  # (3, 4, 4) and (3, 2, 2)
    guess = int(np.argmax(a)) + 1
    print(f"\nA 1 drawn with serifs, {SERIF_ONE_ROWS!r}:")
    print(render_side_by_side([serif], ["6x6 image"]))
    print("  output units: " + ", ".join(f'a{k + 1} ("{k + 1}") = {a[k]:.4f}' for k in range(3))
          + f"  ->  it reads a {guess}")

    filters = conv.weight.data[:, 0]  # (3, 3, 3)
    print("\nWhat the three filters learned (3x3 weights; darker = more positive, each picture on its own scale):")
    print(render_side_by_side(filters, [f"filter {k + 1}" for k in range(3)]))
    for k, f in enumerate(filters):
        print(f"  filter {k + 1}: " + " | ".join(" ".join(f"{v:+5.1f}" for v in row) for row in f)
              + f"   bias {conv.bias.data[k]:+.2f}")

    print("\nThe serif 1's feature maps: after the filters and the sigmoid (4x4; darker = nearer 1),")
    print(render_side_by_side(maps, [f"map {k + 1}" for k in range(3)]))
    print("and after 2x2 max pooling (2x2), the 12 values the output units read:")
    print(render_side_by_side(pooled, [f"pool {k + 1}" for k in range(3)]))

    _figures(args.out, run_.costs, conv.weight.data, serif, maps, pooled)
    return 0


def _figures(out, costs, weight, image, maps, pooled):
    if figures_wanted(out, "the cost curve, filters and feature maps as PNGs"):
        cost, filters, feature_maps = FIGURES
        write_figures(out, [
            (cost, lambda path: viz.plot_cost_curve(costs, path)),
            (filters, lambda path: viz.plot_filters(weight, path)),
            (feature_maps, lambda path: viz.plot_feature_maps(image, maps, pooled, path,
                                                              title="a 1 drawn with serifs")),
        ])
