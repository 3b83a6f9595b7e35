"""The second call of a signature: checked against the first recording as it runs, rather than recorded again.

Two calls that do the same thing record the same instructions; the program is made from the first recording once
a second call is seen to do what it did. The check follows the recorder's own steps (the same slot numbering, the
same constants, the same parameter reads, effects and results) without writing anything down, and lets the
engine run the backward pass as it does eagerly: a backward pass is a function of the graph in front of it (the
rules, their order, the gradients' shapes), so it is enough to check the graph, the pass's root and seed, and the
state of each `.grad` it deposits into (None, zero, or holding a gradient). A call checked this way costs 1.8-2.8
warm eager steps on the suite's tensor workloads (`python -m benchmarks`, the jitted rows' notes), where a second
recording cost 3.6-4.2.

What the check cannot follow sends the signature back to the old way (`Verify.dead`: the next call records a
second time, and the two recordings are compared): anything that reads a gradient as a payload after a backward
pass (the check does not number gradients), `gradients()`, `create_graph`, an upstream gradient given as a Value.
A difference found before any backward pass is a real one and raises `JitError` (`Verify.differs`), as the
comparison of two recordings would; after one, a difference might be a gradient the check did not number, so it
records again instead.
"""

from __future__ import annotations

import numpy as np

from ..engine import Value, modes
from ..engine import backward as _bw_engine
from .backward import _is_zero
from .ir import Const, KwSlot, same_bound, same_const
from .recorder import References, _copy_payload, _normalized, _normalized_cache

ndarray = np.ndarray


class Verify(References):
    """A call checked against `rec` (the first recording of its signature; see the module's docstring).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, jit
    >>> w = Value(np.array([1.0, 2.0]))
    >>> k = [0.0]
    >>> def f(x):
    ...     k[0] += 1.0                      # a Python number that moves every call: frozen by a recording
    ...     return (w * x * k[0]).sum()
    >>> g = jit(f)
    >>> g(np.ones(2)).item()                 # recorded
    3.0
    >>> try:
    ...     g(np.ones(2))                    # checked against the recording, which holds 1.0 where this has 2.0
    ... except Exception as e:
    ...     print(type(e).__name__, "differs between calls" in str(e))
    JitError True
    """

    checks = True  # the recorder's hooks hand this call's ops and passes to the methods below

    def __init__(self, rec):
        self.rec = rec
        self.instrs = rec.instrs
        self.k = 0  # the next instruction of rec this call must meet
        self.node_slot: dict[int, int] = {}
        self.arr_slot: dict[int, int] = {}
        self.param_slot: dict[int, int] = {}
        self.keep: list = []  # keeps every object whose id is a key above alive
        self.arg_objs: list = []
        self.escaped: set[int] = set()  # (unused: _outputs fills it)
        self.muted = 0
        self.dead = None  # why this call cannot be checked this way: record a second time instead
        self.differs = None  # where this call did something else than the first (JitError)
        self.blind = False  # a backward pass ran: gradients are payloads the check has no slots for
        self.start_id = modes.next_id()
        self.ever_read: set[int] = set()
        self.fresh_arrays: dict[tuple, bool] = {}  # (instruction, input) -> a constant array made afresh this call
        self.was_zero: dict[int, bool] = {}  # a deposit's index -> its .grad was zero this call too

    # -- outcomes -------------------------------------------------------------------------------------
    def abandon(self, reason):
        if self.dead is None:
            self.dead = reason

    def differ(self, why):
        """This call parted from the first here: a real difference, unless a backward pass ran before it."""
        if self.dead is not None:
            return
        ins = self.instrs[self.k] if self.k < len(self.instrs) else None
        where = f"at instruction {self.k} ({ins.what})" if ins is not None else "after the first call's last step"
        if self.blind:
            self.abandon(f"{where}: {why}")
        else:
            self.differs = f"{where}: {why}"
            self.dead = self.differs

    def expect(self, kind):
        """The next instruction of the first recording, if it is of this kind (else a difference)."""
        ins = self.instrs[self.k] if self.k < len(self.instrs) else None
        if ins is None or ins.kind != kind:
            self.differ(f"the other call ran {ins.what!r} here" if ins is not None else "one call ran more")
            return None
        return ins

    def same_args(self, ins, refs) -> bool:
        if len(ins.args) != len(refs):
            self.differ("another number of inputs")
            return False
        for i, (p, q) in enumerate(zip(refs, ins.args)):
            if p.__class__ is not q.__class__:
                self.differ(f"input {i} is computed in one call and a constant in the other")
                return False
            if p.__class__ is int:
                if p != q:
                    self.differ(f"input {i} comes from another computation")
                    return False
            elif not (same_const(p.value, q.value) or same_bound(p.value, q.value)):
                self.differ(f"input {i} is a constant made inside the function that differs between calls")
                return False
            elif q.value.__class__ is ndarray:
                self.fresh_arrays[(self.k, i)] = p.value is not q.value
        return True

    def same_kwargs(self, ins, kw) -> bool:
        if ins.kwargs.keys() != kw.keys() or not all(same_const(ins.kwargs[k], kw[k]) for k in kw):
            self.differ("other parameters")
            return False
        return True

    # -- references (as the recorder finds them) -------------------------------------------------------
    def ref_value(self, x):
        s = self.node_slot.get(id(x))
        if s is not None:
            return s
        s = self.param_slot.get(id(x))
        if s is not None:
            return s
        d = x.data
        if d.__class__ is ndarray or d.__class__ is float:
            s = self.arr_slot.get(id(d))
            if s is not None:
                return s
        if x._op is None:
            if x.requires_grad and not (x._id > self.start_id and id(x) not in self.ever_read):
                return self.read(x)
            return Const(d)
        self.abandon("an op's input was computed before the call")
        return Const(d)

    def read(self, leaf):
        ins = self.expect("read")
        if ins is None or ins.args[0].value is not leaf:
            if ins is not None:
                self.differ("another leaf")
            return Const(leaf.data)
        s = ins.outs[0]
        self.k += 1
        self.ever_read.add(id(leaf))
        self.param_slot[id(leaf)] = s
        self.keep.append(leaf)
        self._number(leaf.data, s, False)
        return s

    def _number(self, value, s, track_float):
        """What Recording.new_slot makes findable by identity."""
        c = value.__class__
        if c is ndarray or (track_float and c is float) or (c is not float and isinstance(value, np.generic)):
            self.arr_slot[id(value)] = s
            self.keep.append(value)

    # -- the hooks ------------------------------------------------------------------------------------
    def bind(self, leaves):
        for x in leaves:
            self.arg_objs.append(x)
            ins = self.expect("arg")
            if ins is None:
                return
            s = ins.outs[0]
            self.k += 1
            if isinstance(x, Value):
                self.node_slot[id(x)] = s
                self.keep.append(x)
                self._number(x.data, s, True)
            else:
                self._number(x, s, True)

    def forward(self, op, inputs, params, v):
        # Once per op (micrograd's demo: 45,000 a call): the common case spelled out (inputs found by identity,
        # the instruction's slots equal as a tuple, no parameters); anything else goes through the general checks.
        node_slot, param_slot = self.node_slot, self.param_slot
        refs = []
        for x in inputs:
            s = node_slot.get(id(x))
            if s is None:
                s = param_slot.get(id(x))
                if s is None:
                    s = self.ref_value(x)
            refs.append(s)
        if self.dead is not None:
            return
        k = self.k
        ins = self.instrs[k] if k < len(self.instrs) else None
        if ins is None or ins.kind != "call":
            return self.expect("call")
        if ins.fn is not (_normalized_cache.get(op) or _normalized(op)):
            return self.differ("another function")
        refs = tuple(refs)
        if refs != ins.args and not self.same_args(ins, refs):
            return
        if (params or ins.kwargs) and not self.same_kwargs(ins, self.kw(params) if params else {}):
            return
        s = ins.outs[0]
        self.k = k + 1
        node_slot[id(v)] = s
        self.keep.append(v)
        d = v.data
        if d.__class__ is not float:
            self._number(d, s, False)

    def _call(self, fn, refs, kw, out, track_float):
        ins = self.expect("call")
        if ins is None:
            return
        if ins.fn is not fn:
            return self.differ("another function")
        if self.same_args(ins, refs) and self.same_kwargs(ins, kw):
            self.k += 1
            self._number(out, ins.outs[0], track_float)

    def payload(self, op, inputs, params):
        out = op.forward(*inputs, **params)
        refs = tuple(self.ref_payload(x) for x in inputs)
        kw = self.kw(params)
        if self.dead is None and not (all(r.__class__ is Const for r in refs)
                                      and not any(v.__class__ is KwSlot for v in kw.values())):
            self._call(op.forward, refs, dict(params), out, True)
        return out

    def pure(self, fn, args, kwargs):
        self.muted += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            self.muted -= 1
        refs = tuple(self.ref_payload(x) for x in args)
        if self.dead is None and not all(r.__class__ is Const for r in refs):
            self._call(fn, refs, self.kw(kwargs), out, True)
        return out

    def copied(self, data, payload):
        ref = self.ref_payload(data)
        if self.dead is None and ref.__class__ is not Const:
            self._call(_copy_payload, (ref,), {}, payload, False)

    def effect(self, bound, args):
        ins = self.expect("effect")
        if ins is not None:
            if not same_bound(ins.fn.value, bound):
                self.differ("another object's method")
            elif len(ins.args) != len(args) or not all(same_const(a, c.value) for a, c in zip(args, ins.args)):
                self.differ("other arguments")
            else:
                self.k += 1
        self.muted += 1
        try:
            bound(*args)
        finally:
            self.muted -= 1
        self.param_slot.clear()  # a parameter read after this reads its new payload

    def backprop(self, root, seed, create_graph, floor, finish):
        """The engine's own pass, eagerly, after checking what the first call's recorded pass started from and
        the state of the `.grad`s it deposited into."""
        self.muted += 1
        try:
            if self.dead is None:
                self._check_pass(root, seed, create_graph, finish)
            return _bw_engine.run_pass(root, seed, create_graph, floor, finish)
        finally:
            self.muted -= 1

    def _check_pass(self, root, seed, create_graph, finish):
        if create_graph or finish is not _bw_engine._deposit or isinstance(seed, Value) or \
                modes.anomaly is not None:
            return self.abandon("a backward pass the check does not follow (gradients(), create_graph, anomaly)")
        where = self.rec.passes.get(self.k)
        if where is None:
            return self.differ("a backward pass here in one call only")
        end, root_ref, seed_ref, deposits = where
        if root_ref is None or self.node_slot.get(id(root)) != root_ref:
            return self.differ("a backward pass from another value")
        got = self.ref_payload(seed)
        if got.__class__ is not seed_ref.__class__ or (
                got.__class__ is Const and not same_const(got.value, seed_ref.value)) or (
                got.__class__ is int and got != seed_ref):
            return self.differ("a backward pass with another upstream gradient")
        if got.__class__ is Const and got.value.__class__ is ndarray:
            seed_ref.by_value = got.value is not seed_ref.value  # made afresh by each call (api._merge)
        for j in deposits:
            target = self.instrs[j].args[0]
            leaf = target.value if target.__class__ is Const else self.arg_objs[target.index]
            g = leaf.grad
            if (g is None) != self.instrs[j].args[3].value:
                return self.differ("the leaf's .grad was None at this backward in one call and held a gradient in "
                                   "the other; zero the gradients in the same way before every call "
                                   "(optimizer.zero_grad() inside the function is simplest)")
            self.was_zero[j] = g is not None and _is_zero(g)
        self.k = end
        self.blind = True

    # -- the end of the call ---------------------------------------------------------------------------
    def finish(self, out):
        """After the function returned `out` (its result's (desc, slots, kinds), as api._outputs gives them)."""
        if self.dead is None and self.k != len(self.instrs):
            self.differ("the first call ran more")
        if self.dead is None:
            desc, slots, kinds = self.rec.out
            if out[0] != desc or out[1] != slots or not all(a == b or same_const(a[1], b[1])
                                                            for a, b in zip(out[2], kinds)):
                self.differ("the results differ in structure or in a constant")

    def merge(self):
        """What the first recording takes from this call (as api._merge takes from a second recording): which
        constant arrays are made afresh by every call, and which .grad was zero at its deposit in both calls."""
        instrs = self.instrs
        for (k, i), fresh in self.fresh_arrays.items():
            instrs[k].args[i].by_value = fresh
        for j, zero in self.was_zero.items():
            ins = instrs[j]
            ins.args = ins.args[:4] + (Const(bool(ins.args[4].value and zero)),)
