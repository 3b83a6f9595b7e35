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
from .registry import OPINFOS, OPS, ErrorCase, Op, OpInfo, defop, register_test
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
    "OPINFOS", "OPS", "ErrorCase", "Op", "OpInfo", "abs", "add", "add_n", "broadcast_to", "clip", "concatenate",
    "defop", "div",
    "exp", "expand_dims", "flatten", "getitem", "identity", "linear",
    "log", "log_softmax", "logsumexp", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "neg", "pow", "reciprocal", "register_test", "relu", "reshape",
    "scatter_add", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "step", "sub", "sum", "sum_to", "tanh",
    "transpose", "where",
]

# -- breadth, issue 9: shape, indexing and linear algebra (shape.py, linalg.py) ---------------------------
from .linalg import (  # noqa: E402
    cholesky,
    det,
    dot,
    eigh,
    einsum,
    inner,
    inv,
    kron,
    outer,
    slogdet,
    solve,
    svd,
    tensordot,
)
from .shape import (  # noqa: E402
    array_split,
    astype,
    diag,
    diagonal,
    flip,
    hsplit,
    hstack,
    moveaxis,
    pad,
    ravel,
    repeat,
    roll,
    split,
    swapaxes,
    tile,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)


def _flip_method(self, *axis, **kw):
    # x.flip(), x.flip(0), x.flip(0, 1), x.flip((0, 1)) and x.flip(axis=0), as numpy's and PyTorch's spellings
    return flip(self, kw.pop("axis", _shape_args(axis) or None), **kw)


def _tile_method(self, *reps):
    return tile(self, _shape_args(reps))


# Methods where numpy's ndarray or PyTorch's Tensor has them with the same meaning. Not `repeat` (numpy's
# ndarray.repeat is our repeat, PyTorch's Tensor.repeat is our tile) nor `split` (PyTorch's takes piece
# sizes, numpy's a count): call the functions for those. Not `svd` either (PyTorch's Tensor.svd returns V).
for _name, _fn in {
    "flip": _flip_method, "roll": roll, "tile": _tile_method, "tril": tril, "triu": triu, "diag": diag,
    "diagonal": diagonal, "trace": trace, "ravel": ravel, "swapaxes": swapaxes, "moveaxis": moveaxis,
    "astype": astype, "dot": dot, "inner": inner, "outer": outer, "kron": kron, "det": det,
    "slogdet": slogdet, "inverse": inv, "cholesky": cholesky,
}.items():
    setattr(Value, _name, _as_method(_fn))

__all__ += [
    "array_split", "astype", "cholesky", "det", "diag", "diagonal", "dot", "eigh", "einsum", "flip", "hsplit",
    "hstack", "inner", "inv", "kron", "moveaxis", "outer", "pad", "ravel", "repeat", "roll", "slogdet", "solve",
    "split", "svd", "swapaxes", "tensordot", "tile", "trace", "tril", "triu", "vsplit", "vstack",
]

# ----------------------------------------------------------------------------------------------
# Breadth (issue 9): more elementwise functions, reductions and scans, and numpy's protocols.
from . import numpy_api  # noqa: E402
from .elementwise import (  # noqa: E402
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    ceil,
    cos,
    cosh,
    deg2rad,
    exp2,
    expm1,
    floor,
    fmax,
    fmin,
    hypot,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    mod,
    nan_to_num,
    rad2deg,
    remainder,
    round,
    sign,
    sin,
    sinc,
    sinh,
    square,
    tan,
)
from .reductions import (  # noqa: E402
    argmax,
    argmin,
    argsort,
    cumprod,
    cumsum,
    diff,
    norm,
    prod,
    sort,
    std,
    var,
)

# Methods with PyTorch's names (and numpy's where PyTorch spells them asin, atan2, ...). No `sort` method: PyTorch's
# x.sort() returns (values, indices) and numpy's sorts in place, so either reading would be wrong for somebody;
# use sort(x) or np.sort(x).
for _name, _fn in {
    "sin": sin, "cos": cos, "tan": tan, "arcsin": arcsin, "arccos": arccos, "arctan": arctan, "arctan2": arctan2,
    "asin": arcsin, "acos": arccos, "atan": arctan, "atan2": arctan2,
    "sinh": sinh, "cosh": cosh, "arcsinh": arcsinh, "arccosh": arccosh, "arctanh": arctanh,
    "asinh": arcsinh, "acosh": arccosh, "atanh": arctanh,
    "log1p": log1p, "expm1": expm1, "log2": log2, "log10": log10, "exp2": exp2, "square": square,
    "hypot": hypot, "logaddexp": logaddexp, "logaddexp2": logaddexp2, "sinc": sinc,
    "sign": sign, "floor": floor, "ceil": ceil, "round": round, "fmax": fmax, "fmin": fmin, "remainder": remainder,
    "deg2rad": deg2rad, "rad2deg": rad2deg, "nan_to_num": nan_to_num,
    "prod": prod, "var": var, "std": std, "cumsum": cumsum, "cumprod": cumprod, "norm": norm,
    "argmax": argmax, "argmin": argmin, "argsort": argsort, "diff": diff,
}.items():
    setattr(Value, _name, _as_method(_fn))
# a % b with numpy's and PyTorch's gradients (d/da = 1, d/db = -floor(a / b)).
Value.__mod__ = _as_method(remainder)
Value.__rmod__ = lambda self, other: remainder(other, self)
# numpy's protocols: np.exp(v), np.sum(v, axis=0), array + v ... run the ops; np.asarray(v) is the payload.
Value.__array_ufunc__ = numpy_api.array_ufunc
Value.__array_function__ = numpy_api.array_function
Value.__array__ = numpy_api.array

__all__ += [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argsort", "ceil",
    "cos", "cosh", "cumprod", "cumsum", "deg2rad", "diff", "exp2", "expm1", "floor", "fmax", "fmin", "hypot", "log1p",
    "log2", "log10", "logaddexp", "logaddexp2", "mod", "nan_to_num", "norm", "prod", "rad2deg", "remainder", "round",
    "sign", "sin", "sinc", "sinh", "sort", "square", "std", "tan", "var",
]
