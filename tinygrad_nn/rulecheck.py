"""Catching a gradient rule that cuts the graph under `backward(create_graph=True)`.

A rule must be written with the ops (docs/engine.md, "Adding an op"): under create_graph its inputs are Values,
and every gradient it returns is a node of the gradient's own graph. A rule that computes a slope from the
numbers of an input instead (`g * np.cos(x.data)`) runs, and its first derivative is right, but the second
derivative misses every path through that slope, with no error. So while a rule of an op defined outside this
package runs under create_graph, the tensor payloads of the node and of its inputs that require a gradient are
watched: numpy arithmetic on them from the rule's own code raises the contract error. Masks stay allowed
(comparisons such as `data_of(x) > 0`, and `sign`, `floor` and the like, whose slope is 0), and so do the ops,
which read payloads themselves. Scalar payloads (Python floats) cannot be watched: `math.cos(x.data)` is found
by `gradgradcheck` only, as is a payload converted to a plain array first. The watch lasts while one rule runs;
another thread that does numpy arithmetic on the same Value's payload from its own code in that instant would be
refused too (rules of the package's own ops, property-tested, are never watched).

>>> import numpy as np
>>> from tinygrad_nn import Value, grad
>>> from tinygrad_nn.ops import defop
>>> cut = defop("cut_cos_doc", forward=np.sin, vjp=lambda g, ans, x: (g * np.cos(x.data),))
>>> grad(lambda w: grad(lambda v: cut(v).sum())(w).sum())(np.array([0.5]))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
tinygrad_nn.rulecheck.RuleCutError: cut_cos_doc: its gradient rule computes with the numbers of its input ...
"""

from __future__ import annotations

import os
import sys

import numpy as np

# ufuncs whose slope is zero wherever it exists: used on payloads they make masks and constants, which is allowed.
_FLAT = {np.sign, np.floor, np.ceil, np.rint, np.trunc, np.signbit, np.isnan, np.isinf, np.isfinite, np.logical_not,
         np.logical_and, np.logical_or, np.logical_xor, np.heaviside}
# Code is told by the file it is in: this package's, numpy's, or the user's (a test file, a notebook, a doctest).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep


class RuleCutError(TypeError):
    """A gradient rule computed with the numbers of a Value under create_graph (so the graph would be cut)."""


class _Watched(np.ndarray):
    """A payload while a rule runs under create_graph: numpy arithmetic on it from outside the package raises."""

    _op_name = "?"

    def __array_finalize__(self, obj):
        self._op_name = getattr(obj, "_op_name", "?")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc not in _FLAT and not _is_predicate(ufunc) and _from_user_code():
            raise _cut(self._op_name, f"np.{ufunc.__name__}")
        plain = [x.view(np.ndarray) if isinstance(x, _Watched) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(x.view(np.ndarray) if isinstance(x, _Watched) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*plain, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if _from_user_code() and func.__name__ not in _SHAPES:
            raise _cut(self._op_name, f"np.{func.__name__}")
        return func(*_plain(args), **_plain(kwargs))


# numpy functions that read shapes and positions, not values' magnitudes: no slope is lost.
_SHAPES = {"shape", "ndim", "size", "where", "nonzero", "argmax", "argmin", "argsort", "count_nonzero", "any", "all",
           "isclose", "allclose", "array_equal", "copyto", "zeros_like", "ones_like", "empty_like", "full_like"}


def _plain(x):
    if isinstance(x, _Watched):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(e) for e in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _is_predicate(ufunc) -> bool:
    try:
        return all(np.dtype(t) == np.bool_ for t in ufunc.resolve_dtypes(
            (np.dtype(np.float64),) * ufunc.nin + (None,) * ufunc.nout)[ufunc.nin:])
    except (TypeError, ValueError, AttributeError):
        return False


def _from_user_code() -> bool:
    """Whether the numpy call came from code outside this package (numpy's own Python frames skipped)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_NUMPY_DIR):
        frame = frame.f_back
    return frame is not None and not frame.f_code.co_filename.startswith(_PACKAGE_DIR)


def _cut(op_name, what):
    return RuleCutError(
        f"{op_name}: its gradient rule computes with the numbers of its input or output ({what} on x.data or "
        f"data_of(x)) under backward(create_graph=True), which cuts the graph: the second derivative would miss "
        f"that slope's own dependence on x, with no error. Write the rule with the ops (np.cos(x) or cos(x) on the "
        f"Value itself, g * ans, where(...)); payloads are for masks only (see docs/engine.md, 'Adding an op')")


def is_users(op) -> bool:
    """Whether op's rule was written outside this package (the package's own rules are property-tested)."""
    rule = op.vjp if op.vjps is None else op.vjps[0]
    code = getattr(rule, "__code__", None)
    return code is None or not code.co_filename.startswith(_PACKAGE_DIR)


def watch(values, op_name):
    """Watch the tensor payloads of `values` (those that require a gradient); returns what `unwatch` needs."""
    saved = []
    for v in values:
        d = v.data
        if v.requires_grad and d.__class__ is np.ndarray:
            w = d.view(_Watched)
            w._op_name = op_name
            saved.append((v, d))
            v.data = w
    return saved


def unwatch(saved):
    for v, d in saved:
        v.data = d
