"""The op table, a file per family: elementwise, reductions (and scans), shape (and indexing), linalg, conv.
Importing this package registers every built-in op and links this namespace into the engine (engine/links.py):
`Value`'s methods (`x.exp()`, `x.sum(axis=0)`, engine/methods.py) call these same functions, and numpy's functions
run them on Values (numpy_api.py).

Every name below is a function of tinygrad_nn too; `python -m tinygrad_nn.ops.catalog` lists them with their
arity, differentiable order and scalar support (the table in the README).
"""

from __future__ import annotations

import functools
import sys
import types

from ..engine import fastpaths, holds_values, links
from ..engine.apply import apply, stacked
from ..engine.node import link_arithmetic
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
    `apply.stacked`, which `apply` uses too), so that a composed function keeps the gradients of
    `mean([a, b])` as an op keeps those of `sum([a, b])`, where numpy would turn the Values into numbers."""

    @functools.wraps(fn)
    def with_lists_stacked(*args, **params):
        for i, x in enumerate(args):
            if (x.__class__ is list or x.__class__ is tuple) and holds_values(x):
                args = args[:i] + (stacked(x),) + args[i + 1:]
        return fn(*args, **params)

    return with_lists_stacked


# Functions whose positional arguments are sequences on purpose (of inputs to join, or an index) are left as
# they are; every other public function that is not an Op (an Op stacks in `apply`) gets `_stacking`.
_SEQUENCES = {"concatenate", "stack", "hstack", "vstack", "getitem"}
for _name, _fn in list(globals().items()):
    if (not _name.startswith("_") and _name not in _SEQUENCES and isinstance(_fn, types.FunctionType)
            and _family(_fn) in ("conv", "core_ops", "elementwise", "linalg", "reductions", "shape")):
        globals()[_name] = _stacking(_fn)


def _methods():
    """Method name -> function, for every public function that declares methods (`method=` in defop or
    composite); Value's methods (engine/methods.py) are these, written out statically. Where PyTorch's Tensor or
    numpy's ndarray has a method of the same meaning, so do we (PyTorch's spellings asin, atan2... as well as
    numpy's). None on purpose for `repeat` (numpy's ndarray.repeat is our repeat, PyTorch's Tensor.repeat is our
    tile), `split` (PyTorch's takes piece sizes, numpy's a count), `svd` (PyTorch's Tensor.svd returns V) and
    `sort` (PyTorch's returns (values, indices), numpy's sorts in place): either reading would be wrong for
    somebody, so call the functions for those."""
    out = {}
    for name, fn in list(globals().items()):
        for m in getattr(getattr(fn, "facts", None), "methods", ()):
            if not name.startswith("_") and m not in out:
                out[m] = fn
    return out


METHODS = _methods()

# The registry, then every function imported above from the family files.
__all__ = ["OPS", "Facts", "Op", "composite", "defop"] + sorted(
    name for name, fn in list(globals().items())
    if not name.startswith("_") and callable(fn) and _family(fn) in ("conv", "core_ops", "elementwise", "linalg",
                                                                         "reductions", "shape"))

# Value's methods and operators can call the ops now; then the speed paths check this interpreter.
links.link(links.ops, sys.modules[__name__])
link_arithmetic(add, mul, add_n, apply)
fastpaths.enable()
