"""numpy's habits on Values: `np.exp(v)`, `np.sum(v, axis=0)`, `np.concatenate([v, w])`, `np.where(c, v, w)` ...
run the op of the same name, so that code written against numpy (HIPS autograd style) accepts Values and is
differentiated through.

numpy hands a call that involves a Value to the Value: ufuncs (np.exp, np.add, ...) to `__array_ufunc__`, other
functions (np.sum, np.concatenate, np.linalg.norm, ...) to `__array_function__`. Both find the op by numpy's
name in the `tinygrad_nn.ops` namespace (through a few aliases where the names differ, such as np.power -> pow),
so an op added to the package later is found without a change here. A numpy function without an op raises a
TypeError that names it. `np.asarray(v)` (`__array__`) gives the payload, a plain array without gradient, only
where nothing is lost: for a constant, or under `no_grad()`; while `v`'s gradient is recorded it is refused, as
PyTorch refuses `.numpy()`, since whoever converts (scipy, sklearn) would cut the graph without a word.

numpy looks for Values only among a call's arrays (and inside the sequences of np.concatenate, np.stack and the
like). A list of Values given where numpy expects one array is converted with np.asarray, which refuses them:
np.sum([a, b]) and np.array([a, b]) raise, naming the fix. Join Values with np.stack([a, b]) (or stack) first,
or pass the list to this package's function (tinygrad_nn.sum([a, b]) stacks it); an object array of scalar
Values, np.array([a, b], dtype=object), keeps them too (numpy then calls their operators).

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> x = Value([0.0, 1.0])
>>> y = np.sum(np.exp(x) * 2.0, axis=0)
>>> y.backward(); x.grad
array([2.        , 5.43656366])
>>> np.asarray(x.detach())
array([0., 1.])
"""

from __future__ import annotations

import inspect
import sys
import types

import numpy as np

from ..engine import Value, data_of, is_grad_enabled
from .registry import Op

# The package namespace (tinygrad_nn.ops), read at call time: ops added to it later are found too.
_NAMESPACE = sys.modules[__name__.rpartition(".")[0]]

# numpy names that differ from ours. Anything not listed is looked up by numpy's own name.
ALIASES = {
    "power": "pow", "float_power": "pow", "true_divide": "div", "divide": "div", "absolute": "abs", "fabs": "abs",
    "negative": "neg", "multiply": "mul", "subtract": "sub", "amax": "max", "amin": "min", "around": "round",
    "radians": "deg2rad", "degrees": "rad2deg", "concat": "concatenate", "permute_dims": "transpose",
}

# numpy's parameter names where ours differ, per function.
_RENAMED = {
    "clip": {"a_min": "lo", "a_max": "hi", "min": "lo", "max": "hi"},
    "reshape": {"newshape": "shape"},
}

# Binary ufuncs that are Python operators: the Value's own operator method runs them, so that
# `array + value` (numpy's np.add(array, value)) is exactly `value.__radd__(array)`, as before.
# Keyed by the ufunc itself: `array + value` looks it up first thing.
_OPERATORS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"), np.multiply: ("__mul__", "__rmul__"),
    np.divide: ("__truediv__", "__rtruediv__"), np.power: ("__pow__", "__rpow__"),
    np.matmul: ("__matmul__", "__rmatmul__"), np.remainder: ("__mod__", "__rmod__"),
}

# numpy functions whose results carry no gradient (shapes, indices, truth values): they run on the payloads.
PAYLOAD_FUNCTIONS = {
    "shape", "ndim", "size", "isclose", "allclose", "array_equal", "array_equiv", "argwhere", "nonzero", "flatnonzero",
    "count_nonzero", "searchsorted", "iscomplexobj", "isrealobj", "isreal", "iscomplex", "result_type", "any", "all",
    "may_share_memory", "shares_memory", "argpartition",
}

_HOW = ("use an op from tinygrad_nn.ops (see the README's list), compose it from them, or register one with "
        "tinygrad_nn.ops.defop; if no gradient is needed, call numpy on the payload (v.data)")


def _label(v) -> str:
    shape = v.shape
    return (f" {v.name!r}" if v.name else "") + (f" of shape {shape}" if shape else " (a scalar)")


def find_op(numpy_name: str):
    """Our function for numpy's `numpy_name`, or None: an Op or a function of the tinygrad_nn package."""
    fn = getattr(_NAMESPACE, ALIASES.get(numpy_name, numpy_name), None)
    if isinstance(fn, Op):
        return fn
    if isinstance(fn, types.FunctionType) and fn.__module__.startswith("tinygrad_nn."):
        return fn
    return None


def _payloads(x):
    """x with every Value replaced by its payload, inside lists, tuples and dicts too."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_payloads(e) for e in x)
    if isinstance(x, dict):
        return {k: _payloads(v) for k, v in x.items()}
    return x


_PREDICATES: dict = {}


def _is_predicate(ufunc) -> bool:
    """Whether the ufunc gives booleans for floats (comparisons, isnan, logical_and...): no gradient, so it runs
    on the payloads and returns plain booleans, as Value's own comparisons (v > 0) do."""
    found = _PREDICATES.get(ufunc)
    if found is None:
        try:
            dtypes = ufunc.resolve_dtypes((np.dtype(np.float64),) * ufunc.nin + (None,) * ufunc.nout)
            found = all(d == np.bool_ for d in dtypes[ufunc.nin:])
        except (TypeError, ValueError, AttributeError):  # no float loop (e.g. bitwise ops), or an older numpy
            found = False
        _PREDICATES[ufunc] = found
    return found


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """numpy's ufunc protocol: np.exp(v), np.maximum(v, 0), array + v ... run our ops."""
    names = _OPERATORS.get(ufunc)
    if names is not None and method == "__call__" and not kwargs and len(inputs) == 2:  # array + value and the like
        a, b = inputs
        return getattr(a, names[0])(b) if isinstance(a, Value) else getattr(b, names[1])(a)
    name = ufunc.__name__
    if method != "__call__":
        raise TypeError(f"np.{name}.{method} is not supported with Values (ufunc methods such as reduce, accumulate "
                        f"and at bypass the ops); use tinygrad_nn.ops.sum, max, min, prod, cumsum or cumprod instead "
                        f"(e.g. sum(x, axis=0) for np.add.reduce(x, axis=0))")
    if "out" in kwargs:
        raise TypeError(f"np.{name}(..., out=...): a Value cannot be written into (nor an array with a Value); "
                        f"use the result instead, e.g. y = np.{name}(a, v) or a = a + v rather than a += v")
    if kwargs:
        raise TypeError(f"np.{name}: the keyword arguments {sorted(kwargs)} are not supported with Values; "
                        f"call np.{name} with its inputs only")
    if _is_predicate(ufunc):
        return ufunc(*[data_of(x) for x in inputs])
    op = find_op(name)
    if op is None:
        raise TypeError(f"np.{name} has no tinygrad_nn op, so it cannot follow gradients through Values; {_HOW}")
    return op(*inputs)


_SIGNATURES: dict = {}


def _signature(fn):
    try:
        return _SIGNATURES[fn]
    except (KeyError, TypeError):
        pass
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    try:
        _SIGNATURES[fn] = sig
    except TypeError:
        pass
    return sig


def _is_array(v) -> bool:
    if isinstance(v, (Value, np.ndarray)):
        return True
    return isinstance(v, (list, tuple)) and any(isinstance(e, (Value, np.ndarray)) for e in v)


def _arguments(func, args, kwargs):
    """numpy's call sorted into our positional inputs and keyword parameters, by numpy's own signature.

    Our ops take their tensor inputs positionally and static parameters (axis, shape, ord...) by keyword; numpy
    passes both positionally (np.sum(v, 0), np.reshape(v, (2, 3))). So numpy's leading parameters without a
    default (a, b in np.dot(a, b)) are passed on by position while their values are arrays (the first always),
    and so are positional-only ones; every other argument goes by numpy's parameter name (renamed where ours
    differs). An argument given as numpy's default of None is dropped.
    """
    sig = _signature(func)
    try:
        bound = sig.bind(*args, **kwargs)
    except (AttributeError, TypeError):  # no signature, or numpy's refuses the call: pass it on as written
        return list(args), dict(kwargs)
    renamed = _RENAMED.get(func.__name__, {})
    pos, kw = [], {}
    leading = True
    for pname, value in bound.arguments.items():
        p = sig.parameters[pname]
        if p.kind is p.VAR_POSITIONAL:
            pos.extend(value)
        elif p.kind is p.VAR_KEYWORD:
            kw.update(value)
        elif value is None and p.default is None:
            continue  # numpy's default (out=None, dtype=None, ...): nothing to pass on
        elif p.kind is p.POSITIONAL_ONLY or (leading and p.default is p.empty and (not pos or _is_array(value))):
            pos.append(value)
        else:
            leading = False
            kw[renamed.get(pname, pname)] = value
    return pos, kw


def _check_keywords(numpy_name, target, kw):
    """Each keyword must be a parameter of our function (for an Op: of its forward); otherwise say which."""
    fn = (target.prepare or target.forward) if isinstance(target, Op) else target  # the signature users call
    sig = _signature(fn)
    if sig is None or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    ours = target.name if isinstance(target, Op) else target.__name__
    for k, v in kw.items():
        if k not in sig.parameters:
            extra = " (a Value is never written in place: use the result)" if k == "out" else ""
            raise TypeError(f"np.{numpy_name}: the argument {k}={v!r} has no counterpart in tinygrad_nn's {ours}"
                            f"{extra}; drop it, or call tinygrad_nn.ops.{ours} with the arguments it takes "
                            f"({', '.join(sig.parameters)})")


def array_function(self, func, types_, args, kwargs):
    """numpy's function protocol: np.sum(v, axis=0), np.concatenate([v, w]), np.linalg.norm(v) ... run our ops."""
    for t in types_:
        if not issubclass(t, (Value, np.ndarray)):
            return NotImplemented  # another library's array type: let it (or numpy) decide
    name = func.__name__
    if name in PAYLOAD_FUNCTIONS:
        return func(*_payloads(args), **_payloads(kwargs))
    target = find_op(name)
    if target is None:
        raise TypeError(f"np.{name} has no tinygrad_nn op, so it cannot follow gradients through Values; {_HOW}")
    pos, kw = _arguments(func, args, kwargs)
    _check_keywords(name, target, kw)
    return target(*pos, **kw)


def array(self, dtype=None, copy=None):
    """np.asarray(v) and np.array(v): the payload (a 0-d array for a scalar), without gradient.

    Refused while the Value's gradient is being recorded (it requires one and grad mode is on), as PyTorch
    refuses `.numpy()` there: whoever converts (a scipy or sklearn function, `np.sum([a, b])`, a gradient rule)
    would compute on bare numbers, and the graph would end there with no error. A constant, or any Value under
    `no_grad()`, converts: nothing can be lost.
    """
    # An object array (np.array([a, b], dtype=object)) asks each element too, and keeps an element whose answer
    # is 0-d as the object itself: a scalar Value stays a Value there, and numpy calls its operators.
    if self.requires_grad and is_grad_enabled() and not (dtype is not None and np.dtype(dtype) == object
                                                         and np.ndim(self.data) == 0):
        raise TypeError(
            f"np.asarray: this Value{_label(self)} requires a gradient, and converting it to a numpy array would cut "
            f"the graph (whatever is computed from the array gets no gradient, with no error); use this package's "
            f"op for the computation (tinygrad_nn.ops has numpy's names: logsumexp, sum, stack([a, b]) for a list of "
            f"Values...), or convert deliberately: v.detach() or v.data for the numbers, or inside no_grad()")
    d = self.data
    if copy is False and d.__class__ is float:
        raise ValueError("np.asarray(v, copy=False): a scalar Value holds a Python float, so an array of it is a copy")
    if copy:
        return np.array(d, dtype=dtype, copy=True)
    return np.asarray(d, dtype=dtype)
