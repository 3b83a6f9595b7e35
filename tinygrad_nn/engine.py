"""The graph node and reverse-mode autodiff.

A `Value` holds a payload (a Python float for scalars, a numpy array for tensors), its gradient, the
values it was computed from and the primitive that computed it. The primitives themselves, each forward
beside its gradient rule, live in `tinygrad_nn.ops`; this file only knows how to run one (`apply`, which
builds every node through `_node`) and how to walk the graph backwards (`Value.backward`).

Why the node looks the way it does:
- its inputs sit in slots (`_a`, `_b`, or `_more` for three and up), not in a tuple per node: a tuple
  would double the objects that Python's cyclic garbage collector tracks, and that collector, not the
  arithmetic, is most of the cost of a large scalar graph;
- no node refers to its gradient rule through a closure, so a finished graph holds no reference cycles
  and is freed by reference counting the moment the last name for it goes;
- every node gets a creation number: sorting by it is a topological order, so backward needs no recursion.

A backward pass sums its gradients in scratch of its own and touches `.grad` only when it has finished:
a rule that raises (or Ctrl-C) leaves every `.grad` as it was, and two threads can back-propagate
through shared leaves at once (they take turns). The speed-only variants of this file's hot paths are
gathered in `tinygrad_nn/fastpaths.py`, each named by the benchmark that needs it; `tinygrad_nn/micro.py`
is the same engine for scalars in micrograd's shape, for reading first.

>>> from tinygrad_nn import Value
>>> x = Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
8.0
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from operator import attrgetter

import numpy as np

ndarray = np.ndarray

# Creation order is a topological order: a node's inputs always exist before it does.
_next_id = itertools.count(1).__next__
_by_id = attrgetter("_id")


# ----------------------------------------------------------------------------------------------
# Grad mode: whether ops record a graph. Thread-local, as in PyTorch.


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()
# How many mode blocks (no_grad, enable_grad, detect_anomaly) are open, in any thread. While none is
# (almost always) `apply` need not look at the thread-local flag, whose lookup costs twice an ordinary one.
_special = 0
_special_lock = threading.Lock()


def _open_block(delta):
    global _special
    with _special_lock:
        _special += delta
        if _special == delta or _special == 0:  # the first block opened, or the last one closed
            _on_special_change(_special)


def _on_special_change(count):
    """Told when the first mode block opens and when the last one closes (fastpaths.py steps aside)."""


def is_grad_enabled() -> bool:
    """Whether ops record a graph here and now (False inside `no_grad()`, in this thread).

    >>> from tinygrad_nn import is_grad_enabled, no_grad
    >>> with no_grad():
    ...     print(is_grad_enabled())
    False
    >>> is_grad_enabled()
    True
    """
    return _grad_mode.enabled


class _set_grad_enabled:
    mode = True

    def __enter__(self):
        _open_block(1)
        self._prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._prev
        _open_block(-1)
        return False

    def __call__(self, fn):
        import functools

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


# ----------------------------------------------------------------------------------------------
# Payloads: what a Value may hold.


def to_payload(x, where="Value"):
    """Turn a user's number or array-like into a payload: float, or a float numpy array.

    Ints and bools become float64; float32 (and other float widths) stay as they are. An array of floats
    is returned as it is (not copied).
    """
    cls = x.__class__
    if cls is float:
        return x
    if cls is ndarray and x.dtype.kind == "f":
        return x
    if cls is int or cls is bool:
        try:
            return float(x)
        except OverflowError:
            raise _too_large(x, where) from None
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a number or array was expected; pass it as is to an op, "
                        f"or use .detach() / .data")
    if isinstance(x, (float, int, np.floating, np.integer, np.bool_)):  # numpy scalars, int subclasses
        return float(x)
    if x is None or isinstance(x, (str, bytes, complex)):
        raise TypeError(f"{where}: payload must be real numbers, got {type(x).__name__} {x!r}; "
                        f"pass a float, an int, or a (nested) list or numpy array of them")
    if isinstance(x, (list, tuple)) and _holds_values(x):
        raise TypeError(f"{where}: the list holds Values, which would lose their gradients as plain numbers; join "
                        f"Values with stack([...]) or concatenate([...]), which keep them, or take their .data "
                        f"for constants")
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


def _too_large(x: int, where: str) -> OverflowError:
    return OverflowError(f"{where}: the int {'-' if x < 0 else ''}2**{abs(x).bit_length() - 1}... is too large for a "
                         f"float64 (at most about 1.8e308, 2**1024); pass a float (float('inf') if that is meant), "
                         f"or scale it down")


def _holds_values(items) -> bool:
    return any(isinstance(x, Value) or (isinstance(x, (list, tuple)) and _holds_values(x)) for x in items)


def shape_of(x) -> tuple:
    """Shape of a Value or a payload (a float has shape ())."""
    if isinstance(x, Value):
        x = x.data
    return x.shape if isinstance(x, ndarray) else np.shape(x)


def data_of(x):
    """The payload of a Value, or x itself: for constant factors in gradient rules (no gradient)."""
    return x.data if isinstance(x, Value) else x


# ----------------------------------------------------------------------------------------------
# The node.


class Value:
    """One node of the graph: a scalar (Python float payload) or a tensor (numpy array payload).

    `Value(x)` copies an array it is given, as `torch.tensor` does: changing the caller's array later
    does not change the Value. `.data` is the payload itself (no copy), as `.numpy()` is.

    >>> Value(2)
    Value(2.0, grad=0.0)
    >>> t = Value([[1, 2], [3, 4]])
    >>> t.shape, t.dtype
    ((2, 2), dtype('float64'))
    >>> (t * t).sum().backward(); t.grad
    array([[2., 4.],
           [6., 8.]])
    """

    # _a, _b: the inputs of a unary or binary op (None where there is none); _more: the inputs of an op of
    # three or more (a tuple), or the list of terms that a running sum shares with the sums grown from it
    # (fastpaths.py), of which it adds up the first _n (None: all of _more). _params: the op's static keyword
    # parameters (axis, shape...) as a dict, or None. _id: the creation number; a leaf whose payload is
    # changed in place takes a new one (mark_changed), so that a graph built from it before shows as stale.
    # _pass, _scratch: the backward pass that last reached this node, and the gradient it is summing here.
    # (Every slot costs: the garbage collector visits each one of every node; benchmark W1.)
    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_a", "_b", "_more", "_n", "_params", "_id",
                 "_pass", "_scratch", "__weakref__")
    # numpy must hand `array + value` over to Value.__radd__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=True, name=None):
        if not isinstance(requires_grad, (bool, int, np.bool_)):
            raise TypeError(f"Value: requires_grad must be True or False, got {type(requires_grad).__name__}; "
                            f"micrograd's Value(data, _children, _op) is its internal constructor: here ops "
                            f"record their inputs themselves (write a + b, or defop a new op)")
        payload = to_payload(data)
        if payload.__class__ is ndarray and (payload is data or isinstance(data, ndarray)):
            payload = payload.copy()  # the caller's array stays the caller's (lists were copied already)
        self.data = payload
        self.grad = 0.0 if payload.__class__ is float else np.zeros_like(payload)
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op = self._a = self._b = self._more = self._n = self._params = None
        self._id = _next_id()
        self._pass = self._scratch = None

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

    @property
    def _prev(self) -> tuple:
        """The inputs this node was computed from (micrograd's name; drawing code walks it)."""
        if self._more is not None:
            return tuple(_many(self))
        a, b = self._a, self._b
        if a is None:
            return ()
        return (a,) if b is None else (a, b)

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
        """The same payload as a constant: no gradient flows through the result.

        A tensor's payload is shared, not copied (as PyTorch's detach), and so is its record of in-place changes:
        a graph built from the detached Value is stale once the original is changed in place, and the other way
        round.
        """
        v = Value._leaf(self.data)
        if self.data.__class__ is ndarray:
            _share_changes(self, v)
        return v

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

    def __format__(self, spec):
        """f"{v:.3f}": a scalar (or one-element) Value formats its number; an empty spec is repr's."""
        if not spec:
            return repr(self)
        if self.data.__class__ is float or self.data.size == 1:
            return format(self.item(), spec)
        raise TypeError(f"format: the spec {spec!r} is for one number, and this Value has shape {self.shape}; format "
                        f"v.item() of a one-element Value, or np.array2string(v.data) / the elements")

    # Copies and pickles hold a leaf's payload, gradient, flag and name, as PyTorch's do; a node made by
    # an op refuses, as in PyTorch: its graph would come along, or silently not.
    def __reduce_ex__(self, protocol):
        if self._op is not None:
            raise TypeError(f"copy/pickle: only leaf Values (parameters and data) can be copied or pickled, this "
                            f"one was made by {self.op!r}; copy .detach() instead, or the model that makes it")
        grad = self.grad.data if isinstance(self.grad, Value) else self.grad
        return _rebuilt_leaf, (self.data, grad, self.requires_grad, self.name)

    # -- nodes made by ops ------------------------------------------------------------------------
    @staticmethod
    def _leaf(data, requires_grad=False):
        """A leaf around a payload that is valid already (a float or a float array): no checks, no copy."""
        v = _node(data, None, None, None, None, None)
        v.requires_grad = requires_grad
        return v

    # -- arithmetic: thin doors into the op table (see tinygrad_nn/ops) ---------------------------
    def __add__(self, other):
        return apply(_ops.add, (self, other), _NO_PARAMS)

    def __radd__(self, other):
        return apply(_ops.add, (other, self), _NO_PARAMS)

    def __mul__(self, other):
        return apply(_ops.mul, (self, other), _NO_PARAMS)

    def __rmul__(self, other):
        return apply(_ops.mul, (other, self), _NO_PARAMS)

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

    def __pos__(self):  # +v is v itself, as numpy's and PyTorch's unary plus (no node)
        return self

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        # A node is the value of an op: writing into it would change that value behind the graph's back, and
        # the gradients would belong to neither the old numbers nor the new ones.
        raise TypeError(
            f"Value does not support item assignment (v[{index!r}] = ...): it would cut the graph. Build the new "
            f"Value instead, differentiably: where(mask, new, v) (mask: a boolean array, True where new goes), "
            f"v + scatter_add(new - v[i], index=i, shape=v.shape), or concatenate([v[:i], new, v[i + 1:]]). "
            f"To change a parameter's numbers without a gradient, write into v.data[...] (or use v -= ... under "
            f"no_grad())")

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set requires_grad on a leaf, in place, and return it (PyTorch's spelling): Value(x).requires_grad_(False)
        makes a constant; constants made by tensor(), zeros()... become parameters with requires_grad_().

        >>> from tinygrad_nn import zeros
        >>> w = zeros(3).requires_grad_(); w.requires_grad
        True
        """
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"requires_grad_: expected True or False, got {type(requires_grad).__name__}")
        if self._op is not None and not requires_grad:
            raise RuntimeError(f"requires_grad_: this Value was made by {self.op!r}, so it takes part in a graph; "
                               f"use .detach() for a copy without gradient")
        if self._op is None:
            self.requires_grad = bool(requires_grad)
        return self

    # In-place updates. Inside no_grad, `w -= lr * w.grad` changes the leaf w itself (as in PyTorch), so a
    # hand-written optimizer keeps its parameters. On a node made by an op, or a constant, they give
    # NotImplemented and Python falls back to `c = c + ...`: a new node, as micrograd's `c += c + 1` expects. On a
    # leaf that requires a gradient outside no_grad they are refused, as in PyTorch: the fallback would silently
    # turn the parameter into a node of a graph that grows at every step.
    def __iadd__(self, other):
        return self._update(other, np.add, "+=")

    def __isub__(self, other):
        return self._update(other, np.subtract, "-=")

    def __imul__(self, other):
        return self._update(other, np.multiply, "*=")

    def __itruediv__(self, other):
        return self._update(other, np.true_divide, "/=")

    def _update(self, other, ufunc, symbol):
        if self._op is not None:
            return NotImplemented
        if _grad_mode.enabled:
            if not self.requires_grad:
                return NotImplemented
            what = f"{self.name!r}" if self.name else f"a leaf of shape {self.shape}"
            raise RuntimeError(
                f"{symbol}: {what} requires a gradient, and an in-place update of it outside no_grad() is refused (as "
                f"in PyTorch): Python would rebind the name to a new node, so the parameter would become part of a "
                f"graph that grows at every step; update it inside `with no_grad():` (as optimizers do), or write "
                f"v = v {symbol[0]} ... if a new node is what you mean")
        new = ufunc(self.data, data_of(other))
        if self.data.__class__ is float:
            self.data = float(new)
        else:
            if np.shape(new) != self.data.shape:
                raise ValueError(f"{symbol}: the update has shape {np.shape(new)} but the Value has shape "
                                 f"{self.data.shape}; an in-place update keeps the Value's shape")
            self.data[...] = new
        mark_changed((self,), f"an in-place {symbol} under no_grad")
        return self

    # Comparisons give plain booleans (no gradient), elementwise as numpy's and PyTorch's: == and != too, so that
    # np.sum(x == y) counts equal elements. A scalar Value compares its number (a Python bool), as a 0-d tensor
    # does in PyTorch. The hash stays the identity (as PyTorch's), so that nodes can be kept in sets and dicts as
    # micrograd's topological sort does: a set finds a node by identity before it would ever compare values.
    def __eq__(self, other):
        return self.data == data_of(other)

    def __ne__(self, other):
        return self.data != data_of(other)

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

    @property
    def mT(self) -> Value:
        """The last two axes swapped (PyTorch's .mT: a batch of matrices, each transposed)."""
        return _ops.swapaxes(self, -1, -2)

    # -- backward -----------------------------------------------------------------------------------
    def backward(self, grad=None, create_graph=False):
        """Back-propagate from this node: every leaf that requires a gradient gets d(self)/d(leaf) added
        to its `.grad`; the nodes in between get theirs afresh (as in micrograd).

        `grad` is the upstream gradient (needed unless this node holds a single number).
        `create_graph=True` records the backward pass itself (also inside `no_grad`), so the gradients are
        Values that can be differentiated again.
        """
        if not self.requires_grad:
            raise ValueError("backward: this Value does not require a gradient (it is a constant, or was made "
                             "under no_grad, or from constants only); make its inputs with requires_grad=True")
        seed = _seed(self, grad, create_graph)
        _backprop(self, seed, create_graph, 0, _deposit)


def _rebuilt_leaf(data, grad, requires_grad, name):
    v = Value._leaf(data, requires_grad)
    v.grad, v.name = grad, name
    return v


def _many(node):
    """The inputs of a node that keeps them in `_more`: all of them, or a running sum's first `_n`."""
    more, n = node._more, node._n
    return more if n is None or len(more) == n else more[:n]


# ----------------------------------------------------------------------------------------------
# Running a primitive: `apply` is what every op in the table calls; `_node` builds every node.


_new = object.__new__
_NO_PARAMS: dict = {}


def _node(data, op, a, b, more, params):
    """A node made by `op` from inputs a, b (or `more`), or a constant result when op is None."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0 if data.__class__ is float else None
    v._op = op  # one statement per slot: a six-way tuple assignment builds a tuple (60 ns a node; W2)
    v._a = a
    v._b = b
    v._more = more
    v._params = params
    v.requires_grad = op is not None
    v._id = _next_id()
    v.name = v._n = v._pass = v._scratch = None
    if _anomaly_mode is not None and op is not None:
        _anomaly_mode.created(v)
    return v


def _as_input(x, op, like=None):
    """A Value (a subclass too) as it is; a number or array as a constant node. A boolean or integer array (a
    mask) takes the float width of the Value `like` it meets, so that it promotes nothing: float32 stays float32
    (as in PyTorch; numpy would promote int64 to float64). A list or tuple holding Values is stacked."""
    if isinstance(x, Value):
        return x
    cls = x.__class__
    if (cls is list or cls is tuple) and _holds_values(x):
        return _stacked(x)
    if cls is float:  # a number, as in x * 0.5: already a payload
        return _node(x, None, None, None, None, None)
    if cls is int:  # as in x ** 2
        try:
            return _node(float(x), None, None, None, None, None)
        except OverflowError:
            raise _too_large(x, op.name) from None
    if cls is ndarray:
        kind = x.dtype.kind
        if kind == "f":  # a data batch or a target: already a payload
            return _node(x, None, None, None, None, None)
        if kind in "biu" and isinstance(like, Value) and like.data.__class__ is ndarray:
            return _node(x.astype(like.data.dtype), None, None, None, None, None)
    try:
        return Value._leaf(to_payload(x, op.name))
    except TypeError:
        raise TypeError(f"{op.name}: cannot combine a Value with {type(x).__name__} {x!r:.60}; the other "
                        f"operand must be real numbers: a number, a numpy array, or a Value") from None


def apply(op, inputs, params):
    """Run primitive `op` on `inputs` (Values, numbers or arrays) with static keywords `params`.

    Without any Value among the inputs it returns the bare payload: that is how gradient rules,
    written with the same ops, run on plain numpy arrays when no graph is wanted.
    """
    n = len(inputs)
    a = b = more = None
    try:
        if n == 1:  # one and two inputs are spelled out: this runs for every tensor op
            a = inputs[0]
            if not isinstance(a, Value):
                cls = a.__class__
                if (cls is not list and cls is not tuple) or not _holds_values(a):
                    return op.forward(a, **params)
                a = _stacked(a)
            datas = (a.data,)
            rg = a.requires_grad
        elif n == 2:
            a, b = inputs
            if not isinstance(a, Value):
                if not isinstance(b, Value):
                    ca, cb = a.__class__, b.__class__
                    if (ca is not list and ca is not tuple and cb is not list and cb is not tuple
                            or not _has_value_list(inputs)):
                        return op.forward(a, b, **params)
                a = _as_input(a, op, b)
            if not isinstance(b, Value):
                b = _as_input(b, op, a)
            datas = (a.data, b.data)
            rg = a.requires_grad or b.requires_grad
        else:
            like, rg = None, False
            if _has_value_list(inputs):
                inputs = [_stacked(x) if x.__class__ is list or x.__class__ is tuple else x for x in inputs]
            for x in inputs:
                if isinstance(x, Value):
                    if like is None:
                        like = x
                    rg = rg or x.requires_grad
            if like is None:
                return op.forward(*inputs, **params)
            more = tuple([x if isinstance(x, Value) else _as_input(x, op, like) for x in inputs])
            datas = [x.data for x in more]
        out = op.forward(*datas, **params)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as e:
        raise _explain(op, [data_of(x) for x in inputs], params, e) from e
    if out.__class__ is not ndarray or datas[0].__class__ is float:  # skip the check in the common case
        out = _normalize(out, datas)
    if rg and (_special == 0 or _grad_mode.enabled):
        if more is not None:
            return _node(out, op, None, None, more, params or None)
        return _node(out, op, a, b, None, params or None)
    if _anomaly_mode is not None:  # a constant result (under no_grad, or of constants) is checked too
        _anomaly_mode.made_constant(op, out, datas)
    return _node(out, None, None, None, None, None)


def _has_value_list(inputs) -> bool:
    for x in inputs:
        cls = x.__class__
        if (cls is list or cls is tuple) and _holds_values(x):
            return True
    return False


def _stacked(items):
    """A (nested) list or tuple of Values and numbers given as one input: stacked into one Value, keeping every
    gradient, as HIPS autograd and JAX read `np.sum([a, b])` (a plain list would turn the Values into constants)."""
    return _ops.stack([_stacked(x) if x.__class__ is list or x.__class__ is tuple else x for x in items])


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


def _explain(op, datas, params, e):
    """The forward's exception, re-raised with the op's name, the input shapes and a hint."""
    msg = str(e).strip()
    if isinstance(e, ZeroDivisionError):
        # Scalars follow Python (and micrograd): dividing a float by 0.0 raises; numpy arrays give inf.
        values = ", ".join(repr(d) for d in datas)
        return ZeroDivisionError(f"{op.name}: division by zero on the scalars {values} ({msg}); as in Python, a "
                                 f"float divided by 0.0 raises: guard the divisor (or use tensors, which give inf)")
    if msg.startswith(op.name + ":"):  # the op's forward (or _as_input) explained itself already
        kept = (ValueError, TypeError, IndexError, OverflowError, np.linalg.LinAlgError)
        return type(e)(msg) if type(e) in kept else ValueError(msg)
    shapes = ", ".join(str(shape_of(d)) for d in datas)
    extra = "".join(f", {k}={v!r}" for k, v in params.items()) if params else ""
    hint = op.hint or "check the inputs' shapes and values"
    if isinstance(e, IndexError) and not isinstance(e, ValueError):
        cls = IndexError
    elif isinstance(e, TypeError):
        cls = TypeError
    elif isinstance(e, np.linalg.LinAlgError):  # `except LinAlgError` must still catch it (a ValueError too)
        cls = np.linalg.LinAlgError
    else:  # ValueError, numpy's AxisError (a ValueError and an IndexError), OverflowError
        cls = ValueError
    return cls(f"{op.name}: cannot apply to inputs of shapes {shapes}{extra}: {msg}; {hint}")


# ----------------------------------------------------------------------------------------------
# Backward. A pass walks the graph, claiming each node it needs with its own token (`_pass`) and a fresh
# scratch gradient (`_scratch`), runs the rules latest node first, and only when all have run hands the
# results to `.grad` (`_deposit`): a rule that raises, or Ctrl-C, leaves every `.grad` as it was. Passes
# take turns (a lock), so two threads back-propagating through shared leaves both land; a pass started
# from inside another's rule (a rule that itself calls grad) puts back the scratch it borrowed.
# Scratch lives in slots rather than in a dict keyed by node: a dict of 45,000 nodes costs W1 (micrograd's
# demo) a sixth of its step in cache misses.


def _seed(out, grad, create_graph):
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


class _Pass:
    """One backward pass: its token is the object itself; `claimed` lists what a nested pass borrowed."""

    __slots__ = ("order", "leaves", "claimed")


_pass_lock = threading.RLock()
_passes = []  # the passes running, outermost first (only the thread holding the lock touches it)


def _walk(root, floor, run):
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


def _backprop(root, seed, create_graph, floor, finish):
    """Run a backward pass from root; `finish(run)` reads its results before the scratch is released."""
    with _pass_lock:
        run = _Pass()
        run.claimed = [] if _passes else None  # nested: note what we borrow, to put it back
        _passes.append(run)
        try:
            _walk(root, floor, run)
            if run.order and _last_change > run.order[-1]._id:  # a leaf changed in place since the graph began
                _check_stale(run.order)
            root._scratch = seed
            if not create_graph:
                if _anomaly_mode is None:
                    _run_rules(run.order)
                else:
                    _run(_run_rules, run.order)
                return finish(run)
            with enable_grad():  # the rules' ops record the gradient graph, also inside no_grad
                _run(_run_rules_on_values, run.order)
                return finish(run)  # leaves add their gradients as recorded nodes too
        finally:
            _passes.pop()
            _release(run)


def _run(rules, order):
    if _anomaly_mode is None:
        rules(order)
    else:  # one node at a time, each checked (anomaly.py)
        for node in order:
            _anomaly_mode.backward_step(node, lambda: rules([node]))  # noqa: B023


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


def _run_rules(order):
    """The rules on bare payloads (so they record no graph). Scalars, by far the most common inputs in
    micrograd-style graphs, are added up right here; everything else is fitted by `_add`."""
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
                        _rules_of_many(op, g, node, params or _NO_PARAMS)
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
                    params = params or _NO_PARAMS
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
            # A scalar rule divided by 0.0 (the slope of sqrt or log at 0, say): take the rule again in numpy
            # float64, which gives PyTorch's inf (or nan), then go on with the next node.
            _rule_in_numpy(node)
        except Exception as e:
            raise _rule_error(node, e) from e


def _rules_of_many(op, g, node, params):
    """An op of three or more inputs."""
    inputs = _many(node)
    datas = [p.data for p in inputs]
    if op.vjps is None:
        grads = op.vjp(g, node.data, *datas, **params)
        _check_count(op, grads, len(inputs))
    else:
        grads = [r(g, node.data, *datas, **params) if p.requires_grad else None for r, p in zip(op.vjps, inputs)]
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
                total = _ops.sum_to(g, shape=())
                g = _node(float(total.data), _ops.identity if total.requires_grad else None,
                          total if total.requires_grad else None, None, None, None)
        elif g.shape != pd.shape:
            g = _ops.sum_to(g, shape=pd.shape)
        return g
    if pd.__class__ is float:
        return g if g.__class__ is float else float(g) if np.ndim(g) == 0 else float(np.sum(g))
    if g.__class__ is not ndarray:  # a number (or numpy scalar) for a tensor input
        return np.array(g, dtype=pd.dtype) if pd.ndim == 0 else np.full(pd.shape, g, dtype=pd.dtype)
    if g.shape != pd.shape:
        g = _ops.sum_to.forward(g, shape=pd.shape)
        if g.__class__ is not ndarray:  # numpy's sums to () give numpy scalars
            g = np.asarray(g, dtype=pd.dtype)
    return g


def _rule_in_numpy(node):
    """Run one node's rule with its float payloads as numpy float64 scalars (numpy's division by zero gives
    inf and nan where Python's raises), then add the results as floats."""
    op, inputs, params = node._op, node._prev, node._params or _NO_PARAMS
    as_np = (lambda x: np.float64(x) if x.__class__ is float else x)
    g = as_np(node._scratch)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        datas = [as_np(p.data) for p in inputs]
        if op.vjps is None:
            grads = op.vjp(g, as_np(node.data), *datas, **params)
        else:
            grads = [r(g, as_np(node.data), *datas, **params) if p.requires_grad else None
                     for r, p in zip(op.vjps, inputs)]
    for p, pg in zip(inputs, grads):
        if pg is not None and p.requires_grad:
            p._scratch = _add(p._scratch, pg, p)


def _check_count(op, grads, n):
    if not isinstance(grads, (tuple, list)) or len(grads) != n:
        got = f"{len(grads)} gradients" if isinstance(grads, (tuple, list)) else f"a {type(grads).__name__}"
        raise _RuleContractError(f"{op.name}: its gradient rule returned {got} for {n} inputs; a rule returns a "
                                 f"tuple with one gradient per input (None for an input that gets none), e.g. "
                                 f"`lambda g, ans, x: (g * ans,)` for one input (see docs/engine.md, 'Adding an op')")


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


def _run_rules_on_values(order):
    # The same walk, but the rules run on Values, so every gradient is itself a differentiable node.
    for node in order:
        g = node._scratch
        if not isinstance(g, Value):  # 0.0 or None: no path reached this node
            continue
        op, inputs, params = node._op, node._prev, node._params or _NO_PARAMS
        # A rule written outside the package runs with the payloads it must not compute with watched (rulecheck.py)
        watched = _rulecheck.watch((g, node, *inputs), op.name) if _rulecheck.is_users(op) else None
        try:
            if op.vjps is None:
                grads = op.vjp(g, node, *inputs, **params)
            else:
                grads = [r(g, node, *inputs, **params) if p.requires_grad else None for r, p in zip(op.vjps, inputs)]
            _check_count(op, grads, len(inputs))
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
                        f"under backward(create_graph=True), where the gradient g is a Value: a gradient computed "
                        f"from numbers (g.data, x.data, numpy) cuts the graph; write it with the ops on g and the "
                        f"inputs (g * ans, ...), or return None for an input that gets no gradient (see "
                        f"docs/engine.md, 'Adding an op')")
                pg = Value._leaf(to_payload(pg))
            pg = _fit(pg, p)
            old = p._scratch
            p._scratch = pg if not isinstance(old, Value) else old + pg


def _deposit(run):
    """Hand a finished pass to the nodes: each leaf adds its gradient to `.grad` (leaves accumulate, as in
    micrograd and PyTorch); the nodes in between get theirs afresh. The scratch is released on the way."""
    for node in run.order:
        node.grad, node._scratch = node._scratch, None
    for leaf in run.leaves:
        g, leaf._scratch = leaf._scratch, None
        if g is None:
            continue
        if leaf.grad is None and _adopt(g, leaf):  # after zero_grad: the fresh array becomes .grad as it is
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


def _adopt(g, leaf) -> bool:
    """Whether array g may become leaf's .grad without a copy. Never, here; fastpaths.py says when it can."""
    return False


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
    return _backprop(output, seed, create_graph, floor,
                     lambda run: [x._scratch if x._pass is run else None for x in inputs])


# ----------------------------------------------------------------------------------------------
# Stale graphs: a leaf changed in place after a graph that uses it was built.

_last_change = 0  # the creation number current at the latest in-place change of any leaf
_changed_by = {}  # number taken by an in-place change -> what made it (an optimizer's step...): the latest 64
_changes_lock = threading.RLock()  # re-entrant: a detach alias freed mid-change drops out under it


def _renew_locks_after_fork():
    """In a forked child only the forking thread lives on, so a lock another thread held at the fork would
    stay held: the child's first backward(), mode block or optimizer step would wait forever. The child gets
    fresh locks, and forgets the passes of threads that are gone. A pass the forking thread itself is inside
    (a fork from a gradient rule) keeps its lock. Mode blocks left open by vanished threads stay counted:
    the fast paths then stay aside in the child, which is slower but right."""
    global _special_lock, _pass_lock, _passes, _changes_lock
    _special_lock, _changes_lock = threading.Lock(), threading.Lock()
    if not _pass_lock._is_owned():
        _pass_lock, _passes = threading.RLock(), []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_locks_after_fork)


def mark_changed(leaves, by):
    """Record that the payloads of `leaves` were just changed in place by `by` (an optimizer's step,
    load_state_dict, an in-place update): a graph built before now that uses them can no longer be
    back-propagated. Cheap (one stamp per leaf), so optimizers call it every step."""
    global _last_change
    with _changes_lock:
        stamp = _next_id()
        for leaf in leaves:
            leaf._id = stamp  # as if made now: a node built from it earlier now looks older than its input
            if _detached:
                for ref in tuple(_detached.get(id(leaf.data), ())):
                    alias = ref()
                    if alias is not None and alias.data is leaf.data:
                        alias._id = stamp
        _last_change = stamp
        _changed_by[stamp] = by
        if len(_changed_by) > 64:
            del _changed_by[next(iter(_changed_by))]  # the oldest


# Values that hold one payload array through detach(), by the array's id: an in-place change of one is a change
# of all (PyTorch shares the version counter through detach). Each holds a weak reference, so the group follows
# its members; a member whose payload was replaced since (`v.data = ...`) is no longer stamped.
_detached = {}


def _share_changes(base, alias):
    key = id(base.data)

    def forget(ref):
        with _changes_lock:
            group = _detached.get(key)
            if group is not None:
                group[:] = [r for r in group if r is not ref and r() is not None]
                if len(group) < 2:
                    del _detached[key]

    with _changes_lock:
        group = _detached.setdefault(key, [])
        if not any(r() is base for r in group):
            group.append(weakref.ref(base, forget))
        group.append(weakref.ref(alias, forget))


def _check_stale(order):
    for node in order:
        for p in node._prev:
            if p._op is None and p._id > node._id:
                what = f"{p.name!r}" if p.name else f"a leaf of shape {p.shape}"
                by = _changed_by.get(p._id, "an in-place change")
                raise RuntimeError(
                    f"backward: {what} was changed in place by {by} after this graph was built from it, so "
                    f"its gradients would be those of the old values applied to the new ones; build the "
                    f"graph again after the change (e.g. call the model again after optimizer.step())")


# ----------------------------------------------------------------------------------------------
# Anomaly detection (anomaly.py): the checks while a detect_anomaly() block is open, else None, so that the
# test in `_node` is one comparison.
_anomaly_mode = None


from . import ops as _ops  # noqa: E402  (the op table needs Value, defined above)
from . import rulecheck as _rulecheck  # noqa: E402

# isort: split
from . import fastpaths  # noqa: E402,F401  (installs the benchmarks' speed paths; needs the op table)
