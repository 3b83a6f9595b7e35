"""The moons task of moons_scalar.py, with tensors: whole weight matrices, one batched forward pass.

`MLP(2, [16, 16, 1], activation="relu", output_activation=None)` holds each layer's weights as one
(nout, nin) tensor, so the forward pass over all 100 points is a few matrix products and the graph has
a couple of dozen nodes instead of tens of thousands. The loss is the same as in the scalar version,
written with tensor ops: mean(relu(1 - y * score)) + 1e-4 * (sum of squared parameters), and the
learning rate decays as 1.0 - 0.9 * k / 100.

(The initial weights differ from the scalar version: the library initialises a layer uniformly in
±1/sqrt(fan_in), as PyTorch does, where micrograd draws uniformly in ±1; so the runs are not step-for-step
identical, only the same task with the same loss.)

What you should see: the loss falling and the accuracy climbing to (near) 100% within the 100 steps.

Run:  python examples/moons_mlp.py [--steps 100] [--seed 0] [--every 10] [--out DIR]
With --out, also writes DIR/moons_decision_boundary.png (needs matplotlib).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from tinygrad_nn import viz
from tinygrad_nn.data import two_moons
from tinygrad_nn.nn import MLP


def loss_and_accuracy(model, X, y, alpha=1e-4):
    """SVM max-margin loss with L2 regularisation, on the whole batch at once. y holds -1/+1."""
    scores = model(X).reshape(-1)  # (N, 1) -> (N,)
    data_loss = (1 - y * scores).relu().mean()
    reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
    accuracy = float(np.mean((y > 0) == (scores.data > 0)))
    return data_loss + reg_loss, accuracy


def train(steps=100, seed=0, every=10, n=100, noise=0.1, verbose=True):
    X, y01 = two_moons(n, noise, seed=seed)
    y = 2.0 * y01 - 1.0  # labels 0/1 -> -1/+1
    model = MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=seed)
    n_params = sum(p.size for p in model.parameters())
    if verbose:
        print(f"{model}: {n_params} parameters in {len(model.parameters())} tensors, {n} points")
    history = []
    for k in range(steps):
        loss, acc = loss_and_accuracy(model, X, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= lr * p.grad  # the same plain update as the scalar version, a whole tensor at a time
        history.append((k, loss.item(), acc))
        if verbose and (k % every == 0 or k == steps - 1):
            print(f"step {k:3d}  loss {loss.item():.6f}  accuracy {acc * 100:5.1f}%")
    return model, history, (X, y)


def plot_boundary(model, X, y, out_dir):
    plt = viz.pyplot()
    if plt is None:
        return None
    from tinygrad_nn import no_grad

    xx, yy = np.meshgrid(np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200),
                         np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 200))
    with no_grad():  # only the scores are wanted: no graph
        scores = model(np.column_stack([xx.ravel(), yy.ravel()])).data.reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(xx, yy, scores > 0, cmap="Spectral", alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap="jet", edgecolors="k", linewidths=0.5)
    ax.set_title("moons: the learned decision boundary (score = 0)")
    path = os.path.join(out_dir, "moons_decision_boundary.png")
    viz.save_figure(fig, path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the data and the initial weights")
    parser.add_argument("--every", type=int, default=10, help="print every this many steps (default 10)")
    parser.add_argument("--out", metavar="DIR", help="write moons_decision_boundary.png into DIR (default: no files)")
    args = parser.parse_args(argv)
    model, history, (X, y) = train(args.steps, args.seed, max(1, args.every))
    if history:
        final_loss, final_acc = loss_and_accuracy(model, X, y)  # the model after the last update
        print(f"after {args.steps} steps: loss {final_loss.item():.6f}, accuracy {final_acc * 100:.1f}%")
    if args.out:
        plot_boundary(model, X, y, args.out)
    return history


if __name__ == "__main__":
    main()
