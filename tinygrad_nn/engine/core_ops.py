"""The ops the engine itself needs: `sum_to` (un-broadcasting every gradient), its adjoint `broadcast_to`, and
`identity` (a new node for the same value). tinygrad_nn.ops exports them with the rest.
"""

from __future__ import annotations

import math

import numpy as np

from .node import shape_of
from .op import defop


def sum_to_shape(x, shape):
    """Sum the array x down to `shape`, the inverse of broadcasting: the un-broadcasting of gradients."""
    xshape = np.shape(x)
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    if lead == 1 and xshape[1:] == shape:  # a batch summed into a bias: the common case
        return np.add.reduce(x, axis=0)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and xshape[lead + i] != 1)
    return np.add.reduce(x, axis=axes).reshape(shape)


sum_to = defop("sum_to", sum_to_shape, lambda g, ans, x, shape: (broadcast_to(g, shape=shape_of(x)),),
               doc="x summed down to `shape`, the inverse of broadcasting: how the engine un-broadcasts gradients.",
               inputs=1, note="internal")


def _broadcast_to_forward(x, shape):
    if math.prod(shape) > 4096 or np.ndim(x) > len(shape):
        return np.broadcast_to(x, shape)  # a read-only view: no copy of a large array (or numpy's error)
    # np.broadcast_to costs microseconds of Python; filling a small new array is faster. A numpy scalar (what
    # numpy's arithmetic on 0-d arrays returns) keeps its dtype.
    out = np.empty(shape, dtype=x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.float64)
    try:
        out[...] = x
    except ValueError:
        return np.broadcast_to(x, shape)  # not broadcastable: let numpy say why
    return out


broadcast_to = defop("broadcast_to", _broadcast_to_forward,
                     lambda g, ans, x, shape: (sum_to(g, shape=shape_of(x)),),
                     "the input's shape must broadcast to the target (sizes equal, or 1 in the input)",
                     inputs=1, scalars=False, method="broadcast_to")


def _identity(x):
    if x.__class__ is list or x.__class__ is tuple:  # no payload (a list of Values is stacked by apply)
        raise TypeError(f"identity: expects a number or an array, got a {type(x).__name__}")
    return x


identity = defop("identity", _identity, lambda g, ans, x: (g,),
                 doc="x itself, as a new node: marks where a gradient is wanted (see engine.gradients).",
                 note="internal")
