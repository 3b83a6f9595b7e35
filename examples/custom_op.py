"""Add your own op to tinygrad_nn: softplus in about ten lines.

softplus(x) = log(1 + exp(x)) is a smooth relu. Its derivative is the sigmoid: d/dx softplus(x) = sigmoid(x).

An op is two functions side by side:
- forward(x): computes the output from plain payloads (a Python float, or a numpy array);
- vjp(g, ans, x): given g, the gradient of the output, returns the gradient of each input (a tuple).

Write the vjp with the library's ops (here `sigmoid`) rather than with numpy: then the same rule runs on plain
numbers in an ordinary backward pass, and on Values when a second derivative is asked for, so
gradgradcheck passes too.

Run it:  python examples/custom_op.py
"""

import numpy as np

from tinygrad_nn import Value, gradcheck, gradgradcheck
from tinygrad_nn.ops import OPS, defop, sigmoid
from tinygrad_nn.testing import OPINFOS, OpInfo, register_test

# Op names are global. Importing this file twice (a test suite may) must not register softplus twice,
# so reuse the op if it exists already.
if "softplus" in OPS:
    softplus = OPS["softplus"]
else:
    softplus = defop(
        "softplus",
        forward=lambda x: np.logaddexp(0.0, x),  # log(exp(0) + exp(x)), without overflow for large x
        vjp=lambda g, ans, x: (g * sigmoid(x),),  # chain rule: upstream gradient times the local slope
        doc="softplus(x) = log(1 + exp(x)), a smooth relu.",
    )

# Tell the property suite about it: it then checks softplus like every built-in op
# (forward against the numpy reference, gradient against finite differences, gradient of gradient).
if "softplus" not in OPINFOS:
    register_test(OpInfo(name="softplus", fn=softplus, ref=lambda x: np.logaddexp(0.0, x), domain=(-4.0, 4.0)))


def main():
    # 1. Use it like any op: on a scalar Value...
    x = Value(0.0)
    y = softplus(x)
    y.backward()
    print(f"softplus(0) = {y.data:.6f} (log 2 = {np.log(2):.6f}); its gradient there = {x.grad} (sigmoid(0) = 0.5)")

    # ...and on a tensor, in a bigger expression.
    t = Value(np.array([-3.0, -0.5, 0.0, 2.0, 30.0]))
    (softplus(t) * t).sum().backward()
    print("gradient of sum(softplus(t) * t):", np.round(t.grad, 6))

    # 2. Check the gradient rule against central differences, on a scalar and on a tensor.
    rng = np.random.default_rng(0)
    points = rng.uniform(-4.0, 4.0, size=(3, 4))
    checks = [
        ("gradcheck, 0-d input", gradcheck(softplus, np.array(0.7))),
        ("gradcheck, 3x4 input", gradcheck(softplus, points)),
        ("gradcheck, inside an expression", gradcheck(lambda a, b: (softplus(a @ b) ** 2).sum(),
                                                      points, rng.standard_normal(4))),
        ("gradgradcheck, 3x4 input", gradgradcheck(softplus, points)),
    ]
    for what, ok in checks:
        print(f"{what}: {'ok' if ok else 'FAILED'}")
    return checks


if __name__ == "__main__":
    main()
