"""Shape ops: reshape, transpose, indexing, broadcasting and joining. Each pair of adjoints (reshape and
reshape back, broadcast_to and sum_to, getitem and scatter-add) is written once and used by the other's rule."""

from __future__ import annotations

import math

import numpy as np

from ..engine import Value, shape_of
from .registry import defop

reshape = defop("reshape", lambda x, shape: np.reshape(x, shape),
                lambda g, ans, x, shape: (reshape(g, shape=shape_of(x)),),
                "the new shape must hold the same number of elements (one size may be -1)")


def _transpose_forward(x, axes=None):
    if x.__class__ is float:
        raise ValueError("transpose: a scalar has no axes to permute")
    return np.transpose(x, axes)


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return (transpose(g),)
    # Fix (property tests): numpy takes negative axes too; argsort of (-1, 0) is (0, 1), not the inverse
    # permutation of (1, 0), so the axes are made non-negative first.
    n = len(shape_of(x))
    return (transpose(g, axes=tuple(np.argsort([a % n for a in axes]))),)


transpose = defop("transpose", _transpose_forward, _transpose_vjp, "axes must be a permutation of range(ndim)")


def _sum_to_forward(x, shape):
    """Sum x down to `shape`, the inverse of broadcasting: the un-broadcasting of gradients."""
    xshape = np.shape(x)
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    if lead == 1 and xshape[1:] == shape:  # a batch summed into a bias: the common case
        return x.sum(axis=0)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and xshape[lead + i] != 1)
    return np.add.reduce(x, axis=axes).reshape(shape)


sum_to = defop("sum_to", _sum_to_forward, lambda g, ans, x, shape: (broadcast_to(g, shape=shape_of(x)),))

def _broadcast_to_forward(x, shape):
    if math.prod(shape) > 4096 or np.ndim(x) > len(shape):
        return np.broadcast_to(x, shape)  # a read-only view: no copy of a large array (or numpy's error)
    # np.broadcast_to costs microseconds of Python; filling a small new array is faster.
    # Fix (property tests): a numpy scalar (what numpy's arithmetic on 0-d arrays returns) keeps its dtype
    # too; np.float32 used to become float64.
    out = np.empty(shape, dtype=x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.float64)
    try:
        out[...] = x
    except ValueError:
        return np.broadcast_to(x, shape)  # not broadcastable: let numpy say why
    return out


broadcast_to = defop("broadcast_to", _broadcast_to_forward,
                     lambda g, ans, x, shape: (sum_to(g, shape=shape_of(x)),),
                     "the input's shape must broadcast to the target (sizes equal, or 1 in the input)")


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices, None, ...) never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _getitem_forward(x, index):
    if x.__class__ is float:
        raise TypeError("getitem: a scalar Value cannot be indexed; only tensors can")
    return x[index]


def _scatter_add_forward(g, index, shape):
    # Fix (property tests): np.generic too, so that a float32 numpy scalar gradient stays float32.
    out = np.zeros(shape, dtype=np.result_type(g, np.float32) if isinstance(g, (np.ndarray, np.generic))
                   else np.float64)
    if _is_basic(index):
        out[index] += g
    else:
        np.add.at(out, index, g)  # repeated indices each add their share
    return out


getitem = defop("getitem", _getitem_forward,
                lambda g, ans, x, index: (scatter_add(g, index=index, shape=shape_of(x)),),
                "use ints, slices, None, ..., integer arrays or a boolean mask that fit the shape")

scatter_add = defop("scatter_add", _scatter_add_forward,
                    lambda g, ans, x, index, shape: (getitem(g, index=index),),
                    doc="zeros(shape) with x added at `index` (repeated indices add up): getitem's adjoint.")


def _plain_index(index):
    """Indices may be Values or lists: the forward wants plain ints, slices and numpy arrays."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Value):
        index = index.data
    if isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        raise IndexError(f"getitem: index arrays must hold integers or booleans, got dtype {index.dtype}; "
                         f"convert with .astype(int)")
    return index


_getitem_op = getitem


def getitem(x, index):  # noqa: F811 - the public form normalises the index first
    return _getitem_op(x, index=_plain_index(index))


def _concat_forward(*xs, axis=0):
    for x in xs:
        if x.__class__ is float or np.ndim(x) == 0:
            raise ValueError("concatenate: scalars cannot be joined; give every input at least one axis "
                             "(use stack to join scalars into a new axis)")
    return np.concatenate(xs, axis=axis)


def _concat_vjp(g, ans, *xs, axis=0):
    ndim = len(shape_of(ans))
    ax = axis % ndim
    grads, start = [], 0
    for x in xs:
        n = shape_of(x)[ax]
        grads.append(_getitem_op(g, index=(slice(None),) * ax + (slice(start, start + n),)))
        start += n
    return tuple(grads)


_concat = defop("concatenate", _concat_forward, _concat_vjp,
                "all inputs need the same number of axes and equal sizes except along `axis`")


def concatenate(values, axis=0):
    """Join tensors along an existing axis.

    >>> from tinygrad_nn import Value, concatenate
    >>> concatenate([Value([1.0, 2.0]), Value([3.0])]).data
    array([1., 2., 3.])
    """
    values = list(values)
    if not values:
        raise ValueError("concatenate: needs at least one input")
    return _concat(*values, axis=axis)


def expand_dims(x, axis):
    """A new axis of size 1 at `axis` (a reshape)."""
    shape = shape_of(x)
    ax = axis if axis >= 0 else axis + len(shape) + 1
    if not 0 <= ax <= len(shape):
        raise ValueError(f"expand_dims: axis {axis} is out of range for a new axis in shape {shape}")
    return reshape(x, shape=shape[:ax] + (1,) + shape[ax:])


def stack(values, axis=0):
    """Join same-shaped tensors (or scalars) along a new axis.

    >>> from tinygrad_nn import Value, stack
    >>> stack([Value(1.0), Value(2.0)]).data
    array([1., 2.])
    """
    values = list(values)
    if not values:
        raise ValueError("stack: needs at least one input")
    shapes = {shape_of(v) for v in values}
    if len(shapes) > 1:
        raise ValueError(f"stack: all inputs need the same shape, got {sorted(shapes)}; reshape or pad them first")
    return _concat(*[expand_dims(v, axis) for v in values], axis=axis)


def flatten(x, start_dim=0, end_dim=-1):
    """Axes start_dim to end_dim (inclusive, negative ones count from the end) merged into one, row-major,
    as PyTorch's `flatten`; by default all of them.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> x = Value(np.zeros((2, 3, 4, 5)))
    >>> flatten(x).shape, flatten(x, 1).shape, x.flatten(1, 2).shape
    ((120,), (2, 60), (2, 12, 5))
    """
    shape = shape_of(x)
    nd = max(len(shape), 1)  # a scalar flattens to one axis of one element, as in PyTorch
    dims = []
    for name, d in (("start_dim", start_dim), ("end_dim", end_dim)):
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not -nd <= d < nd:
            raise ValueError(f"flatten: {name}={d!r} is out of range for shape {shape}; use an int in "
                             f"[{-nd}, {nd - 1}]")
        dims.append(int(d) % nd)
    start, end = dims
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}; "
                         f"start_dim must not be after end_dim")
    if not shape:
        return reshape(x, shape=(1,))
    return reshape(x, shape=shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


def squeeze(x, axis=None):
    """Drop axes of size 1 (all of them, or those in `axis`)."""
    shape = shape_of(x)
    if axis is not None:
        for a in np.atleast_1d(axis):
            if not -len(shape) <= a < len(shape):
                raise ValueError(f"squeeze: axis {int(a)} is out of range for shape {shape}")
    axes = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
    for a in axes:
        if axis is not None and shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {shape[a]}, not 1")
    return reshape(x, shape=tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1)))
