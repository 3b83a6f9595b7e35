"""Calls that become numpy written with `out=` into buffers planned once.

An emitter turns one recorded call into numpy lines that compute the same bits: the same ufuncs, on the same
operands, in the same order and association as the op's forward or rule does. Each one is checked when the
program is made: the making runs each recorded call again on the values at hand (plan_and_emit), and unless the
lines give what the call gives there bit for bit (values, dtype, shape, and array-or-not), the call stays a
call. The output goes into a buffer planned once for the program (a module global of the generated code,
allocated when the program is installed, shared with other buffers whose lives do not overlap: buffers.py),
unless the value leaves the program (a leaf's `.grad` takes it, the caller gets it): then a fresh array is
allocated each replay, as eager does.

Keyed by the function the eager run called: a forward (`op.forward`, or the recorder's normalising wrapper of
it) or a rule (`op.vjp`, `op.vjps[i]`), or the engine's helpers (`engine.backward._add`).
"""

from __future__ import annotations

import math
import re
import time

import numpy as np

from .. import engine
from ..engine import backward as _bw
from ..ops import OPS
from ..ops.reductions import _kept_shape
from .backward import _add_floats, _deposit_leaf
from .buffers import Buffer
from .codegen import leaf_hint
from .ir import Const, KwSlot, Like
from .recorder import _SMALL, _escaped_closure, _xxh128, fingerprint, same_bits, unchanged

ndarray = np.ndarray
_EMITTERS: dict = {}
_clock = time.perf_counter
_fingerprints = _xxh128 is not None  # a large output's fingerprint is a digest, not a copy (see _Seen)


def _arrays(*xs) -> bool:
    return all(x.__class__ is ndarray for x in xs)


def _operand(x) -> bool:
    return x.__class__ is ndarray or x.__class__ is float


def emitter(fn):
    def register(f):
        if fn is not None:
            _EMITTERS[fn] = f
        return f

    return register


def _forward(name):
    return OPS[name].forward if name in OPS else None


def _rule(name, i=None):
    op = OPS.get(name)
    if op is None:
        return None
    return op.vjp if i is None else (op.vjps[i] if op.vjps is not None else None)


# Each emitter: (input values, output values, keyword parameters) -> (lines, temps) or None. Lines are templates:
# {a0}.. inputs, {o0}.. outputs, {t0}.. temporaries (temps: [(shape, dtype)]). "{o0} = {a0}" makes an alias.

def _floats(*xs) -> bool:
    return all(x.__class__ is float for x in xs)


def _binary(ufunc, symbol):
    def emit(vals, outs, kw):
        a, b = vals
        if kw or not (_operand(a) and _operand(b)):
            return None
        if _floats(a, b):  # Python floats: Python's own arithmetic, as the scalar forward does it
            return [f"{{o0}} = {{a0}} {symbol} {{a1}}"], []
        return [f"np.{ufunc}({{a0}}, {{a1}}, out={{o0}})"], []

    return emit


for _name, _uf, _sym in (("add", "add", "+"), ("sub", "subtract", "-"), ("mul", "multiply", "*"),
                         ("div", "true_divide", "/")):
    emitter(_forward(_name))(_binary(_uf, _sym))


def _unary(*ufuncs):
    def emit(vals, outs, kw):
        if kw or not _arrays(vals[0]):
            return None
        lines = [f"np.{ufuncs[0]}({{a0}}, out={{o0}})"] + [f"np.{u}({{o0}}, out={{o0}})" for u in ufuncs[1:]]
        return lines, []

    return emit


for _name, _uf in (("neg", ("negative",)), ("tanh", ("tanh",)), ("exp", ("exp",))):
    emitter(_forward(_name))(_unary(*_uf))


def _scalar_forward(line, then=None):
    def emit(vals, outs, kw):
        if kw or not _floats(*vals):
            return then(vals, outs, kw) if then is not None else None
        return [line], []

    return emit


emitter(_forward("neg"))(_scalar_forward("{o0} = -{a0}", _unary("negative")))
emitter(_forward("tanh"))(_scalar_forward("{o0} = math.tanh({a0})", _unary("tanh")))


@emitter(_forward("sigmoid"))
def _sigmoid(vals, outs, kw):
    if kw or not _arrays(vals[0]):
        return None
    return ["np.negative({a0}, out={o0})", "np.exp({o0}, out={o0})", "np.add({o0}, 1.0, out={o0})",
            "np.reciprocal({o0}, out={o0})"], []


@emitter(_forward("relu"))
def _relu(vals, outs, kw):
    if not kw and _floats(vals[0]):
        return ["{o0} = 0.0 if {a0} <= 0.0 else {a0}"], []
    if kw or not _arrays(vals[0]):
        return None
    return ["np.maximum({a0}, 0, out={o0})"], []


@emitter(_forward("pow"))
def _pow(vals, outs, kw):
    a, b = vals
    if kw or b.__class__ is not float or b != 2.0:
        return None
    if _floats(a):
        return ["{o0} = {a0} * {a0}"], []
    return (["np.multiply({a0}, {a0}, out={o0})"], []) if _arrays(a) else None


@emitter(_forward("matmul"))
def _matmul(vals, outs, kw):
    if kw or not _arrays(*vals):
        return None
    return ["np.matmul({a0}, {a1}, out={o0})"], []


@emitter(_forward("linear"))
def _linear(vals, outs, kw):
    if kw or not _arrays(*vals):
        return None
    return ["np.matmul({a0}, {a1}.T, out={o0})", "np.add({o0}, {a2}, out={o0})"], []


@emitter(_forward("sum"))
def _sum(vals, outs, kw):
    if not _arrays(vals[0]) or set(kw) - {"axis", "keepdims"}:
        return None
    return [f"np.add.reduce({{a0}}, axis={kw.get('axis')!r}, keepdims={kw.get('keepdims', False)!r}, "
            f"out={{o0}})"], []


# -- rules: (g, ans, *inputs) ------------------------------------------------------------------------------

@emitter(_rule("add"))
def _add_rule(vals, outs, kw):
    return ["{o0} = {a0}", "{o1} = {a0}"], []


@emitter(_rule("sub", 0))
def _sub_rule0(vals, outs, kw):
    return ["{o0} = {a0}"], []


@emitter(_rule("sub", 1))
def _sub_rule1(vals, outs, kw):
    return (["np.negative({a0}, out={o0})"], []) if _arrays(vals[0]) else None


@emitter(_rule("mul"))
def _mul_rule(vals, outs, kw):
    g, _, a, b = vals
    if not (_operand(g) and _operand(a) and _operand(b)):
        return None
    if not any(o.__class__ is ndarray for o in outs):  # 0-d operands: numpy scalars, as `g * b` gives them
        return ["{o0} = {a0} * {a3}", "{o1} = {a0} * {a2}"], []
    return ["np.multiply({a0}, {a3}, out={o0})", "np.multiply({a0}, {a2}, out={o1})"], []


@emitter(_rule("sigmoid"))
def _sigmoid_rule(vals, outs, kw):
    g, ans, _ = vals
    if not _arrays(g, ans):
        return None
    return ["np.subtract(1.0, {a1}, out={t0})", "np.multiply({a0}, {t0}, out={t0})",
            "np.multiply({t0}, {a1}, out={o0})"], [(np.broadcast_shapes(g.shape, ans.shape), outs[0].dtype)]


@emitter(_rule("tanh"))
def _tanh_rule(vals, outs, kw):
    g, ans, _ = vals
    if not _arrays(g, ans):
        return None
    return ["np.multiply({a1}, {a1}, out={t0})", "np.subtract(1.0, {t0}, out={t0})",
            "np.multiply({a0}, {t0}, out={o0})"], [(ans.shape, ans.dtype)]


@emitter(_rule("exp"))
def _exp_rule(vals, outs, kw):
    return (["np.multiply({a0}, {a1}, out={o0})"], []) if _arrays(vals[0], vals[1]) else None


@emitter(_rule("relu"))
def _relu_rule(vals, outs, kw):
    g, ans, _ = vals
    if not _arrays(g, ans):
        return None
    return ["np.less_equal({a1}, 0, out={t0})", "np.logical_not({t0}, out={t0})",
            "np.multiply({a0}, {t0}, out={o0})"], [(ans.shape, np.dtype(bool))]


@emitter(_rule("pow", 0))
def _pow_rule(vals, outs, kw):
    g, _, a, b = vals
    if not _arrays(g, a) or b.__class__ is not float or b != 2.0:
        return None
    return ["np.multiply(2.0, {a2}, out={t0})", "np.multiply({a0}, {t0}, out={o0})"], [(a.shape, outs[0].dtype)]


@emitter(_rule("matmul"))
def _matmul_rule(vals, outs, kw):
    g, _, a, b = vals
    if not _arrays(g, a, b) or a.ndim != 2 or b.ndim != 2:
        return None
    return ["np.matmul({a0}, {a3}.T, out={o0})", "np.matmul({a2}.T, {a0}, out={o1})"], []


@emitter(_rule("linear", 0))
def _linear_rule0(vals, outs, kw):
    return (["np.matmul({a0}, {a3}, out={o0})"], []) if _arrays(vals[0], vals[3]) else None


@emitter(_rule("linear", 1))
def _linear_rule1(vals, outs, kw):
    g, _, x, _, _ = vals
    return (["np.matmul({a0}.T, {a2}, out={o0})"], []) if _arrays(g, x) and x.ndim == 2 else None


@emitter(_rule("linear", 2))
def _linear_rule2(vals, outs, kw):
    return ["{o0} = {a0}"], []


@emitter(_rule("sum"))
def _sum_rule(vals, outs, kw):
    g, x = vals[0], vals[2]
    if not (g.__class__ is ndarray or isinstance(g, np.generic)) or set(kw) - {"axis", "keepdims"}:
        return None
    if kw.get("axis") is None or kw.get("keepdims", False):
        return ["{o0}[...] = {a0}"], []
    if x.__class__ is not ndarray:
        return None
    # reductions._spread: g reshaped to the kept shape and broadcast back (a view there, a copy here)
    return [f"{{o0}}[...] = {{a0}}.reshape({_kept_shape(x.shape, kw['axis'])!r})"], []


def _int_axis(x, kw):
    """The `axis` keyword of an array op when it is one int (log_softmax's); None otherwise."""
    axis = kw.get("axis", -1)
    if set(kw) - {"axis"} or x.__class__ is not ndarray or x.ndim == 0 or axis.__class__ is not int:
        return None
    return axis if -x.ndim <= axis < x.ndim else None


@emitter(_forward("log_softmax"))
def _log_softmax(vals, outs, kw):
    x = vals[0]
    axis = _int_axis(x, kw)
    if axis is None:
        return None
    kept = _kept_shape(x.shape, axis)
    # reductions._log_softmax_forward: m = max (0 where not finite), z = x - m, z - log(sum(exp(z)))
    return [f"np.maximum.reduce({{a0}}, axis={axis}, keepdims=True, out={{t0}})",
            "np.isfinite({t0}, out={t1})",
            "np.copyto({t0}, 0.0, where=np.logical_not({t1}, out={t1}))",
            "np.subtract({a0}, {t0}, out={o0})",
            "np.exp({o0}, out={t2})",
            f"np.add.reduce({{t2}}, axis={axis}, keepdims=True, out={{t0}})",
            "np.log({t0}, out={t0})",
            "np.subtract({o0}, {t0}, out={o0})"], [(kept, x.dtype), (kept, np.dtype(bool)), (x.shape, x.dtype)]


@emitter(_rule("log_softmax"))
def _log_softmax_rule(vals, outs, kw):
    g, ans, x = vals
    axis = _int_axis(x, kw)
    if axis is None or not _arrays(g, ans) or g.shape != ans.shape:
        return None
    # g - exp(ans) * sum(g, axis, keepdims=True)
    return ["np.exp({a1}, out={t0})",
            f"np.add.reduce({{a0}}, axis={axis}, keepdims=True, out={{t1}})",
            "np.multiply({t0}, {t1}, out={t0})",
            "np.subtract({a0}, {t0}, out={o0})"], [(ans.shape, ans.dtype), (_kept_shape(g.shape, axis), g.dtype)]


@emitter(_bw._add)
def _engine_add(vals, outs, kw):
    old, g, like = vals
    pd = like.data
    if pd.__class__ is not ndarray:
        return None
    if old is None and isinstance(g, np.generic) and pd.ndim == 0:  # backward._fit: a numpy scalar for a 0-d input
        return ["{o0} = np.array({a1}, dtype={a2}.data.dtype)"], []
    if g.__class__ is not ndarray:
        return None
    if old is None:
        if g.ndim == pd.ndim + 1 and g.shape[1:] == pd.shape:  # a batch summed into a bias
            return ["np.add.reduce({a1}, axis=0, out={o0})"], []
        return None
    if old.__class__ is ndarray and g.shape == pd.shape == old.shape:
        return ["np.add({a0}, {a1}, out={o0})"], []
    return None


@emitter(_add_floats)
def _added_floats(vals, outs, kw):
    return ["{o0} = {a0} + {a1}"], []


# The rules of a node of Python floats (backward._float_rules_of: one call per node), line by line; only where
# no division can raise (a rule that divides keeps its call, which reruns it in numpy after a ZeroDivisionError).
# {a0} is g, {a1} ans, {a2}... the inputs; one line per input, used only for the inputs that need a gradient.
_SCALAR_RULES = {
    "add": ("{o0} = {a0}", "{o1} = {a0}"),
    "sub": ("{o0} = {a0}", "{o1} = -{a0}"),
    "mul": ("{o0} = {a0} * {a3}", "{o1} = {a0} * {a2}"),
    "neg": ("{o0} = -{a0}",),
    "relu": ("{o0} = {a0} * (not {a1} <= 0.0)",),
    "tanh": ("{o0} = {a0} * (1.0 - {a1} * {a1})",),
    "identity": ("{o0} = {a0}",),
}


def _scalar_rules(op, needs, vals, outs):
    lines = _SCALAR_RULES.get(op.name)
    if op.name == "pow" and vals[3].__class__ is float and vals[3] == 2.0 and needs == (True, False):
        return ["{o0} = {a0} * (2.0 * {a2})", "{o1} = None"], []
    if lines is None or not _floats(*vals):
        return None
    # rules given one per input compute only the needed ones (the others are None); a joint rule computes all
    keep = needs if op.vjps is not None else (True,) * len(needs)
    return [line if k else f"{{o{i}}} = None" for i, (line, k) in enumerate(zip(lines, keep))], []


# -- planning ------------------------------------------------------------------------------------------


class _Seen:
    """An output computed again, of which only the shape, dtype and fingerprint are kept while the lines that
    should give it are tried (plan_and_emit)."""

    __slots__ = ("shape", "dtype", "ndim", "kept")

    def __init__(self, a):
        self.shape, self.dtype, self.ndim, self.kept = a.shape, a.dtype, a.ndim, fingerprint(a)


def _same_bits(x, y) -> bool:
    if y.__class__ is _Seen:
        return x.__class__ is ndarray and x.shape == y.shape and x.dtype == y.dtype and unchanged(x, y.kept)
    if x.__class__ is not y.__class__:
        return False
    if x.__class__ is float:  # equal, with the same sign (0.0 and -0.0 differ), or both NaN
        return (x == y and math.copysign(1.0, x) == math.copysign(1.0, y)) or (x != x and y != y)
    if x.__class__ is ndarray or isinstance(x, np.generic):
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        return x.tobytes() == y.tobytes() if x.__class__ is not ndarray else same_bits(x, y)
    return False


def _named(ins):
    """The slots an instruction reads (its inputs, and slots given as keyword parameters)."""
    return [a for a in ins.args if a.__class__ is int] + [v.slot for v in ins.kwargs.values() if v.__class__ is KwSlot]


def _last_uses(instrs, slots):
    """{k: the slots among `slots` that instruction k is the last to read or write}, and the slots none of them
    names; resumable."""
    last, seen = {}, set()
    for k in range(len(instrs) - 1, -1, -1):
        if not k & 255:
            yield
        ins = instrs[k]
        if ins.kind == "deposit":
            continue  # its lines need only the gradient's kind (see plan_and_emit's release)
        for s in _named(ins) + [s for s in ins.outs if s is not None]:
            if s in slots and s not in seen:
                seen.add(s)
                last.setdefault(k, []).append(s)
    return last, slots - seen


def plan_and_emit(rec, instrs, used, namer, slot_names, release=False, clock=None):
    """{id(instruction): its lines} for the calls that become numpy with out=, and the buffers they write; as
    resumable steps (a generator returning the plan: codegen.generate_steps). release=True: each array value of
    the recording goes as soon as the walk has passed the last instruction that names it, and, when a slice
    ends (`clock`, build.py) with more than `_SMALL` bytes of values computed again held, they go too and are
    computed again when the walk resumes: the calls that make the program a slice at a time run the function
    eagerly with none of the walk's arrays alive (W3: its activations)."""
    plan = {}
    snaps = rec.snaps if rec.snapshot else None
    if snaps is None:
        return plan
    escaped = rec.sharing if rec.sharing is not None else _escaped_closure(rec)
    values = rec.values
    live = rec.live
    last = {}
    if release:
        last, unnamed = yield from _last_uses(instrs, {i for i, v in enumerate(values) if v.__class__ is ndarray}
                                              | live)
        for s in unnamed:
            snaps[s] = values[s] = None
    consts = set()  # slots folded into constants (see _foldable)
    fresh = {}  # id(leaf) -> its .grad was just given an array by a deposit, and no effect came since
    lost = set()  # live slots that could not be computed again (their call raised on the values at hand)
    held = set()  # live slots holding a value computed again here (what a slice's end lets go)
    gone = set()  # slots let go after their last use
    kinds = {}  # slot let go at a slice's end -> its kind, shape and dtype (a Like's data), should it go for good
    for k, ins in enumerate(instrs):
        _let_go(last.get(k - 1, ()), snaps, values, held, gone, kinds)
        vals = outs = got = lines = emitted = fresh_lines = o = made = again = None
        if release and clock is not None and held and _clock() >= clock.deadline and \
                sum(getattr(snaps[s], "nbytes", 0) for s in held) > _SMALL:
            shelved = list(held)
            for s in shelved:
                kinds[s] = Like(snaps[s]).data
                snaps[s] = values[s] = None
            held.clear()
            yield  # the slice ends here: nothing of the walk's held while the calls in between run
            _recompute(shelved, instrs, k, snaps, values, held, gone, lost, kinds)
        else:
            yield  # (after letting go: nothing of the last instruction held while the walk waits for the next slice)
        if ins.kind == "deposit":
            lines = _deposit_lines(ins, rec, namer, slot_names)
            if lines:
                plan[id(ins)] = lines
            target, g = ins.args[0], ins.args[1]
            if target.__class__ is Const and g.__class__ is int and rec.snaps[g].__class__ in (ndarray, float):
                fresh[id(target.value)] = Like(rec.snaps[g]).data  # (its kind, shape and dtype: no memory held)
            continue
        if ins.kind == "effect":
            lines = _sgd_lines(ins, fresh, namer)
            if lines:
                plan[id(ins)] = lines
            fresh = {}
            continue
        if ins.kind != "call":
            continue
        fn = getattr(ins.fn, "forward_of", ins.fn)
        rules_of = getattr(ins.fn, "rules_of", None)
        em = _EMITTERS.get(fn)
        kw = dict(ins.kwargs)
        emits = (em is not None or rules_of is not None) and not any(v.__class__ is KwSlot for v in kw.values())
        vals = [snaps[a] if a.__class__ is int else a.value for a in ins.args]
        if live and (any(s in live for s in ins.outs) or any(a in live for a in _named(ins))):
            # an array written in place since it was recorded, or let go (Recording.shed): what it gives now
            if not emits and not any(s in live for s in ins.outs):
                continue  # (its own outputs were kept: nothing later needs it computed)
            for s in ins.outs:
                if s in live:  # the recorded array goes before its replacement is made (W3: a weight's gradient)
                    snaps[s] = values[s] = None
            outs = None
            if not lost or not any(a in lost for a in _named(ins)):
                outs = _again_on(ins, snaps)
            if outs is None:
                lost.update(s for s in ins.outs if s in live)
                continue
            for s, o in zip(ins.outs, outs):
                if s in live:  # what later instructions naming it compute again from (the others keep theirs)
                    snaps[s] = values[s] = o
                    held.add(s)
            o = None
            if not emits:
                continue
        elif not emits:
            continue
        else:
            outs = [snaps[s] if s is not None else None for s in ins.outs]
        try:
            got = em(vals, outs, kw) if em is not None else _scalar_rules(*rules_of, vals, outs) if not kw else None
        except Exception:  # noqa: BLE001 - an emitter that cannot read these inputs leaves the call as it is
            got = None
        if got is None:
            continue
        lines, temps = got
        # A large output computed again here is let go before the lines are tried, its fingerprint kept: the
        # lines' own output, if it has the same bits, takes its place (W3's first weight's gradient, 0.8 MB, is
        # not held twice).
        seen = [j for j, (s, o) in enumerate(zip(ins.outs, outs)) if s in live and o.__class__ is ndarray
                and o.nbytes > _SMALL and _fingerprints]
        if seen:
            outs = list(outs)
            for j in seen:
                outs[j] = snaps[ins.outs[j]] = values[ins.outs[j]] = _Seen(outs[j])
        made = []
        emitted = None
        if (len(ins.outs) == 1 and ins.outs[0] in escaped and lines[0].startswith("np.")
                and lines[0].endswith(", out={o0})") and getattr(outs[0], "ndim", 0) > 0):
            # a value that leaves the program is a fresh array anyway: let the ufunc allocate it
            fresh_lines = ["{o0} = " + lines[0][:-len(", out={o0})")] + ")"] + list(lines[1:])
            emitted = _instantiate(ins, fresh_lines, temps, vals, outs, used, escaped, namer, slot_names, consts,
                                   made)
        if emitted is None:
            emitted = _instantiate(ins, lines, temps, vals, outs, used, escaped, namer, slot_names, consts, made)
        if seen:
            again = made if emitted is not None else _again(ins, vals, kw)  # (the lines differ: compute it again)
            for j in seen:
                snaps[ins.outs[j]] = values[ins.outs[j]] = again[j] if again is not None else None
                held.add(ins.outs[j])
            if again is None:
                lost.update(ins.outs[j] for j in seen)
        if emitted is not None:
            plan[id(ins)] = emitted
    return plan


def _let_go(slots, snaps, values, held, gone, kinds):
    """The values no later instruction computes from: only their kind stays (a deposit's lines ask whether a
    gradient is an array or a float), not their memory."""
    for s in slots:
        v = snaps[s]
        if v is None:
            v = kinds.get(s)  # (let go at a slice's end, and not needed since)
        snaps[s] = values[s] = Like(v).data if v.__class__ in (ndarray, float) else None
        held.discard(s)
        gone.add(s)


def _recompute(slots, instrs, end, snaps, values, held, gone, lost, kinds):
    """The values let go at the end of the last slice (`slots`), computed again by the instructions before `end`
    from what is at hand, with whatever they are computed from that had gone (let go again after its last use
    here)."""
    producer = {}
    for k in range(end):
        ins = instrs[k]
        if ins.kind == "call":
            for s in ins.outs:
                if s is not None:
                    producer[s] = k
    need, stack, wanted = set(), list(slots), set(slots)
    while stack:
        k = producer.get(stack.pop())
        if k is None or k in need:
            continue
        need.add(k)
        for a in _named(instrs[k]):
            if a in gone or a in wanted:
                stack.append(a)
    temps = {s for k in need for s in instrs[k].outs if s is not None} - wanted
    last = {}
    for k in sorted(need):
        for a in _named(instrs[k]):
            if a in temps:
                last[a] = k
    for k in sorted(need):
        ins = instrs[k]
        outs = None if lost and any(a in lost for a in _named(ins)) else _again_on(ins, snaps)
        for j, s in enumerate(ins.outs):
            if s is None:
                continue
            if outs is None:
                lost.add(s)
            elif s in wanted:
                snaps[s] = values[s] = outs[j]
                held.add(s)
            elif s in temps and s in last:
                snaps[s] = values[s] = outs[j]
        outs = None
        _let_go([a for a in _named(ins) if a in temps and last.get(a) == k], snaps, values, held, gone, kinds)


def _again_on(ins, snaps):
    """`_again` on the values the slots hold now (a slot given as a keyword parameter included)."""
    vals = [snaps[a] if a.__class__ is int else a.value for a in ins.args]
    return _again(ins, vals, {key: snaps[v.slot] if v.__class__ is KwSlot else v for key, v in ins.kwargs.items()})


def _again(ins, vals, kw):
    """The outputs of a call run again on `vals` (its recorded function: an op's forward or rule, an engine
    helper, a numpy helper: what a replay would call), as a list like ins.outs; None if it raises or gives another
    count."""
    try:
        got = ins.fn(*vals, **kw)
    except Exception:  # noqa: BLE001 - these values do not suit it any more: the call stays a call
        return None
    outs = list(got) if ins.unpack else [got]
    return outs if len(outs) == len(ins.outs) else None


_trial_code: dict = {}
_alias_cache: dict = {}


def _aliases(lines, n):
    """The outputs a template assigns by name ("{o0} = ..."): values of their own, not written into a buffer."""
    key = (tuple(lines), n)
    got = _alias_cache.get(key)
    if got is None:
        got = frozenset(j for j in range(n) if any(line.startswith(f"{{o{j}}} =") for line in lines))
        _alias_cache[key] = got
    return got


_PLACEHOLDER = re.compile(r"\{([aot]\d+)\}")
_WRITE = re.compile(r"^\{([ot]\d+)\}(?: = |\[\.\.\.\] = )|out=\{([ot]\d+)\}")


def _foldable(lines, known):
    """The outputs and temporaries ("o0", "t1") that template lines compute from constants alone: `known`
    holds the inputs that are constants ("a3"); a line whose every read is known and whose target no other line
    writes computes the same bits at every replay (the backward seed `1.0 * 0.5`, its array, the sum rule
    spreading it), so it runs once, when the program is made, and the replay reads its result.

    >>> sorted(_foldable(["np.exp({a0}, out={t0})", "np.multiply({t0}, {a1}, out={o0})"], {"a0"}))
    ['t0']
    >>> sorted(_foldable(["np.exp({a0}, out={t0})", "np.log({t0}, out={t0})"], {"a0"}))   # t0 written twice
    []
    """
    writes = [[a or b for a, b in _WRITE.findall(line)] for line in lines]
    every = [w for ws in writes for w in ws]
    known = set(known)
    folded = set()
    for line, ws in zip(lines, writes):
        if len(ws) != 1 or every.count(ws[0]) != 1:
            continue
        reads = _PLACEHOLDER.findall(line)
        reads.remove(ws[0])  # the write; a line that also reads what it writes is not folded
        if set(reads) <= known:
            known.add(ws[0])
            folded.add(ws[0])
    return folded


def _instantiate(ins, lines, temps, vals, outs, used, escaped, namer, slot_names, consts, made=None):
    """The lines with names filled in, after checking them on the values given (an output may be a `_Seen`);
    None if they differ. `made` (a list) receives the outputs the lines computed."""
    # Trial run on read-only views of the inputs (a line that wrote into its input would raise).
    trial = {"np": np, "math": math}
    names = {}
    for i, v in enumerate(vals):
        names[f"a{i}"] = f"a{i}"
        trial[f"a{i}"] = _read_only(v) if v.__class__ is ndarray else v  # a snap may be the live array (lazy)
    aliases = _aliases(lines, len(outs))
    for j, o in enumerate(outs):
        names[f"o{j}"] = f"o{j}"
        alias = j in aliases
        if o is None:
            trial[f"o{j}"] = None
        elif not alias:
            if o.__class__ is not ndarray and o.__class__ is not _Seen:
                return None
            trial[f"o{j}"] = np.empty(o.shape, o.dtype)
    for k, (shape, dtype) in enumerate(temps):
        names[f"t{k}"] = f"t{k}"
        trial[f"t{k}"] = np.empty(shape, dtype)
    key = tuple(lines)
    code = _trial_code.get(key)
    if code is None:
        code = _trial_code[key] = compile("\n".join(line.format(**names) for line in lines), "<emit>", "exec")
    try:
        exec(code, trial)  # noqa: S102 - lines from this file
    except Exception:  # noqa: BLE001 - these inputs do not suit the emitter: keep the call
        return None
    for j, o in enumerate(outs):
        if o is not None and not _same_bits(trial[f"o{j}"], o):
            return None
    if made is not None:
        made[:] = [trial.get(f"o{j}") for j in range(len(outs))]
    folded = _foldable(lines, {f"a{i}" for i, a in enumerate(ins.args) if a in consts or _fixed(a)})
    applied = {f"t{k}" for k in range(len(temps))} & folded
    # The real names: inputs by reference, outputs into planned buffers (or fresh arrays when they escape).
    real = {}
    for i, a in enumerate(ins.args):
        if a.__class__ is int:
            real[f"a{i}"] = slot_names[a]
        else:
            real[f"a{i}"] = namer.const(a.value)
    pre = []
    for j, (s, o) in enumerate(zip(ins.outs, outs)):
        alias = j in aliases
        if s is not None and s in used and f"o{j}" in folded and s not in escaped:
            real[f"o{j}"] = slot_names[s] = namer.name(trial[f"o{j}"], "k_" + slot_names[s])
            consts.add(s)
            applied.add(f"o{j}")
            continue
        if s is None or s not in used:
            if alias:
                real[f"o{j}"] = "_"
                continue
            if sum(line.count(f"{{o{j}}}") for line in lines) == 1 and f"o{j}" in map(_target, lines):
                applied.add(f"o{j}")  # a result nobody reads, written by a line of its own: not computed
                continue
            buf = namer.name(Buffer(o.shape, o.dtype), "scrap")  # a result nobody reads: still written
            real[f"o{j}"] = buf
            continue
        if alias:
            real[f"o{j}"] = slot_names[s]
        elif s in escaped:
            real[f"o{j}"] = slot_names[s]
            pre.append(f"{slot_names[s]} = np.empty({o.shape!r}, {namer.name(o.dtype, 'dtype')})")
        else:
            buf = namer.name(Buffer(o.shape, o.dtype), "buf_" + slot_names[s])
            real[f"o{j}"] = buf
            slot_names[s] = buf
    for k, (shape, dtype) in enumerate(temps):
        real[f"t{k}"] = namer.name(trial[f"t{k}"] if f"t{k}" in applied else Buffer(shape, dtype), "tmp")
    body = pre + [line.format(**real) for line in lines if _target(line) not in applied]
    body = [b for b in body if not b.startswith("_ = ")]
    return body if body or applied else ["pass"]


def _read_only(a):
    view = a.view()
    view.flags.writeable = False
    return view


def _target(line):
    """The output or temporary a template line writes ("o0", "t1"), when it writes one; None otherwise."""
    ws = [a or b for a, b in _WRITE.findall(line)]
    return ws[0] if len(ws) == 1 else None


def _fixed(a) -> bool:
    """A recorded constant that cannot change between replays: a number, or an array made afresh by each call
    (the backward seed; not an upstream gradient passed to backward(), which its owner may change in place
    between calls, so lines reading it run every call), or a stand-in for a node's kind and shape."""
    if a.__class__ is not Const:
        return False
    v = a.value
    return a.by_value or v is None or v.__class__ in (float, int, bool, Like) or isinstance(v, np.generic)


def _deposit_lines(ins, rec, namer, slot_names):
    target, g, adopt, was_none = ins.args[:4]
    if g.__class__ is not int or not was_none.value or not (adopt.value or rec.snaps[g].__class__ is float):
        return None
    leaf = f"A{target.index}" if target.__class__ is not Const else namer.name(target.value, leaf_hint(target.value))
    fn = namer.name(_deposit_leaf, "deposit")
    g = slot_names[g]
    return [f"if {leaf}.grad is None:", f"    {leaf}.grad = {g}", "else:",
            f"    {fn}({leaf}, {g}, True, True, False)"]


def _sgd_lines(ins, fresh, namer):
    """Plain SGD's step (no momentum, no weight decay, not maximizing, every parameter given an array gradient
    just before) as numpy lines: p.data -= lr * grad into the optimizer's own buffer, as SGD._step_group computes
    it; the optimizer's own step when a group's settings have changed since."""
    from ..optim import SGD

    bound = ins.fn.value
    opt = getattr(bound, "__self__", None)
    if type(opt) is not SGD or getattr(bound, "__func__", None) is not SGD.step or ins.args:
        return None
    params = [p for g in opt.param_groups for p in g["params"]]
    for p in params:
        g = fresh.get(id(p))
        if g is None or g.__class__ is not p.data.__class__:
            return None
        if g.__class__ is ndarray and (g.shape != p.data.shape or g.dtype != p.data.dtype):
            return None
    if any(g["momentum"] or g["weight_decay"] or g["maximize"] for g in opt.param_groups):
        return None
    o = namer.name(opt, "sgd")
    groups = namer.name(opt.param_groups, "sgd_groups")
    step = namer.name(bound, "SGD_step")
    guard = " and ".join(f"not ({groups}[{k}]['momentum'] or {groups}[{k}]['weight_decay'] or "
                         f"{groups}[{k}]['maximize'])" for k in range(len(opt.param_groups)))
    lines = [f"if {o}.param_groups is {groups} and len({groups}) == {len(opt.param_groups)} and {guard}:"]
    for k, g in enumerate(opt.param_groups):
        lines.append(f"    lr = {groups}[{k}]['lr']")
        for p in g["params"]:
            w = namer.name(p, leaf_hint(p))
            if p.data.__class__ is float:  # SGD._apply: p.data = p.data - float(lr * g)
                lines.append(f"    {w}.data = {w}.data - lr * {w}.grad")
                continue
            buf = opt._buffers.get(p)  # the buffer eager's step writes lr * grad into (one copy of it, not two)
            if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
                buf = Buffer(p.data.shape, p.data.dtype)
            buf = namer.name(buf, "lr_times_grad")
            lines.append(f"    {w}.data -= np.multiply({w}.grad, lr, out={buf})")
    changed = namer.name(tuple(params), "sgd_params")
    mark = namer.name(engine.mark_changed, "mark_changed")
    lines += [f"    {mark}({changed}, {namer.const(opt._what_steps)})", "else:", f"    {step}()"]
    return lines
