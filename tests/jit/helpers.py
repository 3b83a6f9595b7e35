"""Eager and jitted twins of one training setup, and bitwise comparisons."""

from __future__ import annotations

import numpy as np

from tinygrad_nn import Value


def same_bits(a, b) -> bool:
    """Equal to the last bit (NaNs included), and of the same kind: float, array of one dtype and shape."""
    if isinstance(a, Value):
        a = a.data
    if isinstance(b, Value):
        b = b.data
    if a is None or b is None:
        return a is b
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and np.float64(a).tobytes() == np.float64(b).tobytes()
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def assert_same_state(params_a, params_b, what=""):
    for i, (p, q) in enumerate(zip(params_a, params_b)):
        assert same_bits(p.data, q.data), f"{what}: parameter {i} ({p.name}) differs"
        assert same_bits(p.grad, q.grad), f"{what}: gradient of parameter {i} ({p.name}) differs"


def train_twins(make, data, steps, jit_options=None):
    """make() -> (params, step function). Run `steps` eager steps on one copy and jitted steps on another,
    comparing results, parameters and gradients bit for bit after every step. Returns the jitted function."""
    from tinygrad_nn import jit

    params_e, step_e = make()
    params_j, step_j = make()
    jitted = jit.jit(step_j, **(jit_options or {}))
    for k in range(steps):
        args = data(k)
        out_e = step_e(*args)
        out_j = jitted(*args)
        assert same_bits(out_e, out_j), f"step {k}: results differ: {out_e} vs {out_j}"
        assert_same_state(params_e, params_j, f"step {k}")
    return jitted


def until_replaying(step, *args, limit=10_000):
    """Call a jitted function until its program is made (two calls record, the next run eagerly while the program
    is made, a slice per call); the number of calls it took. The next call with these arguments replays."""
    for n in range(1, limit + 1):
        step(*args)
        if step.replaying:
            return n
    raise AssertionError(f"no program after {limit} calls")


def training_step(net, opt, loss=None):
    """step(x, t): zero the gradients, loss(net(x), t) (the book's squared error by default), back-propagate,
    update; returns the loss."""
    if loss is None:
        from tinygrad_nn.nn import squared_error as loss

    def step(x, t):
        opt.zero_grad()
        value = loss(net(x), t)
        value.backward()
        opt.step()
        return value

    return step
