"""Determinism: training the book's network (MLP(12, [3, 2]) on its 64 images of 4x3 pixels) twice from the
same seed gives bit-identical weights, with SGD (plain, momentum, Nesterov) and Adam, full-batch and with
shuffled mini-batches, in this process and in a fresh one (another hash seed: nothing may depend on the
order of a set or on object ids). A different seed gives different weights, so the comparison can fail.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, tree_env
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.data.batches import minibatches
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD, Adam

OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.2),
    "sgd_momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=0.05),
}


def train(optimizer, seed, steps=30, batch_size=None):
    """The trained weights (name -> array) and the cost of every step."""
    data = load_digits_4x3()
    net = MLP(12, [3, 2], seed=seed)
    opt = OPTIMIZERS[optimizer](net.parameters())
    order = np.random.default_rng(seed)  # one generator for the run: a new shuffle each epoch
    costs = []
    while len(costs) < steps:
        batches = ([(data.inputs, data.targets)] if batch_size is None else
                   minibatches(data.inputs, data.targets, batch_size=batch_size, shuffle=True, seed=order))
        for x, t in batches:
            opt.zero_grad()
            cost = squared_error(net(x), t)
            cost.backward()
            opt.step()
            costs.append(cost.item())
    return {k: np.array(v, copy=True) for k, v in net.state_dict().items()}, costs


def fingerprint(weights) -> str:
    """A digest of every weight's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    for name in sorted(weights):
        w = np.ascontiguousarray(weights[name])
        h.update(f"{name}:{w.dtype}:{w.shape}:".encode())
        h.update(w.tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("batch_size", [None, 16], ids=["full_batch", "minibatch"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_same_seed_same_bits(optimizer, batch_size):
    a, costs_a = train(optimizer, seed=7, batch_size=batch_size)
    b, costs_b = train(optimizer, seed=7, batch_size=batch_size)
    assert costs_a == costs_b
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].tobytes() == b[name].tobytes(), name
    assert costs_a[-1] < costs_a[0]  # it trained: the weights moved somewhere on purpose

    c, _ = train(optimizer, seed=8, batch_size=batch_size)
    assert fingerprint(c) != fingerprint(a)


def test_a_fresh_process_gets_the_same_bits():
    """Another interpreter with another hash seed trains to the same weights, bit for bit."""
    code = ("from tests.attack.test_determinism import train, fingerprint\n"
            "print(fingerprint(train('adam', seed=7, batch_size=16)[0]))\n"
            "print(fingerprint(train('sgd_nesterov', seed=7)[0]))\n")
    out = subprocess.run([sys.executable, "-c", code], env=tree_env(PYTHONHASHSEED="12345"), capture_output=True,
                         text=True, timeout=120, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [fingerprint(train("adam", seed=7, batch_size=16)[0]),
                                  fingerprint(train("sgd_nesterov", seed=7)[0])]
