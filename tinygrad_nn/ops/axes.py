"""Axis and integer arguments of ops, checked and made non-negative in one place, with errors that name the op.

Every op that takes an axis (or an integer parameter such as a diagonal's `k`) calls one of these, so the rules
and the messages are the same across the families:

- `axis_tuple(who, axis, shape)`: None (every axis), an int, or a tuple (list) of distinct ints: reductions, flip,
  squeeze, moveaxis, norm.
- `one_axis(who, axis, shape)`: exactly one existing axis: scans, sort, diff, swapaxes, split, cross, ...
- `new_axis(who, axis, shape)`: the position of an axis about to be inserted: expand_dims, stack.
- `integer(who, name, value)`: an int parameter that is not an axis: k, offset, shift, reps, num.

The rules (numpy's, where numpy is consistent):

- An axis or an int parameter is a Python int or a numpy integer. Anything else is a TypeError naming the op
  and the value. bool is refused too (Python's True, numpy's True_): numpy's reductions and scans refuse it
  ("an integer is required"), its Python-level functions (flip, expand_dims, ...) take True as 1 only because
  bool subclasses int, and an axis=True is a slip far more often than a wish for axis 1.
- An axis outside [-ndim, ndim) ([-ndim - 1, ndim] for a new axis) is a ValueError naming the op, the axis, the
  input's shape and number of axes, and the valid range.
- An axis named twice (0 and -2 of a 2-D input, say) is a ValueError.

`who` is the name of the function the user called (so `std`'s errors say std, not the var inside it); `name`
is the argument's name when it is not `axis` (`axis1`, `start_dim`, `source`).

>>> axis_tuple("sum", (0, -1), (2, 3, 4)), axis_tuple("sum", None, (2, 3)), one_axis("sort", -1, (2, 3))
((0, 2), (0, 1), 1)
>>> new_axis("stack", -1, (2, 3)), integer("tril", "k", np.int64(-1))
(2, -1)
>>> axis_tuple("sum", 2, (2, 3))
Traceback (most recent call last):
ValueError: sum: axis 2 is out of range for an input of shape (2, 3) (2 axes); use an int in [-2, 1]
"""

from __future__ import annotations

import numpy as np

# The sequences an axis argument may be besides one int (numpy's functions take a tuple; a list, a range or a
# 1-D array of ints reads the same).
_SEQUENCES = (tuple, list, range)


def _is_int(v) -> bool:
    """A Python int or a numpy integer, not a bool (numpy's bool_ is no np.integer)."""
    return v.__class__ is int or (isinstance(v, (int, np.integer)) and not isinstance(v, bool))


def _label(name, axis, within=None) -> str:
    """How an error names an axis: "axis 2", "axis1=2" for an argument with another name, "axis 2 in
    source=[0, 2]" for one of several in such an argument."""
    if name == "axis":
        return f"axis {axis}"
    return f"{name}={axis}" if within is None else f"axis {axis} in {name}={within!r}"


def _count(nd) -> str:
    return f"{nd} axis" if nd == 1 else f"{nd} axes"


def _in_range(who, axis, shape, name, within=None) -> int:
    """An int axis of an input of `shape`, made non-negative (`name` and `within` as for _label)."""
    nd, axis = len(shape), int(axis)
    if -nd <= axis < nd:
        return axis % nd
    valid = f"use an int in [{-nd}, {nd - 1}]" if nd else "a 0-d input has no axis to name"
    raise ValueError(f"{who}: {_label(name, axis, within)} is out of range for an input of shape {tuple(shape)} "
                     f"({_count(nd)}); {valid}")


def integer(who: str, name: str, value) -> int:
    """`value` as a Python int: an int or a numpy integer (not a bool), else a TypeError naming `who` and `name`.

    >>> integer("diag", "k", 2)
    2
    >>> integer("diag", "k", 0.5)
    Traceback (most recent call last):
    TypeError: diag: k must be an int, got float 0.5
    """
    if value.__class__ is int:
        return value
    if not _is_int(value):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def one_axis(who: str, axis, shape, name: str = "axis") -> int:
    """Exactly one axis of an input of `shape`, made non-negative. A tuple is a TypeError (numpy's scans and
    sort refuse one, rather than taking its first axis); a caller whose op reads axis=None as "the flattened
    input" handles None before calling.

    >>> one_axis("cumsum", -1, (2, 3)), one_axis("swapaxes", 0, (2, 3), name="axis1")
    (1, 0)
    >>> one_axis("cumsum", (0, 1), (2, 3))
    Traceback (most recent call last):
    TypeError: cumsum: axis must be an int, got tuple (0, 1)
    """
    if axis.__class__ is int and -len(shape) <= axis < len(shape):  # the common case, kept cheap
        return axis % len(shape)
    return _in_range(who, integer(who, name, axis), shape, name)


def new_axis(who: str, axis, shape) -> int:
    """The position of a new axis inserted into an input of `shape`: an int in [-ndim - 1, ndim], made
    non-negative (-1 puts it last).

    >>> new_axis("expand_dims", -1, (2, 3))
    2
    >>> new_axis("stack", 2, (5,))
    Traceback (most recent call last):
    ValueError: stack: axis 2 is out of range for a new axis in an input of shape (5,) (1 axis); use an int in [-2, 1]
    """
    axis = integer(who, "axis", axis)
    nd = len(shape)
    if not -nd - 1 <= axis <= nd:
        raise ValueError(f"{who}: axis {axis} is out of range for a new axis in an input of shape {tuple(shape)} "
                         f"({_count(nd)}); use an int in [{-nd - 1}, {nd}]")
    return axis % (nd + 1)


def axis_tuple(who: str, axis, shape, name: str = "axis") -> tuple:
    """None (every axis), one int, or a tuple (or list) of distinct ints, as a tuple of non-negative axes of an
    input of `shape`, in the order given.

    >>> axis_tuple("flip", [1, -3], (2, 3, 4)), axis_tuple("sum", (), (2, 3))
    ((1, 0), ())
    >>> axis_tuple("sum", (0, -2), (2, 3))
    Traceback (most recent call last):
    ValueError: sum: axis (0, -2) repeats an axis (axis 0 of an input of shape (2, 3)); name each axis once
    """
    if axis is None:
        return tuple(range(len(shape)))
    if axis.__class__ is int and -len(shape) <= axis < len(shape):  # the common case, kept cheap
        return (axis % len(shape),)
    if _is_int(axis):
        return (_in_range(who, axis, shape, name),)
    # A string is refused here, before tuple() could split it into letters.
    if not (isinstance(axis, _SEQUENCES) or (isinstance(axis, np.ndarray) and axis.ndim == 1)):
        raise TypeError(f"{who}: {name} must be an int or a tuple of ints, got {type(axis).__name__} "
                        f"{axis!r}")
    out = []
    for a in axis:
        if not _is_int(a):
            raise TypeError(f"{who}: {name} must be an int or a tuple of ints, got {type(a).__name__} {a!r} "
                            f"in {name}={axis!r}")
        out.append(_in_range(who, a, shape, name, axis))
    if len(set(out)) != len(out):
        twice = next(a for a in out if out.count(a) > 1)
        raise ValueError(f"{who}: {_label(name, axis)} repeats an axis (axis {twice} of an input of shape "
                         f"{tuple(shape)}); name each axis once")
    return tuple(out)
