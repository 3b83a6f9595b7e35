"""Recording: run the function once, eagerly, and write down every payload computation it makes.

The engine calls the hooks of `HOOKS` (installed as `engine.modes.recorder` while any thread records) from the one
place ops run (`apply`: each forward, on Values or on bare payloads), from `backward()`/`gradients()` (which hand
the pass to `backward.py` here), from `Value(...)` (the copy of an array), from the optimizers' `step` and
`zero_grad`, and from the doors through which a number leaves the graph (`item()`, printing, an in-place update
written by hand). Each hook is one line there; everything else lives in this package.

The recording is the real run: its results are the eager results, bit for bit. What it cannot describe (a
number leaving the graph to steer Python, `backward(create_graph=True)`, a hand-written write to `.data` or
`.grad`) abandons it: the call finishes eagerly and `jit` remembers to run that signature eagerly.

The same hooks serve a call that is checked against a recording rather than recorded (verify.py: an object whose
`checks` is true gets the ops and the backward passes).
"""

from __future__ import annotations

import functools
import gc
import threading

import numpy as np

try:
    from xxhash import xxh3_128_intdigest as _xxh128
except ImportError:  # pragma: no cover - xxhash is a dependency; this keeps a broken install working
    _xxh128 = None

from ..engine import Value, modes, to_payload
from ..engine import backward as _bw_engine
from ..engine.apply import _normalize
from ..optim.optimizer import Optimizer
from .ir import Const, Instr, KwSlot

ndarray = np.ndarray
_local = threading.local()
_active = 0
_active_lock = threading.Lock()


def current():
    """The recording running in this thread (None if none, or while it runs code it does not record)."""
    rec = getattr(_local, "rec", None)
    if rec is None or rec.muted or rec.dead is not None:
        return None
    return rec


def recording_in_this_thread() -> bool:
    return getattr(_local, "rec", None) is not None


class _Hooks:
    """What the engine and optim call while some thread records: the current thread's recording, or eager."""

    @staticmethod
    def payload(op, inputs, params):
        rec = current()
        if rec is None:
            return op.forward(*inputs, **params)
        return rec.payload(op, inputs, params)

    @staticmethod
    def backprop(root, seed, create_graph, floor, finish):
        rec = current()
        if rec is None:
            return _bw_engine.run_pass(root, seed, create_graph, floor, finish)
        if rec.checks:
            return rec.backprop(root, seed, create_graph, floor, finish)
        return _backward.record_backprop(rec, root, seed, create_graph, floor, finish)

    @staticmethod
    def copied(data, payload):
        rec = current()
        if rec is not None:
            rec.copied(data, payload)

    @staticmethod
    def escapes(value, what):
        rec = current()
        if rec is not None:
            rec.abandon(f"{what} inside the function (a number leaves the graph; jit would freeze it)")

    @staticmethod
    def pure(fn, args, kwargs):
        rec = current()
        if rec is None:
            return fn(*args, **kwargs)
        return rec.pure(fn, args, kwargs)

    @staticmethod
    def effect(bound, *args) -> bool:
        rec = current()
        if rec is None:
            pause = getattr(_local, "pause", None)
            if pause is None or not drops_gradients(bound, args):
                return False
            _local.pause = None
            bound(*args)  # the zero_grad itself (its hook finds nothing to do now)
            pause()
            return True
        rec.effect(bound, args)
        return True


HOOKS = _Hooks()


def recorded(fn):
    """Mark a function of payloads (numpy arrays, numbers) that has no gradient, such as turning labels into
    one-hot rows, so that jit records it as a call, computed again from the arguments at every replay. Numpy
    outside ops and outside such functions is invisible to a recording: its result is frozen as a constant.

    >>> import numpy as np
    >>> @recorded
    ... def one_hot(labels, classes):
    ...     return np.eye(classes)[labels]
    >>> one_hot(np.array([0, 2]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if modes.recorder is None:
            return fn(*args, **kwargs)
        return modes.recorder.pure(fn, args, kwargs)

    return wrapper


def _copy_payload(data):
    """What `Value(data)` stores for an array: a float array of its own (Value.__new__, engine/node.py)."""
    payload = to_payload(data)
    return payload.copy() if payload.__class__ is ndarray else payload


class References:
    """How a payload an op reads is referred to: by its slot, when the recording made it (found by identity in
    `arr_slot`, or through `ref_value` for a Value), else as a constant. Shared by a recording and by the check
    of a call against one (verify.py), which must refer to things exactly as the recording did."""

    def ref_payload(self, x):
        if isinstance(x, Value):
            return self.ref_value(x)
        if x.__class__ is ndarray or x.__class__ is float or isinstance(x, np.generic):
            s = self.arr_slot.get(id(x))
            if s is not None:
                return s
        return Const(x)

    def kw(self, params):
        """Keyword parameters as recorded: constants, or a KwSlot for a payload the recording knows."""
        out = {}
        for k, v in params.items():
            if (v.__class__ is ndarray or isinstance(v, np.generic)) and id(v) in self.arr_slot:
                v = KwSlot(self.arr_slot[id(v)])
            out[k] = v
        return out


class Recording(References):
    """One eager run of the function, written down as instructions (ir.py)."""

    checks = False  # (verify.Verify, which the same hooks serve, checks a call against a recording instead)

    def __init__(self, snapshot=False):
        self.instrs: list[Instr] = []
        self.values: list = []  # slot -> the payload it held at record time
        self.names: list[str] = []
        self.node_slot: dict[int, int] = {}  # id(Value) -> slot of its payload
        self.arr_slot: dict[int, int] = {}  # id(array or numpy scalar) -> slot
        self.param_slot: dict[int, int] = {}  # id(leaf) -> slot of its latest read (cleared by effects)
        self.keep: list = []  # keeps every object whose id is a key above alive
        self.muted = 0
        self.dead = None  # why the recording was abandoned
        self.arg_objs: list = []
        self.watch: dict[tuple, tuple] = {}  # (id(leaf), attribute) -> (leaf, attribute, object, its bytes):
        # writes jit cannot see
        # snaps: every slot's value as it was made, for emit.py to check its lines on (True: a copy of each array,
        # which check mode compares with, taken as the slot is made; "lazy": the array itself, `live` if something
        # may have written into it in place since (see freeze) or if `shed` let it go, the list given by `seal`
        # when the call ends)
        self.snapshot = snapshot
        self.snaps: list = []
        self.unfrozen: dict[int, list[int]] = {}  # id of an array owning memory -> the slots whose snap is that
        # array (or a view of it), not yet live ("lazy"): found by the array about to be written, not by a walk
        # over every slot
        self.live: set[int] = set()
        self.escaped: set[int] = set()  # slots whose arrays leave the program (a leaf's .grad, a result)
        self.grad_of: dict[int, int] = {}  # slot of a gradient -> slot of the value it is the gradient of
        self.start_id = modes.next_id()  # leaves numbered above were made during this call
        self.ever_read: set[int] = set()
        # backward passes that deposit into .grad: index of their first instruction -> (index after their last,
        # the root's slot, the seed's reference, the indices of their deposits): what verify.py checks
        self.passes: dict[int, tuple] = {}
        self.sharing = None  # the escaped slots and those sharing memory with them, once `shed` has run
        self.array_bytes = 0  # what the slots' arrays add up to ("lazy"; views counted too): see `shed`
        self.quiet_point = False  # the function drops the gradients (zero_grad): see `shed` and api._make
        self.helper_slots: set[int] = set()  # what the user's `recorded` helpers gave: `shed` keeps it

    # -- slots --------------------------------------------------------------------------------------
    def new_slot(self, value, name, track_float=False) -> int:
        """A new slot holding `value`. Arrays (and numpy scalars) are found again by identity when an op meets
        them; a float only when asked (`track_float`: an argument, the result of a payload call), since equal
        floats from different computations may be one object (a constant 0.0 returned by two relus). (`values`
        keeps each one alive, so that its id is not reused while the recording runs.)"""
        i = len(self.values)
        self.values.append(value)
        self.names.append(name)
        c = value.__class__
        if c is ndarray:
            self.arr_slot[id(value)] = i
            if self.snapshot:
                self.snap(i, value)
            return i
        if (track_float and c is float) or (c is not float and isinstance(value, np.generic)):
            self.arr_slot[id(value)] = i
        if self.snapshot is True:
            self.snaps.append(value)
        return i

    def snap(self, i, a):
        """Slot i holds the array a: its snap is a copy (check mode), or a itself until something may write it."""
        if self.snapshot is True:
            self.snaps.append(a.copy())
            return
        self.array_bytes += a.nbytes
        key = id(a) if a.base is None else id(_base(a))
        slots = self.unfrozen.get(key)
        if slots is None:
            self.unfrozen[key] = [i]
        else:
            slots.append(i)

    def freeze(self, arrays):
        """Mark the slots that share memory with `arrays`, which are about to be written in place (a leaf's .data
        by an optimizer's step, its .grad by zero_grad or by a gradient added to it), as `live`: their snap is
        the array itself, which may not hold the record-time value any more, so emit.py computes again what an
        instruction naming one gives (its function, on the values at hand) rather than trusting the recorded
        result, and copies nothing (W3: its parameters, gradients and batch). Nothing else in a recorded call
        writes into an array that a slot holds: ops and rules make new arrays, and writes by hand to a leaf
        abandon the recording."""
        unfrozen = self.unfrozen
        if not unfrozen:
            return
        live = self.live
        for a in arrays:
            if a.__class__ is ndarray:
                slots = unfrozen.pop(id(a) if a.base is None else id(_base(a)), None)
                if slots is not None:
                    live.update(slots)

    def seal(self):
        """The lazy snaps, when the call is over (its last freeze done): the slots' values themselves (those
        that may have changed since are `live`)."""
        if self.snapshot == "lazy":
            self.snaps, self.unfrozen = self.values, {}

    def shed(self):
        """Let go of the arrays the call's ops and rules made (activations, gradients), keeping what the program
        reads from outside (the arguments, the leaves' payloads) and every number: emit.py computes each of them
        again, from the values at hand, when the program is made (as for a `live` slot). The calls between this
        one and the first replay then run eagerly with no second copy of the step's values alive (benchmark W3's
        peak memory: 1.8 MB of 1.9 MB held). Which slots share memory with what leaves the program is read first,
        while the arrays are here to tell. What a user's `recorded` helper gave stays too: it is called once a
        call, as eager calls it, and no more (it may draw from a generator)."""
        if self.snapshot != "lazy" or self.array_bytes < _SHED:
            return  # (the book's network, the chain of 100 ops: what it would save is less than what it costs)
        self.sharing = _escaped_closure(self)
        values, live = self.values, self.live
        for ins in self.instrs:
            if ins.kind == "call":
                for s in ins.outs:
                    if s is not None and values[s].__class__ is ndarray and s not in self.helper_slots:
                        values[s] = None
                        live.add(s)
            elif ins.kind == "effect" and drops_gradients(ins.fn.value, tuple(a.value for a in ins.args)):
                self.quiet_point = True  # (the calls that make the program work on it right after that)
        self.snaps = values

    @property
    def shed_arrays(self) -> bool:
        """Whether `shed` let go of the call's arrays (the making then gives memory back: buffers.give_back)."""
        return self.sharing is not None

    def mutable_arrays(self, grads=True):
        """The arrays an effect may write in place: the payloads (and gradients) of the leaves the call read or
        gave a gradient to, and of the Values passed as arguments."""
        out = []
        leaves = [leaf for leaf, _, _, _ in self.watch.values()] + [x for x in self.arg_objs if isinstance(x, Value)]
        for leaf in leaves:
            out.append(leaf.data)
            if grads:
                out.append(leaf.grad)
        return out

    def release(self):
        """Drop the graph and payloads kept while recording (what a comparison or the program needs stays)."""
        self.drop_graph()
        self.values = [None] * len(self.values)
        self.snaps = []
        self.unfrozen = {}
        self.live = set()
        self.watch = {}

    def drop_graph(self):
        """Drop the graph and the maps by identity, when the call is over and its outputs are found: the program
        is made from the instructions and the slots' values."""
        self.keep = []
        self.node_slot, self.arr_slot, self.param_slot = {}, {}, {}

    def emit(self, instr: Instr):
        self.instrs.append(instr)

    def abandon(self, reason):
        if self.dead is None:
            self.dead = reason

    # -- references to what an op reads -------------------------------------------------------------
    def ref_value(self, x):
        """The slot (or constant) of a Value's payload."""
        s = self.node_slot.get(id(x))
        if s is not None:
            return s
        s = self.param_slot.get(id(x))
        if s is not None:
            return s
        d = x.data
        if d.__class__ is ndarray or d.__class__ is float:  # a constant node around an argument (or a result)
            s = self.arr_slot.get(id(d))
            if s is not None:
                return s
        if x._op is None:
            if x.requires_grad and not self.fresh(x):  # a parameter: read where it is used, as eager reads it
                return self.read(x)
            return Const(d)  # a constant made inside the function (or kept outside it)
        self.abandon(f"an op's input {x.op!r} of shape {x.shape} was computed before the call; pass it as an "
                     f"argument instead (a graph from outside cannot be replayed)")
        return Const(d)

    def fresh(self, leaf) -> bool:
        """Whether a leaf was made during this call (micrograd's Value(x) of each input, say): its payload is a
        constant, and the gradient it receives is lost with it when the call returns."""
        return leaf._id > self.start_id and id(leaf) not in self.ever_read

    def read(self, leaf):
        self.ever_read.add(id(leaf))
        s = self.new_slot(leaf.data, leaf.name or "w")
        self.emit(Instr("read", args=(Const(leaf),), outs=(s,), what=f"the payload of a leaf ({_describe(leaf)})"))
        self.param_slot[id(leaf)] = s
        self.keep.append(leaf)
        if (id(leaf), "data") not in self.watch:  # watched from its first read (and after each effect)
            self._watch(leaf, "data")
        return s

    # -- what the hooks record ------------------------------------------------------------------------
    def payload(self, op, inputs, params):
        out = op.forward(*inputs, **params)
        refs = tuple(self.ref_payload(x) for x in inputs)
        kw = self.kw(params)
        if all(r.__class__ is Const for r in refs) and not any(v.__class__ is KwSlot for v in kw.values()):
            return out  # a constant computation: its result is a constant too
        s = self.new_slot(out, "t", track_float=True)
        self.emit(Instr("call", op.forward, refs, dict(params), (s,), op.name))
        return out

    def pure(self, fn, args, kwargs):
        """A numpy helper on payloads (see `recorded`): a call computed from the arguments, or a constant."""
        self.muted += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.muted -= 1
        refs = tuple(self.ref_payload(x) for x in args)
        if all(r.__class__ is Const for r in refs):
            return out
        s = self.new_slot(out, "t", track_float=True)
        self.helper_slots.add(s)
        self.emit(Instr("call", fn, refs, self.kw(kwargs), (s,), getattr(fn, "__name__", "numpy helper")))
        return out

    def copied(self, data, payload):
        ref = self.ref_payload(data)
        if ref.__class__ is Const:
            return
        s = self.new_slot(payload, "v")
        self.emit(Instr("call", _copy_payload, (ref,), {}, (s,), "Value(...) copies its array"))

    def call(self, fn, vals, refs, kwargs, what, n_out=None, name="t"):
        """Run fn on the payloads (unrecorded inside) and record it; the result and its slot(s)."""
        self.muted += 1
        try:
            out = fn(*vals, **kwargs)
        finally:
            self.muted -= 1
        return out, self.record_call(fn, out, refs, kwargs, what, n_out, name)

    def record_call(self, fn, out, refs, kwargs, what, n_out=None, name="t"):
        if n_out is None:
            s = self.new_slot(out, name)
            self.instrs.append(Instr("call", fn, tuple(refs), dict(kwargs) if kwargs else None, (s,), what))
            return s
        if not isinstance(out, (tuple, list)) or len(out) != n_out:
            return None  # the caller raises the engine's error for a rule that returns the wrong count
        slots = []
        values, names, arr_slot = self.values, self.names, self.arr_slot
        inline = self.snapshot is not True
        for o in out:  # self.new_slot(o, name), its array case spelled out: a rule's gradients, for every node
            if o is None:
                slots.append(None)
            elif o.__class__ is ndarray and inline:
                i = len(values)
                values.append(o)
                names.append(name)
                arr_slot[id(o)] = i
                if self.snapshot:
                    self.snap(i, o)
                slots.append(i)
            else:
                slots.append(self.new_slot(o, name))
        slots = tuple(slots)
        self.instrs.append(Instr("call", fn, tuple(refs), dict(kwargs) if kwargs else None, slots, what, unpack=True))
        return slots

    def effect(self, bound, args):
        self.verify_watched()
        # an optimizer's own step writes the parameters, never their .grad (it copies what it changes): the
        # gradients stay as they are, and so do their copies that watch them. A freeze missed costs only speed: a
        # line checked against a changed value is not used, the call stays.
        stepping = getattr(bound, "__func__", None) is Optimizer.step
        self.freeze(self.mutable_arrays(grads=not stepping))
        self.muted += 1
        try:
            bound(*args)
        finally:
            self.muted -= 1
        self.emit(Instr("effect", Const(bound), tuple(Const(a) for a in args), what=_qualname(bound)))
        self.param_slot.clear()  # a parameter read after this reads its new payload
        self.rewatch(grads=not stepping)

    # -- writes the recorder cannot see ---------------------------------------------------------------
    def _watch(self, leaf, attr):
        obj = getattr(leaf, attr)
        self.watch[(id(leaf), attr)] = (leaf, attr, obj, fingerprint(obj) if obj.__class__ is ndarray else obj)

    def rewatch(self, grads=True):
        """Watch the leaves again after an effect. grads=False (an optimizer's step, which writes only .data):
        a .grad still holding the array watched keeps its copy. Each old copy goes before its new one is made
        (W3: not two copies of every parameter and gradient at the recording's peak)."""
        watch = self.watch
        for key in list(watch):
            leaf, attr, obj = watch[key][:3]
            now = getattr(leaf, attr)
            if not grads and attr == "grad" and now is obj:
                continue
            watch[key] = None
            watch[key] = (leaf, attr, now, fingerprint(now) if now.__class__ is ndarray else now)

    def verify_watched(self):
        for leaf, attr, obj, copy in self.watch.values():
            now = getattr(leaf, attr)
            if now is not obj or (obj.__class__ is ndarray and not unchanged(obj, copy)):
                self.abandon(f"the function changed .{attr} of a leaf ({_describe(leaf)}) by hand, which jit "
                             f"cannot see; use an optimizer (tinygrad_nn.optim) and its zero_grad")
                return


def _forward_hook(op, inputs, params, v):
    """One op's forward, written down as a call in the recording of this thread (the engine's `apply` calls it
    for every op while some thread records)."""
    # Once per op of the function (a quarter of a million times for micrograd's demo), so spelled out in one
    # function: the thread's recording (current()), an input's slot looked up inline as ref_value begins (it does
    # the rest), the result's slot made inline (new_slot's float and array cases).
    rec = getattr(_local, "rec", None)
    if rec is None or rec.muted or rec.dead is not None:
        return
    if rec.checks:  # a call checked against the first recording (verify.py)
        return rec.forward(op, inputs, params, v)
    node_slot, param_slot = rec.node_slot, rec.param_slot
    refs = []
    for x in inputs:
        s = node_slot.get(id(x))
        if s is None:
            s = param_slot.get(id(x))
            if s is None:
                s = rec.ref_value(x)
        refs.append(s)
    fn = _normalized_cache.get(op) or _normalized(op)  # apply normalises what the forward gives (a numpy
    d = v.data  # scalar becomes a 0-d array)
    c = d.__class__
    if (c is float or c is ndarray) and rec.snapshot is not True:
        values = rec.values
        s = len(values)
        values.append(d)
        rec.names.append("v")
        if c is ndarray:
            rec.arr_slot[id(d)] = s
            if rec.snapshot:
                rec.snap(s, d)
    else:
        s = rec.new_slot(d, "v")
    node_slot[id(v)] = s
    rec.keep.append(v)
    rec.instrs.append(Instr("call", fn, tuple(refs), rec.kw(params) if params else None, (s,), fn.what))


_Hooks.forward = staticmethod(_forward_hook)  # the hook is the recording's own function: one call per op


def same_bits(a, b) -> bool:
    """Whether two arrays of one shape and dtype hold the same bits (NaNs and -0.0 included), compared as unsigned
    integers of their item size: no copy of either (W3's first weight is 0.8 MB), and a block at a time when both
    are contiguous (the comparison's own booleans stay small)."""
    bits = _UINT.get(a.dtype.itemsize) if a.dtype.kind in "biufc" else None
    if bits is None or a.nbytes <= _SMALL:  # a small array: its bytes, compared at once (one C call each)
        return a.tobytes() == b.tobytes()
    a, b = a.view(bits), b.view(bits)
    if a.size > _BLOCK and a.flags.c_contiguous and b.flags.c_contiguous:
        a, b = a.reshape(-1), b.reshape(-1)
        return all(np.array_equal(a[i:i + _BLOCK], b[i:i + _BLOCK]) for i in range(0, a.size, _BLOCK))
    return bool(np.array_equal(a, b))


_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_BLOCK = 1 << 16
_SHED = 1 << 20  # bytes of arrays below which a recording keeps them (Recording.shed)
_SMALL = 1 << 16  # bytes: up to this a watch keeps an array's bytes (one C call; the book's network's watches),
# above it their digest; the making holds a larger output to its digest too, and lets go at a slice's end of
# more than this (emit.py)


def fingerprint(a):
    """What a watch keeps of an array, to tell later whether anything wrote into it: its bytes when it is small
    (one C call to take, one to compare), else its shape, dtype and a 128-bit xxHash of its bytes (XXH3, about
    25 µs a megabyte, less than a copy takes; W3's first call no longer holds a second copy of its 1.9 MB of
    parameters and gradients). Without the xxhash package, a copy."""
    if a.nbytes <= _SMALL or not a.flags.c_contiguous:
        return a.tobytes()
    if _xxh128 is None:
        return a.copy()
    return a.shape, a.dtype.str, _xxh128(a)


def unchanged(a, kept) -> bool:
    """Whether array a still holds what `fingerprint` gave as `kept`, bit for bit."""
    c = kept.__class__
    if c is tuple:
        return a.flags.c_contiguous and kept == fingerprint(a)
    if c is ndarray:
        return kept.shape == a.shape and kept.dtype == a.dtype and same_bits(kept, a)
    return len(kept) == a.nbytes and a.tobytes() == kept


def _escaped_closure(rec):
    """Slots whose arrays leave the program (rec.escaped), and every slot sharing memory with one of them. Only
    arrays with one owner can share memory (a view's `.base` chain ends at the array that owns it), so each
    escaped array is held against those alone, and against arrays over foreign memory (a buffer numpy does not
    own, which two owners may wrap)."""
    out = set(rec.escaped)
    values = rec.values
    by_owner, foreign = {}, []
    for i, v in enumerate(values):
        if v.__class__ is ndarray:
            b = v.base  # (most arrays own their memory: one attribute read)
            owner = v if b is None else b if b.__class__ is ndarray and b.base is None else _base(v)
            if owner.base is not None:
                foreign.append((i, v))
            else:
                by_owner.setdefault(id(owner), []).append((i, v))
    for e in list(out):
        ve = values[e]
        if ve.__class__ is not ndarray:
            continue
        owner = _base(ve)
        near = foreign + (by_owner.get(id(owner), []) if owner.base is None else
                          [x for group in by_owner.values() for x in group])
        for i, v in near:
            if i not in out and (v is ve or np.may_share_memory(v, ve)):
                out.add(i)
    return out


def _base(a):
    """The array that owns a's memory (a itself, or the array a view was taken of)."""
    while a.base is not None and a.base.__class__ is ndarray:
        a = a.base
    return a


def _describe(leaf) -> str:
    d = leaf.data
    shape = "a scalar" if d.__class__ is float else f"shape {d.shape}"
    return shape + (f", name {leaf.name!r}" if leaf.name else "")


def _qualname(bound) -> str:
    owner = getattr(bound, "__self__", None)
    return f"{type(owner).__name__}.{bound.__name__}" if owner is not None else getattr(bound, "__name__", "?")


_normalized_cache: dict = {}


def _normalized(op):
    """op's forward followed by the engine's normalisation of its result (a float from floats, a float array
    from arrays), as `apply` does when the forward's result is not already an array."""
    f = _normalized_cache.get(op)
    if f is None:
        forward, normalize = op.forward, _normalize

        def f(*datas, **params):
            return normalize(forward(*datas, **params), datas)

        f.__name__ = f"{op.name}_forward"
        f.what = op.name
        f.forward_of = forward
        _normalized_cache[op] = f
    return f


_gc_was_enabled = False
_gc_holds = 0  # recordings running and programs being made (in any thread): the cyclic collector waits for them


def hold_gc():
    """Pause the cyclic collector (counted, for every thread): a recording keeps every node and payload alive until
    its program is made, so the collector would walk an ever larger heap for nothing (on a scalar graph, most of
    the time of a recording and of the calls that make its program)."""
    global _gc_holds, _gc_was_enabled
    with _active_lock:
        _gc_holds += 1
        if _gc_holds == 1:
            _gc_was_enabled = gc.isenabled()
            gc.disable()


def release_gc():
    global _gc_holds
    with _active_lock:
        _gc_holds -= 1
        if _gc_holds == 0 and _gc_was_enabled:
            gc.enable()


def drops_gradients(bound, args) -> bool:
    """Whether an effect is an optimizer's zero_grad that sets the gradients to None (PyTorch's default): right
    after it, the least of a training step's memory is alive (the last step's gradients gone, this step's graph
    not yet built)."""
    return getattr(bound, "__func__", None) is Optimizer.zero_grad and (args[0] if args else True) is True


def pause_at_quiet_point(callback):
    """While a call that makes a program runs the function eagerly: run `callback` right after the function's
    first zero_grad that drops the gradients (`drops_gradients`). The hooks are on meanwhile, so that the
    optimizer reports its effects; nothing is recorded. `unpause()` ends it."""
    global _active
    _local.pause = callback
    with _active_lock:
        _active += 1
        modes.recorder = HOOKS


def unpause() -> bool:
    """The end of `pause_at_quiet_point`; whether the callback ran."""
    global _active
    ran = getattr(_local, "pause", None) is None
    _local.pause = None
    with _active_lock:
        _active -= 1
        if _active == 0:
            modes.recorder = None
    return ran


def start(rec):
    global _active
    if recording_in_this_thread():
        raise RuntimeError("jit: a recording is running in this thread already")
    _local.rec = rec
    with _active_lock:
        _active += 1
        modes.recorder = HOOKS
    hold_gc()
    modes.open_block(1)  # fastpaths.py steps aside: every op goes through `apply`, where it is recorded


def stop():
    global _active
    _local.rec = None
    modes.open_block(-1)
    with _active_lock:
        _active -= 1
        if _active == 0:
            modes.recorder = None
    release_gc()


from . import backward as _backward  # noqa: E402  (backward.py reads this module's Recording only)

__all__ = ["Recording", "start", "stop", "current", "recorded", "HOOKS", "hold_gc", "release_gc"]
