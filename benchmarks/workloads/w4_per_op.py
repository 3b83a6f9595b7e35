"""W4: per-op overhead. A chain of 100 elementwise ops on a 4-element float64 tensor, forward and backward.

The chain repeats (y * w, y + b, tanh(y), sigmoid(y)) 25 times, where w and b are 4-element leaves that
need gradients and x (the start) is a constant; backward is seeded with ones (no reduction op), and the
leaves' gradients accumulate from step to step as they do in a training loop without zero_grad. The
time reported is per step (100 ops forward + their 100 backward rules); the time per op is a
hundredth of it. For JAX the whole step is one jitted function, which XLA fuses into a few kernels:
its "per op" is what is left of dispatch after fusion, not the cost of an eager op.
"""

from __future__ import annotations

from benchmarks.common import Case

IMPLS = ("tinygrad_nn", "tinygrad_nn_jit", "numpy", "torch", "jax")
N_OPS = 100
N_ELEM = 4


def build(impl, cfg):
    import numpy as np

    x = np.linspace(-1.0, 1.0, N_ELEM)
    w = np.full(N_ELEM, 0.9)
    b = np.full(N_ELEM, 0.1)
    g = np.ones(N_ELEM)
    info = {"ops": N_OPS, "elements": N_ELEM, "dtype": "float64"}
    if impl == "tinygrad_nn_jit":
        from benchmarks.workloads import jit_case

        jitted, more = jit_case(lambda: _tinygrad(x, w, b, g)[0])
        return Case(jitted, lambda v: float(v.data.sum()), info={**info, **more}, ready=lambda: jitted.replaying)
    return Case(*_BUILDERS[impl](x, w, b, g), info=info)


def _tinygrad(x, w, b, g):
    from tinygrad_nn import Value

    x, w, b = Value(x, requires_grad=False), Value(w), Value(b)

    def step():
        y = x
        for _ in range(N_OPS // 4):
            y = y * w
            y = y + b
            y = y.tanh()
            y = y.sigmoid()
        y.backward(g)
        return y

    return step, lambda v: float(v.data.sum())


def _numpy(x, w, b, g):
    import numpy as np

    gw = np.zeros_like(w)
    gb = np.zeros_like(b)
    tanh, exp, add = np.tanh, np.exp, np.add

    def step():
        # forward, keeping what backward needs
        saved = []
        y = x
        for _ in range(N_OPS // 4):
            y_in = y
            y = y * w
            y = y + b
            t = tanh(y)
            s = 1.0 / (1.0 + exp(-t))
            saved.append((y_in, t, s))
            y = s
        # backward, by hand
        gy = g
        for y_in, t, s in reversed(saved):
            gy = gy * (s * (1.0 - s))   # sigmoid
            gy = gy * (1.0 - t * t)     # tanh
            add(gb, gy, out=gb)          # + b
            add(gw, gy * y_in, out=gw)   # * w
            gy = gy * w
        return y

    return step, lambda v: float(v.sum())


def _torch(x, w, b, g):
    import torch

    x = torch.from_numpy(x)
    w = torch.from_numpy(w).requires_grad_()
    b = torch.from_numpy(b).requires_grad_()
    gt = torch.from_numpy(g)

    def step():
        y = x
        for _ in range(N_OPS // 4):
            y = y * w
            y = y + b
            y = torch.tanh(y)
            y = torch.sigmoid(y)
        y.backward(gt)
        return y

    return step, lambda v: float(v.detach().sum())


def _jax(x, w, b, g):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    xj, gj = jnp.asarray(x), jnp.asarray(g)
    params = (jnp.asarray(w), jnp.asarray(b))

    def chain(p, x):
        w, b = p
        y = x
        for _ in range(N_OPS // 4):
            y = jax.nn.sigmoid(jnp.tanh(y * w + b))
        return y

    @jax.jit
    def jstep(p, acc, x, g):
        y, vjp = jax.vjp(lambda p: chain(p, x), p)
        (gp,) = vjp(g)
        return y, jax.tree_util.tree_map(jnp.add, acc, gp)

    state = [(jnp.zeros_like(params[0]), jnp.zeros_like(params[1]))]

    def step():
        y, acc = jstep(params, state[0], xj, gj)
        jax.block_until_ready(acc)
        state[0] = acc
        return y

    return step, lambda v: float(v.sum())


_BUILDERS = {"tinygrad_nn": _tinygrad, "numpy": _numpy, "torch": _torch, "jax": _jax}
