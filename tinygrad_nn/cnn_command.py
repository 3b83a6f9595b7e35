"""`tinygrad-nn cnn`: the book's chapter 5 convolutional network, trained on its 96 6x6 images of 1, 2, 3.

The network: 3 filters of 3x3 slide over the 6x6 image (cross-correlation, one bias each), a sigmoid on each
of the 3 feature maps (4x4), 2x2 max pooling (3 maps of 2x2), and 3 sigmoid output units fully connected to
those 12 values. It learns by full-batch gradient descent on C_T, the squared error summed over the 96
images; then it reads a 1 drawn with serifs and shows its filters and that image's feature maps.
"""

from __future__ import annotations

import os
import time

import numpy as np

SERIF_ONE_ROWS = "001110 000100 000100 000100 000100 001110"


def add_cnn_parser(subparsers):
    """The `cnn` subcommand, with the options of `book`."""
    cnn = subparsers.add_parser(
        "cnn",
        help="train the book's chapter 5 convolutional network on its 96 images of 1, 2 and 3",
        description="Train the book's chapter 5 network (3 filters of 3x3 + sigmoid, 2x2 max pooling, 3 sigmoid "
                    "output units) on its 96 6x6 images of 1, 2 and 3 by full-batch gradient descent on C_T = sum "
                    "over images of 1/2 sum_k (t_k - a_k)^2, then classify a 1 drawn with serifs and show the "
                    "filters and its feature maps.",
    )
    from .cli import add_training_options  # the options of `book`, checked the same way

    add_training_options(cnn, default_steps=500)
    cnn.add_argument("--save", default=None, metavar="FILE",
                     help="write the trained network to FILE (.npz; load it with tinygrad_nn.load and "
                          "book_cnn().load_state_dict)")
    return cnn


def book_cnn(seed=0, dtype=np.float64):
    """The chapter 5 network; returns (net, conv, pool) so that the feature maps can be looked at."""
    from .nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, Sigmoid

    rng = np.random.default_rng(seed)  # one generator: the whole network follows from the seed
    conv, pool = Conv2d(1, 3, 3, seed=rng, dtype=dtype), MaxPool2d(2)
    net = Sequential(conv, Sigmoid(), pool, Flatten(), Layer(12, 3, activation="sigmoid", seed=rng, dtype=dtype))
    return net, conv, pool


def run_cnn(args) -> int:
    from .cli import _Progress
    from .data import load_digits_6x6, parse_image, render_side_by_side
    from .engine import no_grad
    from .nn import squared_error
    from .ops import sigmoid
    from .optim import SGD, Adam
    from .viz import TrainingSnapshots, cnn_page

    data = load_digits_6x6()
    images = data.images.reshape(-1, 1, 6, 6)  # (96, 1, 6, 6): one channel
    net, conv, pool = book_cnn(args.seed)
    lr = args.lr if args.lr is not None else (0.2 if args.optimizer == "sgd" else 0.05)
    opt = (SGD if args.optimizer == "sgd" else Adam)(net.parameters(), lr=lr)
    print(f"The book's chapter 5 network {net!r}: {sum(p.size for p in net.parameters())} weights and biases")
    print(f"Training on {len(images)} images for {args.steps} steps ({args.optimizer}, lr {lr}, seed {args.seed})")

    costs, all_right_at, snapshots = [], None, TrainingSnapshots(net, args.steps)  # network.html's slider
    progress = _Progress(args.steps, not args.no_progress)
    start = time.perf_counter()
    for i in range(1, args.steps + 1):
        opt.zero_grad()
        out = net(images)
        cost = squared_error(out, data.targets)  # C_T: one node for all 96 images
        cost.backward()
        opt.step()
        snapshots(i)
        costs.append(cost.item())
        if all_right_at is None and (out.data.argmax(axis=1) + 1 == data.digits).all():
            all_right_at = i - 1  # the forward pass of this step ran with the weights after step i - 1
        progress.update(i, costs[-1])
    progress.close()
    seconds = time.perf_counter() - start

    with no_grad():
        out = net(images).data
        final = squared_error(net(images), data.targets).item()
    predicted = out.argmax(axis=1) + 1
    correct = int((predicted == data.digits).sum())
    print(f"\nFinal C_T = {final:.6f} after {args.steps} steps ({seconds:.2f} s, "
          f"{seconds / args.steps * 1e3:.2f} ms per step)")
    print(f"Accuracy: {correct}/{len(data.digits)} images ({100 * correct / len(data.digits):.1f}%)")
    if all_right_at is not None:
        print(f"All {len(data.digits)} images were first read right after {all_right_at} steps")
    wrong = data.ids[predicted != data.digits]
    if len(wrong):
        print(f"Misclassified image ids: {', '.join(map(str, wrong))}")

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

    if args.save is not None:
        from . import save

        save(net.state_dict(), args.save)
        print(f"\nThe trained network is saved in {args.save}.")
    page = cnn_page(net, snapshots, costs, final, image=serif)
    _figures(args.out, costs, conv.weight.data, serif, maps, pooled, page)
    return 0


def _figures(out, costs, weight, image, maps, pooled, page):
    from . import viz
    from .cli import figures_wanted, write_figures, write_page

    if not figures_wanted(out, "the cost curve, filters and feature maps as PNGs, and network.html"):
        write_page(out, page)
    else:
        write_figures(out, [
            lambda d: viz.plot_cost_curve(costs, os.path.join(d, "cost_curve.png")),
            lambda d: viz.plot_filters(weight, os.path.join(d, "filters.png")),
            lambda d: viz.plot_feature_maps(image, maps, pooled, os.path.join(d, "feature_maps.png"),
                                            title="a 1 drawn with serifs"),
            lambda d: viz.write_network_page(os.path.join(d, "network.html"), page),
        ])
