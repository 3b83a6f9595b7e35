"""Reductions: sum, max and logsumexp as primitives; mean, min, softmax and log_softmax composed from them.

The op names shadow the builtins sum, max and min in this module. Axis arguments are checked by ops/axes.py.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from ..engine import Value, data_of, shape_of
from .axes import axis_tuple, integer, one_axis
from .elementwise import _div_or_zero, abs, div, exp, neg, pow, sub
from .registry import composite, defop, doctests
from .shape import broadcast_to, concatenate, flatten, getitem, reshape, transpose

_AXIS = "axis must be None, an int or a tuple of ints in [-ndim, ndim) of the input"


def _kept_shape(shape, axis):
    """The shape of a reduction with keepdims=True: reduced axes become 1 (`axis` was checked by the forward)."""
    axes = axis_tuple("reduction", axis, shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g, shape, axis, keepdims):
    """Send a reduction's output gradient back over the reduced axes (the adjoint of summing)."""
    if axis is None and g.__class__ is not Value:  # a full reduction in a plain backward pass: fill
        out = np.empty(shape, dtype=g.dtype if isinstance(g, (np.ndarray, np.generic)) else np.float64)
        out[...] = g  # np.full, without its Python wrapper (benchmark W2)
        return out
    if not keepdims:
        g = reshape(g, shape=_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


def _sum_forward(x, axis=None, keepdims=False):
    if axis is not None:
        axis_tuple("sum", axis, np.shape(x))
    if x.__class__ is np.ndarray:  # what np.sum calls, without its Python wrapper (benchmark W2)
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = defop("sum", _sum_forward,  # noqa: A001
            lambda g, ans, x, axis=None, keepdims=False: (_spread(g, shape_of(x), axis, keepdims),), _AXIS,
            method="sum")


def _max_forward(x, axis=None, keepdims=False):
    if np.size(x) == 0:
        raise ValueError(f"max: the input of shape {np.shape(x)} is empty and has no maximum")
    if axis is not None:
        axis_tuple("max", axis, np.shape(x))
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


max = defop("max", _max_forward, _max_vjp, _AXIS, method="max")  # noqa: A001


def _logsumexp_forward(x, axis=None, keepdims=False):
    if axis is not None:
        axis_tuple("logsumexp", axis, np.shape(x))
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
                  doc="log(sum(exp(x), axis)), computed without overflow.", method="logsumexp")


@composite(method="mean")
def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (all axes by default): the sum divided by the count.

    >>> from tinygrad_nn import Value
    >>> Value([1.0, 2.0, 6.0]).mean()
    Value(array(3.))
    """
    shape = shape_of(x)
    n = np.prod([shape[a] for a in axis_tuple("mean", axis, shape)], dtype=np.int64)
    return div(sum(x, axis=axis, keepdims=keepdims), float(n))


@composite(method="min")
def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over `axis`: -max(-x); ties share the gradient evenly."""
    if np.size(data_of(x)) == 0:  # said here, or max would refuse it under its own name
        raise ValueError(f"min: the input of shape {shape_of(x)} is empty and has no minimum")
    if axis is not None:
        axis_tuple("min", axis, shape_of(x))
    return neg(max(neg(x), axis=axis, keepdims=keepdims))


def _log_softmax_forward(x, axis=-1):
    if axis is not None:
        axis_tuple("log_softmax", axis, np.shape(x))
    # Shift by the maximum first: within x - m the largest logit is exactly 0, so exp never overflows and
    # the result keeps full precision even for logits like 1e17 (x - logsumexp(x) would round them away).
    m = np.max(x, axis=axis, keepdims=True)
    z = x - np.where(np.isfinite(m), m, 0.0)  # rows of -inf stay -inf
    with np.errstate(under="ignore"):  # exp of a logit far below the maximum is 0: no error
        return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _log_softmax_vjp(g, ans, x, axis=-1):
    # d/dx (x - logsumexp x) = I - softmax: the gradient is g minus softmax times the sum of g.
    return (g - exp(ans) * sum(g, axis=axis, keepdims=True),)


log_softmax = defop("log_softmax", _log_softmax_forward, _log_softmax_vjp, _AXIS, method="log_softmax",
                    doc="""log(softmax(x)) = x - logsumexp(x) along `axis`, computed stably (one node).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> np.exp(Value([1000.0, 1000.0]).log_softmax().data)
    array([0.5, 0.5])
    """, scalars=False)


@composite(scalars=False, method="softmax")
def softmax(x, axis=-1):
    """exp(log_softmax(x)): probabilities along `axis`, stable for any logits."""
    if axis is not None:
        axis_tuple("softmax", axis, shape_of(x))
    return exp(log_softmax(x, axis=axis))


# ==============================================================================================
# Products, moments, running sums and products, norms, sorting and differences.
# Composed from the ops above where that is exact; prod, cumsum, cumprod and the norms' root are
# primitives with their own rules.


def _flip(x, axis):
    """x reversed along `axis` (a non-negative int): a getitem node, so gradients flow back reversed."""
    return getitem.raw(x, index=(slice(None),) * axis + (slice(None, None, -1),))


def _scan_args(who, x, axis):
    """A scan's inputs and parameters: the flattened input when axis is None (as numpy), else x and the one
    axis it runs along, made non-negative."""
    if axis is None:
        return (flatten(x),), {"axis": 0}
    shape = shape_of(x)
    if not shape:
        raise ValueError(f"{who}: a scalar has no axis {axis!r} to run along; use axis=None (the flattened input, "
                         f"as numpy does) or give the input an axis")
    return (x,), {"axis": one_axis(who, axis, shape)}


# -- running sums and products ------------------------------------------------------------------


def _reverse_cumsum(g, axis):
    """sum of g over positions k >= i, for each i: cumsum's adjoint."""
    return _flip(cumsum.raw(_flip(g, axis), axis=axis), axis)


def _cumsum_args(x, axis=None):
    """Running sums along `axis` (of the flattened input when axis is None, as numpy).

    >>> from tinygrad_nn import Value
    >>> x = Value([1.0, 2.0, 3.0]); y = x.cumsum(); y.sum().backward(); (y.data, x.grad)
    (array([1., 3., 6.]), array([3., 2., 1.]))
    """
    return _scan_args("cumsum", x, axis)


cumsum = defop("cumsum", lambda x, axis: np.cumsum(x, axis=axis), lambda g, ans, x, axis: (_reverse_cumsum(g, axis),),
               prepare=_cumsum_args, inputs=1, method="cumsum", scalars=False)


def _shift(x, by):
    """x moved `by` (+1 or -1) places along the last axis, with a 0 in the place left empty."""
    shape = shape_of(x)
    zero = np.zeros(shape[:-1] + (1,), dtype=data_of(x).dtype)
    if by > 0:
        return concatenate([zero, getitem(x, (Ellipsis, slice(None, -1)))], axis=-1)
    return concatenate([getitem(x, (Ellipsis, slice(1, None))), zero], axis=-1)


def _recurrence_forward(b, a, reverse=False):
    s = np.array(np.broadcast_to(b, np.broadcast_shapes(np.shape(b), np.shape(a))), dtype=np.result_type(b, a))
    if s.ndim == 0:
        raise ValueError("linear_recurrence: the inputs need at least one axis (the recurrence runs along the last)")
    a = np.broadcast_to(a, s.shape)
    n = s.shape[-1]
    if reverse:
        for i in range(n - 2, -1, -1):  # one vectorised step per position: O(n) numpy calls
            s[..., i] += a[..., i] * s[..., i + 1]
    else:
        for i in range(1, n):
            s[..., i] += a[..., i] * s[..., i - 1]
    return s


def _recurrence_vjp(g, ans, b, a, reverse=False):
    # s is linear in b: s = M b, with M lower (or upper) triangular. Its transpose runs the same recurrence the
    # other way, with the coefficients moved one place: t = M^T g. t_i is also the total gradient of s_i, and
    # a_i multiplies s_{i-1} (s_{i+1} when reverse), so d/da_i = t_i s_{i-1}; the unused a_0 (a_{n-1}) gets 0.
    if reverse:
        t = linear_recurrence(g, _shift(a, +1), reverse=False)
        return t, t * _shift(ans, -1)
    t = linear_recurrence(g, _shift(a, -1), reverse=True)
    return t, t * _shift(ans, +1)


linear_recurrence = defop(
    "linear_recurrence", _recurrence_forward, _recurrence_vjp,
    "b and a must broadcast, with at least one axis",
    doc="s_i = b_i + a_i * s_{i-1} along the last axis (s_0 = b_0); with reverse=True, s_i = b_i + a_i * s_{i+1} "
        "from the end. Exact (no division) and differentiable to any order: cumprod's gradient at zeros uses it.")


def _cumprod_grad_exact(g, x, axis):
    """cumprod's gradient without any division: exact with zeros and underflow, and differentiable again exactly.

    y_k = x_0 ... x_k, so d y_k / d x_i (k >= i) = (x_0 ... x_{i-1}) (x_{i+1} ... x_k), and the gradient of x_i is
    (x_0 ... x_{i-1}) * S_i with S_i = sum over k >= i of g_k (x_{i+1} ... x_k) = g_i + x_{i+1} S_{i+1}: an exclusive
    running product times a linear recurrence run from the end. With a zero at z this gives the product of the
    elements before z times the sum of g_k times the products after z for x_z, and 0 after z.
    """
    shape = shape_of(x)
    nd = len(shape)
    perm = tuple(i for i in range(nd) if i != axis) + (axis,)
    moved = perm != tuple(range(nd))
    xl, gl = (transpose(x, axes=perm), transpose(g, axes=perm)) if moved else (x, g)
    grad = _exclusive_cumprod(xl) * linear_recurrence(gl, _shift(xl, -1), reverse=True)
    return transpose(grad, axes=tuple(np.argsort(perm))) if moved else grad


def _cumprod_vjp(g, ans, x, axis):
    y = data_of(ans)
    if not isinstance(g, Value) and not isinstance(x, Value):
        with np.errstate(invalid="ignore"):
            normal = np.all(np.abs(y) >= np.finfo(y.dtype).tiny) and np.all(np.isfinite(y))
        if normal:
            # A plain backward pass, with every running product a normal float (so no zero in x, and no product
            # rounded away): d y_k / d x_i = y_k / x_i, and the gradient is the reversed running sum of g * y over
            # x, vectorised. Otherwise y_k / x_i would be 0 / 0 at a zero, or lose digits to underflow.
            return (_reverse_cumsum(g * ans, axis) / x,)
    # Zeros, underflow, or a differentiable pass (create_graph): the exact rule, whose own gradient is exact too
    # (y_k / x_i would make second derivatives cancel badly for small x).
    return (_cumprod_grad_exact(g, x, axis),)


def _cumprod_args(x, axis=None):
    """Running products along `axis` (of the flattened input when axis is None, as numpy).

    The gradient is exact with zeros in the input (no division by them): before the first zero of a slice it is
    the usual one, at that zero it is the product of the elements before it times the sum of g_k times the
    products after it, and after it 0 (every product that leaves such an element out holds the zero).

    >>> from tinygrad_nn import Value
    >>> x = Value([2.0, 0.0, 3.0, 4.0]); x.cumprod().sum().backward(); x.grad
    array([ 1., 32.,  0.,  0.])
    """
    return _scan_args("cumprod", x, axis)


cumprod = defop("cumprod", lambda x, axis: np.cumprod(x, axis=axis), _cumprod_vjp, prepare=_cumprod_args, inputs=1,
                method="cumprod", scalars=False)


# -- products -----------------------------------------------------------------------------------


def _exclusive_cumprod(x):
    """[1, x_0, x_0 x_1, ...] along the last axis: for each element, the product of those before it."""
    shape = shape_of(x)
    ones = np.ones(shape[:-1] + (1,), dtype=data_of(x).dtype)
    before = getitem.raw(cumprod.raw(x, axis=len(shape) - 1), index=(Ellipsis, slice(None, -1)))
    return concatenate([ones, before], axis=-1)


def _product_of_others(x, axes):
    """For each element of x, the product of the other elements reduced together with it along `axes`.

    Computed without division, as (product of those before it) * (product of those after it) in one flattened
    group, so zeros are exact: with one zero in a group, the zero's entry is the product of the rest and every
    other entry is 0; with two or more zeros every entry is 0. Being built from cumprod, its own gradient is
    exact too (second derivatives at zeros included).
    """
    if not axes:
        return 1.0  # each element is alone in its group: the product of no others is 1
    shape = shape_of(x)
    nd = len(shape)
    perm = tuple(i for i in range(nd) if i not in axes) + tuple(axes)
    moved = perm != tuple(range(nd))
    xm = transpose(x, axes=perm) if moved else x
    n = math.prod(shape[a] for a in axes)
    flat = reshape(xm, shape=tuple(shape[i] for i in perm[: nd - len(axes)]) + (n,))
    last = len(shape_of(flat)) - 1
    others = _exclusive_cumprod(flat) * _flip(_exclusive_cumprod(_flip(flat, last)), last)
    others = reshape(others, shape=tuple(shape[i] for i in perm))
    return transpose(others, axes=tuple(np.argsort(perm))) if moved else others


def _prod_forward(x, axis=None, keepdims=False):
    if axis is not None:
        axis_tuple("prod", axis, np.shape(x))
    return np.prod(x, axis=axis, keepdims=keepdims)


def _prod_vjp(g, ans, x, axis=None, keepdims=False):
    # d prod / d x_i = the product of the others (not prod / x_i, which is 0 / 0 at a zero).
    shape = shape_of(x)
    return (_spread(g, shape, axis, keepdims) * _product_of_others(x, tuple(sorted(axis_tuple("prod", axis, shape)))),)


prod = defop("prod", _prod_forward, _prod_vjp, _AXIS, method="prod", doc="""Product over `axis` (all axes by default).

    The gradient of each element is the product of the others, exact with zeros: one zero in a reduced group
    gets the product of the rest and the group's other elements get 0; two or more zeros give 0 everywhere.

    >>> from tinygrad_nn import Value
    >>> x = Value([2.0, 0.0, 3.0]); x.prod().backward(); x.grad
    array([0., 6., 0.])
    """)


# -- moments ------------------------------------------------------------------------------------


@composite(method="var")
def var(x, axis=None, ddof=0, keepdims=False, *, correction=None):
    """Variance over `axis`: mean((x - mean(x))**2) with n - ddof in the denominator (numpy's ddof=0 by default;
    PyTorch's var defaults to the unbiased ddof=1). `correction` is numpy's and PyTorch's newer name for ddof.

    >>> from tinygrad_nn import Value
    >>> x = Value([1.0, 2.0, 3.0, 4.0])
    >>> float(x.var().data), round(float(x.var(ddof=1).data), 4)
    (1.25, 1.6667)
    """
    return _var(x, axis, ddof, keepdims, correction, "var")


def _var(x, axis, ddof, keepdims, correction, who):
    """var itself; `who` (var or std) names the function the user called in errors."""
    for name, v in (("ddof", ddof), ("correction", correction)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))):
            raise TypeError(f"{who}: {name} must be a number (n - {name} divides the sum of squares), got "
                            f"{type(v).__name__} {v!r}")
    if correction is not None:
        if ddof != 0 and ddof != correction:
            raise ValueError(f"{who}: ddof={ddof!r} and correction={correction!r} disagree; give one of them")
        ddof = correction
    shape = shape_of(x)
    n = math.prod(shape[a] for a in axis_tuple(who, axis, shape))
    if n - ddof <= 0:
        raise ValueError(f"{who}: ddof={ddof!r} leaves {n - ddof} degrees of freedom for the {n} element(s) of "
                         f"each result (input shape {shape}, axis={axis!r}); use a smaller ddof or reduce over more "
                         f"elements")
    d = x - mean(x, axis=axis, keepdims=True)
    return div(sum(d * d, axis=axis, keepdims=keepdims), float(n - ddof))


@composite(scalars=False, method="std")
def std(x, axis=None, ddof=0, keepdims=False, *, correction=None):
    """Standard deviation over `axis`: sqrt(var(x, axis, ddof)) (ddof=0 by default, as numpy's std; PyTorch's std
    defaults to ddof=1).

    At a constant input (std exactly 0) the square root has no slope; the gradient is taken as 0 there, as
    PyTorch does. (A constant whose mean is not exact in floating point, such as [0.1, 0.1, 0.1], has a tiny
    nonzero std, and its gradient is whatever the rounding makes of it, as in PyTorch.)

    >>> from tinygrad_nn import Value
    >>> x = Value([1.0, 1.0, 1.0]); x.std().backward(); x.grad
    array([0., 0., 0.])
    """
    return _root(_var(x, axis, ddof, keepdims, correction, "std"), p=2)


# -- norms --------------------------------------------------------------------------------------


def _root_forward(s, p):
    if p == 2:  # the 2-norm and std: sqrt itself, exactly numpy's result
        return math.sqrt(s) if s.__class__ is float else np.sqrt(s)
    return s ** (1.0 / p)


def _root_vjp(g, ans, s, p):
    # d s^(1/p) / ds = s^(1/p) / (p s) (= 1 / (2 sqrt s) for p = 2) is infinite at s = 0, where the inner
    # gradient of the norm (or of the variance) is 0: the product has no limit. The gradient there is taken
    # as 0, PyTorch's choice for norm and std: so norm(x) at x = 0 has gradient 0.
    return (g * (_div_or_zero(0.5, ans) if p == 2 else _div_or_zero(ans, s * float(p))),)


_root = defop("norm_root", _root_forward, _root_vjp,
              doc="s ** (1/p) for s >= 0, whose gradient at s = 0 is taken as 0: the last step of norm and std.")

_NORM_ORDS = "vector norms take ord None, 1, 2, inf, -inf or a number p > 1; matrix norms (two axes) 'fro', 1, -1, " \
             "inf, -inf, and with svd 2, -2 and 'nuc'"


def _vector_norm(x, ord, axes, keepdims):
    if ord in ("fro", "nuc"):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm, but one axis was given; {_NORM_ORDS}")
    if ord == math.inf:
        return max(abs(x), axis=axes, keepdims=keepdims)  # ties in |x| share the gradient, as in PyTorch
    if ord == -math.inf:
        return min(abs(x), axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=axes, keepdims=keepdims)  # abs'(0) = 0
    if ord == 2:
        return _root(sum(x * x, axis=axes, keepdims=keepdims), p=2)
    if isinstance(ord, (int, float, np.integer, np.floating)) and not isinstance(ord, bool) and ord > 1:
        return _root(sum(pow(abs(x), float(ord)), axis=axes, keepdims=keepdims), p=float(ord))
    raise ValueError(f"norm: unsupported ord={ord!r}; {_NORM_ORDS}")


def _matrix_norm(x, ord, axes, keepdims, shape):
    r, c = axes
    if ord == "fro":
        out = _root(sum(x * x, axis=(r, c), keepdims=True), p=2)
    elif ord in (1, -1):  # the largest (smallest) column sum of |x|
        out = (max if ord == 1 else min)(sum(abs(x), axis=r, keepdims=True), axis=c, keepdims=True)
    elif ord in (math.inf, -math.inf):  # the largest (smallest) row sum of |x|
        out = (max if ord > 0 else min)(sum(abs(x), axis=c, keepdims=True), axis=r, keepdims=True)
    elif ord in (2, -2, "nuc"):
        # The largest or smallest singular value, or their sum: from the linear algebra ops' svd, looked up in the
        # package when needed (its gradient, and what it does at repeated singular values, are svd's).
        svd = getattr(sys.modules[__package__], "svd", None)
        if svd is None:
            raise ValueError(f"norm: the matrix norm ord={ord!r} needs singular values, and tinygrad_nn.ops has no "
                             f"svd here; use 'fro', 1, -1, inf or -inf, or a vector norm over one axis")
        rest = tuple(i for i in range(len(shape)) if i not in (r, c))
        s = svd(transpose(x, axes=rest + (r, c)), compute_uv=False)  # (rest..., k)
        out = max(s, axis=-1) if ord == 2 else min(s, axis=-1) if ord == -2 else sum(s, axis=-1)
        return reshape(out, shape=_kept_shape(shape, (r, c))) if keepdims else out
    else:
        raise ValueError(f"norm: unsupported ord={ord!r} for a matrix norm; {_NORM_ORDS}")
    return out if keepdims else reshape(out, shape=tuple(s for i, s in enumerate(shape) if i not in (r, c)))


@composite(method="norm")
def norm(x, ord=None, axis=None, keepdims=False):
    """The norm of x, as numpy.linalg.norm: with ord=None and axis=None the 2-norm of all elements (Frobenius
    for a matrix); with one axis a vector norm (ord 1, 2, inf, -inf or p > 1); with two axes (or a 2-D input and
    an ord) a matrix norm ('fro', 1, -1, inf, -inf; and 2, -2 and 'nuc' from the singular values, where
    tinygrad_nn.ops has svd).

    At x = 0 the 2-norm has no slope; its gradient is taken as 0 there, as in PyTorch (so are the 1-norm's, by
    abs'(0) = 0, and the p-norms'). Ties in `|x|` share the gradient of the inf-norm evenly.

    >>> from tinygrad_nn import Value
    >>> x = Value([3.0, -4.0]); y = x.norm(); y.backward(); (y.data, x.grad)
    (array(5.), array([ 0.6, -0.8]))
    """
    shape = shape_of(x)
    nd = len(shape)
    if axis is None:
        if ord is None:
            return _vector_norm(x, 2, tuple(range(nd)), keepdims)
        if nd not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} without an axis needs a 1-D or 2-D input, got shape {shape}; "
                             f"give axis (one int for vector norms, two for matrix norms)")
        axes = tuple(range(nd))
    else:
        axes = axis_tuple("norm", axis, shape)
    if len(axes) == 1:
        return _vector_norm(x, 2 if ord is None else ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, "fro" if ord is None else ord, axes, keepdims, shape)
    raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")


# -- indices: no gradient -----------------------------------------------------------------------


def _index_axis(who, x, axis):
    """argmax's, argmin's and argsort's axis: None (the flattened input, as numpy) or one axis of x."""
    return None if axis is None else one_axis(who, axis, shape_of(x))


@composite(order=0, note="integer result", method="argmax")
def argmax(x, axis=None, keepdims=False):
    """Index of the largest element (of the flattened input, or along `axis`): numpy integers, which carry no
    gradient. Ties give the first index, as numpy.

    >>> from tinygrad_nn import Value
    >>> x = Value([[1.0, 5.0], [7.0, 2.0]])
    >>> int(x.argmax()), x.argmax(axis=1)
    (2, array([1, 0]))
    """
    return np.argmax(data_of(x), axis=_index_axis("argmax", x, axis), keepdims=keepdims)


@composite(order=0, note="integer result", method="argmin")
def argmin(x, axis=None, keepdims=False):
    """Index of the smallest element (numpy integers, no gradient); ties give the first index."""
    return np.argmin(data_of(x), axis=_index_axis("argmin", x, axis), keepdims=keepdims)


@composite(order=0, note="integer result", method="argsort")
def argsort(x, axis=-1, kind=None, stable=None):
    """The indices that sort x along `axis` (numpy integers, no gradient); always a stable sort, so equal elements
    keep their order."""
    return np.argsort(data_of(x), axis=_index_axis("argsort", x, axis), kind="stable")


# -- sorting and differences --------------------------------------------------------------------


@composite(scalars=False)
def sort(x, axis=-1, kind=None, stable=None):
    """x sorted along `axis` (the flattened input when axis is None); the gradient flows back through the
    permutation: each element gets the gradient of the position it was sorted to.

    Equal elements are sorted stably (in their original order), so with ties the first of them gets the first
    tied position's gradient, as PyTorch's sort does on CPU. (Ties are a kink: there any assignment is a valid
    subgradient.) `kind` and `stable` are accepted for numpy's signature; the sort is always stable.

    >>> from tinygrad_nn import Value
    >>> from tinygrad_nn.ops import sort
    >>> x = Value([3.0, 1.0, 2.0]); (sort(x) * Value([1.0, 10.0, 100.0])).sum().backward(); x.grad
    array([100.,   1.,  10.])
    """
    if axis is None:
        x, axis = flatten(x), 0
    shape = shape_of(x)
    if not shape:
        raise ValueError("sort: a scalar has no axis to sort along; use axis=None or give the input an axis")
    axis = one_axis("sort", axis, shape)
    return _rearranged(x, np.argsort(data_of(x), axis=axis, kind="stable"), axis, shape)


def _rearranged(x, order, axis, shape):
    """x rearranged along `axis` by the indices `order` (argsort's or argpartition's): an open grid of indices
    along every other axis and `order` along `axis`; getitem's gradient (scatter-add) sends each gradient back
    to where its element came from."""
    index = list(np.ix_(*[np.arange(s) for s in shape]))
    index[axis] = order
    return getitem(x, tuple(index))


@composite(inputs=1, scalars=False)
def partition(x, kth, axis=-1, kind="introselect"):
    """numpy's partition: x rearranged along `axis` so that the element at each position in `kth` is the one
    a sort would put there, the smaller ones before it and the larger after (in numpy's order). The gradient
    flows back through the rearrangement, as sort's does. (axis=None partitions the flattened input.)

    >>> from tinygrad_nn import Value
    >>> from tinygrad_nn.ops import partition
    >>> x = Value([3.0, 1.0, 4.0, 2.0])
    >>> float(partition(x, 1)[1].data)                   # the second smallest
    2.0
    """
    if axis is None:
        x, axis = flatten(x), 0
    shape = shape_of(x)
    if not shape:
        raise ValueError("partition: a scalar has no axis to partition along; give the input an axis")
    axis = one_axis("partition", axis, shape)
    try:
        order = np.argpartition(data_of(x), kth, axis=axis, kind=kind)
    except (ValueError, TypeError) as e:
        raise type(e)(f"partition: kth={kth!r} along axis {axis} of shape {shape}: {e}") from None
    return _rearranged(x, order, axis, shape)


def _pad_for_diff(name, v, x, shape, axis):
    """numpy's prepend/append for diff: a scalar becomes a slab of size 1 along `axis`. Plain numbers take x's
    dtype (float32 stays float32). `name` (prepend or append) names the argument in errors."""
    if not isinstance(v, (Value, np.ndarray)):
        xd = data_of(x)
        try:
            v = np.asarray(v, dtype=xd.dtype if isinstance(xd, np.ndarray) else np.float64)
        except (TypeError, ValueError):  # a string, a complex number: numpy's message would name neither
            raise TypeError(f"diff: {name} must be real numbers (a number, a list, an array or a Value), got "
                            f"{type(v).__name__} {v!r}") from None
    vshape = shape_of(v)
    if not vshape:
        return broadcast_to(v, shape=shape[:axis] + (1,) + shape[axis + 1:])
    if len(vshape) != len(shape) or any(a != b for i, (a, b) in enumerate(zip(vshape, shape)) if i != axis):
        # Said here, or concatenate would refuse it under its own name.
        raise ValueError(f"diff: {name} of shape {vshape} does not fit the input of shape {shape}: it needs the same "
                         f"number of axes and the same sizes except along axis {axis} (or give a single number)")
    return v


@composite(scalars=False, method="diff")
def diff(x, n=1, axis=-1, prepend=None, append=None):
    """The n-th difference along `axis`: x[1:] - x[:-1], n times (numpy's diff, prepend and append included).

    >>> from tinygrad_nn import Value
    >>> Value([1.0, 4.0, 9.0, 16.0]).diff().data, Value([1.0, 4.0, 9.0, 16.0]).diff(n=2).data
    (array([3., 5., 7.]), array([2., 2.]))
    """
    shape = shape_of(x)
    if not shape:
        raise ValueError("diff: needs an input with at least one axis (a scalar has no differences)")
    if integer("diff", "order n", n) < 0:
        raise ValueError(f"diff: order n must be a non-negative int, got {n!r}")
    axis = one_axis("diff", axis, shape)
    if prepend is not None or append is not None:
        parts = [] if prepend is None else [_pad_for_diff("prepend", prepend, x, shape, axis)]
        parts.append(x)
        if append is not None:
            parts.append(_pad_for_diff("append", append, x, shape, axis))
        x = concatenate(parts, axis=axis)
    head = (slice(None),) * axis
    for _ in range(n):
        x = getitem(x, head + (slice(1, None),)) - getitem(x, head + (slice(None, -1),))
    return x


# The docstrings of the ops above run as doctests too (doctest finds functions by itself, not ops).
__test__ = doctests(__name__)
