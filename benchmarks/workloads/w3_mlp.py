"""W3: an MLP 784-256-128-10, ReLU, softmax cross-entropy (mean over the batch), batch 128, float32.

One step = forward, backward, plain SGD update (learning rate 0.01) on one fixed batch of random data
(inputs normal(0, 1), labels uniform over the 10 classes, numpy seed 0). Every implementation starts
from the same weights (``init_params``, seed 1). ``--quick`` shrinks it to 64-32-16-10, batch 16.
"""

from __future__ import annotations

from benchmarks.common import Case
from benchmarks.workloads import (
    init_params,
    jax_sgd_step,
    load_tinygrad_mlp,
    load_torch_mlp,
    optimizer_step,
)

IMPLS = ("tinygrad_nn", "tinygrad_nn_jit", "numpy", "torch", "jax")
LR = 0.01


def sizes_of(cfg):
    return (64, 32, 16, 10) if cfg.get("quick") else (784, 256, 128, 10)


def batch_of(cfg):
    return 16 if cfg.get("quick") else 128


def build(impl, cfg):
    import numpy as np

    sizes, n = sizes_of(cfg), batch_of(cfg)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=n).astype(np.int64)
    params = init_params(sizes, seed=1, dtype="float32")
    info = {"batch": n, "sizes": list(sizes), "dtype": "float32"}
    if impl == "tinygrad_nn_jit":
        step, more = _tinygrad_jit(X, y, params, sizes)
        return Case(step, lambda v: float(v.item()), info={**info, **more}, ready=step.ready)
    return Case(*_BUILDERS[impl](X, y, params, sizes), info=info)


def _tinygrad(X, y, params, sizes):
    import numpy as np

    from tinygrad_nn.nn import MLP, cross_entropy
    from tinygrad_nn.optim import SGD

    net = MLP(sizes[0], list(sizes[1:]), activation="relu", output_activation=None, seed=0, dtype=np.float32)
    load_tinygrad_mlp(net, params)
    opt = SGD(net.parameters(), lr=LR)

    return optimizer_step(opt, lambda: cross_entropy(net(X), y))


def _tinygrad_jit(X, y, params, sizes):
    import numpy as np

    from benchmarks.workloads import jit_case, training_step
    from tinygrad_nn.nn import MLP, cross_entropy
    from tinygrad_nn.optim import SGD

    def make():
        net = MLP(sizes[0], list(sizes[1:]), activation="relu", output_activation=None, seed=0, dtype=np.float32)
        load_tinygrad_mlp(net, params)
        return training_step(SGD(net.parameters(), lr=LR), lambda x, labels: cross_entropy(net(x), labels))

    jitted, info = jit_case(make, X, y)

    def step():
        return jitted(X, y)

    step.ready = lambda: jitted.replaying
    return step, info


def _numpy(X, y, params, sizes):
    import numpy as np

    (W1, b1), (W2, b2), (W3, b3) = [(W.copy(), b.copy()) for W, b in params]
    n = len(X)
    rows = np.arange(n)
    lr = np.float32(LR)

    def step():
        # forward (weights are (out, in), as in PyTorch: z = x W^T + b)
        z1 = X @ W1.T
        z1 += b1
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ W2.T
        z2 += b2
        a2 = np.maximum(z2, 0.0)
        z3 = a2 @ W3.T
        z3 += b3
        z3 -= z3.max(axis=1, keepdims=True)
        e = np.exp(z3)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.log(s).mean() - z3[rows, y].mean())
        # backward: dL/dz3 = (softmax - onehot) / n
        d3 = e / s
        d3[rows, y] -= 1.0
        d3 /= n
        gW3 = d3.T @ a2
        gb3 = d3.sum(axis=0)
        d2 = d3 @ W3
        d2 *= z2 > 0
        gW2 = d2.T @ a1
        gb2 = d2.sum(axis=0)
        d1 = d2 @ W2
        d1 *= z1 > 0
        gW1 = d1.T @ X
        gb1 = d1.sum(axis=0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2), (W3, gW3), (b3, gb3)):
            g *= lr
            p -= g
        return loss

    return step, float


def _torch(X, y, params, sizes):
    import torch

    lins = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    model = torch.nn.Sequential(lins[0], torch.nn.ReLU(), lins[1], torch.nn.ReLU(), lins[2])
    load_torch_mlp(lins, params)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    ce = torch.nn.functional.cross_entropy

    return optimizer_step(opt, lambda: ce(model(Xt), yt))


def _jax(X, y, params, sizes):
    import jax
    import jax.numpy as jnp

    p = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    Xj, yj = jnp.asarray(X), jnp.asarray(y.astype("int32"))

    def loss_fn(p, X, y):
        (W1, b1), (W2, b2), (W3, b3) = p
        a1 = jax.nn.relu(X @ W1.T + b1)
        a2 = jax.nn.relu(a1 @ W2.T + b2)
        logp = jax.nn.log_softmax(a2 @ W3.T + b3, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    return jax_sgd_step(loss_fn, p, LR, Xj, yj)


_BUILDERS = {"tinygrad_nn": _tinygrad, "numpy": _numpy, "torch": _torch, "jax": _jax}
