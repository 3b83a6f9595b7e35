"""Shape ops: reshape, transpose, indexing, broadcasting and joining. Each pair of adjoints (reshape and
reshape back, broadcast_to and sum_to, getitem and scatter-add) is written once and used by the other's rule."""

from __future__ import annotations

import math

import numpy as np

from ..engine import Value, data_of, shape_of
from ..engine.core_ops import broadcast_to, sum_to  # noqa: F401  (the engine's ops, exported with this family)
from .axes import axis_tuple, integer, new_axis, one_axis
from .registry import NoNode, composite, defop, doctests

reshape = defop("reshape", lambda x, shape: np.reshape(x, shape),
                lambda g, ans, x, shape: (reshape(g, shape=shape_of(x)),),
                "the new shape must hold the same number of elements (one size may be -1)",
                inputs=1, scalars=False, method=("reshape", "view"))


def _transpose_forward(x, axes=None):
    if x.__class__ is float:
        raise ValueError("transpose: a scalar has no axes to permute")
    if axes is not None:
        shape = np.shape(x)
        if len(axis_tuple("transpose", axes, shape, "axes")) != len(shape):
            raise ValueError(f"transpose: axes={axes!r} names {len(np.atleast_1d(axes))} of the {len(shape)} axes of "
                             f"an input of shape {shape}; give a permutation of all of them")
    return np.transpose(x, axes)


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return (transpose(g),)
    # numpy takes negative axes too, and argsort of (-1, 0) is (0, 1), not the inverse permutation of (1, 0):
    # the axes are made non-negative first.
    n = len(shape_of(x))
    return (transpose(g, axes=tuple(np.argsort([a % n for a in axes]))),)


transpose = defop("transpose", _transpose_forward, _transpose_vjp, "axes must be a permutation of range(ndim)",
                  scalars=False, method="transpose")


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices, None, ...) never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _getitem_forward(x, index):
    if x.__class__ is float:
        raise TypeError("getitem: a scalar Value cannot be indexed; only tensors can")
    return x[index]


def _scatter_add_forward(g, index, shape):
    # The gradient keeps its own float width (float16 and float32 included; a numpy scalar too).
    is_float_array = isinstance(g, (np.ndarray, np.generic)) and g.dtype.kind == "f"
    out = np.zeros(shape, dtype=g.dtype if is_float_array else np.float64)
    if _is_basic(index):
        out[index] += g
    else:
        np.add.at(out, index, g)  # repeated indices each add their share
    return out


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


def _getitem_args(x, index):
    """x[index]: ints, slices, None, ..., integer arrays (or lists, or Values holding integers) and boolean masks,
    as numpy indexes. The gradient adds g back into zeros of x's shape (repeated indices add up).

    >>> from tinygrad_nn import Value, getitem
    >>> x = Value([1.0, 2.0, 3.0]); getitem(x, [0, 0, 2]).sum().backward(); x.grad
    array([2., 0., 1.])
    """
    return (x,), {"index": _plain_index(index)}


# Gradient rules index with plain indices already: they call getitem.raw, which skips _getitem_args.
getitem = defop("getitem", _getitem_forward,
                lambda g, ans, x, index: (scatter_add(g, index=index, shape=shape_of(x)),),
                "use ints, slices, None, ..., integer arrays or a boolean mask that fit the shape",
                prepare=_getitem_args, inputs=1, scalars=False)

scatter_add = defop("scatter_add", _scatter_add_forward,
                    lambda g, ans, x, index, shape: (getitem.raw(g, index=index),),
                    doc="zeros(shape) with x added at `index` (repeated indices add up): getitem's adjoint.",
                    inputs=1, note="internal")


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
        grads.append(getitem.raw(g, index=(slice(None),) * ax + (slice(start, start + n),)))
        start += n
    return tuple(grads)


def _concatenate_args(values, axis=0):
    """Join tensors along an existing axis; with axis=None, flattened first (numpy's concatenate).

    >>> from tinygrad_nn import Value, concatenate
    >>> concatenate([Value([1.0, 2.0]), Value([3.0])]).data
    array([1., 2., 3.])
    >>> concatenate([Value([[1.0, 2.0]]), Value(3.0)], axis=None).data
    array([1., 2., 3.])
    """
    if isinstance(values, Value):
        raise TypeError("concatenate: takes a list (or tuple) of inputs, got one Value; put it in a list, "
                        "concatenate([a, b])")
    values = tuple(values)
    if not values:
        raise ValueError("concatenate: needs at least one input")
    if axis is None:  # each input flattened (a reshape, so their gradients come back in shape), then joined
        return tuple(reshape(v, shape=(-1,)) for v in values), {"axis": 0}
    shape = shape_of(values[0])
    # Checked against the first input (the forward says which inputs do not fit); a scalar is refused by the forward.
    return values, {"axis": one_axis("concatenate", axis, shape) if shape else axis}


# The inputs are the list's elements; gradient rules call concatenate.raw(*inputs, axis=...).
concatenate = defop("concatenate", _concat_forward, _concat_vjp,
                    "all inputs need the same number of axes and equal sizes except along `axis`",
                    prepare=_concatenate_args, inputs="n", scalars=False)


@composite(inputs=1, scalars=False, method=("expand_dims", "unsqueeze"))
def expand_dims(x, axis):
    """A new axis of size 1 at `axis` (a reshape)."""
    shape = shape_of(x)
    ax = new_axis("expand_dims", axis, shape)
    return reshape(x, shape=shape[:ax] + (1,) + shape[ax:])


@composite(scalars=False)
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
    axis = new_axis("stack", axis, shape_of(values[0]))  # checked here, so that the error names stack
    return concatenate.raw(*[expand_dims(v, axis) for v in values], axis=axis)


@composite(scalars=False, method="flatten")
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
    dims = shape or (1,)  # a scalar flattens as one axis of one element, as in PyTorch
    start, end = one_axis("flatten", start_dim, dims, "start_dim"), one_axis("flatten", end_dim, dims, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}; "
                         f"start_dim must not be after end_dim")
    if not shape:
        return reshape(x, shape=(1,))
    return reshape(x, shape=shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


@composite(scalars=False, method="squeeze")
def squeeze(x, axis=None):
    """Drop axes of size 1 (all of them, or those in `axis`)."""
    shape = shape_of(x)
    axes = axis_tuple("squeeze", axis, shape)
    for a in axes:
        if axis is not None and shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {shape[a]}, not 1")
    return reshape(x, shape=tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1)))


# ----------------------------------------------------------------------------------------------
# numpy's shape and indexing functions. Nearly all of them are compositions of the primitives
# above (getitem, scatter_add, reshape, transpose, broadcast_to, concatenate) and `where` with a constant
# mask, so they need no gradient rule of their own: the rules of those primitives move the gradient back.
# `astype` is the one primitive, since a change of dtype is no rearrangement.

from .elementwise import where  # noqa: E402  (elementwise does not import this module)


def _along(axis, index):
    """An index that applies `index` along `axis` and takes every other axis whole."""
    return (slice(None),) * axis + (index,)


@composite(inputs=1, scalars=False)
def pad(x, pad_width, mode="constant", constant_values=0):
    """numpy's pad, constant mode: `pad_width` is an int, a (before, after) pair, or one pair per axis.

    The input is placed into zeros of the padded shape (scatter_add), and the constant frame is added
    when it is not zero: the gradient is the interior of g (getitem), the frame gets none.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, pad
    >>> x = Value([1.0, 2.0])
    >>> pad(x, (1, 2), constant_values=9.0).data
    array([9., 1., 2., 9., 9.])
    >>> (pad(x, 1) * np.arange(4.0)).sum().backward(); x.grad
    array([1., 2.])
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got mode={mode!r}; other modes "
                                  f"(reflect, edge, wrap...) can be built from getitem and concatenate")
    shape = shape_of(x)
    nd = len(shape)
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu" and widths.size:
        raise TypeError(f"pad: pad_width must hold ints, got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (nd, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit an input of shape {shape}; give an int, a "
                         f"(before, after) pair, or one (before, after) pair per axis ({nd} pairs)") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad widths must not be negative, got {pad_width!r}; to cut, index with slices")
    if nd == 0:
        return reshape(x, shape=())  # numpy too returns a 0-d input unchanged
    new_shape = tuple(int(s + b + a) for s, (b, a) in zip(shape, widths))
    inner = tuple(slice(int(b), int(b) + s) for s, (b, _) in zip(shape, widths))
    out = scatter_add(x, index=inner, shape=new_shape)
    if isinstance(constant_values, Value):  # a Value frame gets its gradient: the sum of g over the frame
        if constant_values.shape != ():
            raise TypeError(f"pad: constant_values as a Value must be one number, got shape {constant_values.shape}; "
                            f"pass a scalar Value, or numbers (per-axis pairs) without a gradient")
        d = data_of(x)
        mask = np.pad(np.zeros(shape, d.dtype if isinstance(d, np.ndarray) else np.float64), widths,
                      constant_values=1.0)
        return out + constant_values * mask
    if np.any(np.asarray(constant_values) != 0):
        d = data_of(x)
        # numpy's own pad of zeros gives the frame exactly as numpy lays it out (corners included).
        frame = np.pad(np.zeros(shape, d.dtype if isinstance(d, np.ndarray) else np.float64), widths,
                       constant_values=constant_values)
        out = out + frame
    return out


@composite(scalars=False, method="flip")
def flip(x, axis=None):
    """Reverse the order of the elements along `axis` (an int, a tuple, or None for every axis).

    >>> from tinygrad_nn import Value, flip
    >>> flip(Value([[1.0, 2.0], [3.0, 4.0]]), axis=1).data
    array([[2., 1.],
           [4., 3.]])
    """
    shape = shape_of(x)
    nd = len(shape)
    axes = axis_tuple("flip", axis, shape)
    if nd == 0:
        return reshape(x, shape=())
    return getitem.raw(x, index=tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(nd)))


@composite(inputs=1, scalars=False, method="roll")
def roll(x, shift, axis=None):
    """Shift the elements along `axis` cyclically, as numpy's roll (axis None: over the flattened input).

    Two slices joined in the other order (concatenate): the gradient rolls back.

    >>> from tinygrad_nn import Value, roll
    >>> roll(Value([1.0, 2.0, 3.0, 4.0]), 1).data
    array([4., 1., 2., 3.])
    """
    shape = shape_of(x)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), shape=shape)
    # Shifts and axes checked as given, before numpy turns them into arrays; unlike flip's, an axis may come twice.
    sequences = (tuple, list, range, np.ndarray)
    shifts = [integer("roll", "shift", s) for s in shift] if isinstance(shift, sequences) else \
        integer("roll", "shift", shift)
    axes = [one_axis("roll", a, shape) for a in axis] if isinstance(axis, sequences) else one_axis("roll", axis, shape)
    try:
        pairs = np.broadcast(np.asarray(shifts), np.asarray(axes))
    except ValueError:
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} must have the same length") from None
    total = {}
    for s, a in pairs:  # shifts along the same axis add up, as in numpy
        total[int(a)] = total.get(int(a), 0) + int(s)
    out = x
    for a, s in total.items():
        n = shape[a]
        s = s % n if n else 0
        if s:
            out = concatenate.raw(getitem.raw(out, index=_along(a, slice(n - s, None))),
                          getitem.raw(out, index=_along(a, slice(0, n - s))), axis=a)
    return out if out is not x else reshape(x, shape=shape)  # a new node (numpy returns a copy) even if unmoved


@composite(inputs=1, scalars=False, method="tile")
def tile(x, reps):
    """The input repeated `reps` times along each axis, as numpy's tile (and PyTorch's Tensor.tile).

    A broadcast over new interleaved axes, then a reshape: the gradient sums the copies.

    >>> from tinygrad_nn import Value, tile
    >>> tile(Value([1.0, 2.0]), (2, 2)).data
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    """
    reps = [reps] if np.ndim(reps) == 0 else list(reps)
    reps = [integer("tile", "reps", r) for r in reps]  # a float (or a float among them) is refused by name
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must not be negative, got {reps}")
    shape = shape_of(x)
    d = max(len(shape), len(reps))
    shape = (1,) * (d - len(shape)) + shape  # numpy: the shorter of the two gets leading ones
    reps = [1] * (d - len(reps)) + reps
    spread = tuple(v for s in shape for v in (1, s))
    copies = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    out = broadcast_to(reshape(x, shape=spread), shape=copies)
    return reshape(out, shape=tuple(r * s for r, s in zip(reps, shape)))


@composite(inputs=1, scalars=False)
def repeat(x, repeats, axis=None):
    """Repeat each element `repeats` times along `axis` (None: of the flattened input), as numpy's repeat.

    `repeats` is an int or one count per element along `axis`. This is numpy's meaning, which PyTorch calls
    repeat_interleave; PyTorch's Tensor.repeat is numpy's tile. So that neither reading is ever silently
    wrong, Value has no `.repeat` method: call repeat(x, ...) or tile(x, ...) (also x.tile(...)).

    >>> from tinygrad_nn import Value, repeat
    >>> repeat(Value([1.0, 2.0]), 2).data
    array([1., 1., 2., 2.])
    >>> repeat(Value([[1.0, 2.0]]), [1, 3], axis=1).data
    array([[1., 2., 2., 2.]])
    """
    if axis is None:
        x, axis = ravel(x), 0
    shape = shape_of(x)
    ax = one_axis("repeat", axis, shape)
    n = shape[ax]
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be an int or ints, got {repeats!r}")
    if (counts < 0).any():
        raise ValueError(f"repeat: repeats must not be negative, got {repeats!r}")
    if counts.size == 1:  # one count for all: a broadcast along a new axis, then a reshape
        k = int(counts.reshape(()))
        out = broadcast_to(reshape(x, shape=shape[:ax + 1] + (1,) + shape[ax + 1:]),
                           shape=shape[:ax + 1] + (k,) + shape[ax + 1:])
        return reshape(out, shape=shape[:ax] + (n * k,) + shape[ax + 1:])
    if counts.shape != (n,):
        raise ValueError(f"repeat: repeats of shape {counts.shape} need one count per element along axis "
                         f"{axis}, that is shape ({n},) for an input of shape {shape}")
    return getitem.raw(x, index=_along(ax, np.repeat(np.arange(n), counts)))


@composite(inputs=1, scalars=False)
def array_split(x, indices_or_sections, axis=0):
    """Split into a list of pieces along `axis`: `n` pieces (the first ones one element longer when n does
    not divide the size) or pieces between the given indices, as numpy's array_split.

    Each piece is a slice (getitem), so the gradient of each flows back into its own place; pieces that are
    not used contribute nothing (zero). Each piece's gradient is a full-size array in the backward pass, so
    splitting into very many pieces costs as many full-size additions.

    >>> from tinygrad_nn import Value, array_split
    >>> [p.data for p in array_split(Value([1.0, 2.0, 3.0]), 2)]
    [array([1., 2.]), array([3.])]
    """
    return _split("array_split", x, indices_or_sections, axis, equal=False)


@composite(inputs=1, scalars=False)
def split(x, indices_or_sections, axis=0):
    """numpy's split: as array_split, but an int `n` must divide the size along `axis`.

    (PyTorch's Tensor.split takes the size of each piece instead, so Value has no `.split` method.)

    >>> from tinygrad_nn import Value, split
    >>> [p.data for p in split(Value([1.0, 2.0, 3.0, 4.0]), [1, 3])]
    [array([1.]), array([2., 3.]), array([4.])]
    """
    return _split("split", x, indices_or_sections, axis, equal=True)


def _split(who, x, indices_or_sections, axis, equal):
    shape = shape_of(x)
    if not shape:
        raise ValueError(f"{who}: a 0-d input has no axis to split")
    ax = one_axis(who, axis, shape)
    n = shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"{who}: the number of pieces must be at least 1, got {k}")
        if equal and n % k:
            raise ValueError(f"{who}: {n} elements along axis {axis} do not split into {k} equal pieces; give "
                             f"indices, or use array_split for pieces of unequal sizes")
        q, r = divmod(n, k)
        bounds = [0]
        for i in range(k):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    elif np.ndim(indices_or_sections) == 1:  # a sequence of indices (a list, a tuple, a range, an array)
        bounds = [0] + [integer(who, "an index", i) for i in indices_or_sections] + [n]
    else:
        raise TypeError(f"{who}: indices_or_sections must be an int (the number of pieces) or a sequence of "
                        f"indices, got {type(indices_or_sections).__name__} {indices_or_sections!r}")
    return [getitem.raw(x, index=_along(ax, slice(a, b))) for a, b in zip(bounds[:-1], bounds[1:])]


@composite(inputs=1, scalars=False)
def vsplit(x, indices_or_sections):
    """split along axis 0 of an input of 2 or more axes (numpy's vsplit)."""
    if len(shape_of(x)) < 2:
        raise ValueError(f"vsplit: needs an input of at least 2 axes, got shape {shape_of(x)}; use split")
    return _split("vsplit", x, indices_or_sections, 0, equal=True)


@composite(inputs=1, scalars=False)
def hsplit(x, indices_or_sections):
    """split along axis 1 (axis 0 for a 1-D input), as numpy's hsplit."""
    nd = len(shape_of(x))
    if nd == 0:
        raise ValueError("hsplit: a 0-d input has no axis to split")
    return _split("hsplit", x, indices_or_sections, 1 if nd > 1 else 0, equal=True)


def _triangle(who, x, mask_of):
    shape = shape_of(x)
    if not shape:
        raise ValueError(f"{who}: needs a matrix (or a stack of them), got a 0-d input")
    n, m = shape[-2:] if len(shape) >= 2 else (shape[0], shape[0])  # numpy: a vector makes a square
    # `where` with a constant mask (not a product): inf and nan outside the triangle become 0, as in numpy.
    return where(mask_of(n, m), x, 0.0)


@composite(scalars=False, method="tril")
def tril(x, k=0):
    """The lower triangle of the last two axes (on and below diagonal k); the rest zero. As numpy's tril.

    >>> from tinygrad_nn import Value, tril
    >>> tril(Value([[1.0, 2.0], [3.0, 4.0]])).data
    array([[1., 0.],
           [3., 4.]])
    """
    k = integer("tril", "k", k)
    return _triangle("tril", x, lambda n, m: np.tri(n, m, k, dtype=bool))


@composite(scalars=False, method="triu")
def triu(x, k=0):
    """The upper triangle of the last two axes (on and above diagonal k); the rest zero. As numpy's triu."""
    k = integer("triu", "k", k)
    return _triangle("triu", x, lambda n, m: ~np.tri(n, m, k - 1, dtype=bool))


def _diagonal_index(n, m, offset):
    d = max(0, min(n - max(0, -offset), m - max(0, offset)))
    return np.arange(d) + max(0, -offset), np.arange(d) + max(0, offset)


@composite(scalars=False, method="diagonal")
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal `offset` of the matrices in axes (axis1, axis2), as a new last axis (numpy's diagonal).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, diagonal
    >>> diagonal(Value(np.arange(6.0).reshape(2, 3)), offset=1).data
    array([1., 5.])
    """
    return _diagonal("diagonal", x, offset, axis1, axis2)


def _diagonal(who, x, offset, axis1, axis2):
    """diagonal, with errors that name `who` (trace checks its arguments through this too)."""
    shape = shape_of(x)
    nd = len(shape)
    if nd < 2:
        raise ValueError(f"{who}: needs an input of at least 2 axes, got shape {shape}")
    offset = integer(who, "offset", offset)
    a1, a2 = one_axis(who, axis1, shape, "axis1"), one_axis(who, axis2, shape, "axis2")
    if a1 == a2:
        raise ValueError(f"{who}: axis1 and axis2 must differ, both are {a1}")
    order = [i for i in range(nd) if i not in (a1, a2)] + [a1, a2]
    if order != list(range(nd)):
        x = transpose(x, axes=tuple(order))
    rows, cols = _diagonal_index(shape[a1], shape[a2], offset)
    return getitem.raw(x, index=(Ellipsis, rows, cols))


@composite(scalars=False, method="diag")
def diag(x, k=0):
    """numpy's diag: a 1-D input becomes a matrix with it on diagonal k; a 2-D input gives its diagonal k.

    >>> from tinygrad_nn import Value, diag
    >>> diag(Value([1.0, 2.0])).data
    array([[1., 0.],
           [0., 2.]])
    """
    shape = shape_of(x)
    k = integer("diag", "k", k)
    if len(shape) == 1:
        size = shape[0] + abs(k)
        return scatter_add(x, index=_diagonal_index(size, size, k), shape=(size, size))
    if len(shape) == 2:
        return diagonal(x, offset=k)
    raise ValueError(f"diag: needs a 1-D or 2-D input, got shape {shape}; use diagonal for stacks of matrices")


@composite(scalars=False, method="trace")
def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the diagonal `offset` of the matrices in axes (axis1, axis2), as numpy's trace.

    >>> from tinygrad_nn import Value, trace
    >>> trace(Value([[1.0, 2.0], [3.0, 4.0]])).data
    array(5.)
    """
    from .reductions import sum as _sum  # here: reductions imports this module

    return _sum(_diagonal("trace", x, offset, axis1, axis2), axis=-1)


@composite(scalars=False, method="ravel")
def ravel(x):
    """All elements in one axis, row-major (numpy's ravel: a 0-d input gives one element)."""
    return reshape(x, shape=(-1,))


@composite(inputs=1, scalars=False, method="swapaxes")
def swapaxes(x, axis1, axis2):
    """Exchange two axes (a transpose)."""
    shape = shape_of(x)
    nd = len(shape)
    a1, a2 = one_axis("swapaxes", axis1, shape, "axis1"), one_axis("swapaxes", axis2, shape, "axis2")
    order = list(range(nd))
    order[a1], order[a2] = a2, a1
    return transpose(x, axes=tuple(order))


@composite(inputs=1, scalars=False, method="moveaxis")
def moveaxis(x, source, destination):
    """Move axes to new positions, the others keeping their order (numpy's moveaxis; a transpose).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, moveaxis
    >>> moveaxis(Value(np.zeros((2, 3, 4))), 0, -1).shape
    (3, 4, 2)
    """
    shape = shape_of(x)
    nd = len(shape)
    src = axis_tuple("moveaxis", source, shape, "source")
    dst = axis_tuple("moveaxis", destination, shape, "destination")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} must name as many axes")
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, axes=tuple(order))


def _check_join(who, values, axis):
    """The inputs of vstack / hstack must agree in rank and in every size but the one along `axis` (checked
    here so that the error names the function called, not the concatenate inside it)."""
    shapes = [shape_of(v) for v in values]
    first = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(first) or any(a != b for i, (a, b) in enumerate(zip(s, first)) if i != axis):
            raise ValueError(f"{who}: the inputs' shapes {shapes} do not fit together: after {who} makes them "
                             f"at least {2 if who == 'vstack' else 1}-D they need the same number of axes and equal "
                             f"sizes except along axis {axis}")


def _atleast(x, nd):
    shape = shape_of(x)
    if len(shape) >= nd:
        return x
    if nd == 1:
        return reshape(x, shape=(1,))
    return reshape(x, shape=(1,) * (2 - len(shape)) + shape)  # (n,) -> (1, n), () -> (1, 1)


@composite(scalars=False)
def vstack(values):
    """Join along axis 0, vectors becoming rows (numpy's vstack).

    >>> from tinygrad_nn import Value, vstack
    >>> vstack([Value([1.0, 2.0]), Value([3.0, 4.0])]).data
    array([[1., 2.],
           [3., 4.]])
    """
    values = list(values)
    if not values:
        raise ValueError("vstack: needs at least one input")
    values = [_atleast(v, 2) for v in values]
    _check_join("vstack", values, 0)
    return concatenate.raw(*values, axis=0)


@composite(scalars=False)
def hstack(values):
    """Join along axis 1, or along axis 0 when the inputs are vectors (numpy's hstack).

    >>> from tinygrad_nn import Value, hstack
    >>> hstack([Value([1.0]), Value([2.0, 3.0])]).data
    array([1., 2., 3.])
    """
    values = [_atleast(v, 1) for v in values]
    if not values:
        raise ValueError("hstack: needs at least one input")
    axis = 0 if len(shape_of(values[0])) == 1 else 1
    _check_join("hstack", values, axis)
    return concatenate.raw(*values, axis=axis)


def _dtype_of(x):
    d = data_of(x)
    return d.dtype if isinstance(d, (np.ndarray, np.generic)) else np.dtype(np.float64)


def _astype_forward(x, dtype):
    if x.__class__ is float:
        if dtype != np.float64:
            raise ValueError(f"astype: a scalar Value holds a Python float (float64) and cannot become {dtype}; "
                             f"make it a tensor first: Value(np.array(x))")
        return x
    return x.astype(dtype)


def _astype_vjp(g, ans, x, dtype):
    # The gradient comes back in the input's dtype (as PyTorch's .to(dtype) does): a float32 parameter used
    # in float64 arithmetic gets a float32 gradient.
    want = _dtype_of(x)
    return (g if _dtype_of(g) == want else astype.raw(g, dtype=want),)


def _astype_args(x, dtype):
    """The values in another float dtype (a copy), numpy's astype; the gradient returns in x's dtype.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, astype
    >>> x = Value(np.array([1.0, 2.0], dtype=np.float32))
    >>> y = astype(x, np.float64); y.dtype
    dtype('float64')
    >>> (y * y).sum().backward(); x.grad.dtype
    dtype('float32')
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"astype: {dtype!r} is no dtype ({e})") from None
    if dt.kind in "iub":
        return NoNode(_as_integers(x, dt))
    if dt.kind != "f":
        raise TypeError(f"astype: Values hold real floats, so dtype must be a float type (float16, float32, "
                        f"float64) or an integer type (then plain numpy integers come back), got {dt}")
    return (x,), {"dtype": dt}


astype = defop("astype", _astype_forward, _astype_vjp, "dtype must be a float type",
               prepare=_astype_args, inputs=1, scalars=False, method="astype")


def _as_integers(x, dt):
    """astype to an integer (or bool) dtype: plain numpy numbers, truncated toward zero as numpy and PyTorch do, and
    no gradient (integers have no slope), like argmax's indices. Indices computed from values (a cell of a grid
    from a position) are the use."""
    d = np.asarray(data_of(x))
    if dt.kind != "b":
        if not np.all(np.isfinite(d)):
            raise ValueError(f"astype: cannot convert NaN or inf to {dt} (the Value holds "
                             f"{d[~np.isfinite(d)].flat[0]!r}); clean it first, e.g. nan_to_num")
        info = np.iinfo(dt)
        if d.size and (d.min() <= info.min - 1.0 or d.max() >= info.max + 1.0):
            raise ValueError(f"astype: values from {d.min()!r} to {d.max()!r} do not fit in {dt} "
                             f"[{info.min}, {info.max}]")
    out = d.astype(dt)
    return out[()] if out.ndim == 0 else out


# -- rotations, depth splits and evenly spaced values, composed from the ops above -----------------------


@composite(scalars=False)
def rot90(x, k=1, axes=(0, 1)):
    """Rotate by 90 degrees k times in the plane of `axes`, from the first axis towards the second (numpy's
    rot90): a flip and a transpose, so the gradient rotates back.

    >>> from tinygrad_nn import Value, rot90
    >>> rot90(Value([[1.0, 2.0], [3.0, 4.0]])).data
    array([[2., 4.],
           [1., 3.]])
    """
    shape = shape_of(x)
    nd = len(shape)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name two axes, got {axes!r}")
    a0, a1 = (one_axis("rot90", a, shape) for a in axes)
    if a0 == a1:
        raise ValueError(f"rot90: axes must be two different axes, got {axes!r}")
    k = integer("rot90", "k", k) % 4
    if k == 0:
        return flip(x, axis=())
    if k == 2:
        return flip(x, axis=(a0, a1))
    order = list(range(nd))
    order[a0], order[a1] = a1, a0
    if k == 1:
        return transpose(flip(x, axis=a1), axes=tuple(order))
    return flip(transpose(x, axes=tuple(order)), axis=a1)


@composite(inputs=1, scalars=False)
def dsplit(x, indices_or_sections):
    """split along axis 2 (depth) of an input of 3 or more axes (numpy's dsplit).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, dsplit
    >>> [p.shape for p in dsplit(Value(np.zeros((1, 2, 4))), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    if len(shape_of(x)) < 3:
        raise ValueError(f"dsplit: needs an input of at least 3 axes, got shape {shape_of(x)}; use split")
    return _split("dsplit", x, indices_or_sections, 2, equal=True)


@composite(scalars=False)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """num evenly spaced values from start to stop (numpy's linspace, the same bits), differentiable in the
    endpoints when they are Values: each value is start + i * step with step = (stop - start) / div, and
    the last one is stop itself when `endpoint`.

    >>> from tinygrad_nn import Value, linspace
    >>> a, b = Value(0.0), Value(1.0)
    >>> y = linspace(a, b, 5); y.data
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> y.sum().backward(); a.grad, b.grad                 # sum of (1 - t) and of t over t = 0, 1/4 ... 1
    (2.5, 2.5)
    """
    num = integer("linspace", "num", num)
    if num < 0:
        raise ValueError(f"linspace: num must be >= 0, got {num}")
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"linspace: dtype must be a float type, got {np.dtype(dtype)}; round the result "
                        f"(no gradient flows through integers)")
    if not isinstance(start, Value) and not isinstance(stop, Value):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    # (a number stays a number: it then takes the other end's float width, as numpy's own linspace does)
    start, stop = (v if isinstance(v, (Value, int, float)) else np.asarray(v) for v in (start, stop))
    div = (num - 1) if endpoint else num
    try:
        lead = np.broadcast_shapes(shape_of(start), shape_of(stop))
    except ValueError:
        raise ValueError(f"linspace: start and stop of shapes {shape_of(start)} and {shape_of(stop)} do not "
                         f"broadcast") from None
    axis = new_axis("linspace", axis, lead)  # where the samples go among the endpoints' axes
    delta = stop - start
    kind = np.result_type(data_of(start), data_of(stop), float(num))  # numpy's: float32 ends stay float32
    steps = np.arange(num, dtype=kind).reshape((-1,) + (1,) * len(lead))
    step = delta / div if div > 0 else delta * np.nan  # numpy's step for num <= 1 is NaN too
    if div > 0:
        y = steps * step + start
        if endpoint and num > 1:
            last = reshape(broadcast_to(stop, shape=lead), shape=(1,) + lead)
            y = concatenate([y[:-1], last], axis=0)
    else:
        y = steps * delta + start
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        y = astype(y, dtype)
    return (y, step) if retstep else y


# The docstrings of the ops above run as doctests too (doctest finds functions by itself, not ops).
__test__ = doctests(__name__)
