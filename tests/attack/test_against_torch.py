"""The random programs of test_random_programs.py, run by PyTorch too: values and gradients in float64.

Only functions with a clear PyTorch twin are drawn (TWINS, by OpInfo name; an entry for a name the
registry does not hold, or holds as no elementwise function, is never drawn). Skipped without torch.
"""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nn import Value

from .programs import ELEMENTWISE, programs, run

torch = pytest.importorskip("torch")


def _clamp(x, lo=None, hi=None):
    return torch.clamp(x, min=lo, max=hi)


def _where(a, b, cond):
    return torch.where(torch.as_tensor(np.asarray(cond)), a, b)


def _softplus(x):
    return torch.nn.functional.softplus(x)


# OpInfo name -> the same function in PyTorch (same arguments and keyword params as the OpInfo's fn).
TWINS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "add_n": lambda a, b, c: a + b + c,
    "running_sum": lambda a, b, c: builtins.sum((x * c for x in (a, b, a)), a + b),
    "neg": lambda x: -x, "reciprocal": torch.reciprocal, "rdiv": lambda x: 2.0 / x,
    "pow": lambda a, b: a ** b, "rpow": lambda x: 2.0 ** x,
    "pow_0": lambda x: x ** 0, "pow_2": lambda x: x ** 2, "pow_3": lambda x: x ** 3, "pow_-1": lambda x: x ** -1,
    "pow_-2": lambda x: x ** -2, "pow_0.5": lambda x: x ** 0.5, "pow_1.7": lambda x: x ** 1.7,
    "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs, "tanh": torch.tanh,
    "sigmoid": torch.sigmoid, "relu": torch.relu, "clip": _clamp, "where": _where,
    # functions another part of the project may register (drawn only once they are elementwise OpInfos)
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "sinh": torch.sinh, "cosh": torch.cosh,
    "arcsin": torch.asin, "arccos": torch.acos, "arctan": torch.atan, "asin": torch.asin, "acos": torch.acos,
    "atan": torch.atan, "arcsinh": torch.asinh, "arctanh": torch.atanh, "log1p": torch.log1p,
    "expm1": torch.expm1, "log2": torch.log2, "log10": torch.log10, "exp2": torch.exp2, "square": torch.square,
    "erf": torch.erf, "softplus": _softplus, "silu": torch.nn.functional.silu,
}
DRAWN = sorted(set(TWINS) & set(ELEMENTWISE))

# PyTorch's kernels (vectorised exp, log, pow...) and numpy's round the last bit differently: as between
# the scalar and the tensor engine, some hundred ulps over a program.
RTOL, ATOL = 1e-11, 1e-13


class Torch:
    sigmoid = staticmethod(torch.sigmoid)
    tanh = staticmethod(torch.tanh)

    @staticmethod
    def call(name, args, params):
        return TWINS[name](*args, **params)


def test_the_draws_are_broad():
    # (An elementwise function without an entry in TWINS is still drawn by test_random_programs.py.)
    assert {"add", "mul", "div", "exp", "log", "tanh", "sigmoid", "relu", "where", "pow"} <= set(DRAWN)
    assert len(DRAWN) >= 20, DRAWN


@given(case=programs(DRAWN), data=st.data())
def test_programs_match_pytorch_in_float64(case, data):
    program, leaves = case
    xs = [Value(a) for a in leaves]
    out = run(program, xs)
    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2.0, 2.0, allow_subnormal=False)),
                         label="upstream")
    out.backward(upstream)

    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in leaves]
    tout = run(program, ts, fns=Torch)
    assert tout.dtype == torch.float64 and tuple(tout.shape) == out.shape
    tout.backward(torch.from_numpy(np.array(upstream)))

    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="values")
    for i, (x, t) in enumerate(zip(xs, ts)):
        want = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad, want, rtol=RTOL, atol=ATOL, err_msg=f"gradient of x{i}")
