"""Linear algebra: matmul for 1-D, 2-D and batched operands (numpy's `@` rules)."""

from __future__ import annotations

import numpy as np

from ..engine import shape_of
from .registry import defop
from .shape import reshape, sum_to, transpose


def _matmul_forward(a, b):
    sa = a.shape if a.__class__ is np.ndarray else ()
    sb = b.shape if b.__class__ is np.ndarray else ()
    if not sa or not sb:
        raise ValueError(f"matmul: both inputs need at least one axis, got shapes {sa} and {sb}; "
                         f"use * to multiply by a scalar")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: inner sizes differ: {sa} @ {sb} needs a.shape[-1] ({ka}) == "
                         f"b.shape[{0 if len(sb) == 1 else -2}] ({kb}); transpose one side (.T) or fix the sizes")
    return a @ b


def _swap_last(x):
    n = len(shape_of(x))
    return transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_vjp(g, ans, a, b):
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 2 and len(sb) == 2:  # the common case, and .T is the swap of the last two axes
        return g @ b.T, a.T @ g
    if len(sa) == 1 and len(sb) == 1:  # inner product: ans is 0-d
        return g * b, g * a
    # Treat 1-D operands as a row (left) or a column (right) matrix, as numpy does, then undo it.
    a2 = reshape(a, shape=(1,) + sa) if len(sa) == 1 else a
    b2 = reshape(b, shape=sb + (1,)) if len(sb) == 1 else b
    gs = shape_of(g)
    if len(sb) == 1:
        gs = gs + (1,)
    if len(sa) == 1:
        gs = gs[:-1] + (1,) + gs[-1:]
    g2 = reshape(g, shape=gs) if gs != shape_of(g) else g
    ga = g2 @ _swap_last(b2)
    gb = _swap_last(a2) @ g2
    if len(sa) == 1:
        ga = reshape(sum_to(ga, shape=(1,) + sa), shape=sa)
    if len(sb) == 1:
        gb = reshape(sum_to(gb, shape=sb + (1,)), shape=sb)
    return ga, gb  # batch axes that were broadcast are summed away by the engine


matmul = defop("matmul", _matmul_forward, _matmul_vjp,
               "a.shape[-1] must equal b.shape[-2] (or b.shape[0] for a vector b)")


def _linear_forward(x, w, b):
    if w.__class__ is not np.ndarray or b.__class__ is not np.ndarray or w.ndim != 2 or b.shape != w.shape[:1]:
        raise ValueError(f"linear: weight must have shape (out, in) and bias (out,), got {np.shape(w)} and "
                         f"{np.shape(b)}")
    z = _matmul_forward(x, w.T)
    z += b  # z is a fresh array: adding in place saves a temporary
    return z


def _linear_grad_w(g, ans, x, w, b):
    if x.ndim == 2:  # a batch of samples: sum g_n x_nᵀ over them
        return g.T @ x
    sx, sw = shape_of(x), shape_of(w)
    if len(sx) == 1:  # one sample: the outer product g xᵀ
        return reshape(g, shape=(sw[0], 1)) * reshape(x, shape=(1, sw[1]))
    return _swap_last(reshape(g, shape=(-1, sw[0]))) @ reshape(x, shape=(-1, sw[1]))  # batches of batches


linear = defop("linear", _linear_forward,
               (lambda g, ans, x, w, b: g @ w,  # rarely needed: the data batch into a layer is a constant
                _linear_grad_w,
                lambda g, ans, x, w, b: g),  # summed over the batch by the engine
               "x must end in the layer's input size: x.shape[-1] == weight.shape[1]",
               doc="x @ weight.T + bias: a fully connected layer's z = w . x + b for every unit at once. "
                   "The same as composing matmul, transpose and add, in one node.")
