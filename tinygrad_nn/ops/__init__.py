"""The op table, a file per family: elementwise, reductions (and scans), shape (and indexing), linalg, conv.
Importing this package registers every built-in op, gives `Value` its methods (`x.exp()`, `x.sum(axis=0)`),
which are these same functions, and lets numpy's functions run them on Values (numpy_api.py).

Every name below is a function of tinygrad_nn too; `python -m tinygrad_nn.ops.catalog` lists them with their
arity, differentiable order and scalar support (the table in the README).
"""

from __future__ import annotations

import functools
import types

from ..engine import Value, _holds_values, _stacked
from . import (
    numpy_api,
    special,  # noqa: I001  (registers scipy.special's ops; users reach them as tinygrad_nn.special)
)
from .conv import (
    avg_pool2d,
    conv2d,
    conv2d_weight,
    conv_transpose2d,
    max_pool2d,
)
from .elementwise import (
    abs,
    add,
    add_n,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    ceil,
    clip,
    cos,
    cosh,
    deg2rad,
    div,
    exp,
    exp2,
    expm1,
    floor,
    fmax,
    fmin,
    hypot,
    identity,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    maximum,
    minimum,
    mod,
    mul,
    nan_to_num,
    neg,
    pow,
    rad2deg,
    reciprocal,
    relu,
    remainder,
    round,
    sigmoid,
    sign,
    sin,
    sinc,
    sinh,
    sqrt,
    square,
    step,
    sub,
    tan,
    tanh,
    where,
)
from .linalg import (
    cholesky,
    cross,
    det,
    dot,
    eigh,
    einsum,
    inner,
    inv,
    kron,
    linear,
    matmul,
    outer,
    pinv,
    slogdet,
    solve,
    svd,
    tensordot,
)
from .reductions import (
    argmax,
    argmin,
    argsort,
    cumprod,
    cumsum,
    diff,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    partition,
    prod,
    softmax,
    sort,
    std,
    sum,
    var,
)
from .registry import OPS, Facts, Op, composite, defop
from .shape import (
    array_split,
    astype,
    broadcast_to,
    concatenate,
    diag,
    diagonal,
    dsplit,
    expand_dims,
    flatten,
    flip,
    getitem,
    hsplit,
    hstack,
    linspace,
    moveaxis,
    pad,
    ravel,
    repeat,
    reshape,
    roll,
    rot90,
    scatter_add,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    tile,
    trace,
    transpose,
    tril,
    triu,
    vsplit,
    vstack,
)


def _family(fn) -> str:
    """The family file a function (or an op's forward) is defined in."""
    return getattr(fn.forward if isinstance(fn, Op) else fn, "__module__", "").rpartition(".")[2]


def _stacking(fn):
    """fn with every positional argument that is a list or tuple holding Values stacked first (the engine's
    `_stacked`, which the ops' `apply` uses too), so that a composed function keeps the gradients of
    `mean([a, b])` as an op keeps those of `sum([a, b])`, where numpy would turn the Values into numbers."""

    @functools.wraps(fn)
    def with_lists_stacked(*args, **params):
        for i, x in enumerate(args):
            if (x.__class__ is list or x.__class__ is tuple) and _holds_values(x):
                args = args[:i] + (_stacked(x),) + args[i + 1:]
        return fn(*args, **params)

    return with_lists_stacked


# Functions whose positional arguments are sequences on purpose (of inputs to join, or an index) are left as
# they are; every other public function that is not an Op (an Op stacks in `apply`) gets `_stacking`.
_SEQUENCES = {"concatenate", "stack", "hstack", "vstack", "getitem"}
for _name, _fn in list(globals().items()):
    if (not _name.startswith("_") and _name not in _SEQUENCES and isinstance(_fn, types.FunctionType)
            and _family(_fn) in ("conv", "elementwise", "linalg", "reductions", "shape")):
        globals()[_name] = _stacking(_fn)


def _shape_args(args):
    # x.reshape(3, 4) and x.reshape((3, 4)) both work, as in numpy and PyTorch; so does x.reshape(shape=(3, 4)).
    if not args:
        return ()
    return (tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args),)


def _reshape_method(self, *shape, **kw):
    return reshape(self, *_shape_args(shape), **kw)


def _transpose_method(self, *axes, **kw):
    return transpose(self, *(_shape_args(axes) if axes != (None,) else ()), **kw)


def _broadcast_to_method(self, *shape, **kw):
    return broadcast_to(self, *_shape_args(shape), **kw)


def _flip_method(self, *axis, **kw):
    # x.flip(), x.flip(0), x.flip(0, 1), x.flip((0, 1)) and x.flip(axis=0), as numpy's and PyTorch's spellings
    return flip(self, *_shape_args(axis), **kw)


def _tile_method(self, *reps, **kw):
    return tile(self, *_shape_args(reps), **kw)


def _view_method(self, *shape, **kw):
    """PyTorch's view: the same numbers in another shape (reshape; nothing here is ever non-contiguous)."""
    return reshape(self, *_shape_args(shape), **kw)


def _unsqueeze_method(self, dim):
    """PyTorch's unsqueeze: a new axis of size 1 at `dim` (numpy's expand_dims)."""
    return expand_dims(self, dim)


# The methods whose arguments differ from the function's: a shape (or axes) may come as separate numbers, or
# under PyTorch's name for the argument.
_SPREAD_ARGUMENTS = {"reshape": _reshape_method, "transpose": _transpose_method,
                     "broadcast_to": _broadcast_to_method, "flip": _flip_method, "tile": _tile_method,
                     "view": _view_method, "unsqueeze": _unsqueeze_method}


def _as_method(fn):
    def method(self, *args, **params):  # an Op is not a function, so it would not bind to self
        return fn(self, *args, **params)

    method.__name__, method.__doc__ = fn.name if isinstance(fn, Op) else fn.__name__, fn.__doc__
    return method


def _methods():
    """Method name -> function, for every public function that declares methods (`method=` in defop or
    composite). Where PyTorch's Tensor or numpy's ndarray has a method of the same meaning, so do we (PyTorch's
    spellings asin, atan2... as well as numpy's). None on purpose for `repeat` (numpy's ndarray.repeat is our
    repeat, PyTorch's Tensor.repeat is our tile), `split` (PyTorch's takes piece sizes, numpy's a count),
    `svd` (PyTorch's Tensor.svd returns V) and `sort` (PyTorch's returns (values, indices), numpy's sorts in
    place): either reading would be wrong for somebody, so call the functions for those."""
    out = {}
    for name, fn in list(globals().items()):
        for m in getattr(getattr(fn, "facts", None), "methods", ()):
            if not name.startswith("_") and m not in out:
                out[m] = fn
    return out


METHODS = _methods()
for _name, _fn in METHODS.items():
    setattr(Value, _name, _SPREAD_ARGUMENTS.get(_name) or _as_method(_fn))
Value.__abs__ = _as_method(abs)
# a % b with numpy's and PyTorch's gradients (d/da = 1, d/db = -floor(a / b)).
Value.__mod__ = _as_method(remainder)
Value.__rmod__ = lambda self, other: remainder(other, self)
# numpy's protocols: np.exp(v), np.sum(v, axis=0), array + v ... run the ops; np.asarray(v) is the payload.
Value.__array_ufunc__ = numpy_api.array_ufunc
Value.__array_function__ = numpy_api.array_function
Value.__array__ = numpy_api.array



# The registry, then every function imported above from the family files.
__all__ = ["OPS", "Facts", "Op", "composite", "defop"] + sorted(
    name for name, fn in list(globals().items())
    if not name.startswith("_") and callable(fn) and _family(fn) in ("conv", "elementwise", "linalg", "reductions",
                                                                         "shape"))
