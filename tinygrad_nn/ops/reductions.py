"""Reductions: sum, max and logsumexp as primitives; mean, min, softmax and log_softmax composed from them.

The op names shadow the builtins sum, max and min in this module: the builtins are reached as builtins.max.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..engine import data_of, shape_of
from .elementwise import div, exp, neg, sub
from .registry import defop
from .shape import broadcast_to, reshape

_AXIS = "axis must be None, an int or a tuple of ints in [-ndim, ndim) of the input"


def _axes(axis, ndim):
    """Normalise an axis argument to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"axis {a} is out of range for an input with {ndim} axes; {_AXIS}")
        out.append(int(a) % builtins.max(ndim, 1))
    return tuple(sorted(out))


def _kept_shape(shape, axis):
    """The shape of a reduction with keepdims=True: reduced axes become 1."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g, shape, axis, keepdims):
    """Send a reduction's output gradient back over the reduced axes (the adjoint of summing)."""
    if not keepdims:
        g = reshape(g, shape=_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


def _sum_forward(x, axis=None, keepdims=False):
    if axis is not None:
        _axes(axis, np.ndim(x))
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = defop("sum", _sum_forward,  # noqa: A001
            lambda g, ans, x, axis=None, keepdims=False: (_spread(g, shape_of(x), axis, keepdims),), _AXIS)


def _max_forward(x, axis=None, keepdims=False):
    if np.size(x) == 0:
        raise ValueError(f"max: the input of shape {np.shape(x)} is empty and has no maximum")
    if axis is not None:
        _axes(axis, np.ndim(x))
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
    if axis is not None:
        _axes(axis, np.ndim(x))
    # Subtract the maximum first so that exp never overflows; -inf rows stay -inf.
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
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
    n = np.prod([shape_of(x)[a] for a in _axes(axis, len(shape_of(x)))], dtype=np.int64)
    return div(sum(x, axis=axis, keepdims=keepdims), float(n))


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over `axis`: -max(-x); ties share the gradient evenly."""
    return neg(max(neg(x), axis=axis, keepdims=keepdims))


def log_softmax(x, axis=-1):
    """x - logsumexp(x): stable for any logits.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> np.exp(Value([1000.0, 1000.0]).log_softmax().data)
    array([0.5, 0.5])
    """
    return sub(x, logsumexp(x, axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """exp(log_softmax(x)): probabilities along `axis`, stable for any logits."""
    return exp(log_softmax(x, axis=axis))
