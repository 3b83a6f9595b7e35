"""Elementwise ops: arithmetic, the activation functions, and their gradient rules.

Forwards take Python floats (scalar Values) or numpy arrays (tensor Values); scalar forwards use
`math` so that scalar graphs stay in Python floats and match PyTorch's float64 results bit for bit.
Gradient rules never un-broadcast: the engine does that for every op at once.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import data_of
from .registry import defop

_BROADCAST = ("the shapes must broadcast: align them from the right, where each pair of sizes is equal or "
              "one of them is 1 (reshape or index with None to add axes of size 1)")


def _is_scalar(x) -> bool:
    return x.__class__ is float


# -- arithmetic --------------------------------------------------------------------------------

add = defop("add", lambda a, b: a + b,
            lambda g, ans, a, b: (g, g), _BROADCAST)


def _add_n(*xs):
    total = xs[0]
    for x in xs[1:]:  # left to right, as a chain of binary adds rounds: ((a + b) + c) + ...
        total = total + x
    return total


# The n-ary sum: one node where a chain of `+` would make n - 1. The engine records micrograd-style
# running sums (`sum(w * x for ...)`) with it; see "Running sums" in docs/engine.md.
add_n = defop("add_n", _add_n, lambda g, ans, *xs: (g,) * len(xs), _BROADCAST,
              doc="a + b + c + ..., summed left to right: one node for the whole sum.")

sub = defop("sub", lambda a, b: a - b,
            lambda g, ans, a, b: (g, -g), _BROADCAST)

mul = defop("mul", lambda a, b: a * b,
            lambda g, ans, a, b: (g * b, g * a), _BROADCAST)

# PyTorch's rule for the divisor is -g * ((a / b) / b); a / b is ans, and using it keeps bit-equality.
div = defop("div", lambda a, b: a / b,
            lambda g, ans, a, b: (g / b, -g * (ans / b)), _BROADCAST)

identity = defop("identity", lambda x: x, lambda g, ans, x: (g,),
                  doc="x itself, as a new node: marks where a gradient is wanted (see engine.gradients).")

neg = defop("neg", lambda x: -x, lambda g, ans, x: (-g,))

reciprocal = defop("reciprocal", lambda x: 1.0 / x,
                   lambda g, ans, x: (-g * (ans * ans),))


def _pow_forward(a, b):
    if (a < 0 and not b.is_integer()) if _is_scalar(a) and _is_scalar(b) else np.any(
            np.less(a, 0) & np.not_equal(b, np.round(b))):
        bad = np.less(a, 0) & np.not_equal(b, np.round(b))
        base, exponent = np.broadcast_to(a, bad.shape)[bad].flat[0], np.broadcast_to(b, bad.shape)[bad].flat[0]
        raise ValueError(f"pow: a negative base {float(base)!r} with the non-integer exponent {float(exponent)!r} has "
                         f"no real result; take abs() of the base or use an integer exponent")
    if _is_scalar(b):
        # PyTorch's CPU kernel special-cases these exponents (x*x for 2, a square root for 0.5...); following
        # it keeps results equal to PyTorch's wherever its kernels round correctly.
        if b == 2:
            return a * a
        if b == 3:
            return a * a * a
        if b == 1:
            return a
        if b == -1:
            return 1.0 / a
        if b == -2:
            return 1.0 / (a * a)
        if b == 0.5:
            return math.sqrt(a) if _is_scalar(a) else np.sqrt(a)
        if b == -0.5:
            return 1.0 / (math.sqrt(a) if _is_scalar(a) else np.sqrt(a))
    return a ** b


def _pow_grad_base(g, ans, a, b):
    k = data_of(b)
    if _is_scalar(k):  # a number exponent (the common x ** 2): PyTorch's k * x ** (k - 1)
        if k == 0:
            return g * 0.0
        if k == 2:  # x ** 1 is x itself: skip the call (same value)
            return g * (2.0 * a)
        return g * (k * pow(a, k - 1.0))
    # Where b == 0 the slope is 0, at a = 0 too: a ** (b - 1) would be 0 ** -1 there, so it is taken at a
    # base of 1 instead and masked out.
    b_nonzero = np.not_equal(k, 0)
    return where(b_nonzero, g * (b * pow(where(b_nonzero, a, 1.0), b - 1.0)), 0.0)


def _pow_grad_exponent(g, ans, a, b):
    # d/db a ** b = a ** b log a; at a = 0 PyTorch takes it as 0 (the limit from above for b > 0).
    a_nonzero = np.not_equal(data_of(a), 0)
    return g * where(a_nonzero, ans * log(where(a_nonzero, a, 1.0)), 0.0)


_pow = defop("pow", _pow_forward, (_pow_grad_base, _pow_grad_exponent), _BROADCAST,
             doc="a ** b, elementwise; the exponent may be a number, an array or a Value (then it gets a gradient).")


def pow(a, b):  # noqa: A001 - mirrors Python's pow for Values
    """a ** b: the base and the exponent may each be a number, an array or a Value.

    >>> from tinygrad_nn import Value
    >>> x = Value(3.0); (x ** 2).backward(); x.grad
    6.0
    """
    if isinstance(b, (complex, np.complexfloating)):
        raise TypeError(f"pow: exponent must be real, got {b!r}")
    return _pow(a, b)


# -- elementwise functions ----------------------------------------------------------------------


def _exp(x):
    if _is_scalar(x):
        try:
            return math.exp(x)
        except OverflowError:  # PyTorch and numpy give inf; so do we
            return math.inf
    # exp(-1000) is 0, correctly rounded: no error worth raising even under np.errstate(under="raise").
    with np.errstate(under="ignore"):
        return np.exp(x)


exp = defop("exp", _exp, lambda g, ans, x: (g * ans,))


def _log(x):
    if _is_scalar(x):
        if x > 0:
            return math.log(x)
        if x == 0:
            return -math.inf
        if x != x:  # NaN in, NaN out, as numpy and PyTorch
            return x
        raise ValueError(f"log: input {x!r} is outside the domain x >= 0; clip it first (e.g. x.clip(1e-12, None))")
    return np.log(x)


log = defop("log", _log, lambda g, ans, x: (g / x,))


def _sqrt(x):
    if _is_scalar(x):
        if x < 0:
            raise ValueError(f"sqrt: input {x!r} is negative; sqrt needs x >= 0 (use abs() or clip first)")
        return math.sqrt(x)
    return np.sqrt(x)


sqrt = defop("sqrt", _sqrt, lambda g, ans, x: (g / (2.0 * ans),))

abs = defop("abs", lambda x: (x if x >= 0 else -x) if _is_scalar(x) else np.abs(x),  # noqa: A001
            # sign(0) = 0: at the kink the gradient is 0, as in PyTorch.
            lambda g, ans, x: (g * np.sign(data_of(x)),))

tanh = defop("tanh", lambda x: math.tanh(x) if _is_scalar(x) else np.tanh(x),
             lambda g, ans, x: (g * (1.0 - ans * ans),))


def _sigmoid(x):
    # 1 / (1 + exp(-z)) is accurate for every z (PyTorch's formula); for z < -709 exp overflows to inf
    # and the result is the right 0, so that overflow is no error worth a warning (or an exception).
    if _is_scalar(x):
        return 1.0 / (1.0 + _exp(-x))
    with np.errstate(over="ignore", under="ignore"):
        e = np.negative(x, out=np.empty_like(x))  # an array even for 0-d x, so the steps below stay in place
        np.exp(e, out=e)
        e += 1.0
        return np.reciprocal(e, out=e)


sigmoid = defop("sigmoid", _sigmoid, lambda g, ans, x: (g * (1.0 - ans) * ans,),  # PyTorch's order
                doc="The book's activation a(z) = 1 / (1 + exp(-z)), stable for any z.")

def _relu_vjp(g, ans, x):
    # relu'(0) = 0: the mask is taken from the output, as PyTorch does: 0 where it is <= 0, 1 elsewhere
    # (where it is NaN too).
    if ans.__class__ is float:
        return (g * (not ans <= 0.0),)
    return (g * np.logical_not(data_of(ans) <= 0),)


# NaN stays NaN (0.0 if x <= 0 else x), as in numpy and PyTorch.
relu = defop("relu", lambda x: (0.0 if x <= 0.0 else x) if _is_scalar(x) else np.maximum(x, 0), _relu_vjp)

step = defop("step",
             lambda x: (1.0 if x >= 0 else 0.0) if _is_scalar(x) else (x >= 0).astype(x.dtype),
             # The unit step is flat wherever it has a slope at all: its gradient is 0 everywhere
             # (at z = 0 too), so nothing learns through it; that is why the book moves on to sigmoid.
             lambda g, ans, x: (g * 0.0,),
             doc="The book's unit step: 1 where z >= 0, else 0. Its gradient is 0 everywhere.")


def _clip(x, lo=None, hi=None):
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lower bound {lo!r} is above upper bound {hi!r}; swap them")
    if _is_scalar(x):
        if lo is not None and x < lo:
            return float(lo)
        if hi is not None and x > hi:
            return float(hi)
        return x
    return np.clip(x, lo, hi)


def _clip_vjp(g, ans, x, lo=None, hi=None):
    xd = data_of(x)
    inside = np.ones(np.shape(xd), bool)  # the gradient passes where lo <= x <= hi, as in PyTorch
    if lo is not None:
        inside &= np.greater_equal(xd, lo)
    if hi is not None:
        inside &= np.less_equal(xd, hi)
    return (g * inside,)


_clip_op = defop("clip", _clip, _clip_vjp)


def clip(x, lo=None, hi=None):
    """x limited to [lo, hi] (either bound may be None); the gradient passes where lo <= x <= hi.

    >>> from tinygrad_nn import Value
    >>> Value([-2.0, 0.5, 3.0]).clip(0, 1)
    Value([0. , 0.5, 1. ])
    """
    return _clip_op(x, lo=lo, hi=hi)


def _extremum_vjp(first_wins):
    def vjp(g, ans, a, b):
        ad, bd = data_of(a), data_of(b)
        tie = np.equal(ad, bd)
        # On a tie the two inputs share the gradient evenly, as in PyTorch.
        ga = g * first_wins(ad, bd) + (g * tie) * 0.5
        gb = g * first_wins(bd, ad) + (g * tie) * 0.5
        return ga, gb

    return vjp


# Scalars propagate NaN from either side, as np.maximum and PyTorch do: `a >= b` is False for a NaN.
maximum = defop("maximum",
                lambda a, b: (a if a >= b or a != a else b) if _is_scalar(a) and _is_scalar(b) else np.maximum(a, b),
                _extremum_vjp(np.greater), _BROADCAST)
minimum = defop("minimum",
                lambda a, b: (a if a <= b or a != a else b) if _is_scalar(a) and _is_scalar(b) else np.minimum(a, b),
                _extremum_vjp(np.less), _BROADCAST)


def _where(a, b, cond):
    if _is_scalar(a) and _is_scalar(b) and np.ndim(cond) == 0:
        return a if cond else b
    return np.where(cond, a, b)


_where_op = defop("where", _where,
                  lambda g, ans, a, b, cond: (g * cond, g * np.logical_not(cond)), _BROADCAST)


def where(cond, a, b):
    """a where cond holds, else b (elementwise, broadcasting). `cond` carries no gradient: booleans, or
    integers (nonzero is true).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, where
    >>> x = Value([-1.0, 2.0])
    >>> where(x > 0, x, 0.0)
    Value([0., 2.])
    """
    cond = data_of(cond)
    if not isinstance(cond, (bool, np.bool_)):
        kind = np.asarray(cond).dtype.kind
        if kind not in "biu":
            raise TypeError(f"where: the condition must be booleans (or integers), got {type(cond).__name__} of "
                            f"dtype {np.asarray(cond).dtype}; compare first, e.g. where(x > 0, a, b)")
        cond = np.asarray(cond, dtype=bool)
    return _where_op(a, b, cond=cond)
