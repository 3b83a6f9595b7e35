"""check=True: every replay is followed by an eager run from the same state, compared value by value.

The replay runs first with a tap after each instruction (a copy of every value it computes); then the state it
changed (the leaves' `.data` and `.grad`, the optimizers' buffers) is put back, and the function runs eagerly
while a fresh recording notes every value. The first value that differs raises JitError naming the instruction
(the op, its forward or its rule). The state left behind is eager's.
"""

from __future__ import annotations

import copy

import numpy as np

from ..engine import Value
from . import recorder
from .codegen import compile_program, display_names, drain, generate
from .ir import Const

ndarray = np.ndarray


def _objects(instrs, leaves):
    """The leaves (parameters, argument Values) and optimizers a program touches."""
    values, owners = {}, {}
    for ins in instrs:
        for a in ins.args:
            if a.__class__ is Const and isinstance(a.value, Value):
                values[id(a.value)] = a.value
        if ins.kind == "effect":
            owner = getattr(ins.fn.value, "__self__", None)
            if isinstance(owner, Value):
                values[id(owner)] = owner
            elif owner is not None:
                owners[id(owner)] = owner
    for x in leaves:
        if isinstance(x, Value):
            values[id(x)] = x
    return list(values.values()), list(owners.values())


def _copy(x):
    if x.__class__ is ndarray:
        return x.copy()
    if isinstance(x, Value):
        return Value._leaf(x.data.copy() if x.data.__class__ is ndarray else x.data)
    return x


def _save(values, owners):
    return ([(v, _copy(v.data), _copy(v.grad)) for v in values],
            [(o, copy.deepcopy(o.state)) for o in owners if hasattr(o, "state")])


def _restore(saved):
    values, owners = saved
    for v, data, grad in values:
        if v.data.__class__ is ndarray and data.__class__ is ndarray and v.data.shape == data.shape:
            v.data[...] = data  # in place: views and optimizers keep the same array
        else:
            v.data = data
        v.grad = _copy(grad)
    for o, state in owners:
        o.state = copy.deepcopy(state)


def _differ(a, b) -> bool:
    if a.__class__ is ndarray and b.__class__ is ndarray:
        return a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes()
    if isinstance(a, (float, np.generic)) and isinstance(b, (float, np.generic)):
        return np.float64(a).tobytes() != np.float64(b).tobytes() or type(a) is not type(b)
    return a is not b and not (a is None and b is None)


def checked_call(jitted, entry, desc, leaves):
    from .api import JitError, _first_difference

    program = entry.program
    if program.tapped is None:
        taps = {}

        def tap(slot, value):
            taps[slot] = value.copy() if value.__class__ is ndarray else value

        from .emit import plan_and_emit

        src, globs = generate(program.rec, program.arg_is_value, program.out_slots, emitters=plan_and_emit, tap=True)
        globs["TAP"] = tap
        program.tapped = (compile_program(src, globs, "checked"), taps)
    replay, taps = program.tapped
    values, owners = _objects(program.rec.instrs, leaves)
    before = _save(values, owners)
    taps.clear()
    with program.lock:
        replay(*leaves)
    seen = dict(taps)
    _restore(before)
    rec = recorder.Recording(snapshot=True)
    recorder.start(rec)
    try:
        args, kwargs = _rebind(rec, desc, leaves)
        result = jitted.fn(*args, **kwargs)
    finally:
        recorder.stop()
    if rec.dead is not None:
        raise JitError(f"jit (check): the eager run could not be recorded: {rec.dead}")
    why = drain(_first_difference(program.rec, rec))
    if why is not None:
        raise JitError(f"jit (check): the eager run took another path than the recording, {why}")
    names = display_names(program.rec)
    by_slot = {s: ins for ins in program.rec.instrs for s in ins.outs if s is not None}
    for slot in sorted(seen):
        if _differ(seen[slot], rec.snaps[slot]):
            ins = by_slot.get(slot)
            what = ins.what if ins is not None else "?"
            raise JitError(f"jit (check): the replay's {names[slot]} ({what}) differs from eager's: "
                           f"{_show(seen[slot])} vs {_show(rec.snaps[slot])}")
    return result


def _show(x):
    if x.__class__ is ndarray:
        return f"{x.dtype} array {x.shape} starting {x.reshape(-1)[:3]}"
    return repr(x)


def _rebind(rec, desc, leaves):
    from .api import _bind_args

    return _bind_args(rec, desc, leaves)
