"""micrograd's moons demo at the SCALAR level: every weight is its own scalar Value.

This is Andrej Karpathy's micrograd demo, run on tinygrad_nn's engine. The little Neuron, Layer and
MLP below are written out here, as micrograd writes them, with Python lists of scalar Values: a neuron
computes sum(w_i * x_i) + b one multiplication at a time, so one forward pass over 100 points builds a
graph of tens of thousands of scalar nodes, and `loss.backward()` walks all of them. (moons_mlp.py does
the same job with whole weight matrices in a handful of tensor nodes.)

The task: two interleaving half-moons, labels y = -1 / +1, a 2-16-16-1 ReLU network giving a score,
and the SVM max-margin loss mean(relu(1 - y * score)) + 1e-4 * (sum of squared weights), trained by
gradient descent with the learning rate decaying as 1.0 - 0.9 * k / 100.

What you should see: the loss falling and the accuracy (sign of the score against y) rising every few steps.

Run:  python examples/moons_scalar.py [--steps 20] [--seed 0] [--every 2]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_nn import Value
from tinygrad_nn.data import two_moons


class Neuron:
    """A unit with a list of scalar weights; ReLU unless it is an output (linear) unit."""

    def __init__(self, nin, nonlin=True, rng=None):
        # micrograd's initialisation: weights uniform in [-1, 1], bias 0.
        self.w = [Value(float(v)) for v in rng.uniform(-1.0, 1.0, nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # a node per product, one add_n for the sum
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True, rng=None):
        self.neurons = [Neuron(nin, nonlin, rng) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts, seed=0):
        rng = np.random.default_rng(seed)
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1, rng=rng) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


def loss_and_accuracy(model, X, y, alpha=1e-4):
    """The SVM max-margin loss (plus L2 regularisation) and the accuracy, as micrograd's demo computes them."""
    inputs = [list(map(float, row)) for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]  # zero once a point is beyond the margin
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    accuracy = [(yi > 0) == (si.data > 0) for yi, si in zip(y, scores)]
    return data_loss + reg_loss, sum(accuracy) / len(accuracy)


def count_nodes(root):
    """How many nodes the graph behind `root` has (a walk over `_prev`, micrograd's name for the inputs)."""
    seen, stack = {root}, [root]
    while stack:
        for parent in stack.pop()._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return len(seen)


def train(steps=20, seed=0, every=2, n=100, noise=0.1):
    X, y01 = two_moons(n, noise, seed=seed)
    y = [float(v) for v in 2 * y01 - 1]  # labels 0/1 -> -1/+1, as the margin loss wants
    model = MLP(2, [16, 16, 1], seed=seed)
    print(f"scalar MLP 2-16-16-1: {len(model.parameters())} scalar parameters, {n} points")
    history = []
    for k in range(steps):
        loss, acc = loss_and_accuracy(model, X, y)
        if k == 0:
            print(f"one forward pass over the {n} points builds a graph of {count_nodes(loss)} scalar nodes")
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / 100  # micrograd's schedule (written for 100 steps)
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append((k, loss.data, acc))
        if k % every == 0 or k == steps - 1:
            print(f"step {k:3d}  loss {loss.data:.6f}  accuracy {acc * 100:5.1f}%")
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the data and the initial weights")
    parser.add_argument("--every", type=int, default=2, help="print every this many steps (default 2)")
    args = parser.parse_args(argv)
    _, history = train(args.steps, args.seed, max(1, args.every))
    if history:
        k, loss, acc = history[-1]
        # As in micrograd, each step reports the model it started from, before that step's update.
        print(f"last step ({k}): loss {loss:.6f}, accuracy {acc * 100:.1f}%")
    return history


if __name__ == "__main__":
    main()
