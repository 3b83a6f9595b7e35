"""A backward pass, recorded: the engine's rule contract (engine/backward.py: `run_rules` and `_deposit`), run on
the real payloads while writing down each rule call, each gradient summed to its input's shape and each addition.

This file follows the contract of `engine.backward.run_rules` step for step (which rules run, per-input rules only
for inputs that need a gradient, the float shortcut, the numpy rerun of a scalar rule that divided by zero, and
the leaves' deposit with `fastpaths.owned` and `_accumulate`), because a replay must add the same numbers in the
same order.
A change to the contract there is a change here too; tests/jit/test_ops_table.py holds every registered op to
eager bit for bit, so a difference shows.
"""

from __future__ import annotations

import numpy as np

from ..engine import Value, fastpaths, modes
from ..engine import backward as _bw
from ..engine.apply import NO_PARAMS as _NO
from ..engine.node import _many
from ..engine.stale import check_stale
from .ir import Const, Instr, KwSlot, Like

ndarray = np.ndarray


def record_backprop(rec, root, seed, create_graph, floor, finish):
    if create_graph:
        rec.abandon("backward(create_graph=True) (a loss that contains a gradient: higher order is run eagerly)")
        return _bw.run_pass(root, seed, create_graph, floor, finish)
    if modes.anomaly is not None:
        rec.abandon("detect_anomaly() is on (its checks run node by node, eagerly)")
        return _bw.run_pass(root, seed, create_graph, floor, finish)
    if isinstance(seed, Value):
        rec.abandon("backward(grad=<a Value>)")
        return _bw.run_pass(root, seed, create_graph, floor, finish)
    seed_ref = rec.ref_payload(seed)
    if seed_ref.__class__ is Const:
        seed_ref = Const(seed, by_value=True)  # made by engine.backward._seed: ones of the output's shape
    with _bw._pass_lock:
        run = _bw._Pass()
        run.claimed = [] if _bw._passes else None
        _bw._passes.append(run)
        try:
            _bw._claim(root, floor, run)
            check_stale(run.order)
            root._scratch = seed
            scr = {id(root): seed_ref}  # id(node) -> the slot (or constant) of its scratch gradient
            start = len(rec.instrs)
            root_ref = rec.node_slot.get(id(root))
            _rules(rec, run.order, scr)
            if finish is _bw._deposit:
                out = _deposit(rec, run, scr)
                rec.passes[start] = (len(rec.instrs), root_ref, seed_ref,
                                     [j for j in range(start, len(rec.instrs)) if rec.instrs[j].kind == "deposit"])
                return out
            out = finish(run)  # gradients(): the scratch of the inputs asked for
            for node in list(run.order) + list(run.leaves):
                ref = scr.get(id(node))
                if ref is not None and ref.__class__ is not Const and node._scratch is not None:
                    rec.arr_slot[id(node._scratch)] = ref  # gradients() returns them: found again by identity
                    rec.keep.append(node._scratch)
                    rec.escaped.add(ref)
            return out
        finally:
            _bw._passes.pop()
            _bw._release(run)


def _initial(node):
    return 0.0 if node.data.__class__ is float else None


def _rules(rec, order, scr):
    # Once per node of the graph (a quarter of a million for micrograd's demo): the slots of the node and of its
    # inputs are looked up inline (ref_value does the rest), and a float gradient is added to a float scratch
    # inline (_accumulate_scratch's first case).
    node_slot, ref_value, instrs, values, names = rec.node_slot, rec.ref_value, rec.instrs, rec.values, rec.names
    param_slot = rec.param_slot  # cleared by an effect, never replaced: bound once too
    copies = rec.snaps if rec.snapshot is True else None
    for node in order:
        g = node._scratch
        if g is None or rec.dead is not None:
            continue
        if node._n is not None:
            rec.abandon("a running sum built before the recording")
            return
        op, a, params = node._op, node._a, node._params
        inputs = _many(node) if a is None else (a,) if node._b is None else (a, node._b)
        gref = scr.get(id(node))
        if gref is None:
            gref = Const(g)
        d = node.data
        s = node_slot.get(id(node))
        refs = [gref, ref_value(node) if s is None else s]
        vals = [g, d]
        scalar = d.__class__ is float
        for p in inputs:
            s = node_slot.get(id(p))
            if s is None:
                s = param_slot.get(id(p))
                if s is None:
                    s = ref_value(p)
            refs.append(s)
            pd = p.data
            vals.append(pd)
            if pd.__class__ is not float:
                scalar = False
        refs = tuple(refs)
        P = params or _NO
        if P and any(v.__class__ is KwSlot for v in rec.kw(P).values()):
            rec.abandon(f"the parameters of {op.name!r} hold an array computed in the function")
            return
        try:
            if scalar:
                grads = _scalar_rules(rec, op, inputs, vals, refs, P)
            else:
                grads = _tensor_rules(rec, op, node, inputs, vals, refs, P)
        except Exception as e:
            raise _bw._rule_error(node, e) from e
        for p, (pg, pref) in zip(inputs, grads):
            if pg is None or not p.requires_grad:
                continue
            old = p._scratch
            if pg.__class__ is float and old.__class__ is float:
                oref = scr.get(id(p))
                if oref is None:
                    oref = Const(0.0 if p.data.__class__ is float else None)  # _initial(p)
                new = old + pg
                ref = len(values)  # rec.new_slot(new, "δ"), spelled out for a float
                values.append(new)
                names.append("δ")
                if copies is not None:
                    copies.append(new)
                instrs.append(Instr("call", _add_floats, (oref, pref), None, (ref,), "gradients added"))
                p._scratch = new
                scr[id(p)] = ref
                of = node_slot.get(id(p))
                if of is None:
                    of = param_slot.get(id(p))
                if of is not None:
                    rec.grad_of[ref] = of
            else:
                _accumulate_scratch(rec, p, pg, pref, scr)


def _tensor_rules(rec, op, node, inputs, vals, refs, P):
    """The rules of one node, as engine.backward.run_rules runs them: [(gradient, its slot)] per input."""
    n = len(inputs)
    if op.vjps is None:
        what = _rule_what.get(op)
        if what is None:
            what = _rule_what[op] = f"rule of {op.name}"
        grads, slots = rec.call(op.vjp, vals, refs, P, what, n_out=n, name="δ")
        if n > 2 or len(inputs) == 0:
            _bw.check_count(op, grads, n)
        elif slots is None:  # the wrong count: the engine's own error
            _bw.check_count(op, grads, n)
        return list(zip(grads, slots))
    out = []
    whats = _rule_whats.get(op)
    if whats is None:
        whats = _rule_whats[op] = [f"rule of {op.name} (input {i})" for i in range(len(op.vjps))]
    kw = dict(P) if P else None
    for i, (rule, p) in enumerate(zip(op.vjps, inputs)):
        if p.requires_grad:  # rec.call(rule, ...) spelled out: one per input of every node
            rec.muted += 1
            try:
                g = rule(*vals, **P)
            finally:
                rec.muted -= 1
            if g.__class__ is ndarray and rec.snapshot is not True:  # rec.new_slot(g, "δ"), spelled out
                s = len(rec.values)
                rec.values.append(g)
                rec.names.append("δ")
                rec.arr_slot[id(g)] = s
                if rec.snapshot:
                    rec.snap(s, g)
            else:
                s = rec.new_slot(g, "δ")
            rec.instrs.append(Instr("call", rule, refs, kw if kw is None else dict(kw), (s,), whats[i]))
            out.append((g, s))
        else:
            out.append((None, None))
    return out


_rule_whats: dict = {}  # op -> what each of its per-input rules is called in the trace
_rule_what: dict = {}  # op -> what its one rule is called


def _scalar_rules(rec, op, inputs, vals, refs, P):
    """A node of floats: all its rules in one call, which reruns them in numpy if one divides by zero. (rec.call
    spelled out: a scalar graph's recording makes one per node.)"""
    n = len(inputs)
    if n == 2:
        key = (op, inputs[0].requires_grad, inputs[1].requires_grad)
    elif n == 1:
        key = (op, inputs[0].requires_grad)
    else:
        key = (op, *[p.requires_grad for p in inputs])
    fn = _float_rules_cache.get(key)
    if fn is None:
        fn = _float_rules_of(op, key[1:])
    rec.muted += 1
    try:
        grads = fn(*vals, **P) if P else fn(*vals)
    finally:
        rec.muted -= 1
    if grads.__class__ is not tuple or len(grads) != n:
        _bw.check_count(op, grads, n)
    values, names, new_slot = rec.values, rec.names, rec.new_slot
    inline = rec.snapshot is not True
    slots = []
    for g in grads:  # new_slot(g, "δ"), spelled out for a float
        if g is None:
            slots.append(None)
        elif g.__class__ is float and inline:
            slots.append(len(values))
            values.append(g)
            names.append("δ")
        else:
            slots.append(new_slot(g, "δ"))
    slots = tuple(slots)
    rec.instrs.append(Instr("call", fn, refs, dict(P) if P else None, slots, fn.what, unpack=True))
    return zip(grads, slots)


_float_rules_cache: dict = {}


def _float_rules_of(op, needs):
    """One node's rules on floats, as engine.backward.run_rules computes them (after a ZeroDivisionError: again
    with the floats as numpy float64 scalars): a tuple with one gradient (or None) per input."""
    key = (op, *needs)
    f = _float_rules_cache.get(key)
    if f is not None:
        return f
    vjp, vjps = op.vjp, op.vjps

    def f(g, ans, *datas, **params):
        try:
            if vjps is None:
                grads = vjp(g, ans, *datas, **params)
            else:
                grads = tuple(r(g, ans, *datas, **params) if need else None for r, need in zip(vjps, needs))
        except ZeroDivisionError:  # as run_rules: numpy float64 gives inf or nan
            as_np = (lambda x: np.float64(x) if x.__class__ is float else x)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                g, ans, datas = as_np(g), as_np(ans), [as_np(d) for d in datas]
                if vjps is None:
                    grads = vjp(g, ans, *datas, **params)
                else:
                    grads = tuple(r(g, ans, *datas, **params) if need else None for r, need in zip(vjps, needs))
            grads = tuple(None if x is None else float(x) if np.ndim(x) == 0 else float(np.sum(x)) for x in grads)
        return tuple(grads)

    f.__name__ = f"{op.name}_rules"
    f.what = f"rule of {op.name}"
    f.rules_of = (op, needs)
    _float_rules_cache[key] = f
    return f


def _accumulate_scratch(rec, p, pg, pref, scr):
    """p's scratch += pg, as engine.backward.run_rules adds it (the float shortcut, else its _add)."""
    old = p._scratch
    oref = scr.get(id(p))
    if oref is None:
        oref = Const(_initial(p))
    pd = p.data
    if pg.__class__ is float and old.__class__ is float:  # rec.call(_add_floats, ...) spelled out: the hot path
        new = old + pg  # of a scalar graph's recording
        ref = rec.new_slot(new, "δ")
        rec.instrs.append(Instr("call", _add_floats, (oref, pref), None, (ref,), "gradients added"))
    elif old is None and pg.__class__ is ndarray and pd.__class__ is ndarray and pg.shape == pd.shape:
        new, ref = pg, pref  # backward._add returns the gradient itself
    else:
        like = _like(pd)
        new, ref = rec.call(_bw._add, (old, pg, like), (oref, pref, Const(like)), _NO,
                            "gradient summed to its input's shape and added", name="δ")
    p._scratch = new
    scr[id(p)] = ref
    if ref.__class__ is int:  # the trace names it after the value it is the gradient of: δv3, δ_0_weight
        of = rec.node_slot.get(id(p), rec.param_slot.get(id(p)))
        if of is not None:
            rec.grad_of[ref] = of


_likes: dict = {}


def _like(data):
    """A `Like` of data's kind, shape and dtype, made once per kind (they are read-only, and many)."""
    key = (data.shape, data.dtype) if data.__class__ is ndarray else data.__class__
    got = _likes.get(key)
    if got is None:
        got = _likes[key] = Like(data)
    return got


def _add_floats(a, b):
    return a + b


def _deposit(rec, run, scr):
    """engine.backward._deposit, recorded: each leaf's gradient goes to its .grad."""
    rec.freeze([leaf.grad for leaf in run.leaves])  # a gradient added to a .grad is added in place
    for node in run.order:
        node.grad, node._scratch = node._scratch, None
    pending = {}  # id(gradient) -> how many leaves still hold it
    for leaf in run.leaves:
        if leaf._scratch is not None:
            k = id(leaf._scratch)
            pending[k] = pending.get(k, 0) + 1
    outside = []
    for leaf in run.leaves:
        g, leaf._scratch = leaf._scratch, None
        if g is None:
            continue
        pending[id(g)] -= 1  # what other leaves, not yet given theirs, still hold
        ref = scr.get(id(leaf))
        was_none = leaf.grad is None
        was_zero = not was_none and _is_zero(leaf.grad)
        adopt = was_none and _may_adopt(rec, g, leaf, ref, run, pending, outside)
        if adopt:
            leaf.grad = g
        else:
            leaf.grad = _bw._accumulate(leaf, g)
        if rec.fresh(leaf) and not any(leaf is a for a in rec.arg_objs):
            continue  # a leaf made during the call: its gradient leaves with it (nothing to replay)
        target = _leaf_ref(rec, leaf)
        rec.emit(Instr("deposit", _deposit_leaf, (target, ref if ref is not None else Const(g), Const(adopt),
                                                  Const(was_none), Const(was_zero)),
                       what=f"the gradient of {_name(leaf)} to .grad"))
        if adopt and ref.__class__ is not Const:
            rec.escaped.add(ref)
        rec._watch(leaf, "grad")
    run.order = run.leaves = ()


def _may_adopt(rec, g, leaf, ref, run, pending, outside) -> bool:
    """Whether eager would hand the array g to leaf.grad as it is: a fresh array of the leaf's dtype that no other
    node's gradient, and nothing from outside the program, shares (fastpaths.owned decides by reference counts,
    which the recording's own references would spoil)."""
    if g.__class__ is not ndarray or g.base is not None or not g.flags.writeable or g.dtype != leaf.data.dtype:
        return False
    if ref is None or ref.__class__ is Const or not _adoption_on() or pending.get(id(g)):
        return False
    for node in run.order:
        if node.grad is g:
            return False
    return id(g) not in _outside_ids(rec, outside)


def _adoption_on() -> bool:
    return fastpaths._adopt


def _outside_ids(rec, cache):
    """The ids of the recording's constants, gathered once per deposit of a pass (into `cache`, a list)."""
    if not cache:
        cache.append({id(c.value) for i in rec.instrs for c in i.args if c.__class__ is Const})
    return cache[0]


def _leaf_ref(rec, leaf):
    for i, obj in enumerate(rec.arg_objs):
        if obj is leaf:
            from .ir import Arg

            return Arg(i)
    rec.keep.append(leaf)
    return Const(leaf)


def _name(leaf) -> str:
    d = leaf.data
    return (repr(leaf.name) if leaf.name else "a leaf") + ("" if d.__class__ is float else f" {list(d.shape)}")


def _is_zero(x) -> bool:
    if isinstance(x, Value):
        x = x.data
    if x.__class__ is ndarray:
        return not x.any()
    return x == 0


def _deposit_leaf(leaf, g, adopt, was_none, was_zero=False):
    """One leaf's share of engine.backward._deposit, replayed; refuses a .grad that is not as it was at record time
    (None, zeros, or a gradient to add to)."""
    old = leaf.grad
    if was_zero and not _is_zero(old):
        from .api import JitError

        raise JitError(f"jit: when recorded, .grad of {_name(leaf)} was zero at this backward, now it holds a "
                       f"gradient: it was zeroed in a way jit cannot see (a hand-written p.grad = 0, as micrograd's "
                       f"zero_grad does). Zero the gradients with optimizer.zero_grad() (inside the function or "
                       f"outside it)")
    if (old is None) != was_none:
        from .api import JitError

        state = "None" if was_none else "a gradient"
        raise JitError(f"jit: when recorded, .grad of {_name(leaf)} was {state} at this backward, now it is "
                       f"{'None' if old is None else 'a gradient'}: something outside the recorded ops set or "
                       f"cleared it (a hand-written p.grad = ..., or zero_grad outside the function). Zero the "
                       f"gradients inside the jitted function with optimizer.zero_grad(), or outside it always")
    if old is None and adopt:
        leaf.grad = g
    else:
        leaf.grad = _bw._accumulate(leaf, g)
