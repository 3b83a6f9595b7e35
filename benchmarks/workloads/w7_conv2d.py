"""W7: one convolution layer, forward and backward: Conv2d(16, 32, 3, padding=1) on a (64, 16, 28, 28) batch,
float32.

One step = zero the parameters' gradients, forward, backward seeded with a fixed upstream gradient of the
output's shape (normal(0, 1), numpy seed 2), as inside a network whose later layers are not timed. Two
rows: the input needs a gradient (a hidden layer: the backward computes the image, filter and bias
gradients), and the input is a data batch (the first layer: filter and bias gradients only). Both sides
start from the same weights (uniform in +-1/sqrt(fan_in), numpy seed 1) and the same input (normal(0, 1),
numpy seed 0). The loss compared across implementations is the inner product of the output with the
upstream gradient (computed in float64 after the step, untimed). ``--quick`` shrinks it to
Conv2d(4, 8, 3, padding=1) on (2, 4, 8, 8).
"""

from __future__ import annotations

from benchmarks.common import Case

IMPLS = ("tinygrad_nn", "tinygrad_nn_jit", "torch")


def sizes_of(cfg):
    """(batch, in_channels, out_channels, image side, kernel, padding)."""
    return (2, 4, 8, 8, 3, 1) if cfg.get("quick") else (64, 16, 32, 28, 3, 1)


def build(impl, cfg):
    import numpy as np

    n, c_in, c_out, side, k, pad = sizes_of(cfg)
    x = np.random.default_rng(0).standard_normal((n, c_in, side, side)).astype(np.float32)
    bound = 1.0 / np.sqrt(c_in * k * k)
    rng = np.random.default_rng(1)
    w = rng.uniform(-bound, bound, (c_out, c_in, k, k)).astype(np.float32)
    b = rng.uniform(-bound, bound, c_out).astype(np.float32)
    side_out = side + 2 * pad - k + 1
    g = np.random.default_rng(2).standard_normal((n, c_out, side_out, side_out)).astype(np.float32)
    info = {"batch": n, "in_channels": c_in, "out_channels": c_out, "side": side, "kernel": k, "padding": pad,
            "input_grad": bool(cfg["input_grad"]), "dtype": "float32"}
    step, output = _BUILDERS[impl](x, w, b, g, pad, cfg["input_grad"])
    g64 = g.astype(np.float64)
    return Case(step, lambda y: float(np.vdot(output(y).astype(np.float64), g64)), info=info,
                ready=getattr(step, "ready", None))


def _tinygrad(x, w, b, g, pad, input_grad):
    import numpy as np

    from tinygrad_nn import Value
    from tinygrad_nn.nn import Conv2d

    conv = Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=pad, dtype=np.float32)
    conv.weight.data[...] = w
    conv.bias.data[...] = b

    def step():
        conv.zero_grad()
        # a fresh node each step, as a hidden layer's input is; a plain array is a constant (no image gradient)
        y = conv(Value(x) if input_grad else x)
        y.backward(g)
        return y

    return step, lambda y: y.data


def _torch(x, w, b, g, pad, input_grad):
    import torch

    conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=pad)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        conv.bias.copy_(torch.from_numpy(b))
    xt = torch.from_numpy(x).requires_grad_(input_grad)
    gt = torch.from_numpy(g)

    def step():
        conv.zero_grad()
        xt.grad = None
        y = conv(xt)
        y.backward(gt)
        return y

    return step, lambda y: y.detach().numpy()


def _tinygrad_jit(x, w, b, g, pad, input_grad):
    import numpy as np

    from benchmarks.workloads import jit_case
    from tinygrad_nn import Value
    from tinygrad_nn.nn import Conv2d

    def make():
        conv = Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=pad, dtype=np.float32)
        conv.weight.data[...] = w
        conv.bias.data[...] = b

        def step(inp):
            conv.zero_grad()
            y = conv(inp)
            y.backward(g)
            return y

        return step

    # the image as an argument: a Value that gets its gradient (input_grad), or the plain array (a data batch)
    xv = Value(x) if input_grad else x
    jitted, _ = jit_case(make, xv)

    def step():
        if input_grad:
            xv.grad = None  # as the eager step's fresh Value(x) starts
        return jitted(xv)

    step.ready = lambda: jitted.replaying
    return step, lambda y: y.data


_BUILDERS = {"tinygrad_nn": _tinygrad, "tinygrad_nn_jit": _tinygrad_jit, "torch": _torch}
