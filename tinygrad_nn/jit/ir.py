"""What a recording is made of: a straight list of instructions over numbered slots.

A slot holds one payload (a numpy array or a Python float) computed while the function ran. An argument of an
instruction is a slot number, a `Const` (an object fixed at record time: a number, an array the function did not
compute, a parameter `Value`, an optimizer) or an `Arg` (the caller's object itself, e.g. a Value passed in).

Kinds of instruction:
- "arg":     the payload of argument i (`A3.data` for a Value, the array or number itself otherwise);
- "read":    a leaf's payload read at this point (`w.data`: a parameter, which optimizers change in place);
- "call":    `fn(*args, **kwargs)`: an op's forward, a gradient rule, a gradient summed to its input's shape...;
             with `unpack`, its result is a tuple spread over several slots;
- "effect":  a call with no result that changes state outside the slots (an optimizer's step, zero_grad);
- "deposit": a gradient handed to a leaf's `.grad`, as `backward()` leaves it.
"""

from __future__ import annotations

import numpy as np


class Const:
    """An object fixed at record time. `by_value`: made afresh by each call (the engine's backward seed, an array
    the function builds), so a later recording may hold an equal one rather than the same one; for an array,
    jit.api._merge sets it from the two recordings (the same object in both: an array from outside)."""

    __slots__ = ("value", "by_value")

    def __init__(self, value, by_value=False):
        self.value = value
        self.by_value = by_value

    def __repr__(self):
        return f"Const({self.value!r:.40})"


class Arg:
    """The caller's argument object number i itself (a Value receiving a gradient, say)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class KwSlot:
    """A keyword parameter that is a payload the function computed or was given (an index array, say)."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


class Like:
    """Stands for a node when a helper needs only its payload's kind, shape and dtype (`engine.backward._add`, `_fit`):
    a zero-strided array (no memory) or 0.0. Keeps no graph alive."""

    __slots__ = ("data",)

    def __init__(self, data):
        if data.__class__ is float:
            self.data = 0.0
        else:
            self.data = np.broadcast_to(np.zeros((), dtype=data.dtype), data.shape)

    def __repr__(self):
        d = self.data
        return "float" if d.__class__ is float else f"{d.dtype}{list(d.shape)}"


_NO_KWARGS: dict = {}


class Instr:
    """One instruction (see the module's docstring); a plain class with slots, as a recording makes one per payload
    computed (a quarter of a million for micrograd's demo)."""

    __slots__ = ("kind", "fn", "args", "kwargs", "outs", "what", "unpack")

    def __init__(self, kind, fn=None, args=(), kwargs=None, outs=(), what="", unpack=False):
        self.kind = kind
        self.fn = fn
        self.args = args
        self.kwargs = _NO_KWARGS if kwargs is None else kwargs  # read only, once recorded: one empty dict for all
        self.outs = outs
        self.what = what  # "sigmoid", "rule of matmul (input 0)", "SGD.step"...: for messages and the trace
        self.unpack = unpack

    def __repr__(self):
        return f"Instr({self.kind!r}, {self.what!r}, args={self.args!r}, outs={self.outs!r})"


def same_const(a, b) -> bool:
    """Whether two recordings fixed the same constant: the same object, or equal numbers / arrays (a constant
    the function makes afresh each call, such as np.ones(3), is the same constant; a random one is not)."""
    if a is b:
        return True
    if a.__class__ is not b.__class__:
        return False
    if isinstance(a, KwSlot):
        return a.slot == b.slot
    if isinstance(a, Like):
        return repr(a) == repr(b)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and (a == b or (a != a and b != b))
    if isinstance(a, (int, str, bool, type(None))):
        return a == b
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_const(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_const(a[k], b[k]) for k in a)
    if isinstance(a, slice):
        return same_const((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    return False


def same_bound(a, b) -> bool:
    """Whether two objects are one method of one object (`opt.step` fetched twice is two bound-method objects)."""
    if a is b:
        return True
    return (getattr(a, "__func__", None) is not None and getattr(a, "__func__", None) is getattr(b, "__func__", 0)
            and getattr(a, "__self__", None) is getattr(b, "__self__", 0))
