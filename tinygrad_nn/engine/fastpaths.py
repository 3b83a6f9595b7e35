"""The switch of the speed-only paths, and the reference-count checks they rest on. Each names the benchmark
that needs it:

1. Scalar `+` and `*` build their node inline (W1, micrograd's demo): node.py, `Value.__add__`.
2. Running sums (W1, default garbage collector): a chain of scalar adds, each held only by the next, becomes one
   `add_n` node (`Value.__add__`; docs/engine.md, "Running sums").
3. A leaf adopts a fresh gradient array without a copy (W3, the MLP on 784 inputs: the copy of every weight
   gradient each step) when nothing else refers to the array (`owned`, read by backward.py).

Nothing here changes a value or a gradient: with `disable()` the engine gives the same results bit for bit, and
the tests check that (tests/engine/test_fastpaths.py). 2 and 3 trust reference counts, which are exact on CPython
up to 3.13 with its GIL; elsewhere (3.14 may borrow references without counting them; without the GIL another
thread may take one at any moment) they stay off, and sums are chains and arrays are copied.
"""

from __future__ import annotations

import sys

import numpy as np

from . import modes as _modes

_getrefcount = (sys.getrefcount if sys.implementation.name == "cpython" and sys.version_info < (3, 14)
                and getattr(sys, "_is_gil_enabled", lambda: True)() else None)

_sums_fuse = False  # 2, read by Value.__add__
_adopt = False  # 3
_enabled = False


def owned(g, leaf) -> bool:  # 3
    """Whether array g can become leaf's .grad without a copy: a fresh, writable array of the leaf's dtype
    that nothing else refers to (not another node's gradient, not a view of one). References: the
    caller's name (backward._deposit, which has taken it out of the leaf's scratch), this argument and
    getrefcount's own."""
    return (_adopt and g.__class__ is np.ndarray and g.base is None and g.flags.writeable
            and g.dtype == leaf.data.dtype and _getrefcount(g) <= 3)


def _running_sums_are_safe() -> bool:
    """Whether reference counts here tell a temporary from a named node, as running sums need: a named
    sum that looked temporary would be extended, and its gradients, still right, might add up in another
    order than PyTorch's."""
    if _getrefcount is None:
        return False
    from .links import ops  # noqa: PLC0415  (a check run once, when the fast paths are switched on)
    from .node import Value  # noqa: PLC0415

    a, b = Value(1.0), Value(2.0)
    s = (a + b) + a * b  # a temporary sum, extended: one add_n node
    t = s + a * b  # s has a name now: an ordinary add
    return s._op is ops.add_n and t._op is ops.add


def enable():
    """Switch the fast paths on (the default). The scalar ones step aside by themselves while a no_grad,
    enable_grad or detect_anomaly block is open in any thread: the general path honours those modes."""
    global _enabled, _sums_fuse, _adopt
    _enabled = True
    _adopt = _getrefcount is not None
    _modes.set_fast_paths(True)
    _sums_fuse = _getrefcount is not None  # on for the check itself, which then decides
    _sums_fuse = _running_sums_are_safe()


def disable():
    """The engine without its speed paths: every op through `apply`, sums as chains, gradients copied."""
    global _enabled, _sums_fuse, _adopt
    _enabled = _sums_fuse = _adopt = False
    _modes.set_fast_paths(False)
