"""Special functions (scipy.special's names): erf, erfc, gammaln, digamma, polygamma, xlogy, logit, expit,
ndtr and log_ndtr, differentiable to any order (each rule is written with these same ops).

The forwards are scipy's (`pip install scipy`; imported on first use, so `import tinygrad_nn` never needs it),
as HIPS autograd's `autograd.scipy.special` wraps them. Without scipy, erf, erfc, ndtr and gammaln (which the
exact GELU needs) run on Python's `math` module element by element, slower but to the same accuracy; the
others then ask for scipy. `expit` is the sigmoid op itself.

>>> from tinygrad_nn import Value
>>> from tinygrad_nn.special import erf, gammaln
>>> x = Value(0.5)
>>> y = erf(x) + gammaln(x + 1.0)
>>> y.backward(); round(x.grad, 10)                       # 2/sqrt(pi) e^(-1/4) + digamma(1.5)
0.9152725529
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import data_of
from .elementwise import exp, sigmoid, where
from .registry import defop, doctests

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ONE_OVER_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _scipy_special(required=True):
    try:
        import scipy.special
    except ImportError:
        if not required:
            return None
        raise ImportError("tinygrad_nn.special needs scipy for its forwards: pip install scipy") from None
    return scipy.special


def _like(y, x):
    """scipy's result in x's own kind: a Python float for a Python float (scalar graphs stay in floats), and
    x's float width for an array (scipy computes some functions, polygamma among them, in float64 only)."""
    if x.__class__ is float:
        return float(y)
    return y.astype(x.dtype) if y.dtype != x.dtype and x.dtype.kind == "f" else y


def _elementwise(fn_name, fallback=None):
    """scipy's function; where scipy is missing, `fallback` (a function of one float) element by element."""
    by_element = np.frompyfunc(fallback, 1, 1) if fallback is not None else None

    def forward(x):
        sc = _scipy_special(required=fallback is None)
        if sc is not None:
            return _like(getattr(sc, fn_name)(x), x)
        if x.__class__ is float:
            return fallback(x)
        out = np.asarray(by_element(x), dtype=np.float64)  # (frompyfunc gives objects)
        return out.astype(x.dtype) if x.dtype.kind == "f" else out
    forward.__name__ = fn_name
    return forward


def _lgamma_float(x):
    try:
        return math.lgamma(x)
    except ValueError:  # at a pole (0, -1, -2, ...): +inf, as scipy's gammaln
        return math.inf


def _ndtr_float(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


erf = defop("erf", _elementwise("erf", math.erf), lambda g, ans, x: (g * (_TWO_OVER_SQRT_PI * exp(-(x * x))),),
            doc="""The error function, 2/sqrt(pi) times the integral of exp(-t^2) from 0 to x.

            >>> from tinygrad_nn import Value, special
            >>> x = Value(0.5); special.erf(x).backward(); round(x.grad, 6)     # 2/sqrt(pi) e^(-1/4)
            0.878783
            """)
erfc = defop("erfc", _elementwise("erfc", math.erfc), lambda g, ans, x: (g * (-_TWO_OVER_SQRT_PI * exp(-(x * x))),),
             doc="""1 - erf(x), accurate where erf(x) is near 1.

             >>> from tinygrad_nn import special
             >>> float(special.erfc(6.0))                                         # 1 - erf(6) would be 0
             2.1519736712498913e-17
             """)
ndtr = defop("ndtr", _elementwise("ndtr", _ndtr_float),
             lambda g, ans, x: (g * (_ONE_OVER_SQRT_2PI * exp(-0.5 * (x * x))),),
             doc="""The standard normal distribution function: the probability that N(0, 1) is below x.

             >>> from tinygrad_nn import special
             >>> round(float(special.ndtr(1.0)), 6)
             0.841345
             """)
# d/dx log ndtr(x) = phi(x) / ndtr(x) = exp(-x^2/2 - log ndtr(x)) / sqrt(2 pi): finite where ndtr underflows.
log_ndtr = defop("log_ndtr", _elementwise("log_ndtr"),
                 lambda g, ans, x: (g * (_ONE_OVER_SQRT_2PI * exp(-0.5 * (x * x) - ans)),),
                 doc="""log(ndtr(x)), accurate far into the left tail.

                 >>> from tinygrad_nn import special
                 >>> round(float(special.log_ndtr(-40.0)), 3)                   # ndtr(-40) underflows to 0
                 -804.608
                 """)


def _polygamma_forward(x, n):
    return _like(_scipy_special().polygamma(n, x), x)


def _polygamma_vjp(g, ans, x, n):
    return (g * polygamma.raw(x, n=n + 1),)


def _polygamma_args(n, x):
    """The n-th derivative of the digamma function at x (scipy's argument order: n first; n is a static
    parameter, x the input).

    >>> from tinygrad_nn.special import polygamma
    >>> round(polygamma(1, 1.0), 12)                        # pi^2 / 6
    1.644934066848
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"polygamma: n must be a whole number >= 0, got {n!r}")
    return (x,), {"n": int(n)}


polygamma = defop("polygamma", _polygamma_forward, _polygamma_vjp, "n must be a whole number >= 0",
                  prepare=_polygamma_args, inputs=1)
digamma = defop("digamma", _elementwise("digamma"), lambda g, ans, x: (g * polygamma.raw(x, n=1),),
                doc="""psi(x) = d/dx log Gamma(x).

                >>> from tinygrad_nn import special
                >>> round(float(special.digamma(1.0)), 6)                       # minus Euler's gamma
                -0.577216
                """)
gammaln = defop("gammaln", _elementwise("gammaln", _lgamma_float), lambda g, ans, x: (g * digamma(x),),
                doc="""log `|Gamma(x)|`.

                >>> from tinygrad_nn import special
                >>> round(float(special.gammaln(5.0)), 6)                      # log 4! = log 24
                3.178054
                """)


def _xlogy_forward(x, y):
    out = _scipy_special().xlogy(x, y)
    return float(out) if x.__class__ is float and y.__class__ is float else out


def _xlogy_dx(g, ans, x, y):
    # d/dx x log y = log y, the slope finite differences see at x = 0 too (as JAX). Only at x = y = 0, where
    # no slope exists, it is 0 rather than -inf (as PyTorch's is at x = 0), so a 0 * log 0 term stays quiet.
    defined = np.logical_or(np.not_equal(data_of(x), 0.0), np.not_equal(data_of(y), 0.0))
    ans = data_of(ans)
    return g * xlogy(float(defined) if ans.__class__ is float else defined.astype(ans.dtype), y)


def _xlogy_dy(g, ans, x, y):
    # x / y, and 0 at x = y = 0 (x log y is 0 for every y when x is 0, so 0 / 0 there means a slope of 0).
    both_zero = np.logical_and(np.equal(data_of(x), 0.0), np.equal(data_of(y), 0.0))
    return g * x / where(both_zero, 1.0, y)


xlogy = defop("xlogy", _xlogy_forward, (_xlogy_dx, _xlogy_dy),
              "the shapes must broadcast",
              doc="""x * log(y), and 0 where x == 0 (even at y == 0): the entropy term that must not be NaN.

              >>> import numpy as np
              >>> from tinygrad_nn import special
              >>> special.xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
              array([0., 2.])
              """)


logit = defop("logit", _elementwise("logit"), lambda g, ans, x: (g / (x * (1.0 - x)),),
              doc="""log(x / (1 - x)), the inverse of expit (the sigmoid); NaN outside [0, 1].

              >>> from tinygrad_nn import special
              >>> round(float(special.expit(special.logit(0.3))), 12)
              0.3
              """)

expit = sigmoid

__all__ = ["digamma", "erf", "erfc", "expit", "gammaln", "log_ndtr", "logit", "ndtr", "polygamma", "xlogy"]

# The docstrings of the ops above run as doctests too (doctest finds functions by itself, not ops).
__test__ = doctests(__name__)
