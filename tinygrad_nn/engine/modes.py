"""The switches and counters the hot paths read: grad mode, how many mode blocks are open, whether the scalar fast
paths may run, the hooks of anomaly detection and of the jit recorder, and the creation counter of nodes.

Every check on a hot path is one module attribute and one comparison: while no mode block is open (almost always)
`apply` need not read the thread-local grad mode, whose lookup costs twice an ordinary one.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading

# Every node gets the next creation number (node._node); a creation order is a topological order, since a node's
# inputs always exist before it does.
next_id = itertools.count(1).__next__


class _GradMode(threading.local):
    enabled = True


grad_mode = _GradMode()  # whether ops record a graph: thread-local, as in PyTorch

# How many mode blocks (no_grad, enable_grad, detect_anomaly) are open, in any thread.
special = 0
# Whether Value's inline scalar paths may run: the speed paths are on (fastpaths.py) and no mode block is open
# (the general path is the one that honours the modes).
fast = True
# The same as the class a scalar payload has while `fast`, else None: `Value.__add__` and `__mul__` ask "a float
# payload, and fast?" in one comparison, `d.__class__ is fast_scalar` (a second test costs 0.7% of W1).
fast_scalar = float
_fast_paths_on = True
_lock = threading.Lock()

# Hooks: None while off, so that each check is one comparison.
# `anomaly`: the checks of a detect_anomaly() block (anomaly.py), told of every node made (node._node) and run
#   around every node's rule (backward.run_rules).
# `recorder`: tinygrad_nn.jit's recorder while a function is being recorded; the hook points are `apply`
#   (engine/apply.py, every op) and `backprop` (engine/backward.py, every backward pass).
anomaly = None
recorder = None


def open_block(delta):
    """A mode block opens (+1) or closes (-1), in any thread."""
    global special
    with _lock:
        special += delta
        _set_fast(_fast_paths_on and special == 0)


def _set_fast(on):
    global fast, fast_scalar
    fast, fast_scalar = on, (float if on else None)


def _renew_lock_after_fork():
    # In a forked child only the forking thread lives on: a lock another thread held at the fork would stay held.
    # Mode blocks left open by vanished threads stay counted: the fast paths then stay aside in the child, which
    # is slower but right.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_lock_after_fork)


def set_fast_paths(on: bool):
    """Let the scalar fast paths run (while no mode block is open) or not (fastpaths.enable, disable)."""
    global _fast_paths_on
    with _lock:
        _fast_paths_on = on
        _set_fast(on and special == 0)


def is_grad_enabled() -> bool:
    """Whether ops record a graph here and now (False inside `no_grad()`, in this thread).

    >>> from tinygrad_nn import is_grad_enabled, no_grad
    >>> with no_grad():
    ...     print(is_grad_enabled())
    False
    >>> is_grad_enabled()
    True
    """
    return grad_mode.enabled


class _set_grad_enabled:
    mode = True

    def __enter__(self):
        open_block(1)
        self._prev = grad_mode.enabled
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        grad_mode.enabled = self._prev
        open_block(-1)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_set_grad_enabled):
    """Record no graph inside this block (or decorated function); thread-local, nestable.

    >>> from tinygrad_nn import Value, no_grad
    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_set_grad_enabled):
    """Record the graph inside this block even within `no_grad` (the transforms use it).

    >>> from tinygrad_nn import Value, enable_grad, no_grad
    >>> w = Value(2.0)
    >>> with no_grad(), enable_grad():
    ...     y = w * 3
    >>> y.requires_grad
    True
    """

    mode = True
