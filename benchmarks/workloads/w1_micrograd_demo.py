"""W1: micrograd's demo, scalar level, side by side with micrograd 0.1.0.

An MLP 2-16-16-1 (ReLU hidden, linear output) on two-moons points, SVM max-margin loss plus L2
regularisation (alpha 1e-4). One step = forward over all points, backward, SGD update, written exactly
as micrograd's demo.ipynb writes its ``loss()`` and training loop. For micrograd the network is
micrograd.nn.MLP itself; for tinygrad_nn it is a copy of micrograd.nn's Neuron/Layer/MLP source (lists
of scalar Values, ``sum((wi*xi for wi, xi in zip(self.w, x)), self.b)``, ``p.grad = 0``) with
tinygrad_nn's Value. Both draw their weights from ``random.seed(1337)`` in the same order, so the two
compute the same thing and their first losses agree (tinygrad_nn records each running sum as one node).

The points are passed as Python floats (``X.tolist()``): neither library pays for numpy scalars.
"""

from __future__ import annotations

import random

from benchmarks.common import Case

IMPLS = ("tinygrad_nn", "tinygrad_nn_jit", "micrograd")
ALPHA = 1e-4


def prepare(cfg):
    from tinygrad_nn.data import two_moons

    X, y = two_moons(n=cfg["points"], noise=0.1, seed=0)
    return {"X": X.tolist(), "y": (y * 2 - 1).astype(float).tolist()}


def micrograd_style_mlp(Value):
    """micrograd.nn (v0.1.0), verbatim but for the Value class it is built on."""

    class Module:
        def zero_grad(self):
            for p in self.parameters():
                p.grad = 0

        def parameters(self):
            return []

    class Neuron(Module):
        def __init__(self, nin, nonlin=True):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0)
            self.nonlin = nonlin

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.relu() if self.nonlin else act

        def parameters(self):
            return self.w + [self.b]

    class Layer(Module):
        def __init__(self, nin, nout, **kwargs):
            self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

        def __call__(self, x):
            out = [n(x) for n in self.neurons]
            return out[0] if len(out) == 1 else out

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP(Module):
        def __init__(self, nin, nouts):
            sz = [nin] + nouts
            self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return MLP


def demo_loss(Value, model, X, y):
    """micrograd's demo.ipynb's loss(), with batch_size=None: (total loss, accuracy)."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def build(impl, cfg):
    if impl == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP
    elif impl == "tinygrad_nn":
        from tinygrad_nn import Value

        MLP = micrograd_style_mlp(Value)
    elif impl == "tinygrad_nn_jit":
        return _jit_case(cfg)
    else:
        raise ValueError(impl)
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    X, y = cfg["data"]["X"], cfg["data"]["y"]
    k = [0]

    def step():
        total_loss, acc = demo_loss(Value, model, X, y)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * (k[0] % 100) / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        k[0] += 1
        return total_loss

    return Case(step, loss_of=lambda v: float(v.data),
                info={"points": len(X), "params": len(model.parameters())})


def _jit_case(cfg):
    """The same demo through tinygrad_nn.jit: one straight-line Python program over floats per step. The
    parameters are stepped by optim.SGD (its zero_grad and step are recorded; micrograd's `p.grad = 0` and
    `p.data -= ...` by hand are invisible to a recording), with the demo's learning-rate schedule set on it
    outside the jitted function."""
    from benchmarks.workloads import jit_case
    from tinygrad_nn import Value
    from tinygrad_nn.optim import SGD

    MLP = micrograd_style_mlp(Value)
    X, y = cfg["data"]["X"], cfg["data"]["y"]
    holder = {}

    def make():
        random.seed(1337)
        model = MLP(2, [16, 16, 1])
        opt = holder["opt"] = SGD(model.parameters(), lr=1.0)

        def step():
            total_loss, _ = demo_loss(Value, model, X, y)  # its accuracy, read from .data, is not used here
            opt.zero_grad()
            total_loss.backward()
            opt.step()
            return total_loss

        return step

    jitted, info = jit_case(make)
    opt = holder["opt"]
    k = [0]

    def step():
        opt.lr = 1.0 - 0.9 * (k[0] % 100) / 100
        k[0] += 1
        return jitted()

    return Case(step, loss_of=lambda v: float(v.data), info={"points": len(X), **info},
                ready=lambda: jitted.replaying)
