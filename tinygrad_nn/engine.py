"""The graph node and reverse-mode autodiff.

A `Value` holds a payload (a Python float for scalars, a numpy array for tensors), its gradient, the
values it was computed from (`_prev`) and the primitive that computed it (`_op`). The primitives
themselves, each forward beside its gradient rule, live in `tinygrad_nn.ops`; this file only knows how
to run them (`apply`) and how to walk the graph backwards (`Value.backward`).

Why the node looks the way it does:
- its inputs sit in two slots, `_a` and `_b`, not in a tuple: a tuple per node would double the objects
  that Python's cyclic garbage collector tracks, and that collector, not the arithmetic, is most of the
  cost of a large scalar graph;
- no node refers to its gradient rule through a closure, so a finished graph holds no reference cycles
  and is freed by reference counting the moment the last name for it goes (the one exception is
  `backward(create_graph=True)`, where a node's .grad is a graph that refers back to the node; `grad`
  and `value_and_grad` clear those gradients for you);
- every node gets a creation number: sorting by it is a topological order, so backward needs no recursion;
- a running sum such as micrograd's `sum(w * x for ...)` ends as one `add_n` node, not a chain of adds,
  when nothing but the expression holds it (`Value.__add__`; docs/engine.md, "Running sums").

>>> from tinygrad_nn import Value
>>> x = Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
8.0
"""

from __future__ import annotations

import itertools
import sys
import threading
from operator import attrgetter

import numpy as np

ndarray = np.ndarray

# Creation order is a topological order: a node's inputs always exist before it does. Sorting the
# reachable nodes by this number is all the backward pass needs, and it needs no recursion.
_next_id = itertools.count().__next__
_by_id = attrgetter("_id")
# Reference counts tell when a gradient array is nobody else's (see _owned) and when a sum is a temporary
# (Value.__add__). They are exact on CPython up to 3.13 with its GIL; 3.14 may borrow references without
# counting them, and without the GIL another thread may take one at any moment, so there (and elsewhere)
# arrays are copied and sums are chains.
_getrefcount = (sys.getrefcount if sys.implementation.name == "cpython" and sys.version_info < (3, 14)
                and getattr(sys, "_is_gil_enabled", lambda: True)() else None)


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()
# How many no_grad blocks are open, in any thread. While none is (almost always), the hot paths can skip
# the thread-local flag, whose lookup costs twice an ordinary one.
_paused = 0
_paused_lock = threading.Lock()


def is_grad_enabled() -> bool:
    return _grad_mode.enabled


class no_grad:
    """Record no graph inside this block (or decorated function); thread-local, nestable.

    >>> from tinygrad_nn import Value, no_grad
    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.requires_grad
    False
    """

    def __enter__(self):
        global _paused
        with _paused_lock:
            _paused += 1
        self._prev = _grad_mode.enabled
        _grad_mode.enabled = False
        return self

    def __exit__(self, *exc):
        global _paused
        _grad_mode.enabled = self._prev
        with _paused_lock:
            _paused -= 1
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


# ----------------------------------------------------------------------------------------------
# Payloads: what a Value may hold.


def to_payload(x, where="Value"):
    """Turn a user's number or array-like into a payload: float, or a float numpy array.

    Ints and bools become float64; float32 (and other float widths) stay as they are.
    """
    cls = x.__class__
    if cls is float:
        return x
    if cls is ndarray and x.dtype.kind == "f":  # the common case for tensors: nothing to convert
        return x
    if cls is int or cls is bool:
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a number or array was expected; pass it as is to an op, "
                        f"or use .detach() / .data")
    if isinstance(x, (float, int, np.floating, np.integer, np.bool_)):  # numpy scalars, int subclasses
        return float(x)
    if x is None or isinstance(x, (str, bytes, complex)):
        raise TypeError(f"{where}: payload must be real numbers, got {type(x).__name__} {x!r}; "
                        f"pass a float, an int, or a (nested) list or numpy array of them")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise TypeError(f"{where}: cannot make a numeric array from {type(x).__name__}: {e}; "
                        f"pass a rectangular list or a numpy array of real numbers") from e
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "iub":
        return arr.astype(np.float64)
    raise TypeError(f"{where}: payload must be real numbers, got an array of dtype {arr.dtype} "
                    f"(shape {arr.shape}); convert it to floats first (complex, strings, None and "
                    f"objects are not supported)")


def shape_of(x) -> tuple:
    """Shape of a Value or a payload (a float has shape ())."""
    if isinstance(x, Value):
        x = x.data
    return x.shape if isinstance(x, ndarray) else ()


def data_of(x):
    """The payload of a Value, or x itself: for constant factors in gradient rules (no gradient)."""
    return x.data if isinstance(x, Value) else x


# ----------------------------------------------------------------------------------------------
# The node.


class Value:
    """One node of the graph: a scalar (Python float payload) or a tensor (numpy array payload).

    >>> Value(2)
    Value(2.0, grad=0.0)
    >>> t = Value([[1, 2], [3, 4]])
    >>> t.shape, t.dtype
    ((2, 2), dtype('float64'))
    >>> (t * t).sum().backward(); t.grad
    array([[2., 4.],
           [6., 8.]])
    """

    # _a, _b: the inputs of a unary or binary op (_b None for unary); for an op of more inputs _a is their
    # tuple and _b is _MANY. _kw: the op's static parameters (axis, shape...) or None. A running sum
    # (add_n made by __add__) has _b _MANY, a list _a that later sums may share, and _kw the number of
    # items of that list it adds up.
    # _mark: the last backward walk that reached this node (a set of seen nodes would cost more).
    __slots__ = ("data", "grad", "requires_grad", "_a", "_b", "_op", "_kw", "_id", "_mark", "name", "__weakref__")
    # numpy must hand `array + value` over to Value.__radd__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=True, name=None):
        if not isinstance(requires_grad, (bool, int, np.bool_)):
            raise TypeError(f"Value: requires_grad must be True or False, got {type(requires_grad).__name__}; "
                            f"micrograd's Value(data, _children, _op) is its internal constructor: here ops "
                            f"record their inputs themselves (write a + b, or defop a new op)")
        data = to_payload(data)
        self.data = data
        self.grad = 0.0 if data.__class__ is float else np.zeros_like(data)
        self.requires_grad = bool(requires_grad)
        self._a = self._b = None
        self._op = None
        self._kw = None
        self._id = _next_id()
        self._mark = None
        self.name = name

    # -- micrograd / PyTorch style accessors ------------------------------------------------------
    @property
    def shape(self) -> tuple:
        d = self.data
        return d.shape if d.__class__ is not float else ()

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        d = self.data
        return d.size if d.__class__ is not float else 1

    @property
    def dtype(self):
        d = self.data
        return d.dtype if d.__class__ is not float else np.dtype(np.float64)

    @property
    def op(self) -> str:
        """Name of the primitive that made this node ('' for a leaf): the label for drawing."""
        return self._op.name if self._op is not None else ""

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    def item(self) -> float:
        d = self.data
        if d.__class__ is float:
            return d
        if d.size != 1:
            raise ValueError(f"item: only a one-element Value converts to a number, this one has shape {d.shape}; "
                             f"index it or reduce it (e.g. .sum()) first")
        return float(d.reshape(()))

    def numpy(self):
        """The payload as a numpy array (a 0-d array for a scalar); shares memory for tensors."""
        d = self.data
        return np.array(d) if d.__class__ is float else d

    def detach(self) -> Value:
        """The same payload as a constant: no gradient flows through the result."""
        return Value._leaf(self.data)

    def zero_grad(self):
        self.grad = 0.0 if self.data.__class__ is float else np.zeros_like(self.data)

    def __repr__(self):
        label = f", name={self.name!r}" if self.name else ""
        d = self.data
        if d.__class__ is float:
            g = self.grad
            g = g if g is None or g.__class__ is float or isinstance(g, Value) else float(g)
            if not self.requires_grad:
                return f"Value({d!r}, requires_grad=False{label})"
            return f"Value({d!r}, grad={g!r}{label})"
        body = np.array2string(d, precision=4, threshold=20, separator=", ", prefix="Value(")
        if d.ndim == 0:  # tell a 0-d tensor from a scalar
            body = f"array({body})"
        extra = "" if d.dtype == np.float64 else f", dtype={d.dtype}"
        rg = "" if self.requires_grad else ", requires_grad=False"
        return f"Value({body}{extra}{rg}{label})"

    def __len__(self):
        if self.data.__class__ is float or self.data.ndim == 0:
            raise TypeError("len() of a scalar Value; only tensors with at least one axis have a length")
        return len(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        raise TypeError("the truth value of a Value is ambiguous; compare .data or .item() instead, "
                        "or use a comparison such as (v > 0), which returns plain booleans")

    def __float__(self):
        return self.item()

    # -- nodes made by ops ------------------------------------------------------------------------
    @staticmethod
    def _leaf(data, requires_grad=False):
        """A leaf around a payload that is valid already (a float or a float array): no checks, no copy."""
        v = _node(data, None, None, None, None)
        v.requires_grad = requires_grad
        return v

    @property
    def _prev(self) -> tuple:
        """The inputs this node was computed from (micrograd's name; drawing code walks it)."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        if b is _MANY:
            n = self._kw
            return tuple(a[:n]) if n.__class__ is int else a
        return a, b

    # -- arithmetic: thin doors into the op table (see tinygrad_nn/ops) ---------------------------
    def __add__(self, other):
        o = other if other.__class__ is Value else _const(other)
        d, e = self.data, o.data
        if d.__class__ is float and e.__class__ is float:  # the scalar fast path: _node inlined
            v = _new(Value)
            v.data = d + e
            v.grad = 0.0
            v.name = None
            v._id = _next_id()
            v._mark = None
            if (self.requires_grad or o.requires_grad) and (_paused == 0 or _grad_mode.enabled):
                v.requires_grad = True
                op = self._op
                # A running sum, as in micrograd's `sum((wi * xi for ...), b)`: when self is a sum that
                # only the caller holds (its reference, self and getrefcount's) and the new term is held
                # by nothing else either (the same, plus the name o), the result is one add_n node over
                # all the terms, not a sum of self and o, so self can be freed (see "Running sums" in
                # docs/engine.md). Nothing changes self: a caller that keeps it (C code such as numpy's
                # object loops may hold it without counting) still has the sum it had.
                if ((op is _ADD_N or op is _ADD) and _sums_fuse and _getrefcount(self) == 3
                        and (o is not other or _getrefcount(other) == 4)):
                    n = self._kw
                    if n.__class__ is int:  # a running sum already: its terms are the first n of _a
                        terms = self._a
                        if len(terms) != n:  # another sum grew from self already: a copy of our own
                            terms = terms[:n]
                        terms.append(o)
                        v._a, v._b, v._op, v._kw = terms, _MANY, _ADD_N, n + 1
                    else:
                        v._a, v._b, v._op, v._kw = [self, o], _MANY, _ADD_N, 2
                    return v
                v._a, v._b, v._op = self, o, _ADD
            else:
                v.requires_grad = False
                v._a = v._b = v._op = None
            v._kw = None
            return v
        return apply(_ADD, (self, o), _NO_PARAMS)

    def __radd__(self, other):
        return _const(other).__add__(self)

    def __mul__(self, other):
        o = other if other.__class__ is Value else _const(other)
        d, e = self.data, o.data
        if d.__class__ is float and e.__class__ is float:
            v = _new(Value)
            v.data = d * e
            v.grad = 0.0
            v.name = None
            v._kw = None
            v._id = _next_id()
            v._mark = None
            if (self.requires_grad or o.requires_grad) and (_paused == 0 or _grad_mode.enabled):
                v.requires_grad = True
                v._a, v._b, v._op = self, o, _MUL
            else:
                v.requires_grad = False
                v._a = v._b = v._op = None
            return v
        return apply(_MUL, (self, o), _NO_PARAMS)

    def __rmul__(self, other):
        return _const(other).__mul__(self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        # PyTorch computes number / tensor as reciprocal(tensor) * number; doing the same keeps
        # values and gradients bit-identical to it.
        return _ops.reciprocal(self) * other

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # Comparisons give plain booleans (no gradient); == and hash stay identity-based so that nodes
    # can be kept in sets and dicts, as micrograd's topological sort needs.
    def __lt__(self, other):
        return self.data < data_of(other)

    def __le__(self, other):
        return self.data <= data_of(other)

    def __gt__(self, other):
        return self.data > data_of(other)

    def __ge__(self, other):
        return self.data >= data_of(other)

    __hash__ = object.__hash__

    @property
    def T(self) -> Value:
        return _ops.transpose(self)

    # -- backward -----------------------------------------------------------------------------------
    def backward(self, grad=None, create_graph=False):
        """Back-propagate from this node: every leaf that requires a gradient gets d(self)/d(leaf) added
        to its `.grad`; intermediate nodes get theirs afresh.

        `grad` is the upstream gradient (needed unless this node holds a single number).
        `create_graph=True` records the backward pass itself, so the gradients are Values that can be
        differentiated again.
        """
        if not self.requires_grad:
            raise ValueError("backward: this Value does not require a gradient (it is a constant, or was made "
                             "under no_grad, or from constants only); make its inputs with requires_grad=True")
        seed = _seed(self, grad, create_graph)
        if self._op is None:  # a leaf is its own gradient
            self.grad = _accumulate_leaf(self.grad, seed)
            return
        _run_backward(self, seed, create_graph)


def _run_backward(root, seed, create_graph, stop=None, keep=True):
    """The backward pass from root, seeded with `seed`.

    Each leaf's gradients from all paths are summed first and added to its `.grad` once, at the end (as
    PyTorch does): so a second backward call gives exactly twice the first. With keep=False the leaves'
    `.grad` are left as they were (for `gradients`).
    """
    order, leaves = _reachable(root, stop)
    before = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.0 if leaf.data.__class__ is float else None
    root.grad = seed
    if create_graph:
        _backward_graph(order)
    else:  # the rules see bare payloads here, so they record no graph: no need for no_grad
        _backward_raw(order)
    for leaf, old in zip(leaves, before):
        new = leaf.grad
        if not keep or new is None:
            leaf.grad = old
        elif old is not None or not _owned(new, leaf):
            leaf.grad = _accumulate_leaf(old, new)
        # else: a leaf whose .grad was None (optimizer.zero_grad) simply keeps the array made for it


def _owned(g, leaf):
    """Whether array g can become leaf's .grad without a copy: it is a fresh, writable array of the
    leaf's dtype that nothing else refers to (not another node's gradient, not a view of one).
    References: leaf.grad, the caller's name, this argument and getrefcount's own."""
    return (g.__class__ is ndarray and g.base is None and g.flags.writeable and g.dtype == leaf.data.dtype
            and _getrefcount is not None and _getrefcount(g) <= 4)


def _seed(out, grad, create_graph):
    d = out.data
    if grad is None:
        if d.__class__ is float:
            seed = 1.0
        elif d.size == 1:
            seed = np.ones(d.shape, dtype=d.dtype)
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
        else:
            seed = np.array(g, dtype=d.dtype)
    if create_graph and not isinstance(seed, Value):
        seed = Value._leaf(seed)
    return seed


def _reachable(root, stop=None):
    """The op nodes that need a gradient and lead to root, latest first (a reverse topological order),
    and the leaves they reach.

    Their gradients are reset on the way, so no node carries a stale gradient from an earlier backward
    call (scalars restart at 0.0, tensors at None: no zeros are allocated for them). The walk does not
    go past, and does not list, the nodes in `stop` (the inputs of a `gradients` call).
    """
    walk = object()  # marks the nodes this walk has reached
    root._mark = walk
    for x in stop or ():
        x._mark = walk  # stop nodes count as reached: never entered
    stack = [root]
    order = []
    leaves = []
    # Depth first: the order it visits in is nearly the sorted one, which makes the sort below cheap.
    push, visit = stack.append, order.append
    while stack:
        node = stack.pop()
        visit(node)
        a = node._a
        if a is None:
            continue
        b = node._b
        if b is _MANY:
            n = node._kw  # a running sum adds the first n items of a list it may share
            for p in (a if n.__class__ is not int or len(a) == n else a[:n]):
                if p._mark is not walk and p.requires_grad:
                    p._mark = walk
                    if p._op is None:
                        leaves.append(p)
                    else:
                        push(p)
                        p.grad = None if p.data.__class__ is not float else 0.0
            continue
        # One or two inputs: spelled out, as this loop runs once per node of the graph.
        if a._mark is not walk and a.requires_grad:
            a._mark = walk
            if a._op is None:
                leaves.append(a)
            else:
                push(a)
                a.grad = None if a.data.__class__ is not float else 0.0
        if b is not None and b._mark is not walk and b.requires_grad:
            b._mark = walk
            if b._op is None:
                leaves.append(b)
            else:
                push(b)
                b.grad = None if b.data.__class__ is not float else 0.0
    order.sort(key=_by_id, reverse=True)
    return order, leaves


def gradients(output, inputs, grad=None, create_graph=False):
    """d(output)/d(inputs) for the given non-leaf nodes, as torch.autograd.grad: no leaf's .grad changes.

    The transforms `grad` and `value_and_grad` stand on this; `inputs` are nodes made by an op (they wrap
    the leaves), so the walk stops at them and never reaches a leaf.
    """
    for x in inputs:
        if x._op is None:
            raise ValueError("gradients: inputs must be nodes made by an op; wrap a leaf with ops.identity(x)")
    if not output.requires_grad:
        return [None] * len(inputs)
    stop = set(inputs)
    for x in inputs:
        x.grad = None if x.data.__class__ is not float else 0.0
    if output in stop:  # d x / d x
        return [_seed(output, grad, create_graph) if x is output else x.grad for x in inputs]
    _run_backward(output, _seed(output, grad, create_graph), create_graph, stop=stop, keep=False)
    found = [x.grad for x in inputs]
    # Scratch gradients would keep the graph alive (and, when differentiable, in reference cycles).
    order, _ = _reachable(output, stop)
    for node in order + list(inputs):
        node.grad = None
    return found


def _accumulate_leaf(old, g):
    """A leaf's gradient plus what this backward pass found for it (leaves accumulate, as in micrograd)."""
    if old.__class__ is ndarray and not isinstance(g, Value) and np.shape(g) == old.shape:
        old += g  # in place: keeps the dtype (float32 stays float32) and any reference to the array
        return old
    if old is None:
        return g.copy() if g.__class__ is ndarray else g
    return old + g  # floats, Values (create_graph), or an int 0 from micrograd-style zero_grad


def _backward_raw(order):
    for node in order:  # op nodes only
        g = node.grad
        if g is None:
            continue
        op, a, b, kw = node._op, node._a, node._b, node._kw
        if b is None:
            (ga,) = op.vjp(g, node.data, a.data) if kw is None else op.vjp(g, node.data, a.data, **kw)
            if ga.__class__ is float and a.grad.__class__ is float and a.requires_grad:
                a.grad += ga
            else:
                _give(a, ga)
        elif b is _MANY:  # three or more inputs, or a running sum (per-input rules are used here)
            if kw.__class__ is int:  # a running sum (of floats: g is a float): every term gets g
                if len(a) != kw:
                    a = a[:kw]
                for p in a:
                    if p.requires_grad:
                        if p.grad.__class__ is float:
                            p.grad += g
                        else:
                            _give(p, g)
                continue
            inputs = a
            datas = [p.data for p in inputs]
            kw = kw or _NO_PARAMS
            if op.vjps is None:
                grads = op.vjp(g, node.data, *datas, **kw)
            else:  # per-input rules: only for the inputs that need a gradient
                grads = [r(g, node.data, *datas, **kw) if p.requires_grad else None for r, p in zip(op.vjps, inputs)]
            for p, pg in zip(inputs, grads):
                _give(p, pg)
        else:
            if kw is None:
                ga, gb = op.vjp(g, node.data, a.data, b.data)
            else:
                ga, gb = op.vjp(g, node.data, a.data, b.data, **kw)
            # Scalars, by far the most common case in micrograd-style graphs, are added here directly.
            if ga.__class__ is float and a.grad.__class__ is float and a.requires_grad:
                a.grad += ga
            else:
                _give(a, ga)
            if gb.__class__ is float and b.grad.__class__ is float and b.requires_grad:
                b.grad += gb
            else:
                _give(b, gb)


def _give(p, pg):
    """Add gradient pg to input p: fitted to p's shape (un-broadcast) and kind (float or array)."""
    if pg is None or not p.requires_grad:
        return
    pd = p.data
    if pd.__class__ is float:
        if pg.__class__ is not float:
            pg = float(pg) if np.ndim(pg) == 0 else float(np.sum(pg))
    elif pg.__class__ is not ndarray:  # a number (or numpy scalar) for a tensor input
        pg = np.array(pg, dtype=pd.dtype) if pd.ndim == 0 else np.full(pd.shape, pg, dtype=pd.dtype)
    elif pg.shape != pd.shape:
        pg = _SUM_TO(pg, pd.shape)
    old = p.grad
    p.grad = pg if old is None else old + pg  # never in place: pg may be another node's array


def _backward_graph(order):
    # The same walk, but the rules run on Values, so every gradient is itself a differentiable node.
    for node in order:
        op = node._op
        g = node.grad
        if op is None or not isinstance(g, Value):  # 0.0 or None: no path reached this node
            continue
        prev = node._prev
        kw = node._kw if node._kw.__class__ is dict else _NO_PARAMS  # (a running sum's is its length)
        if op.vjps is None:
            grads = op.vjp(g, node, *prev, **kw)
        else:
            grads = [r(g, node, *prev, **kw) if p.requires_grad else None for r, p in zip(op.vjps, prev)]
        for p, pg in zip(prev, grads):
            if pg is None or not p.requires_grad:
                continue
            if not isinstance(pg, Value):
                pg = Value._leaf(to_payload(pg))
            if p.data.__class__ is float:
                if pg.data.__class__ is not float:
                    # A float input gets a float gradient: the 0-d sum, re-labelled as a scalar node.
                    total = _ops.sum_to(pg, shape=())
                    pg = _node(float(total.data), total, None, _IDENTITY if total.requires_grad else None, None)
            elif pg.shape != p.shape:
                pg = _ops.sum_to(pg, shape=p.shape)
            old = p.grad
            p.grad = pg if not isinstance(old, Value) else old + pg


def _const(x):
    """A number or array mixed into an op: a constant node (no gradient)."""
    return Value._leaf(to_payload(x, "op input"))


_new = object.__new__
_MANY = object()  # marks a node whose _a holds its inputs (more than two, or a running sum)
_NO_PARAMS: dict = {}

# ----------------------------------------------------------------------------------------------
# Running a primitive: `apply` is what every op in the table calls.


def _node(data, a, b, op, kw):
    """A node made by an op (op None: a constant result, no inputs kept)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0 if data.__class__ is float else None
    v._id = _next_id()
    v._mark = None
    v.name = None
    if op is None:
        v.requires_grad = False
        v._a = v._b = v._op = v._kw = None
    else:
        v.requires_grad = True
        v._a, v._b, v._op, v._kw = a, b, op, kw
    return v


def apply(op, inputs, kw):
    """Run primitive `op` on `inputs` (Values, numbers or arrays) with static keywords `kw`.

    Without any Value among the inputs it returns the bare payload: that is how gradient rules,
    written with the same ops, run on plain numpy arrays when no graph is wanted.
    """
    n = len(inputs)
    if n == 1:  # one and two inputs are spelled out: this runs for every tensor op
        a = inputs[0]
        if not isinstance(a, Value):
            return op.forward(a, **kw)
        datas = (a.data,)
        b = None
        rg = a.requires_grad
    elif n == 2:
        a, b = inputs
        va, vb = isinstance(a, Value), isinstance(b, Value)
        if not (va or vb):
            return op.forward(a, b, **kw)
        if not va:
            a = _const(a)
        if not vb:
            b = _const(b)
        datas = (a.data, b.data)
        rg = a.requires_grad or b.requires_grad
    else:
        found = rg = False
        for x in inputs:
            if isinstance(x, Value):
                found = True
                rg = rg or x.requires_grad
        if not found:
            return op.forward(*inputs, **kw)
        a = tuple([x if isinstance(x, Value) else _const(x) for x in inputs])
        b = _MANY
        datas = [x.data for x in a]
    try:
        out = op.forward(*datas, **kw)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as e:
        raise _explain(op, datas, kw, e) from e
    if out.__class__ is not ndarray or datas[0].__class__ is float:  # skip the check in the common case
        out = _normalize(out, datas)
    if rg and (_paused == 0 or _grad_mode.enabled):
        return _node(out, a, b, op, kw or None)
    return _node(out, None, None, None, None)


def _normalize(out, datas):
    """A float payload comes only from Python floats: tensors in give an array out (0-d included)."""
    if out.__class__ is float:
        return out
    for d in datas:
        if d.__class__ is not float:
            break
    else:
        if out.__class__ is not ndarray or out.ndim == 0:  # e.g. a numpy scalar from np.sum(2.0)
            return float(out)
    if out.__class__ is not ndarray:
        out = np.asarray(out)
    if out.dtype.kind != "f":
        out = out.astype(np.float64)
    return out


def _explain(op, datas, kw, e):
    """The forward's exception, re-raised with the op's name, the input shapes and a hint."""
    msg = str(e).strip()
    if isinstance(e, ZeroDivisionError):
        # Scalars follow Python (and micrograd): dividing a float by 0.0 raises; numpy arrays give inf.
        values = ", ".join(repr(d) for d in datas)
        return ZeroDivisionError(f"{op.name}: division by zero on the scalars {values} ({msg}); as in Python, a "
                                 f"float divided by 0.0 raises: guard the divisor (or use tensors, which give inf)")
    if msg.startswith(op.name + ":"):  # the op's forward explained itself already
        return type(e)(msg) if type(e) in (ValueError, TypeError, IndexError) else ValueError(msg)
    shapes = ", ".join(str(shape_of(d)) for d in datas)
    params = "".join(f", {k}={v!r}" for k, v in kw.items()) if kw else ""
    hint = op.hint or "check the inputs' shapes and values"
    if isinstance(e, IndexError) and not isinstance(e, ValueError):
        cls = IndexError
    elif isinstance(e, TypeError):
        cls = TypeError
    else:  # ValueError, numpy's AxisError (a ValueError and an IndexError), OverflowError
        cls = ValueError
    return cls(f"{op.name}: cannot apply to inputs of shapes {shapes}{params}: {msg}; {hint}")


from . import ops as _ops  # noqa: E402  (the op table needs Value, defined above)

_ADD = _ops.OPS["add"]
_ADD_N = _ops.OPS["add_n"]
_MUL = _ops.OPS["mul"]
_SUM_TO = _ops.OPS["sum_to"].forward
_IDENTITY = _ops.OPS["identity"]


def _running_sums_are_safe() -> bool:
    """Whether reference counts here tell a temporary from a named node, as Value.__add__ needs.

    They do on CPython up to 3.13; an interpreter that borrows references (3.14 may) would make a named
    sum look temporary: its gradients would then be right but might accumulate in another order than
    PyTorch's (see "Running sums" in docs/engine.md).
    """
    if _getrefcount is None:
        return False
    a, b = Value(1.0), Value(2.0)
    s = (a + b) + a * b  # a temporary sum, extended: one add_n node
    t = s + a * b  # s has a name now: an ordinary add
    return s._op is _ADD_N and t._op is _ADD


_sums_fuse = True  # on for the check itself, which then decides
_sums_fuse = _running_sums_are_safe()
