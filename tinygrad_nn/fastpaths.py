"""Speed-only paths, gathered in one place; each names the benchmark that needs it.

Nothing here changes a value or a gradient: with `disable()` the engine (engine.py) gives the same
results bit for bit, and the tests check that (tests/engine/test_fastpaths.py). Read engine.py first;
read this file to see what the benchmarks asked for.

1. Scalar `+` and `*` build their node inline (benchmark W1, micrograd's demo: a call to `apply` and
   `_node` costs more than the arithmetic, and the demo makes ~45,000 nodes a step).
2. Running sums (W1, default garbage collector): micrograd's neuron is `sum((wi * xi for ...), b)`, a chain
   of adds each referred to only by the next. When `Value.__add__` sees that the sum so far and the new
   term are held by nothing but the expression, the result is one `add_n` node over all the terms, and
   the old sum is freed: fewer live nodes for the cyclic collector to walk (docs/engine.md, "Running sums").
3. A leaf adopts a fresh gradient array without a copy (W3, the MLP on 784 inputs: the copy of every weight
   gradient each step) when nothing else refers to the array.

2 and 3 trust reference counts, which are exact on CPython up to 3.13 with its GIL; elsewhere (3.14 may
borrow references without counting them; without the GIL another thread may take one at any moment) they
stay off, and sums are chains and arrays are copied.
"""

from __future__ import annotations

import sys

from . import engine
from .engine import Value, _next_id

_getrefcount = (sys.getrefcount if sys.implementation.name == "cpython" and sys.version_info < (3, 14)
                and getattr(sys, "_is_gil_enabled", lambda: True)() else None)

_ADD, _ADD_N, _MUL = engine._ops.add, engine._ops.add_n, engine._ops.mul
_new = object.__new__


def _scalar_add(self, other):  # 1 and 2
    d = self.data
    if d.__class__ is not float:  # a tensor: the general path
        return engine.apply(_ADD, (self, other), engine._NO_PARAMS)
    cls = other.__class__
    if cls is Value:
        o = other
    elif cls is float or cls is int:
        try:
            o = Value._leaf(float(other))
        except OverflowError:  # an int past float64's range
            raise engine._too_large(other, "add") from None
    else:
        return engine.apply(_ADD, (self, other), engine._NO_PARAMS)
    e = o.data
    if e.__class__ is not float:
        return engine.apply(_ADD, (self, o), engine._NO_PARAMS)
    v = _new(Value)
    v.data = d + e
    v.grad = 0.0
    v.name = v._params = v._n = v._pass = v._scratch = None
    v._id = _next_id()
    if not (self.requires_grad or o.requires_grad):  # a constant: a leaf
        v.requires_grad = False
        v._op = v._a = v._b = v._more = None
        return v
    v.requires_grad = True
    op = self._op
    # A running sum: self is a sum that only the caller holds (its reference, self and getrefcount's),
    # and the new term is held by nothing else either (the same, plus the name `other`; a number is a new
    # constant). Nothing changes self: a caller that keeps it (C code such as numpy's object loops may hold
    # it without counting) still has the sum it had.
    if ((op is _ADD or op is _ADD_N and self._n is not None) and _sums_fuse and _getrefcount(self) == 3
            and (o is not other or _getrefcount(other) == 4)):
        if op is _ADD:
            v._more, v._n = [self, o], 2
        else:  # a running sum already: its terms are the first _n of a list it may share
            terms, n = self._more, self._n
            # A copy of our own when another sum grew from self already, or when the new term is a sum that shares
            # the list (an earlier partial sum of self, held only by a numpy object array, whose loops do not count
            # their references): appended to its own list, it would refer to itself, a cycle that only the
            # cyclic collector frees.
            if len(terms) != n or o._more is terms:
                terms = terms[:n]
            terms.append(o)
            v._more, v._n = terms, n + 1
        v._op, v._a, v._b = _ADD_N, None, None
        return v
    v._op = _ADD
    v._a = self
    v._b = o
    v._more = None
    return v


def _scalar_mul(self, other):  # 1
    d = self.data
    if d.__class__ is not float:  # a tensor: the general path
        return engine.apply(_MUL, (self, other), engine._NO_PARAMS)
    cls = other.__class__
    if cls is Value:
        o = other
    elif cls is float or cls is int:
        try:
            o = Value._leaf(float(other))
        except OverflowError:  # an int past float64's range
            raise engine._too_large(other, "mul") from None
    else:
        return engine.apply(_MUL, (self, other), engine._NO_PARAMS)
    e = o.data
    if e.__class__ is not float:
        return engine.apply(_MUL, (self, o), engine._NO_PARAMS)
    v = _new(Value)
    v.data = d * e
    v.grad = 0.0
    v.name = v._params = v._more = v._n = v._pass = v._scratch = None
    v._id = _next_id()
    if self.requires_grad or o.requires_grad:
        v.requires_grad = True
        v._op, v._a, v._b = _MUL, self, o
    else:  # a constant: a leaf
        v.requires_grad = False
        v._op = v._a = v._b = None
    return v


def _scalar_radd(self, other):  # 1: `0 + v` in sum(), `1 + v`
    cls = other.__class__
    if cls is float or cls is int:
        try:
            return _scalar_add(Value._leaf(float(other)), self)
        except OverflowError:  # an int past float64's range
            raise engine._too_large(other, "add") from None
    return engine.apply(_ADD, (other, self), engine._NO_PARAMS)


def _scalar_rmul(self, other):
    cls = other.__class__
    if cls is float or cls is int:
        try:
            return _scalar_mul(Value._leaf(float(other)), self)
        except OverflowError:  # an int past float64's range
            raise engine._too_large(other, "mul") from None
    return engine.apply(_MUL, (other, self), engine._NO_PARAMS)


def _owned(g, leaf) -> bool:  # 3
    """Whether array g can become leaf's .grad without a copy: a fresh, writable array of the leaf's dtype
    that nothing else refers to (not another node's gradient, not a view of one). References: the
    caller's name (engine._deposit, which has taken it out of the leaf's scratch), this argument and
    getrefcount's own."""
    return (g.__class__ is engine.ndarray and g.base is None and g.flags.writeable and g.dtype == leaf.data.dtype
            and _getrefcount(g) <= 3)


def _running_sums_are_safe() -> bool:
    """Whether reference counts here tell a temporary from a named node, as running sums need: a named
    sum that looked temporary would be extended, and its gradients, still right, might add up in another
    order than PyTorch's."""
    if _getrefcount is None:
        return False
    a, b = Value(1.0), Value(2.0)
    s = (a + b) + a * b  # a temporary sum, extended: one add_n node
    t = s + a * b  # s has a name now: an ordinary add
    return s._op is _ADD_N and t._op is _ADD


_sums_fuse = False


def enable():
    """Install the fast paths (the default). They step aside by themselves while a no_grad, enable_grad or
    detect_anomaly block is open in any thread: the general path honours those modes."""
    global _enabled, _sums_fuse
    _enabled = True
    engine._adopt = _owned if _getrefcount is not None else _never
    _follow(engine._special)
    _sums_fuse = _getrefcount is not None  # on for the check itself, which then decides
    _sums_fuse = _running_sums_are_safe()


def disable():
    """The engine as engine.py writes it: every op through `apply`, sums as chains, gradients copied."""
    global _enabled, _sums_fuse
    _enabled = _sums_fuse = False
    engine._adopt = _never
    _follow(engine._special)


def _follow(special):
    """Scalar + and * fast while no mode block is open anywhere (engine._on_special_change calls this)."""
    fast = _enabled and special == 0
    Value.__add__, Value.__radd__ = (_scalar_add, _scalar_radd) if fast else _GENERAL_ADD
    Value.__mul__, Value.__rmul__ = (_scalar_mul, _scalar_rmul) if fast else _GENERAL_MUL


def _never(g, leaf) -> bool:
    return False


_GENERAL_ADD, _GENERAL_MUL = (Value.__add__, Value.__radd__), (Value.__mul__, Value.__rmul__)
_enabled = True
engine._on_special_change = _follow
enable()
