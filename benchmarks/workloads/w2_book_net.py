"""W2: the book's 12-3-2 sigmoid network, full batch over the 64 images of 4x3 pixels, float64.

Cost C_T = 1/2 * sum of squared errors over all outputs and images (summed, not averaged); one step =
forward over the 64 images, backward, plain SGD update (learning rate 0.2, the book's eta). Every
implementation starts from the same weights (``init_params``, seed 0).
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
SIZES = (12, 3, 2)
LR = 0.2


def prepare(cfg):
    from tinygrad_nn.data import load_digits_4x3

    d = load_digits_4x3()
    return {"X": d.inputs.tolist(), "T": d.targets.tolist()}


def build(impl, cfg):
    import numpy as np

    X = np.array(cfg["data"]["X"], dtype=np.float64)
    T = np.array(cfg["data"]["T"], dtype=np.float64)
    params = init_params(SIZES, seed=0, dtype="float64")
    info = {"batch": len(X), "sizes": list(SIZES), "dtype": "float64"}
    if impl == "tinygrad_nn_jit":
        step, more = _tinygrad_jit(X, T, params)
        return Case(step, lambda v: float(v.item()), info={**info, **more}, ready=step.ready)
    return Case(*_BUILDERS[impl](X, T, params), info=info)


def _tinygrad(X, T, params):
    from tinygrad_nn.nn import MLP, squared_error
    from tinygrad_nn.optim import SGD

    net = MLP(12, [3, 2], activation="sigmoid", seed=0)
    load_tinygrad_mlp(net, params)
    opt = SGD(net.parameters(), lr=LR)

    return optimizer_step(opt, lambda: squared_error(net(X), T))


def _tinygrad_jit(X, T, params):
    from benchmarks.workloads import jit_case, training_step
    from tinygrad_nn.nn import MLP, squared_error
    from tinygrad_nn.optim import SGD

    def make():
        net = MLP(12, [3, 2], activation="sigmoid", seed=0)
        load_tinygrad_mlp(net, params)
        return training_step(SGD(net.parameters(), lr=LR), lambda x, t: squared_error(net(x), t))

    jitted, info = jit_case(make, X, T)

    def step():
        return jitted(X, T)

    step.ready = lambda: jitted.replaying
    return step, info


def _numpy(X, T, params):
    import numpy as np

    (W1, b1), (W2, b2) = [(W.copy(), b.copy()) for W, b in params]

    def step():
        # forward
        a1 = X @ W1.T
        a1 += b1
        np.negative(a1, out=a1)
        np.exp(a1, out=a1)
        a1 += 1.0
        np.reciprocal(a1, out=a1)  # sigmoid
        a2 = a1 @ W2.T
        a2 += b2
        np.negative(a2, out=a2)
        np.exp(a2, out=a2)
        a2 += 1.0
        np.reciprocal(a2, out=a2)
        err = a2 - T
        loss = 0.5 * float(np.vdot(err, err))
        # backward: delta = dC/dz, sigmoid' = a (1 - a)
        d2 = err * a2 * (1.0 - a2)
        gW2 = d2.T @ a1
        gb2 = d2.sum(axis=0)
        d1 = (d2 @ W2) * a1 * (1.0 - a1)
        gW1 = d1.T @ X
        gb1 = d1.sum(axis=0)
        # SGD
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            g *= LR
            p -= g
        return loss

    return step, float


def _torch(X, T, params):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Sigmoid(),
                                torch.nn.Linear(3, 2), torch.nn.Sigmoid()).double()
    load_torch_mlp([model[0], model[2]], params)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)

    return optimizer_step(opt, lambda: 0.5 * ((model(Xt) - Tt) ** 2).sum())


def _jax(X, T, params):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    p = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    Xj, Tj = jnp.asarray(X), jnp.asarray(T)

    def loss_fn(p, X, T):
        (W1, b1), (W2, b2) = p
        a1 = jax.nn.sigmoid(X @ W1.T + b1)
        a2 = jax.nn.sigmoid(a1 @ W2.T + b2)
        return 0.5 * jnp.sum((a2 - T) ** 2)

    return jax_sgd_step(loss_fn, p, LR, Xj, Tj)


_BUILDERS = {"tinygrad_nn": _tinygrad, "numpy": _numpy, "torch": _torch, "jax": _jax}
