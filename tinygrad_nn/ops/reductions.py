"""Reductions: sum, max and logsumexp as primitives; mean, min, softmax and log_softmax composed from them.

The op names shadow the builtins sum, max and min in this module: the builtins are reached as builtins.max.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..engine import Value, data_of, shape_of
from .elementwise import div, exp, neg, sub
from .registry import defop
from .shape import broadcast_to, reshape

_AXIS = "axis must be None, an int or a tuple of ints in [-ndim, ndim) of the input"


def _axes(axis, ndim, who=None, shape=None):
    """Normalise an axis argument to a sorted tuple of non-negative axes; `who` names the op in errors."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            where = f"shape {shape} ({ndim} axes)" if shape is not None else f"{ndim} axes"
            raise ValueError(f"{who or 'reduction'}: axis {a!r} is out of range for an input of {where}; {_AXIS}")
        out.append(int(a) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{who or 'reduction'}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def _check_axis(who, x, axis):
    if axis is not None:
        shape = np.shape(x) if not hasattr(x, "shape") else x.shape
        _axes(axis, len(shape), who, shape)


def _kept_shape(shape, axis):
    """The shape of a reduction with keepdims=True: reduced axes become 1."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g, shape, axis, keepdims):
    """Send a reduction's output gradient back over the reduced axes (the adjoint of summing)."""
    if axis is None and g.__class__ is not Value:  # a full reduction in a plain backward pass: fill
        return np.full(shape, g, dtype=g.dtype if isinstance(g, (np.ndarray, np.generic)) else np.float64)
    if not keepdims:
        g = reshape(g, shape=_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


def _sum_forward(x, axis=None, keepdims=False):
    _check_axis("sum", x, axis)
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = defop("sum", _sum_forward,  # noqa: A001
            lambda g, ans, x, axis=None, keepdims=False: (_spread(g, shape_of(x), axis, keepdims),), _AXIS)


def _max_forward(x, axis=None, keepdims=False):
    if np.size(x) == 0:
        raise ValueError(f"max: the input of shape {np.shape(x)} is empty and has no maximum")
    _check_axis("max", x, axis)
    return np.max(x, axis=axis, keepdims=keepdims)


def _max_vjp(g, ans, x, axis=None, keepdims=False):
    xd = data_of(x)
    shape = np.shape(xd)
    top = np.reshape(data_of(ans), _kept_shape(shape, axis))
    winners = np.equal(xd, top)
    # Ties share the gradient evenly, as in PyTorch's amax.
    share = winners / np.sum(winners, axis=axis, keepdims=True)
    share = share.astype(xd.dtype) if isinstance(xd, np.ndarray) else share
    return (_spread(g, shape, axis, keepdims) * share,)


max = defop("max", _max_forward, _max_vjp, _AXIS)  # noqa: A001


def _logsumexp_forward(x, axis=None, keepdims=False):
    _check_axis("logsumexp", x, axis)
    # Subtract the maximum first so that exp never overflows; -inf rows stay -inf.
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore"):  # exp of a logit far below the maximum is 0: no error
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.reshape(out, np.shape(np.sum(x, axis=axis)))
    return out


def _logsumexp_vjp(g, ans, x, axis=None, keepdims=False):
    shape = shape_of(x)
    return (_spread(g, shape, axis, keepdims) * exp(sub(x, _spread(ans, shape, axis, keepdims))),)


logsumexp = defop("logsumexp", _logsumexp_forward, _logsumexp_vjp, _AXIS,
                  doc="log(sum(exp(x), axis)), computed without overflow.")


def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (all axes by default): the sum divided by the count.

    >>> from tinygrad_nn import Value
    >>> Value([1.0, 2.0, 6.0]).mean()
    Value(array(3.))
    """
    shape = shape_of(x)
    n = np.prod([shape[a] for a in _axes(axis, len(shape), "mean", shape)], dtype=np.int64)
    return div(sum(x, axis=axis, keepdims=keepdims), float(n))


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over `axis`: -max(-x); ties share the gradient evenly."""
    _check_axis("min", x, axis)
    return neg(max(neg(x), axis=axis, keepdims=keepdims))


def _log_softmax_forward(x, axis=-1):
    _check_axis("log_softmax", x, axis)
    # Shift by the maximum first: within x - m the largest logit is exactly 0, so exp never overflows and
    # the result keeps full precision even for logits like 1e17 (x - logsumexp(x) would round them away).
    m = np.max(x, axis=axis, keepdims=True)
    z = x - np.where(np.isfinite(m), m, 0.0)  # rows of -inf stay -inf
    with np.errstate(under="ignore"):  # exp of a logit far below the maximum is 0: no error
        return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _log_softmax_vjp(g, ans, x, axis=-1):
    # d/dx (x - logsumexp x) = I - softmax: the gradient is g minus softmax times the sum of g.
    return (g - exp(ans) * sum(g, axis=axis, keepdims=True),)


_log_softmax = defop("log_softmax", _log_softmax_forward, _log_softmax_vjp, _AXIS)


def log_softmax(x, axis=-1):
    """log(softmax(x)) = x - logsumexp(x), computed stably (one node).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> np.exp(Value([1000.0, 1000.0]).log_softmax().data)
    array([0.5, 0.5])
    """
    return _log_softmax(x, axis=axis)


def softmax(x, axis=-1):
    """exp(log_softmax(x)): probabilities along `axis`, stable for any logits."""
    _check_axis("softmax", x, axis)
    return exp(log_softmax(x, axis=axis))
