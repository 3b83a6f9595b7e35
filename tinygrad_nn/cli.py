"""The command line: `tinygrad-nn book` (or `python -m tinygrad_nn book`) trains the book's network.

The book's 12-3-2 sigmoid network learns to tell a handwritten 0 from a 1 on its 64 4x3 images by
gradient descent on C_T, the squared error summed over the images; then it reads the book's test image
(a 0 drawn with a gap) and shows what its three hidden units learned. `book --save FILE` keeps the trained
network, and `tinygrad-nn read FILE 010101101110` reads any 4x3 image with it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np

from .cnn_command import add_cnn_parser, run_cnn

TEST_IMAGE_ROWS = "010 101 101 110"


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr (exit status 2): what is wrong and where help is."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Argument types: argparse turns their ArgumentTypeError into a usage error naming the option.
def seed_arg(text):
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def positive_int_arg(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def positive_float_arg(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def check_out_dir(parser, out, option="--out"):
    """A usage error unless `out` is a folder that exists and is writable, or can be made (its nearest
    existing ancestor is a writable folder). Checked before training, so a bad path costs no training run."""
    if out is None:
        return
    if os.path.exists(out) and not os.path.isdir(out):
        parser.error(f"{option} {out}: is an existing file, not a folder; name a folder for the figures")
    probe = os.path.abspath(out)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        parser.error(f"{option} {out}: cannot be made, because {probe} is a file, not a folder")
    if not _writable(probe):
        parser.error(f"{option} {out}: cannot write into {probe} (permission denied or read-only)")


def check_save_file(parser, path, option="--save"):
    """A usage error unless `path` can be written: not a folder, in a folder that exists and is writable."""
    if path is None:
        return
    if os.path.isdir(path):
        parser.error(f"{option} {path}: is a folder; name a file, e.g. {os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        parser.error(f"{option} {path}: the folder {folder} does not exist")
    if not _writable(folder):
        parser.error(f"{option} {path}: cannot write into {folder} (permission denied or read-only)")


def _writable(folder) -> bool:
    # os.access answers for the real user and knows nothing of read-only mounts; creating a file is the test.
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def add_training_options(parser, default_steps):
    """The options every training command shares (book here; others may reuse them)."""
    parser.add_argument("--seed", type=seed_arg, default=0, help="seed of the initial weights (default 0)")
    parser.add_argument("--steps", type=positive_int_arg, default=default_steps,
                        help=f"gradient-descent steps (default {default_steps})")
    parser.add_argument("--lr", type=positive_float_arg, default=None,
                        help="learning rate (default 0.2 for sgd, the book's eta; 0.05 for adam)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="update rule (default sgd)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="folder for the PNG figures (the cost curve, what the units learned); needs matplotlib")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _parser():
    p = _Parser(
        prog="tinygrad-nn",
        description="tinygrad_nn: the book's neural network, end to end.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    book = sub.add_parser(
        "book",
        help="train the book's 12-3-2 network on its 64 images of 0 and 1",
        description="Train the book's 12-3-2 sigmoid network (12 pixels in, 3 hidden units, 2 outputs) on its "
                    "64 4x3 images of 0 and 1 by full-batch gradient descent on C_T = sum over images of "
                    "1/2 sum_k (t_k - a_k)^2, then classify the book's test image and show the hidden units.",
    )
    add_training_options(book, default_steps=2000)
    book.add_argument("--save", default=None, metavar="FILE",
                      help="write the trained network to FILE (.npz; read it with tinygrad-nn read FILE PIXELS)")
    read = sub.add_parser(
        "read",
        help="read a 4x3 image with a network saved by book --save",
        description="Read a 4x3 image, given as twelve 0/1 digits row by row, with a network saved by "
                    "tinygrad-nn book --save FILE: print the image, both output units and the verdict.",
    )
    read.add_argument("model", metavar="MODEL", help="the file written by tinygrad-nn book --save")
    read.add_argument("image", metavar="PIXELS", type=pixels_arg,
                      help="the image row by row as twelve 0/1 digits, e.g. 010101101110 (the book's 0 with a gap)")
    cnn = add_cnn_parser(sub)
    p.commands = {"book": book, "read": read, "cnn": cnn}
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0 if argv is not None and not argv else 2
    command = parser.commands[args.command]
    if args.command == "read":
        return run_read(command, args)
    check_out_dir(command, args.out)
    check_save_file(command, args.save)
    if args.command == "cnn":
        return run_cnn(args)
    return run_book(args)


class _Progress:
    """tqdm when it is installed (extra `plot`), else a plain line now and then."""

    def __init__(self, total, enabled):
        self.total, self.enabled, self.bar = total, enabled, None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc="training", unit="step", file=sys.stdout,
                                dynamic_ncols=True, mininterval=0.2)
            except ImportError:
                self.bar = None
        self.every = max(1, total // 10)

    def update(self, i, cost):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            if i % 20 == 0 or i == self.total:
                self.bar.set_postfix(C_T=f"{cost:.5f}", refresh=False)
        elif i % self.every == 0 or i == self.total:
            print(f"  step {i:>6}/{self.total}  C_T = {cost:.6f}", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def run_book(args) -> int:
    from .data import load_digits_4x3, render_image
    from .nn import MLP, squared_error
    from .optim import SGD, Adam
    from .viz import TrainingSnapshots

    data = load_digits_4x3()
    net = MLP(12, [3, 2], activation="sigmoid", seed=args.seed)
    lr = args.lr if args.lr is not None else (0.2 if args.optimizer == "sgd" else 0.05)
    opt = (SGD if args.optimizer == "sgd" else Adam)(net.parameters(), lr=lr)
    print(f"The book's network {net!r}: {sum(p.size for p in net.parameters())} weights and biases")
    print(f"Training on {len(data.inputs)} images for {args.steps} steps ({args.optimizer}, lr {lr}, seed {args.seed})")

    costs, snapshots = [], TrainingSnapshots(net, args.steps)  # snapshots: network.html's slider
    progress = _Progress(args.steps, not args.no_progress)
    start = time.perf_counter()
    for i in range(1, args.steps + 1):
        opt.zero_grad()
        cost = squared_error(net(data.inputs), data.targets)  # C_T: one node for all 64 images
        cost.backward()
        opt.step()
        snapshots(i)
        costs.append(cost.item())
        progress.update(i, costs[-1])
    progress.close()
    seconds = time.perf_counter() - start

    out = net(data.inputs).data
    predicted = out.argmax(axis=1)
    correct = int((predicted == data.digits).sum())
    final = squared_error(net(data.inputs), data.targets).item()
    print(f"\nFinal C_T = {final:.6f} after {args.steps} steps ({seconds:.2f} s, "
          f"{seconds / args.steps * 1e6:.0f} us per step)")
    print(f"Accuracy: {correct}/{len(data.digits)} images ({100 * correct / len(data.digits):.1f}%)")
    wrong = data.ids[predicted != data.digits]
    if len(wrong):
        print(f"Misclassified image ids: {', '.join(map(str, wrong))}")

    print(f"\nThe book's test image {TEST_IMAGE_ROWS!r} (a 0 drawn with a gap):")
    _read_image(net, TEST_IMAGE_ROWS)

    hidden = net.layers[0].weight.data
    print("\nWhat the hidden units learned (their 12 weights as 4x3 maps; darker = more positive):")
    maps = [render_image(w.reshape(4, 3)).splitlines() for w in hidden]
    print("   " + "   ".join(f"unit {j + 1}" for j in range(len(maps))))
    for row in zip(*maps):
        print("   " + "   ".join(f"{r:<6}" for r in row))
    print("  weights (rows of the map, one unit per block):")
    for j, w in enumerate(hidden):
        print(f"  unit {j + 1}: " + " | ".join(" ".join(f"{v:+5.1f}" for v in r) for r in w.reshape(4, 3)))

    if args.save is not None:
        from . import save

        save(net.state_dict(), args.save)
        print(f"\nThe trained network is saved in {args.save}; read a 4x3 image with it:")
        print(f"  tinygrad-nn read {args.save} 010101101110")
    _figures(args.out, costs, hidden, net, snapshots, final)
    return 0


def _read_image(net, rows):
    """Draw the image, run the network on it, print both output units and the verdict."""
    from . import Value
    from .data import parse_image, render_image

    image = parse_image(rows)
    a = net(Value(image.reshape(12), requires_grad=False)).data
    print(_indent(render_image(image)))
    print(f"  output units: a1 (\"0\") = {a[0]:.4f}, a2 (\"1\") = {a[1]:.4f}  ->  it reads a {int(np.argmax(a))}")


def pixels_arg(text):
    if len(text) != 12 or set(text) - {"0", "1"}:
        raise argparse.ArgumentTypeError(f"must be exactly 12 digits 0 or 1 (the 4x3 image row by row, e.g. "
                                         f"010101101110 for the book's 0 with a gap), got {text!r}")
    return text


def _book_network(parser, path):
    """The network saved in `path` by `book --save`, or a usage error that says what is wrong with the file."""
    import re

    from . import load
    from .nn import MLP

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


def run_read(parser, args) -> int:
    net = _book_network(parser, args.model)
    rows = " ".join(args.image[i:i + 3] for i in range(0, 12, 3))
    print(f"The image {rows!r} read by the network in {args.model} ({net!r}):")
    _read_image(net, rows)
    return 0


def figures_wanted(out, what) -> bool:
    """Whether a command should write its figures (`what`) to `out`; when not, it says why in one line."""
    from . import viz

    if out is None:
        if viz.have_matplotlib():
            print(f"\nFigures: add --out DIR to write {what}.")
        else:
            print(f"\nFigures: none written ({viz.PLOT_HINT}; then add --out DIR).")
        return False
    if not viz.have_matplotlib():
        print(f"\nFigures: none written to {out}: {viz.PLOT_HINT}")
        return False
    return True


def write_figures(out, plots):
    """Write every figure of `plots` (functions of a folder, each returning the path it wrote): all of them
    or none, as a failure part-way leaves no partial set; then list them."""
    from . import viz

    with viz.figure_set():
        paths = [plot(out) for plot in plots]
    print(f"\nFigures written to {os.path.abspath(out)}:")
    for p in paths:
        print(f"  {os.path.basename(p)}")


def write_page(out, page):
    """Write the live page `network.html` into `out` when it is given (it needs no matplotlib)."""
    from . import viz

    if out is not None:
        path = viz.write_network_page(os.path.join(out, "network.html"), page)
        print(f"The live network page: {os.path.abspath(path)}")


def _figures(out, costs, hidden, net, snapshots, final):
    from . import viz
    from .data.demons import hand_set_demons

    page = viz.mlp_page(net, snapshots, costs, final, handset=hand_set_demons())
    if figures_wanted(out, "the cost curve, weight maps, network drawing and step-vs-sigmoid PNGs, and network.html"):
        write_figures(out, [
            lambda d: viz.plot_cost_curve(costs, os.path.join(d, "cost_curve.png")),
            lambda d: viz.plot_weight_maps(hidden, os.path.join(d, "hidden_weights.png"),
                                           titles=[f"hidden unit {j + 1}" for j in range(len(hidden))]),
            lambda d: viz.plot_step_vs_sigmoid(os.path.join(d, "step_vs_sigmoid.png")),
            lambda d: viz.draw_network(net, os.path.join(d, "network.png")),
            lambda d: viz.write_network_page(os.path.join(d, "network.html"), page),
        ])
    else:
        write_page(out, page)


def _indent(text, pad="    "):
    return "\n".join(pad + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
