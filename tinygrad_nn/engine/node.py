"""The graph node, `Value`, and `_node`, the function that builds every node (scalar `+` and `*` inline it).

A `Value` holds a payload (a Python float for scalars, a numpy array for tensors), its gradient, the values it
was computed from and the primitive that computed it. Its methods that run ops (`x.exp()`, `x.sum()`, `x - y`) are
declared in the mixins of methods.py; `+` and `*` are here, because for scalars they build their node inline
(benchmark W1: micrograd's demo makes ~45,000 nodes a step, and a call through `apply` costs more than the
arithmetic). `backward()` runs the pass of backward.py.

Why the node looks the way it does:
- its inputs sit in slots (`_a`, `_b`, or `_more` for three and up), not in a tuple per node: a tuple would double
  the objects that Python's cyclic garbage collector tracks, and that collector, not the arithmetic, is most of the
  cost of a large scalar graph;
- no node refers to its gradient rule through a closure, so a finished graph holds no reference cycles and is
  freed by reference counting the moment the last name for it goes;
- every node gets a creation number: sorting by it is a topological order, so backward needs no recursion.

>>> from tinygrad_nn import Value
>>> x = Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
8.0
"""

from __future__ import annotations

import numpy as np

from . import fastpaths as _fastpaths
from . import modes as _modes
from .links import backward as _backward
from .methods import ElementwiseMethods, LinalgMethods, NumpyProtocol, OperatorMethods, ReductionMethods, ShapeMethods
from .modes import next_id as _next_id
from .stale import mark_changed, share_changes

ndarray = np.ndarray
_new = object.__new__


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
            raise too_large(x, where) from None
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a number or array was expected; pass it as is to an op, "
                        f"or use .detach() / .data")
    if isinstance(x, (float, int, np.floating, np.integer, np.bool_)):  # numpy scalars, int subclasses
        return float(x)
    if x is None or isinstance(x, (str, bytes, complex)):
        raise TypeError(f"{where}: payload must be real numbers, got {type(x).__name__} {x!r}; "
                        f"pass a float, an int, or a (nested) list or numpy array of them")
    if isinstance(x, (list, tuple)) and holds_values(x):
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


def too_large(x: int, where: str) -> OverflowError:
    return OverflowError(f"{where}: the int {'-' if x < 0 else ''}2**{abs(x).bit_length() - 1}... is too large for a "
                         f"float64 (at most about 1.8e308, 2**1024); pass a float (float('inf') if that is meant), "
                         f"or scale it down")


def holds_values(x) -> bool:
    """Whether a Value is anywhere in x: x itself, or inside its tuples, lists and dicts."""
    if isinstance(x, Value):
        return True
    if isinstance(x, (tuple, list)):
        return any(holds_values(c) for c in x)
    if isinstance(x, dict):
        return any(holds_values(c) for c in x.values())
    return False


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


class Value(OperatorMethods, ElementwiseMethods, ReductionMethods, ShapeMethods, LinalgMethods, NumpyProtocol):
    """One node of the graph: a scalar (Python float payload) or a tensor (numpy array payload).

    `Value(x)` copies an array it is given, as `torch.tensor` does: changing the caller's array later
    does not change the Value. `.data` is the payload itself (no copy), as `.numpy()` is.

    `.grad` of a leaf at rest is a float for a scalar and an array of the payload's shape and dtype for a tensor
    (zeros until a backward pass adds to it), or None after `optimizer.zero_grad()`; a Value only after
    `backward(create_graph=True)`.

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
    # (`__add__`), of which it adds up the first _n (None: all of _more). _params: the op's static keyword
    # parameters (axis, shape...) as a dict, or None. _id: the creation number; a leaf whose payload is
    # changed in place takes a new one (stale.mark_changed), so that a graph built from it before shows as stale.
    # _pass, _scratch: the backward pass that last reached this node, and the gradient it is summing here.
    # (Every slot costs: the garbage collector visits each one of every node; benchmark W1.)
    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_a", "_b", "_more", "_n", "_params", "_id",
                 "_pass", "_scratch", "__weakref__")

    def __new__(cls, data, requires_grad=True, name=None):
        if not isinstance(requires_grad, (bool, int, np.bool_)):
            raise TypeError(f"Value: requires_grad must be True or False, got {type(requires_grad).__name__}; "
                            f"micrograd's Value(data, _children, _op) is its internal constructor: here ops "
                            f"record their inputs themselves (write a + b, or defop a new op)")
        payload = to_payload(data)
        if payload.__class__ is ndarray and (payload is data or isinstance(data, ndarray)):
            payload = payload.copy()  # the caller's array stays the caller's (lists were copied already)
            if _modes.recorder is not None:  # jit: the copy of an argument is computed from it
                _modes.recorder.copied(data, payload)
        v = _node(payload, None, None, None, None, None, cls)
        if payload.__class__ is ndarray:
            v.grad = np.zeros_like(payload)
        v.requires_grad = bool(requires_grad)
        v.name = name
        return v

    @staticmethod
    def _leaf(data, requires_grad=False):
        """A leaf around a payload that is valid already (a float or a float array): no checks, no copy."""
        v = _node(data, None, None, None, None, None)
        v.requires_grad = requires_grad
        return v

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
        if _modes.recorder is not None:  # jit: a number leaving the graph would be frozen at record time
            _modes.recorder.escapes(self, "item()/float()")
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
            share_changes(self, v)
        return v


    def zero_grad(self):
        if _modes.recorder is not None and _modes.recorder.effect(self.zero_grad):
            return  # recorded by tinygrad_nn.jit, which ran it
        self.grad = 0.0 if self.data.__class__ is float else np.zeros_like(self.data)

    def __repr__(self):
        if _modes.recorder is not None:  # jit: printing happens only while recording
            _modes.recorder.escapes(self, "printing a Value (repr/str)")
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

    def _repr_html_(self):
        """What Jupyter shows: the value (a tensor: shape and dtype, then its values) and the graph that
        computed it, drawn when Graphviz is installed (tinygrad_nn.viz.notebook)."""
        from ..viz.notebook import value_html  # noqa: PLC0415  (viz imports the engine: only when Jupyter asks)

        return value_html(self)

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

    def __pos__(self):  # +v is v itself, as numpy's and PyTorch's unary plus (no node)
        return self

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

    # -- + and *: for two scalars the node is built right here --------------------------------------
    # The general path is the op (`_add`, through `apply`); it runs for tensors, and for scalars while the
    # fast paths are off (fastpaths.disable) or a mode block (no_grad, detect_anomaly...) is open, since only
    # `apply` honours the modes. Both give the same bits (tests/engine/test_fastpaths.py). The node is built
    # inline, as `_node` builds it (tests/engine/test_static_value.py compares the two): a call to `_node` costs
    # about 1,100 instructions, 6% of micrograd's demo (W1), which makes ~45,000 nodes a step.
    def __add__(self, other):
        d = self.data
        if d.__class__ is not _modes.fast_scalar:  # a tensor, or the fast paths are aside
            return _apply(_add, (self, other), _NO_PARAMS)
        cls = other.__class__
        if cls is Value:
            o = other
        elif cls is float or cls is int:
            try:
                o = _node(float(other), None, None, None, None, None)
            except OverflowError:  # an int past float64's range
                raise too_large(other, "add") from None
        else:
            return _apply(_add, (self, other), _NO_PARAMS)
        e = o.data
        if e.__class__ is not float:
            return _apply(_add, (self, o), _NO_PARAMS)
        v = _new(Value)
        v.data = d + e
        v.grad = 0.0
        v._id = _next_id()
        v.name = v._params = v._n = v._pass = v._scratch = None
        if not (self.requires_grad or o.requires_grad):  # a constant: a leaf
            v.requires_grad = False
            v._op = v._a = v._b = v._more = None
            return v
        v.requires_grad = True
        op = self._op
        # A running sum (docs/engine.md, "Running sums"): micrograd's neuron is `sum((wi * xi for ...), b)`, a
        # chain of adds each referred to only by the next. When self is a sum that only the caller holds (its
        # reference, self and getrefcount's) and the new term is held by nothing else either (the same, plus the
        # name `other`; a number is a new constant), the result is one add_n node over all the terms and the old
        # sum is freed: fewer live nodes for the cyclic collector to walk. Nothing changes self: a caller that
        # keeps it (C code such as numpy's object loops may hold it without counting) still has the sum it had.
        if op is not None and _fastpaths._sums_fuse:
            if ((op is _add or op is _add_n and self._n is not None) and _getrefcount(self) == 3
                    and (o is not other or _getrefcount(other) == 4)):
                if op is _add:
                    v._more, v._n = [self, o], 2
                else:  # a running sum already: its terms are the first _n of a list it may share
                    terms, n = self._more, self._n
                    # A copy of our own when another sum grew from self already, or when the new term is a sum
                    # that shares the list (an earlier partial sum of self, held only by a numpy object array,
                    # whose loops do not count their references): appended to its own list, it would refer to
                    # itself, a cycle that only the cyclic collector frees.
                    if len(terms) != n or o._more is terms:
                        terms = terms[:n]
                    terms.append(o)
                    v._more, v._n = terms, n + 1
                v._op, v._a, v._b = _add_n, None, None
                return v
        v._op = _add
        v._a = self
        v._b = o
        v._more = None
        return v

    def __radd__(self, other):  # `0 + v` in sum(), `1 + v`
        cls = other.__class__
        if cls is float or cls is int:  # a new constant, then __add__ (which picks the path)
            try:
                return _node(float(other), None, None, None, None, None) + self
            except OverflowError:  # an int past float64's range
                raise too_large(other, "add") from None
        return _apply(_add, (other, self), _NO_PARAMS)

    def __mul__(self, other):
        d = self.data
        if d.__class__ is not _modes.fast_scalar:  # a tensor, or the fast paths are aside
            return _apply(_mul, (self, other), _NO_PARAMS)
        cls = other.__class__
        if cls is Value:
            o = other
        elif cls is float or cls is int:
            try:
                o = _node(float(other), None, None, None, None, None)
            except OverflowError:  # an int past float64's range
                raise too_large(other, "mul") from None
        else:
            return _apply(_mul, (self, other), _NO_PARAMS)
        e = o.data
        if e.__class__ is not float:
            return _apply(_mul, (self, o), _NO_PARAMS)
        v = _new(Value)
        v.data = d * e
        v.grad = 0.0
        v.name = v._params = v._more = v._n = v._pass = v._scratch = None
        v._id = _next_id()
        if self.requires_grad or o.requires_grad:
            v.requires_grad = True
            v._op = _mul
            v._a = self
            v._b = o
        else:  # a constant: a leaf
            v.requires_grad = False
            v._op = v._a = v._b = None
        return v

    def __rmul__(self, other):
        cls = other.__class__
        if cls is float or cls is int:  # a new constant, then __mul__ (which picks the path)
            try:
                return _node(float(other), None, None, None, None, None) * self
            except OverflowError:  # an int past float64's range
                raise too_large(other, "mul") from None
        return _apply(_mul, (other, self), _NO_PARAMS)

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
        if _modes.grad_mode.enabled:
            if not self.requires_grad:
                return NotImplemented
            what = f"{self.name!r}" if self.name else f"a leaf of shape {self.shape}"
            raise RuntimeError(
                f"{symbol}: {what} requires a gradient, and an in-place update of it outside no_grad() is refused (as "
                f"in PyTorch): Python would rebind the name to a new node, so the parameter would become part of a "
                f"graph that grows at every step; update it inside `with no_grad():` (as optimizers do), or write "
                f"v = v {symbol[0]} ... if a new node is what you mean")
        if _modes.recorder is not None:  # jit: a hand-written update that no recorded op describes
            _modes.recorder.escapes(self, f"an in-place {symbol} of a Value under no_grad")
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

    # -- backward -----------------------------------------------------------------------------------
    def backward(self, grad=None, create_graph=False):
        """Back-propagate from this node: every leaf that requires a gradient gets d(self)/d(leaf) added
        to its `.grad`; the nodes in between get theirs afresh (as in micrograd). The pass is backward.py's.

        `grad` is the upstream gradient (needed unless this node holds a single number).
        `create_graph=True` records the backward pass itself (also inside `no_grad`), so the gradients are
        Values that can be differentiated again.
        """
        if not self.requires_grad:
            raise ValueError("backward: this Value does not require a gradient (it is a constant, or was made "
                             "under no_grad, or from constants only); make its inputs with requires_grad=True")
        _backward.backward(self, grad, create_graph)


def _rebuilt_leaf(data, grad, requires_grad, name):
    v = Value._leaf(data, requires_grad)
    v.grad, v.name = grad, name
    return v


def _many(node):
    """The inputs of a node that keeps them in `_more`: all of them, or a running sum's first `_n`."""
    more, n = node._more, node._n
    return more if n is None or len(more) == n else more[:n]


def _node(data, op, a, b, more, params, cls=Value):
    """The one function that builds a node: made by `op` from inputs a, b (or `more`) with static keywords
    `params`, or a constant (op None). Its gradient starts at 0.0 for a float payload and None for an array (the
    first gradient that arrives is taken as it is); a leaf made by `Value(...)` gets zeros."""
    v = _new(cls)
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
    if _modes.anomaly is not None and op is not None:
        _modes.anomaly.created(v)
    return v


# The ops whose nodes scalar + and * build inline, and `apply`, which runs them on tensors. tinygrad_nn.ops gives
# them when it links itself (it and engine/apply.py import this module, so this module cannot import them); plain
# globals, because __add__ and __mul__ read them for every node: a lookup in links.ops would cost 1% of W1, and
# going through the op's `__call__` (which binds positional parameters) 3% of W4's chain of tensor ops.
_add = _mul = _add_n = _apply = None
_NO_PARAMS: dict = {}


def link_arithmetic(add, mul, add_n, apply):
    global _add, _mul, _add_n, _apply
    _add, _mul, _add_n, _apply = add, mul, add_n, apply


# Reference counts tell a temporary from a named node only on CPython with its GIL (3.14 may borrow references
# without counting them); elsewhere running sums stay off (fastpaths.py).
_getrefcount = _fastpaths._getrefcount
