"""The op table, a file per family. Importing this package registers every built-in op and gives
`Value` its methods (`x.exp()`, `x.sum(axis=0)`, ...), which are these same functions."""

from __future__ import annotations

from ..engine import Value
from .elementwise import (
    abs,
    add,
    add_n,
    clip,
    div,
    exp,
    identity,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    power,
    reciprocal,
    relu,
    sigmoid,
    sqrt,
    step,
    sub,
    tanh,
    where,
)
from .linalg import linear, matmul
from .reductions import log_softmax, logsumexp, max, mean, min, softmax, sum
from .registry import OPINFOS, OPS, Op, OpInfo, defop, register_test
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    reshape,
    scatter_add,
    squeeze,
    stack,
    sum_to,
    transpose,
)


def _shape_args(args):
    # x.reshape(3, 4) and x.reshape((3, 4)) both work, as in numpy and PyTorch.
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _reshape_method(self, *shape):
    return reshape(self, shape=_shape_args(shape))


def _transpose_method(self, *axes):
    return transpose(self, axes=_shape_args(axes) or None)


def _broadcast_to_method(self, *shape):
    return broadcast_to(self, shape=_shape_args(shape))


def _as_method(fn):
    if not isinstance(fn, Op):
        return fn

    def method(self, *args, **params):  # an Op is not a function, so it would not bind to self
        return fn(self, *args, **params)

    method.__name__, method.__doc__ = fn.name, fn.__doc__
    return method


for _name, _fn in {
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "tanh": tanh, "sigmoid": sigmoid, "relu": relu,
    "step": step, "maximum": maximum, "minimum": minimum, "clip": clip,
    "sum": sum, "mean": mean, "max": max, "min": min, "logsumexp": logsumexp,
    "softmax": softmax, "log_softmax": log_softmax,
    "reshape": _reshape_method, "transpose": _transpose_method, "broadcast_to": _broadcast_to_method,
    "flatten": flatten, "squeeze": squeeze, "expand_dims": expand_dims,
}.items():
    setattr(Value, _name, _as_method(_fn))
Value.__abs__ = _as_method(abs)

from . import opinfos  # noqa: E402,F401  (registers the built-in ops' property tests)

__all__ = [
    "OPINFOS", "OPS", "Op", "OpInfo", "abs", "add", "add_n", "broadcast_to", "clip", "concatenate", "defop", "div",
    "exp", "expand_dims", "flatten", "getitem", "identity", "linear",
    "log", "log_softmax", "logsumexp", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "neg", "pow", "power", "reciprocal", "register_test", "relu", "reshape",
    "scatter_add", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "step", "sub", "sum", "sum_to", "tanh",
    "transpose", "where",
]

# -- chapter 5: convolution and pooling (conv.py) --------------------------------------------------------
from .conv import avg_pool2d, conv2d, conv2d_weight, conv_transpose2d, max_pool2d  # noqa: E402

__all__ += ["avg_pool2d", "conv2d", "conv2d_weight", "conv_transpose2d", "max_pool2d"]
