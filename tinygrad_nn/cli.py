"""The command line: `tinygrad-nn book` (or `python -m tinygrad_nn book`) trains the book's network.

The book's 12-3-2 sigmoid network learns to tell a handwritten 0 from a 1 on its 64 4x3 images by
gradient descent on C_T, the squared error summed over the images; then it reads the book's test image
(a 0 drawn with a gap) and shows what its three hidden units learned.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from .cnn_command import add_cnn_parser, run_cnn

TEST_IMAGE_ROWS = "010 101 101 110"


def _parser():
    p = argparse.ArgumentParser(
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
    book.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    book.add_argument("--steps", type=int, default=2000, help="gradient-descent steps (default 2000)")
    book.add_argument("--lr", type=float, default=None,
                      help="learning rate (default 0.2 for sgd, the book's eta; 0.05 for adam)")
    book.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="update rule (default sgd)")
    book.add_argument("--out", default=None, metavar="DIR",
                      help="folder for PNG figures (cost curve, weight maps, step vs sigmoid); needs matplotlib")
    book.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_cnn_parser(sub)
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "cnn":
        return run_cnn(args)
    if args.command != "book":
        parser.print_help()
        return 0 if argv is not None and not argv else 2
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if args.lr is not None and not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")
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
    from . import Value
    from .data import load_digits_4x3, parse_image, render_image
    from .nn import MLP, squared_error
    from .optim import SGD, Adam

    data = load_digits_4x3()
    net = MLP(12, [3, 2], activation="sigmoid", seed=args.seed)
    lr = args.lr if args.lr is not None else (0.2 if args.optimizer == "sgd" else 0.05)
    opt = (SGD if args.optimizer == "sgd" else Adam)(net.parameters(), lr=lr)
    print(f"The book's network {net!r}: {sum(p.size for p in net.parameters())} weights and biases")
    print(f"Training on {len(data.inputs)} images for {args.steps} steps ({args.optimizer}, lr {lr}, seed {args.seed})")

    costs = []
    progress = _Progress(args.steps, not args.no_progress)
    start = time.perf_counter()
    for i in range(1, args.steps + 1):
        opt.zero_grad()
        cost = squared_error(net(data.inputs), data.targets)  # C_T: one node for all 64 images
        cost.backward()
        opt.step()
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

    test = parse_image(TEST_IMAGE_ROWS)
    a = net(Value(test.reshape(12), requires_grad=False)).data
    guess = int(np.argmax(a))
    print(f"\nThe book's test image {TEST_IMAGE_ROWS!r} (a 0 drawn with a gap):")
    print(_indent(render_image(test)))
    print(f"  output units: a1 (\"0\") = {a[0]:.4f}, a2 (\"1\") = {a[1]:.4f}  ->  it reads a {guess}")

    hidden = net.layers[0].weight.data
    print("\nWhat the hidden units learned (their 12 weights as 4x3 maps; darker = more positive):")
    maps = [render_image(w.reshape(4, 3)).splitlines() for w in hidden]
    print("   " + "   ".join(f"unit {j + 1}" for j in range(len(maps))))
    for row in zip(*maps):
        print("   " + "   ".join(f"{r:<6}" for r in row))
    print("  weights (rows of the map, one unit per block):")
    for j, w in enumerate(hidden):
        print(f"  unit {j + 1}: " + " | ".join(" ".join(f"{v:+5.1f}" for v in r) for r in w.reshape(4, 3)))

    _figures(args.out, costs, hidden)
    return 0


def _figures(out, costs, hidden):
    from . import viz

    if out is None:
        if viz.have_matplotlib():
            print("\nFigures: add --out DIR to write the cost curve, weight maps and step-vs-sigmoid PNGs.")
        else:
            print(f"\nFigures: none written ({viz.PLOT_HINT}; then add --out DIR).")
        return
    if not viz.have_matplotlib():
        print(f"\nFigures: none written to {out}: {viz.PLOT_HINT}")
        return
    paths = [
        viz.plot_cost_curve(costs, os.path.join(out, "cost_curve.png")),
        viz.plot_weight_maps(hidden, os.path.join(out, "hidden_weights.png"),
                             titles=[f"hidden unit {j + 1}" for j in range(len(hidden))]),
        viz.plot_step_vs_sigmoid(os.path.join(out, "step_vs_sigmoid.png")),
    ]
    print(f"\nFigures written to {os.path.abspath(out)}:")
    for p in paths:
        print(f"  {os.path.basename(p)}")


def _indent(text, pad="    "):
    return "\n".join(pad + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
