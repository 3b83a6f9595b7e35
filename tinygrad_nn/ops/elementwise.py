"""Elementwise ops: arithmetic, the activation functions, and their gradient rules.

Forwards take Python floats (scalar Values) or numpy arrays (tensor Values); scalar forwards use
`math` so that scalar graphs stay in Python floats and match PyTorch's float64 results bit for bit.
Gradient rules never un-broadcast: the engine does that for every op at once.
"""

from __future__ import annotations

import builtins
import math
import sys

import numpy as np

from ..engine import Value, data_of
from ..engine.core_ops import identity  # noqa: F401  (the engine's op, exported with this family)
from .registry import composite, defop, doctests

_BROADCAST = ("the shapes must broadcast: align them from the right, where each pair of sizes is equal or "
              "one of them is 1 (reshape or index with None to add axes of size 1)")


_NO_PARAMS: dict = {}  # shared, never written: apply reads params only


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

# One rule per input: the book's cost subtracts a constant target, whose -g nobody needs (benchmark W2).
sub = defop("sub", lambda a, b: a - b,
            (lambda g, ans, a, b: g, lambda g, ans, a, b: -g), _BROADCAST)

mul = defop("mul", lambda a, b: a * b,
            lambda g, ans, a, b: (g * b, g * a), _BROADCAST)

# PyTorch's rule for the divisor is -g * ((a / b) / b); a / b is ans, and using it keeps bit-equality.
div = defop("div", lambda a, b: a / b,
            lambda g, ans, a, b: (g / b, -g * (ans / b)), _BROADCAST)

neg = defop("neg", lambda x: -x, lambda g, ans, x: (-g,))

reciprocal = defop("reciprocal", lambda x: 1.0 / x,
                   lambda g, ans, x: (-g * (ans * ans),))


def _has_no_real_result(a, b) -> bool:
    """Whether some negative base meets a non-integer exponent (a number exponent is checked cheaply first:
    the book's (t - a) ** 2 is an integer power of an array)."""
    if _is_scalar(b):
        return not b.is_integer() and (a < 0 if _is_scalar(a) else bool(np.any(np.less(a, 0))))
    return bool(np.any(np.less(a, 0) & np.not_equal(b, np.round(b))))


def _pow_forward(a, b):
    if b.__class__ is float and a.__class__ is not float and b.is_integer():  # an integer power of an array
        return a * a if b == 2.0 else _pow_kernels(a, b)  # (the book's (a - t) ** 2: benchmark W2)
    if _has_no_real_result(a, b):
        if not (_is_scalar(a) and _is_scalar(b)):  # arrays: NaN there, as numpy and PyTorch (out of the domain)
            with np.errstate(invalid="ignore"):
                return np.power(a, b)
        bad = np.less(a, 0) & np.not_equal(b, np.round(b))
        base, exponent = np.broadcast_to(a, bad.shape)[bad].flat[0], np.broadcast_to(b, bad.shape)[bad].flat[0]
        raise ValueError(f"pow: a negative base {float(base)!r} with the non-integer exponent {float(exponent)!r} has "
                         f"no real result; take abs() of the base or use an integer exponent")
    if _is_scalar(a) and _is_scalar(b):
        try:
            return _pow_kernels(a, b)
        except OverflowError:  # 2.0 ** 2000.0: Python raises where numpy and PyTorch give +-inf, and so do we
            return _pow_numpy(a, b)
        except ZeroDivisionError:
            if a == 0.0:  # 0.0 ** -1: a float divided by 0.0 raises, as `/` does (apply._explain says so)
                raise
            return _pow_numpy(a, b)  # 1e-300 ** -2: a*a underflowed to 0.0, but the true result is inf
    return _pow_kernels(a, b)


def _pow_numpy(a, b):
    """numpy's a ** b of two floats, as a float: +-inf on overflow (the sign of (-2.0) ** 2001.0 kept)."""
    with np.errstate(over="ignore", divide="ignore"):
        return float(np.power(a, b))


def _pow_kernels(a, b):
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
    # A number exponent (the common x ** 2): PyTorch's k * x ** (k - 1), with k a constant. A scalar Value that
    # needs a gradient is no constant (under create_graph the slope depends on it: d2/dxdy of x ** y).
    if _is_scalar(k) and (b is k or not b.requires_grad):  # (b is k: a payload, in an ordinary backward pass)
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


def _pow_args(a, b):
    """a ** b, elementwise: the base and the exponent may each be a number, an array or a Value (then it gets a
    gradient).

    >>> from tinygrad_nn import Value
    >>> x = Value(3.0); (x ** 2).backward(); x.grad
    6.0
    """
    if isinstance(b, (complex, np.complexfloating)):
        raise TypeError(f"pow: exponent must be real, got {b!r}")
    return (a, b), _NO_PARAMS


pow = defop("pow", _pow_forward, (_pow_grad_base, _pow_grad_exponent), _BROADCAST,  # noqa: A001 (Python's pow)
            prepare=_pow_args, method="pow")


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


exp = defop("exp", _exp, lambda g, ans, x: (g * ans,), method="exp")


def _log(x):
    # Outside the domain, NaN; at 0, -inf: numpy's and PyTorch's convention, for Python floats too (as for
    # log2, arcsin and the rest). detect_anomaly() finds where a NaN came from.
    if _is_scalar(x):
        if x > 0:
            return math.log(x)
        return -math.inf if x == 0 else math.nan
    return np.log(x)


log = defop("log", _log, lambda g, ans, x: (g / x,), method="log")


def _sqrt(x):
    if _is_scalar(x):
        return math.sqrt(x) if not x < 0 else math.nan  # NaN for a negative input, as numpy and PyTorch
    return np.sqrt(x)


sqrt = defop("sqrt", _sqrt, lambda g, ans, x: (g / (2.0 * ans),), method="sqrt")

abs = defop("abs", lambda x: (x if x >= 0 else -x) if _is_scalar(x) else np.abs(x),  # noqa: A001
            # sign(0) = 0: at the kink the gradient is 0, as in PyTorch.
            lambda g, ans, x: (g * np.sign(data_of(x)),), method="abs")

tanh = defop("tanh", lambda x: math.tanh(x) if _is_scalar(x) else np.tanh(x),
             lambda g, ans, x: (g * (1.0 - ans * ans),), method="tanh")


def _sigmoid(x):
    # 1 / (1 + exp(-z)) is accurate for every z (PyTorch's formula); for z < -709 exp overflows to inf
    # and the result is the right 0, so that overflow is no error worth a warning (or an exception).
    if _is_scalar(x):
        return 1.0 / (1.0 + _exp(-x))
    with np.errstate(over="ignore", under="ignore"):
        try:
            e = np.negative(x, out=np.empty_like(x))  # an array even for 0-d x, so the steps below stay in place
            np.exp(e, out=e)
        except TypeError:  # integers or booleans (a Value's payload is floats already): as float64, as other ops
            e = np.array(x, dtype=np.float64)  # a fresh array, 0-d too
            np.exp(np.negative(e, out=e), out=e)
        e += 1.0
        return np.reciprocal(e, out=e)


sigmoid = defop("sigmoid", _sigmoid, lambda g, ans, x: (g * (1.0 - ans) * ans,),  # PyTorch's order
                doc="The book's activation a(z) = 1 / (1 + exp(-z)), stable for any z.", method="sigmoid")

def _relu_vjp(g, ans, x):
    # relu'(0) = 0: the mask is taken from the output, as PyTorch does: 0 where it is <= 0, 1 elsewhere
    # (where it is NaN too).
    if ans.__class__ is float:
        return (g * (not ans <= 0.0),)
    return (g * np.logical_not(data_of(ans) <= 0),)


# NaN stays NaN (0.0 if x <= 0 else x), as in numpy and PyTorch.
relu = defop("relu", lambda x: (0.0 if x <= 0.0 else x) if _is_scalar(x) else np.maximum(x, 0), _relu_vjp,
             method="relu")

step = defop("step",
             lambda x: (1.0 if x >= 0 else 0.0) if _is_scalar(x) else (x >= 0).astype(x.dtype),
             # The unit step is flat wherever it has a slope at all: its gradient is 0 everywhere
             # (at z = 0 too), so nothing learns through it; that is why the book moves on to sigmoid.
             lambda g, ans, x: (g * 0.0,),
             doc="The book's unit step: 1 where z >= 0, else 0. Its gradient is 0 everywhere.", method="step")


# Bounds that are numbers or arrays are parameters; when either is a Value both are inputs (a missing one
# then an infinite bound), and get gradients as PyTorch's clamp with tensor bounds gives them. The forward
# and the rule take the bounds either way: positionally as inputs, or by keyword as parameters.


def _clip(x, *bounds, lo=None, hi=None):
    if bounds:
        lo, hi = bounds
    if lo is not None and hi is not None and (lo > hi if _is_scalar(lo) and _is_scalar(hi)
                                              else np.any(np.greater(lo, hi))):
        raise ValueError(f"clip: lower bound {lo!r} is above upper bound {hi!r}; swap them")
    if _is_scalar(x) and (lo is None or _is_scalar(lo)) and (hi is None or _is_scalar(hi)):
        if lo is not None and x < lo:
            return float(lo)
        if hi is not None and x > hi:
            return float(hi)
        return x
    return np.clip(x, lo, hi)


def _clip_vjp(g, ans, x, *bounds, lo=None, hi=None):
    xd = data_of(x)
    if bounds:
        lo, hi = (data_of(b) for b in bounds)
    inside = np.ones(np.shape(xd), bool)  # the gradient passes where lo <= x <= hi, as in PyTorch
    if lo is not None:
        inside &= np.greater_equal(xd, lo)
    if hi is not None:
        inside &= np.less_equal(xd, hi)
    if not bounds:
        return (g * inside,)
    # A bound gets the gradient where it is the output: where x is beyond it (x == lo is x's, as in PyTorch).
    return g * inside, g * np.less(xd, lo), g * np.greater(xd, hi)


def _clip_args(x, lo=None, hi=None):
    """x limited to [lo, hi] (either bound may be None); the gradient passes to x where lo <= x <= hi. A bound
    may be a Value: it then gets the gradient where x is beyond it (PyTorch's clamp with tensor bounds).

    >>> from tinygrad_nn import Value
    >>> Value([-2.0, 0.5, 3.0]).clip(0, 1)
    Value([0. , 0.5, 1. ])
    >>> x, lo = Value([-2.0, 0.5]), Value(0.0)
    >>> x.clip(lo).sum().backward(); x.grad, lo.grad
    (array([0., 1.]), 1.0)
    """
    if isinstance(lo, Value) or isinstance(hi, Value):
        return (x, -math.inf if lo is None else lo, math.inf if hi is None else hi), _NO_PARAMS
    return (x,), {"lo": lo, "hi": hi}


clip = defop("clip", _clip, _clip_vjp, prepare=_clip_args, inputs=1, method="clip")


def _extremum_vjp(first_loses):
    def vjp(g, ans, a, b):
        ad, bd = data_of(a), data_of(b)
        tie = np.equal(ad, bd)
        # PyTorch's rule: an input gets the gradient unless it loses, and on a tie the two share it evenly. Where
        # either is NaN neither loses (every comparison is False), so both get it and the NaN is not trained past.
        ga = g * np.logical_not(first_loses(ad, bd)) - (g * tie) * 0.5
        gb = g * np.logical_not(first_loses(bd, ad)) - (g * tie) * 0.5
        return ga, gb

    return vjp


# Scalars propagate NaN from either side, as np.maximum and PyTorch do: `a >= b` is False for a NaN.
maximum = defop("maximum",
                lambda a, b: (a if a >= b or a != a else b) if _is_scalar(a) and _is_scalar(b) else np.maximum(a, b),
                _extremum_vjp(np.less), _BROADCAST, method="maximum")
minimum = defop("minimum",
                lambda a, b: (a if a <= b or a != a else b) if _is_scalar(a) and _is_scalar(b) else np.minimum(a, b),
                _extremum_vjp(np.greater), _BROADCAST, method="minimum")


def _where(a, b, cond):
    if _is_scalar(a) and _is_scalar(b) and np.ndim(cond) == 0:
        return a if cond else b
    return np.where(cond, a, b)


def _where_args(cond, a, b):
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
    return (a, b), {"cond": cond}


# The inputs are a and b; the condition, which carries no gradient, is a parameter.
where = defop("where", _where, lambda g, ans, a, b, cond: (g * cond, g * np.logical_not(cond)), _BROADCAST,
              prepare=_where_args, inputs=2)


# ==============================================================================================
# Trigonometric and hyperbolic functions, logarithms and exponentials of other bases,
# two-input functions, rounding, NaN-aware extrema, the remainder, angle conversions and nan_to_num.
#
# Each forward takes a Python float (computed with `math`: scalar graphs stay in Python floats) or a
# numpy array (computed with numpy, float32 kept). Outside a function's domain the result is NaN, and
# on overflow it is +-inf, as in numpy and PyTorch: `math` raises there, so the float path then asks
# numpy for its answer (arcsin(2.0) is nan, sinh(1000.0) is inf). Arrays follow numpy exactly,
# RuntimeWarnings included.
#
# At a pole of the slope (log2 at 0, arcsin at +-1, arctanh at +-1...) arrays get inf or nan, as in
# numpy and PyTorch; Python-float gradients follow the engine's rule for a float divided by 0.0 in a
# gradient rule.

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _elementwise(name, math_fn, np_fn):
    """The forward of a one-input function: `math_fn` on a float, `np_fn` on an array."""

    def forward(x):
        if x.__class__ is float:
            try:
                return math_fn(x)
            except (ValueError, OverflowError):  # outside the domain, or overflow: numpy's nan or inf
                with np.errstate(all="ignore"):
                    return float(np_fn(x))
        return np_fn(x)

    forward.__name__ = f"_{name}_forward"
    return forward


def _elementwise2(name, math_fn, np_fn):
    """The forward of a two-input function: `math_fn` on two floats, `np_fn` (broadcasting) otherwise."""

    def forward(a, b):
        if a.__class__ is float and b.__class__ is float:
            try:
                return math_fn(a, b)
            except (ValueError, OverflowError):
                with np.errstate(all="ignore"):
                    return float(np_fn(a, b))
        return np_fn(a, b)

    forward.__name__ = f"_{name}_forward"
    return forward


def _root(y):
    """sqrt(y) in a gradient rule of an inverse function. Outside the function's domain its forward gave NaN
    (as numpy and PyTorch do); the slope there is NaN too, rather than sqrt's error about a negative input."""
    yd = data_of(y)
    if yd.__class__ is float and yd < 0:
        return math.nan
    return sqrt(y)


def _div_or_zero(num, den):
    """num / den where den != 0, and 0 where den == 0: for a slope whose limit does not exist at one point
    (arctan2 at the origin), taken as 0 there as PyTorch does. `den` carries no zero through the division,
    so no inf or nan enters the gradient graph either."""
    dd = data_of(den)
    if dd.__class__ is float:
        return num / den if dd != 0 else 0.0
    nonzero = np.not_equal(dd, 0)
    if nonzero.all():
        return num / den
    return where(nonzero, num / where(nonzero, den, 1.0), 0.0)


def _no_slope(g, ans, x, **params):
    """The gradient of a piecewise-constant function (sign, floor, ceil, round): 0 everywhere, at its jumps
    too (PyTorch's convention; the jumps have no derivative at all). Zeros of x's dtype, not g * 0, so that
    an inf or nan upstream does not turn into nan here."""
    xd = data_of(x)
    return (0.0 if xd.__class__ is float else np.zeros_like(xd),)


# -- trigonometric ------------------------------------------------------------------------------

sin = defop("sin", _elementwise("sin", math.sin, np.sin),
            lambda g, ans, x: (g * cos(x),), method="sin")

cos = defop("cos", _elementwise("cos", math.cos, np.cos),
            lambda g, ans, x: (g * -sin(x),), method="cos")

# tan' = 1 + tan^2: written with the output, as PyTorch does (one node fewer than 1 / cos^2).
tan = defop("tan", _elementwise("tan", math.tan, np.tan),
            lambda g, ans, x: (g * (1.0 + ans * ans),), method="tan")

# (1 - x)(1 + x) rather than 1 - x*x: exact factors, so the slope keeps its precision next to +-1.
arcsin = defop("arcsin", _elementwise("arcsin", math.asin, np.arcsin),
               lambda g, ans, x: (g / _root((1.0 - x) * (1.0 + x)),),
               doc="The inverse sine, in [-pi/2, pi/2]; NaN outside [-1, 1]. The slope is infinite at +-1.",
               method=("arcsin", "asin"))

arccos = defop("arccos", _elementwise("arccos", math.acos, np.arccos),
               lambda g, ans, x: (-g / _root((1.0 - x) * (1.0 + x)),),
               doc="The inverse cosine, in [0, pi]; NaN outside [-1, 1]. The slope is infinite at +-1.",
               method=("arccos", "acos"))

arctan = defop("arctan", _elementwise("arctan", math.atan, np.arctan),
               lambda g, ans, x: (g / (1.0 + x * x),), method=("arctan", "atan"))


def _arctan2_vjp(g, ans, a, b):
    # d/da atan2(a, b) = b / (a^2 + b^2), d/db = -a / (a^2 + b^2). At the origin the angle has no limit;
    # the gradient there is taken as 0, as PyTorch does.
    r = a * a + b * b
    return g * _div_or_zero(b, r), g * _div_or_zero(-a, r)


arctan2 = defop("arctan2", _elementwise2("arctan2", math.atan2, np.arctan2), _arctan2_vjp, _BROADCAST,
                doc="The angle of the point (b, a) (numpy's arctan2(y, x)), in [-pi, pi]. Its gradient at the "
                    "origin, where the angle has no limit, is 0 (PyTorch's choice).", method=("arctan2", "atan2"))

# -- hyperbolic ---------------------------------------------------------------------------------

sinh = defop("sinh", _elementwise("sinh", math.sinh, np.sinh),
             lambda g, ans, x: (g * cosh(x),), method="sinh")

cosh = defop("cosh", _elementwise("cosh", math.cosh, np.cosh),
             lambda g, ans, x: (g * sinh(x),), method="cosh")

arcsinh = defop("arcsinh", _elementwise("arcsinh", math.asinh, np.arcsinh),
                lambda g, ans, x: (g / sqrt(x * x + 1.0),), method=("arcsinh", "asinh"))

arccosh = defop("arccosh", _elementwise("arccosh", math.acosh, np.arccosh),
                lambda g, ans, x: (g / _root((x - 1.0) * (x + 1.0)),),
                doc="The inverse hyperbolic cosine; NaN below 1. The slope is infinite at 1.",
                method=("arccosh", "acosh"))

arctanh = defop("arctanh", _elementwise("arctanh", math.atanh, np.arctanh),
                lambda g, ans, x: (g / ((1.0 - x) * (1.0 + x)),),
                doc="The inverse hyperbolic tangent; +-inf at +-1 and NaN beyond.", method=("arctanh", "atanh"))

# -- logarithms and exponentials ----------------------------------------------------------------

log1p = defop("log1p", _elementwise("log1p", math.log1p, np.log1p),
              lambda g, ans, x: (g / (1.0 + x),),
              doc="log(1 + x), accurate for tiny x; -inf at -1 and NaN below.", method="log1p")

expm1 = defop("expm1", _elementwise("expm1", math.expm1, np.expm1),
              lambda g, ans, x: (g * (ans + 1.0),),
              doc="exp(x) - 1, accurate for tiny x.", method="expm1")

log2 = defop("log2", _elementwise("log2", math.log2, np.log2),
             lambda g, ans, x: (g / (x * _LN2),), method="log2")

log10 = defop("log10", _elementwise("log10", math.log10, np.log10),
              lambda g, ans, x: (g / (x * _LN10),), method="log10")

exp2 = defop("exp2", _elementwise("exp2", lambda x: 2.0 ** x, np.exp2),
             lambda g, ans, x: (g * (ans * _LN2),), method="exp2")


@composite(method="square")
def square(x):
    """x * x, as x ** 2 (the same node, so its gradient rule is pow's).

    >>> from tinygrad_nn import Value
    >>> x = Value(3.0); y = x.square(); y.backward(); (y.data, x.grad)
    (9.0, 6.0)
    """
    return pow(x, 2)


# -- functions of two inputs --------------------------------------------------------------------

# hypot' = (a, b) / hypot: at the origin that is 0 / 0, NaN as in PyTorch (for Python floats, the engine's
# rule for a float divided by 0.0 in a gradient rule).
hypot = defop("hypot", _elementwise2("hypot", math.hypot, np.hypot),
              lambda g, ans, a, b: (g * (a / ans), g * (b / ans)), _BROADCAST,
              doc="sqrt(a**2 + b**2) without overflow or underflow. Its gradient at the origin is NaN (PyTorch).",
              method="hypot")


def _logaddexp_float(a, b):
    # As numpy computes it: the larger input plus log1p(exp(-|a - b|)), so nothing overflows.
    if a == b:  # also +-inf == +-inf, where a - b would be nan
        return a + _LN2
    d = a - b
    if d > 0:
        return a + math.log1p(math.exp(-d))
    if d <= 0:
        return b + math.log1p(math.exp(d))
    return d  # a nan input


def _logaddexp2_float(a, b):
    if a == b:
        return a + 1.0
    d = a - b
    if d > 0:
        return a + math.log1p(2.0 ** -d) / _LN2
    if d <= 0:
        return b + math.log1p(2.0 ** d) / _LN2
    return d


# d/da log(e^a + e^b) = e^a / (e^a + e^b) = sigmoid(a - b): the stable sigmoid never overflows, and the
# gradient stays right at infinite inputs (logaddexp(inf, 1) gives gradients 1 and 0, as in PyTorch).
logaddexp = defop("logaddexp", _elementwise2("logaddexp", _logaddexp_float, np.logaddexp),
                  lambda g, ans, a, b: (g * sigmoid(a - b), g * sigmoid(b - a)), _BROADCAST,
                  doc="log(exp(a) + exp(b)), computed without overflow.", method="logaddexp")

# In base 2: 2^a / (2^a + 2^b) = sigmoid((a - b) ln 2).
logaddexp2 = defop("logaddexp2", _elementwise2("logaddexp2", _logaddexp2_float, np.logaddexp2),
                   lambda g, ans, a, b: (g * sigmoid((a - b) * _LN2), g * sigmoid((b - a) * _LN2)), _BROADCAST,
                   doc="log2(2**a + 2**b), computed without overflow.", method="logaddexp2")


def _sinc_float(x):
    if x == 0.0:
        return 1.0
    y = math.pi * x
    return math.sin(y) / y


# sinc'(x) = (cos(pi x) - sinc(x)) / x. Next to 0 that formula cancels (both terms are near 1), and at 0 it is
# 0 / 0; there its Taylor series is used instead: sinc'(x) = -pi^2 x/3 + pi^4 x^3/30 - pi^6 x^5/840 + ...
# Below |x| = 0.01 the terms left out are below 1e-13 of the sum. Being a polynomial in x, the series is also
# differentiated correctly: the second derivative at 0 is -pi^2/3 (PyTorch's is NaN there).
_SINC_SERIES_BELOW = 0.01
_PI2 = math.pi ** 2


def _sinc_slope_series(x):
    x2 = x * x
    return x * (-_PI2 / 3.0 + x2 * (_PI2 * _PI2 / 30.0 - x2 * (_PI2 * _PI2 * _PI2 / 840.0)))


def _sinc_slope_formula(x):
    return (cos(x * math.pi) - sinc(x)) / x


def _sinc_vjp(g, ans, x):
    xd = data_of(x)
    if xd.__class__ is float:
        return (g * (_sinc_slope_series(x) if -_SINC_SERIES_BELOW < xd < _SINC_SERIES_BELOW
                     else _sinc_slope_formula(x)),)
    near0 = np.less(np.abs(xd), _SINC_SERIES_BELOW)
    if not near0.any():
        return (g * _sinc_slope_formula(x),)
    # The formula's branch sees 1.0 where the series is used, so that no 0 / 0 enters the graph at all.
    return (g * where(near0, _sinc_slope_series(x), _sinc_slope_formula(where(near0, 1.0, x))),)


sinc = defop("sinc", _elementwise("sinc", _sinc_float, np.sinc), _sinc_vjp,
             doc="The normalised sinc, sin(pi x) / (pi x), with sinc(0) = 1 (numpy's sinc).", method="sinc")

# -- rounding: piecewise constant, so the gradient is 0 -----------------------------------------


def _sign_float(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 if x == 0 else x  # sign(-0.0) = 0.0 and sign(nan) = nan, as numpy


# copysign keeps numpy's sign of zero: floor(-0.0), ceil(-0.5) and round(-0.4) are -0.0 there too.
sign = defop("sign", _elementwise("sign", _sign_float, np.sign), _no_slope,
             doc="-1, 0 or 1 by the sign of x (nan stays nan). The gradient is 0 everywhere (PyTorch).", method="sign")

floor = defop("floor", _elementwise("floor", lambda x: math.copysign(float(math.floor(x)), x), np.floor), _no_slope,
              doc="The largest integer <= x, as a float. The gradient is 0 everywhere (PyTorch).", method="floor")

ceil = defop("ceil", _elementwise("ceil", lambda x: math.copysign(float(math.ceil(x)), x), np.ceil), _no_slope,
             doc="The smallest integer >= x, as a float. The gradient is 0 everywhere (PyTorch).", method="ceil")


def _round_forward(x, decimals=0):
    if x.__class__ is float:
        if decimals == 0:
            try:  # Python's round, like numpy's, takes halves to the even neighbour
                return math.copysign(float(builtins.round(x)), x)
            except (ValueError, OverflowError):  # nan, +-inf: themselves
                return x
        return float(np.round(x, decimals))  # numpy's scaling rule (Python's round(x, n) rounds differently)
    return np.round(x, decimals)


def _round_args(x, decimals=0):
    """x rounded to `decimals` decimal places, halves to even (numpy's rule). The gradient is 0 everywhere.

    >>> from tinygrad_nn import Value
    >>> Value([0.5, 1.5, 2.567]).round().data, Value(2.567).round(decimals=1).data
    (array([0., 2., 3.]), 2.6)
    """
    if not isinstance(decimals, (int, np.integer)):  # numpy refuses them too, but without naming round
        raise TypeError(f"round: decimals must be an int (the number of decimal places; negative rounds to tens, "
                        f"hundreds...), got {type(decimals).__name__} {decimals!r}")
    return (x,), {"decimals": decimals}


round = defop("round", _round_forward, _no_slope, prepare=_round_args, method="round")  # noqa: A001 (numpy's)


# -- NaN-aware extrema --------------------------------------------------------------------------


def _fmax_float(a, b):
    if b != b:  # nan: the other input wins (numpy's fmax ignores nan; maximum would propagate it)
        return a
    if a != a:
        return b
    return a if a >= b else b


def _fmin_float(a, b):
    if b != b:
        return a
    if a != a:
        return b
    return a if a <= b else b


def _fextremum_vjp(first_wins):
    def vjp(g, ans, a, b):
        ad, bd = data_of(a), data_of(b)
        # PyTorch's rule: the first input gets the gradient where it wins, on a tie too (unlike maximum, where a
        # tie is shared), and where the second is nan; the second input gets it everywhere else.
        to_a = np.logical_or(first_wins(ad, bd), np.isnan(bd))
        return g * to_a, g * np.logical_not(to_a)

    return vjp


fmax = defop("fmax", _elementwise2("fmax", _fmax_float, np.fmax), _fextremum_vjp(np.greater_equal), _BROADCAST,
             doc="The larger of a and b, ignoring nan (numpy's fmax): a nan loses to a number. On a tie the "
                 "gradient goes to a.", method="fmax")
fmin = defop("fmin", _elementwise2("fmin", _fmin_float, np.fmin), _fextremum_vjp(np.less_equal), _BROADCAST,
             doc="The smaller of a and b, ignoring nan (numpy's fmin). On a tie the gradient goes to a.", method="fmin")

# -- the remainder ------------------------------------------------------------------------------


def _mod_forward(a, b):
    # Python's % on floats is numpy's remainder (the sign of the divisor), to the bit; like `/`, a float
    # divided by 0.0 raises ZeroDivisionError, where arrays give nan.
    if a.__class__ is float and b.__class__ is float:
        return a % b
    return np.remainder(a, b)


def _mod_vjp(g, ans, a, b):
    # a % b = a - b * floor(a / b): d/da = 1 and d/db = -floor(a / b), as numpy's definition and PyTorch's
    # remainder give. floor(a / b) is piecewise constant: a constant factor here (computed as Python's and
    # numpy's floor division, which agrees with the remainder at the jumps too).
    ad, bd = data_of(a), data_of(b)
    q = ad // bd if ad.__class__ is float and bd.__class__ is float else np.floor_divide(ad, bd)
    return g, g * -q


remainder = defop("remainder", _mod_forward, _mod_vjp, _BROADCAST + "; the divisor must not be 0 for Python floats",
                  doc="a % b with the sign of b (numpy's remainder, Python's %, PyTorch's remainder). Gradients: "
                      "1 for a, -floor(a / b) for b.", method="remainder")
mod = remainder  # numpy's other name for it

# -- angles and non-finite values ---------------------------------------------------------------

_RAD_PER_DEG = math.pi / 180.0  # numpy's deg2rad multiplies by this same constant
_DEG_PER_RAD = 180.0 / math.pi


@composite(method="deg2rad")
def deg2rad(x):
    """Degrees to radians: x * (pi / 180) (a `mul` node).

    >>> from tinygrad_nn import Value
    >>> Value(180.0).deg2rad().data
    3.141592653589793
    """
    return mul(x, _RAD_PER_DEG)


@composite(method="rad2deg")
def rad2deg(x):
    """Radians to degrees: x * (180 / pi) (a `mul` node)."""
    return mul(x, _DEG_PER_RAD)


def _nan_to_num_forward(x, nan=0.0, posinf=None, neginf=None):
    if x.__class__ is float:
        if x != x:
            return float(nan)
        if x == math.inf:
            return float(posinf) if posinf is not None else sys.float_info.max
        if x == -math.inf:
            return float(neginf) if neginf is not None else -sys.float_info.max
        return x
    return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_vjp(g, ans, x, nan=0.0, posinf=None, neginf=None):
    # The replaced entries are constants: no gradient reaches them (PyTorch: grad * isfinite(x)).
    xd = data_of(x)
    return (g * (1.0 if math.isfinite(xd) else 0.0) if xd.__class__ is float else g * np.isfinite(xd),)


def _nan_to_num_args(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """x with nan replaced by `nan` (0.0), inf by `posinf` and -inf by `neginf` (by default the largest and
    smallest finite floats of x's dtype), as numpy's nan_to_num. The gradient is 1 at finite entries and 0 at
    replaced ones. `copy` is accepted for numpy's signature: the result is always a new Value.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> Value([1.0, np.nan, -np.inf]).nan_to_num(neginf=-1.0).data
    array([ 1.,  0., -1.])
    """
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        # Checked here: numpy's own refusals differ between floats and arrays, and name neither the op nor the
        # argument.
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))):
            raise TypeError(f"nan_to_num: {name} must be a real number (the value put in place of "
                            f"{'nan' if name == 'nan' else '+inf' if name == 'posinf' else '-inf'}), got "
                            f"{type(v).__name__} {v!r}")
    return (x,), {"nan": nan, "posinf": posinf, "neginf": neginf}


nan_to_num = defop("nan_to_num", _nan_to_num_forward, _nan_to_num_vjp, prepare=_nan_to_num_args, method="nan_to_num")


# The docstrings of the ops above run as doctests too (doctest finds functions by itself, not ops).
__test__ = doctests(__name__)
