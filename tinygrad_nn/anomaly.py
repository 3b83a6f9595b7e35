"""Anomaly detection: find the op that first made a NaN or an infinity, forward or backward.

Inside `detect_anomaly()` every op checks its output, and backward checks every gradient it computes;
the error names the op and shows where in your code that node was made. Outside the block nothing is
checked or recorded (the engine tests one module variable per node), so it costs nothing when off.

>>> import numpy as np
>>> from tinygrad_nn import Value, detect_anomaly
>>> x = Value(np.array([1.0, 0.0]))
>>> with detect_anomaly(), np.errstate(divide="ignore"):
...     y = x.log()                                        # doctest: +ELLIPSIS
Traceback (most recent call last):
...
tinygrad_nn.anomaly.AnomalyError: detect_anomaly: op 'log' made -inf from finite inputs ...
"""

from __future__ import annotations

import os
import threading
import traceback
import weakref

import numpy as np

from .engine import data_of, modes, shape_of

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(RuntimeError):
    """A NaN or an infinity appeared where its inputs had none.

    >>> import numpy as np
    >>> from tinygrad_nn import AnomalyError, Value, detect_anomaly
    >>> try:
    ...     with detect_anomaly(), np.errstate(divide="ignore"):
    ...         Value([0.0, 1.0]).log()
    ... except AnomalyError as error:
    ...     print(type(error).__name__)
    AnomalyError
    """


def _bad(x):
    """'nan', 'inf' or '-inf' if the payload x holds such a value (the first found), else ''."""
    x = data_of(x)
    if x is None:
        return ""
    if x.__class__ is float:
        return "" if x - x == 0.0 else ("nan" if x != x else ("inf" if x > 0 else "-inf"))
    if np.all(np.isfinite(x)):
        return ""
    if np.isnan(x).any():
        return "nan"
    return "inf" if np.isposinf(x).any() else "-inf"


def _user_frame():
    """Where the user's code made the node: the innermost frame outside this package."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE):
            return frame
    return None


def _site(frame):
    if frame is None:
        return "made outside detect_anomaly(), so where is not known"
    return f"made at {frame.filename}:{frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"


class detect_anomaly:
    """Check for NaN and Inf in every op's output and every gradient inside this block (nestable; all
    threads). The error names the op and where the node was made.

    >>> from tinygrad_nn import Value, detect_anomaly
    >>> x = Value(0.0)
    >>> with detect_anomaly():
    ...     y = x.sqrt()
    ...     y.backward()                                        # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tinygrad_nn.anomaly.AnomalyError: detect_anomaly: backward of op 'sqrt' gave inf ...
    """

    _lock = threading.Lock()
    _depth = 0

    def __enter__(self):
        with detect_anomaly._lock:
            if detect_anomaly._depth == 0:
                modes.anomaly = _Checks()
            detect_anomaly._depth += 1
        modes.open_block(1)  # the scalar fast paths step aside: every op goes through apply
        return self

    def __exit__(self, *exc):
        modes.open_block(-1)
        with detect_anomaly._lock:
            detect_anomaly._depth -= 1
            if detect_anomaly._depth == 0:
                modes.anomaly = None
        return False


def _renew_lock_after_fork():
    # As engine's locks: a thread that held it at a fork does not exist in the child.
    detect_anomaly._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_lock_after_fork)


class _Checks:
    """What the engine calls while anomaly detection is on."""

    def __init__(self):
        # id(node) -> (a weak reference to it, the user's frame that made it). Keyed by id, not by the node: a
        # WeakKeyDictionary compares keys with ==, which is elementwise for Values.
        self.sites = {}

    def created(self, node):
        """A new node: remember where it was made; refuse a NaN or Inf that its inputs did not have."""
        frame = _user_frame()
        key, sites = id(node), self.sites
        sites[key] = (weakref.ref(node, lambda ref: sites.pop(key, None)), frame)
        what = _bad(node.data)
        if what and not any(_bad(p.data) for p in node._prev):
            raise AnomalyError(f"detect_anomaly: op {node.op!r} made {what} from finite inputs (of shapes "
                               f"{[p.shape for p in node._prev]}); the node was {_site(frame)}")

    def made_constant(self, op, out, datas):
        """An op whose result records no graph (under no_grad, or of constants): checked all the same."""
        what = _bad(out)
        if what and not any(_bad(d) for d in datas):
            raise AnomalyError(f"detect_anomaly: op {op.name!r} made {what} from finite inputs (of shapes "
                               f"{[shape_of(d) for d in datas]}; a constant, no graph recorded); it was "
                               f"{_site(_user_frame())}")

    def site(self, node):
        found = self.sites.get(id(node))
        return found[1] if found is not None and found[0]() is node else None

    def backward_step(self, node, run_rule):
        """Run one node's gradient rule, then refuse a NaN or Inf gradient made from a finite one."""
        before = {id(p): _bad(p._scratch) for p in node._prev}
        run_rule()
        if _bad(node._scratch):
            return
        for i, p in enumerate(node._prev):
            what = _bad(p._scratch)
            if what and not before[id(p)]:
                raise AnomalyError(f"detect_anomaly: backward of op {node.op!r} gave {what} in the gradient of "
                                   f"its input {i} (shape {p.shape}) from a finite upstream gradient; the node was "
                                   f"{_site(self.site(node))}")
