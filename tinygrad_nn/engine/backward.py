"""The backward pass: `backward` (Value.backward) and `gradients` (torch.autograd.grad), both through `backprop`.

A pass walks the graph (`_claim`), claiming each node it needs with its own token (`_pass`) and a fresh scratch
gradient (`_scratch`), runs the rules latest node first (`run_rules`, the one place gradient rules run), and only
when all have run hands the results to `.grad` (`_deposit`): a rule that raises, or Ctrl-C, leaves every `.grad` as
it was. Passes take turns (a lock), so two threads back-propagating through shared leaves both land; a pass started
from inside another's rule (a rule that itself calls grad) puts back the scratch it borrowed. Scratch lives in
slots rather than in a dict keyed by node: a dict of 45,000 nodes costs W1 (micrograd's demo) a sixth of its step
in cache misses.

Before the rules run, `stale.check_stale` refuses a graph one of whose leaves was changed in place since.
"""

from __future__ import annotations

import os
import sys
import threading
from operator import attrgetter

import numpy as np

from .. import rulecheck as _rulecheck
from . import fastpaths as _fastpaths
from . import links
from . import modes as _modes
from .apply import NO_PARAMS
from .core_ops import identity, sum_to, sum_to_shape
from .node import Value, _many, _node, data_of, shape_of, to_payload
from .stale import check_stale

ndarray = np.ndarray
_by_id = attrgetter("_id")


def backward(root, grad=None, create_graph=False):
    """Value.backward: every leaf under root that requires a gradient gets d(root)/d(leaf) added to `.grad`."""
    backprop(root, _seed(root, grad, create_graph), create_graph, 0, _deposit)


def gradients(output, inputs, grad=None, create_graph=False):
    """d(output)/d(inputs), as torch.autograd.grad: no `.grad` anywhere changes.

    `inputs` may be any nodes, leaves or made by ops, and one may depend on another: the gradient of each
    counts every path through the others. An input that output does not depend on gets None.

    >>> from tinygrad_nn import Value
    >>> from tinygrad_nn.ops import identity
    >>> x = Value(3.0); h1 = identity(x); h2 = h1 * 2
    >>> gradients(h2 * h1, [h1, h2])    # h1 reaches the output directly and through h2
    [12.0, 3.0]
    """
    inputs = list(inputs)
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs must be Values, got {type(x).__name__}")
    if not output.requires_grad or not inputs:
        return [None] * len(inputs)
    seed = _seed(output, grad, create_graph)
    # No op node older than every input can depend on one. (A leaf's number may have moved on, by an in-place
    # change: then nothing is skipped, so that a stale graph is still found.)
    floor = 0 if any(x._op is None for x in inputs) else min(x._id for x in inputs)
    return backprop(output, seed, create_graph, floor,
                    lambda run: [x._scratch if x._pass is run else None for x in inputs])


def _seed(out, grad, create_graph):
    """The gradient a pass starts from: 1 for a single number, else the caller's `grad` of the output's shape."""
    d = out.data
    if grad is None:
        if d.__class__ is float:
            seed = 1.0
        elif d.size == 1:
            seed = np.array(1.0, dtype=d.dtype).reshape(d.shape)  # np.ones is Python: a tenth of W2's backward
        else:
            raise ValueError(f"backward: the output has shape {d.shape}, so the upstream gradient is ambiguous; "
                             f"reduce it to one number first (e.g. y.sum().backward()) or pass "
                             f"y.backward(grad) with an array of shape {d.shape}")
    else:
        g = grad if isinstance(grad, Value) and create_graph else to_payload(data_of(grad), "backward")
        gshape = shape_of(g)
        if gshape != shape_of(d):
            raise ValueError(f"backward: grad has shape {gshape} but the output has shape {shape_of(d)}; "
                             f"pass a gradient of exactly the output's shape")
        if isinstance(g, Value):
            seed = g
        elif d.__class__ is float:
            seed = float(g)
        else:  # no copy when it has the output's dtype already: rules never write into their g
            seed = np.asarray(g, dtype=d.dtype)
    if create_graph and not isinstance(seed, Value):
        seed = Value._leaf(seed)
    return seed


# ----------------------------------------------------------------------------------------------
# One pass.


class _Pass:
    """One backward pass: its token is the object itself; `claimed` lists what a nested pass borrowed."""

    __slots__ = ("order", "leaves", "claimed")


_pass_lock = threading.RLock()
_passes = []  # the passes running, outermost first (only the thread holding the lock touches it)


def _renew_lock_after_fork():
    """In a forked child only the forking thread lives on, so a lock another thread held at the fork would stay
    held: the child's first backward() would wait forever. The child gets a fresh lock and forgets the passes of
    threads that are gone; a pass the forking thread itself is inside (a fork from a gradient rule) keeps it."""
    global _pass_lock, _passes
    if not _pass_lock._is_owned():
        _pass_lock, _passes = threading.RLock(), []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_lock_after_fork)


def backprop(root, seed, create_graph, floor, finish):
    """Run a backward pass from root; `finish(run)` reads its results before the scratch is released."""
    if _modes.recorder is not None:  # tinygrad_nn.jit records this pass
        return _modes.recorder.backprop(root, seed, create_graph, floor, finish)
    return run_pass(root, seed, create_graph, floor, finish)


def run_pass(root, seed, create_graph, floor, finish):
    """The pass itself, unrecorded (what the jit recorder runs for a pass it does not record)."""
    with _pass_lock:
        run = _Pass()
        run.claimed = [] if _passes else None  # nested: note what we borrow, to put it back
        _passes.append(run)
        try:
            _claim(root, floor, run)
            check_stale(run.order)
            root._scratch = seed
            if not create_graph:
                _run(run.order, False)
                return finish(run)
            with _modes.enable_grad():  # the rules' ops record the gradient graph, also inside no_grad
                _run(run.order, True)
                return finish(run)  # leaves add their gradients as recorded nodes too
        finally:
            _passes.pop()
            _release(run)


def _run(order, on_values):
    if _modes.anomaly is None:
        run_rules(order, on_values)
    else:  # one node at a time, each checked (anomaly.py)
        for node in order:
            _modes.anomaly.backward_step(node, lambda: run_rules([node], on_values))  # noqa: B023


def _claim(root, floor, run):
    """Claim the nodes on a path to root that need a gradient: op nodes into run.order, latest first (a
    reverse topological order), leaves into run.leaves; each gets a zero scratch gradient (0.0 for a float
    payload, None otherwise). Nodes older than `floor` are claimed but not entered (`gradients` needs
    nothing below its inputs)."""
    order, leaves, stack, claimed = [], [], [], run.claimed
    if claimed is not None:
        claimed.append((root, root._pass, root._scratch))
    root._pass, root._scratch = run, None
    (leaves if root._op is None else stack).append(root)
    push, visit, leaf = stack.append, order.append, leaves.append
    while stack:
        node = stack.pop()
        visit(node)
        a = node._a
        if a is None:  # (_many, inlined: this loop runs once per node of the graph)
            inputs, n = node._more, node._n
            if n is not None and len(inputs) != n:
                inputs = inputs[:n]
        else:  # one or two inputs, by far the most common: no tuple made for them
            b = node._b
            if a._pass is not run and a.requires_grad:
                if claimed is not None:
                    claimed.append((a, a._pass, a._scratch))
                a._pass = run
                a._scratch = 0.0 if a.data.__class__ is float else None
                if a._op is None:
                    leaf(a)
                elif a._id >= floor:
                    push(a)
            if b is None or b._pass is run or not b.requires_grad:
                continue
            inputs = (b,)
        for p in inputs:
            if p._pass is not run and p.requires_grad:
                if claimed is not None:
                    claimed.append((p, p._pass, p._scratch))
                p._pass = run
                p._scratch = 0.0 if p.data.__class__ is float else None
                if p._op is None:
                    leaf(p)
                elif p._id >= floor:
                    push(p)
    order.sort(key=_by_id, reverse=True)
    run.order, run.leaves = order, leaves


def _release(run):
    """Drop the scratch (it may hold large arrays, or graphs under create_graph), or put back what a nested
    pass borrowed."""
    if run.claimed is not None:
        for node, token, scratch in reversed(run.claimed):
            node._pass, node._scratch = token, scratch
    else:
        for node in run.order:
            node._scratch = None
        for node in run.leaves:
            node._scratch = None
    run.order = run.leaves = run.claimed = ()  # the nodes keep the pass as a token: it must not keep them


# ----------------------------------------------------------------------------------------------
# The rules.


def run_rules(order, on_values):
    """Run the gradient rules of `order` (latest node first), each node's scratch gradient to its inputs' scratch.

    This function is the rule contract: a node's rule is `op.vjp(g, ans, *inputs, **params)`, or with per-input
    rules `op.vjps` only those of the inputs that require a gradient; each result is fitted to its input (`_fit`:
    un-broadcast, a float for a float payload) and added to the input's scratch. Without `on_values` the rules
    run on bare payloads (so they record no graph), and a scalar rule that divides by 0.0 runs again in numpy
    float64, which gives PyTorch's inf or nan where Python raises. With `on_values` (backward(create_graph=True))
    they run on the Values, so every gradient is itself a differentiable node. Scalars, by far the most common
    inputs in micrograd-style graphs, are added up inline; a running sum hands its g to every term.
    """
    if on_values:
        for node in order:
            g = node._scratch
            if not isinstance(g, Value):  # 0.0 or None: no path reached this node
                continue
            op, inputs = node._op, node._prev
            # A rule written outside the package runs with the payloads it must not compute with watched
            # (rulecheck.py).
            watched = _rulecheck.watch((g, node, *inputs), op.name) if _rulecheck.is_users(op) else None
            try:
                grads = _rule(op, g, node, inputs, inputs, node._params or NO_PARAMS)
            except Exception as e:
                raise _rule_error(node, e) from e
            finally:
                if watched:
                    _rulecheck.unwatch(watched)
            for p, pg in zip(inputs, grads):
                if pg is None or not p.requires_grad:
                    continue
                if not isinstance(pg, Value):
                    if np.any(pg):  # numbers, not a node: made without g (or from its payload), so the graph is cut
                        raise _RuleContractError(
                            f"{op.name}: its gradient rule returned {type(pg).__name__} for input {inputs.index(p)} "
                            f"under backward(create_graph=True), where the gradient g is a Value: a gradient "
                            f"computed from numbers (g.data, x.data, numpy) cuts the graph; write it with the ops on g "
                            f"and the inputs (g * ans, ...), or return None for an input that gets no gradient (see "
                            f"docs/engine.md, 'Adding an op')")
                    pg = Value._leaf(to_payload(pg))
                pg = _fit(pg, p)
                old = p._scratch
                p._scratch = pg if not isinstance(old, Value) else old + pg
        return
    nodes = iter(order)
    while True:
        try:
            for node in nodes:
                g = node._scratch
                if g is None:  # no path from the root reached this node with a gradient
                    continue
                op, a, params = node._op, node._a, node._params
                if a is None:
                    n = node._n
                    if n is not None and g.__class__ is float:  # a running sum: every term gets g
                        terms = node._more
                        for p in (terms if len(terms) == n else terms[:n]):
                            if p.requires_grad:
                                old = p._scratch
                                p._scratch = old + g if old.__class__ is float else _add(old, g, p)
                    else:
                        inputs = _many(node)
                        _add_all(inputs, _rule(op, g, node.data, inputs, [p.data for p in inputs],
                                               params or NO_PARAMS))
                    continue
                b = node._b
                if b is None:
                    if params is None:
                        (ga,) = op.vjp(g, node.data, a.data)
                    else:
                        (ga,) = op.vjp(g, node.data, a.data, **params)
                    old = a._scratch
                    a._scratch = old + ga if ga.__class__ is float and old.__class__ is float else _add(old, ga, a)
                    continue
                if op.vjps is None:
                    if params is None:
                        ga, gb = op.vjp(g, node.data, a.data, b.data)
                    else:
                        ga, gb = op.vjp(g, node.data, a.data, b.data, **params)
                else:  # per-input rules: only for the inputs that need a gradient
                    params = params or NO_PARAMS
                    ga = op.vjps[0](g, node.data, a.data, b.data, **params) if a.requires_grad else None
                    gb = op.vjps[1](g, node.data, a.data, b.data, **params) if b.requires_grad else None
                if a.requires_grad:
                    old = a._scratch
                    a._scratch = old + ga if ga.__class__ is float and old.__class__ is float else _add(old, ga, a)
                if b.requires_grad:
                    old = b._scratch
                    b._scratch = old + gb if gb.__class__ is float and old.__class__ is float else _add(old, gb, b)
            return
        except ZeroDivisionError:
            # A scalar rule divided by 0.0 (the slope of sqrt or log at 0, say): take this node's rule again with
            # its floats as numpy float64 scalars, then go on with the next node.
            inputs = node._prev
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                grads = _rule(node._op, _as_np(node._scratch), _as_np(node.data), inputs,
                              [_as_np(p.data) for p in inputs], node._params or NO_PARAMS)
            _add_all(inputs, grads)
        except Exception as e:
            raise _rule_error(node, e) from e


def _rule(op, g, ans, inputs, args, params):
    """The gradients of `inputs` from op's rule, called on `args` (their payloads, or themselves under
    create_graph): `op.vjp`, or only the per-input rules `op.vjps` of the inputs that require a gradient."""
    if op.vjps is None:
        grads = op.vjp(g, ans, *args, **params)
        check_count(op, grads, len(inputs))
        return grads
    return [r(g, ans, *args, **params) if p.requires_grad else None for r, p in zip(op.vjps, inputs)]


def check_count(op, grads, n):
    """Refuse a rule's result that is not one gradient per input (tinygrad_nn.jit checks a recorded rule too)."""
    if not isinstance(grads, (tuple, list)) or len(grads) != n:
        got = f"{len(grads)} gradients" if isinstance(grads, (tuple, list)) else f"a {type(grads).__name__}"
        raise _RuleContractError(f"{op.name}: its gradient rule returned {got} for {n} inputs; a rule returns a "
                                 f"tuple with one gradient per input (None for an input that gets none), e.g. "
                                 f"`lambda g, ans, x: (g * ans,)` for one input (see docs/engine.md, 'Adding an op')")


def _as_np(x):
    return np.float64(x) if x.__class__ is float else x


def _add_all(inputs, grads):
    for p, pg in zip(inputs, grads):
        if pg is not None and p.requires_grad:
            p._scratch = _add(p._scratch, pg, p)


def _add(old, g, p):
    """old + g, with g fitted to input p first."""
    pd = p.data
    if g.__class__ is ndarray and pd.__class__ is ndarray and g.shape == pd.shape:  # common: nothing to fit
        if old is None:
            return g
    elif g is None:
        return old
    else:
        g = _fit(g, p)
        if old is None:
            return g
    total = old + g  # never in place: g may be another node's array
    if total.__class__ is not ndarray and g.__class__ is ndarray:  # 0-d + 0-d is a numpy scalar in numpy
        total = np.asarray(total, dtype=g.dtype)
    return total


def _fit(g, p):
    """Fit a gradient to its input p: summed down to p's shape (un-broadcast), a float for a float payload,
    an array of p's dtype for an array payload. For payloads and for Values (under create_graph) alike."""
    pd = p.data
    if isinstance(g, Value):
        if pd.__class__ is float:
            if g.data.__class__ is not float:  # the 0-d sum, re-labelled as a scalar node
                total = sum_to(g, shape=())
                g = _node(float(total.data), identity if total.requires_grad else None,
                          total if total.requires_grad else None, None, None, None)
        elif g.shape != pd.shape:
            g = sum_to(g, shape=pd.shape)
        return g
    if pd.__class__ is float:
        return g if g.__class__ is float else float(g) if np.ndim(g) == 0 else float(np.sum(g))
    if g.__class__ is not ndarray:  # a number (or numpy scalar) for a tensor input
        return np.array(g, dtype=pd.dtype) if pd.ndim == 0 else np.full(pd.shape, g, dtype=pd.dtype)
    if g.shape != pd.shape:
        g = sum_to_shape(g, pd.shape)
        if g.__class__ is not ndarray:  # numpy's sums to () give numpy scalars
            g = np.asarray(g, dtype=pd.dtype)
    return g


class _RuleContractError(TypeError):
    pass


def _rule_error(node, e):
    """An exception from inside a gradient rule, re-raised with the op's name and how rules are written."""
    op = node._op
    if isinstance(e, _RuleContractError) or str(e).startswith(("backward", op.name + ":")):
        return e
    if isinstance(e, ValueError) and "values to unpack" in str(e):  # (ga,) = rule(...) got the wrong count
        return _RuleContractError(f"{op.name}: its gradient rule returned the wrong number of gradients for its "
                                  f"{len(node._prev)} input(s) ({e}); a rule returns a tuple with one gradient per "
                                  f"input (None for an input that gets none), e.g. `lambda g, ans, x: (g * ans,)` "
                                  f"(see docs/engine.md, 'Adding an op')")
    if isinstance(e, TypeError) and "Value" in str(e):
        return TypeError(f"{op.name}: its gradient rule failed on Values ({e}); a rule must be written with the "
                         f"ops themselves (g * ans, exp(x), where(cond, a, b), sum(g, axis=...)), not with numpy "
                         f"functions, so that it also runs under backward(create_graph=True); use data_of(x) for "
                         f"constant masks (see docs/engine.md, 'Adding an op')")
    if type(e) in (ValueError, TypeError, IndexError, ArithmeticError, FloatingPointError, OverflowError):
        return type(e)(f"{op.name}: its gradient rule raised {type(e).__name__}: {e}")
    return e


# ----------------------------------------------------------------------------------------------
# Handing the results to `.grad`.


def _deposit(run):
    """Hand a finished pass to the nodes: each leaf adds its gradient to `.grad` (leaves accumulate, as in
    micrograd and PyTorch); the nodes in between get theirs afresh. The scratch is released on the way."""
    for node in run.order:
        node.grad, node._scratch = node._scratch, None
    for leaf in run.leaves:
        g, leaf._scratch = leaf._scratch, None
        if g is None:
            continue
        if leaf.grad is None and _fastpaths.owned(g, leaf):  # after zero_grad: a fresh array becomes .grad as is
            leaf.grad = g
        else:
            leaf.grad = _accumulate(leaf, g)
    run.order = run.leaves = ()  # nothing left to release


def _accumulate(leaf, g):
    old = leaf.grad
    if old is None:
        return g.copy() if g.__class__ is ndarray else g
    if old.__class__ is ndarray and g.__class__ is ndarray and g.shape == old.shape:
        old += g  # in place: keeps the dtype (float32 stays float32) and any reference to the array
        return old
    return old + g  # floats, Values (create_graph), or an int 0 from micrograd-style zero_grad


links.link(links.backward, sys.modules[__name__])
