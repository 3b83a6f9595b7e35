"""Function transformations, as in JAX and HIPS autograd: `grad(f)`, `jacobian(f)`... return new
functions. Given plain numbers or arrays they return plain numbers or arrays; given Values, or called
inside another transform, they return Values that can be differentiated again, so `grad(grad(f))` is
the second derivative and a gradient taken inside `f` is differentiated by the transform around it.

>>> from tinygrad_nn import grad
>>> f = lambda x: x ** 3
>>> grad(f)(2.0), grad(grad(f))(2.0)
(12.0, 12.0)

How they work: the arguments to differentiate are replaced by fresh nodes (`identity` of a leaf), f runs
once, and `engine.gradients` walks back from f's output to those nodes and no further, so no leaf's
`.grad` changes. Arguments may be structures (tuples, lists and dicts, nested) of numbers, arrays and
Values; every number or array in them is differentiated and the gradient has the same structure.

Every transform follows these rules (see "Transforms" in docs/engine.md):
- plain in, plain out: at the outermost level, with no Value anywhere in the arguments, results are
  floats and numpy arrays in the inputs' dtypes, and the graph is freed on return;
- nested, differentiable: when any argument holds a Value (also one not differentiated, also inside a
  structure), or the transform runs while another transform's f is running (a thread-local depth counts
  them), gradients are recorded with `create_graph=True`. A result is then a Value if it depends on
  anything that requires a gradient (so the outer computation can differentiate it), and always when a
  differentiated argument was a Value (Values in, Values out); a result that depends on nothing is plain;
- an output that does not depend on an input (a constant, a number, a detached Value) has a zero
  gradient of that input's shape and dtype, as in JAX and HIPS autograd.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

# enable_grad: the transforms' results do not depend on the caller's no_grad
from .engine import Value, data_of, enable_grad, gradients, holds_values, to_payload
from .ops import identity, reshape, stack
from .ops import sum as _sum


class _Depth(threading.local):
    n = 0  # how many transforms' functions are running in this thread, one inside another


_depth = _Depth()


# ----------------------------------------------------------------------------------------------
# Structures: tuples, lists and dicts (nested) hold the leaves; anything else is a leaf.
# A structure is described by a tree: None for a leaf, else (kind, keys, subtrees); None as a value
# (JAX's empty pytree) holds no leaf and comes back as None.

_NONE = ("none", None, ())


def _flatten(x, leaves):
    """Append x's leaves to `leaves` (depth first, dicts in their own order) and return its tree."""
    cls = x.__class__
    if cls is tuple or cls is list:
        return (cls, None, tuple(_flatten(c, leaves) for c in x))
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple
        return (cls, None, tuple(_flatten(c, leaves) for c in x))
    if isinstance(x, dict):
        return (cls, tuple(x), tuple(_flatten(c, leaves) for c in x.values()))
    if x is None:
        return _NONE
    leaves.append(x)
    return None


def _unflatten(tree, leaves):
    """The structure `tree` with its leaves taken in order from the iterator `leaves`."""
    if tree is None:
        return next(leaves)
    if tree is _NONE:
        return None
    kind, keys, subs = tree
    children = [_unflatten(t, leaves) for t in subs]
    if keys is not None:
        return kind(zip(keys, children))
    if kind is tuple or kind is list:
        return kind(children)
    return kind(*children)  # a namedtuple


def _leaves(x):
    out = []
    tree = _flatten(x, out)
    return out, tree


def _plain_tree(x):
    """x with every Value replaced by its payload (aux at the outermost level, like the value itself)."""
    leaves, tree = _leaves(x)
    return _unflatten(tree, iter([v.data if isinstance(v, Value) else v for v in leaves]))


def _describe(x) -> str:
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)}"
    return f"a {type(x).__name__}"


# ----------------------------------------------------------------------------------------------
# One run of f at fresh nodes, and what the transforms return.


def _argnums(name, argnums, nargs):
    """argnums as a tuple of non-negative indices (an int gives a 1-tuple), checked against nargs."""
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    if many and not nums:
        raise ValueError(f"{name}: argnums is empty; name at least one argument to differentiate")
    out = []
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{name}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums {argnums!r} asks for argument {i}, but f got {nargs} positional "
                             f"arguments (keyword arguments are never differentiated)")
        out.append(int(i) % nargs)
    return tuple(out)


def _start(leaf, where):
    """A fresh node to differentiate at, holding leaf's payload: the backward walk stops there.

    A Value that requires a gradient is wrapped itself, so that gradients of the result flow on into it
    (that is what makes nested transforms compose); anything else becomes a new leaf."""
    if isinstance(leaf, Value):
        base = leaf if leaf.requires_grad else Value._leaf(leaf.data, requires_grad=True)
    else:
        base = Value._leaf(to_payload(leaf, where), requires_grad=True)
    return identity(base)


class _Trace:
    """f, run once with the arguments `argnums` replaced by fresh nodes (`wrt`, all their leaves)."""

    def __init__(self, name, f, args, kwargs, argnums, has_aux, also_values=False):
        self.name = name
        self.single = isinstance(argnums, (int, np.integer))
        self.nums = _argnums(name, argnums, len(args))
        # Values anywhere in the arguments, or a transform around this one: the gradients must be graphs.
        self.nested = _depth.n > 0 or also_values or holds_values(args) or holds_values(kwargs)
        args = list(args)
        self.values_in = False  # whether a differentiated leaf is a Value: then every result is a Value
        self.wrt = []
        self.trees = {}  # argument index -> (tree, first, end): its nodes are wrt[first:end]
        for i in dict.fromkeys(self.nums):  # an argument named twice in argnums is traced once
            leaves, tree = _leaves(args[i])
            self.values_in = self.values_in or any(isinstance(leaf, Value) for leaf in leaves)
            first = len(self.wrt)
            self.wrt += [_start(leaf, f"{name}: argument {i}") for leaf in leaves]
            self.trees[i] = (tree, first, len(self.wrt))
            args[i] = _unflatten(tree, iter(self.wrt[first:]))
        _depth.n += 1
        try:
            out = f(*args, **kwargs)
        finally:
            _depth.n -= 1
        self.aux = None
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(f"{name}: with has_aux=True, f must return a pair (value, aux), got {_describe(out)}")
            out, aux = out
            self.aux = aux if self.nested else _plain_tree(aux)
        self.out = out

    def output(self, out, scalar):
        """An output leaf as a Value (a number or array f returned is a constant: zero gradients)."""
        name = self.name
        if not isinstance(out, Value):
            if out is None or isinstance(out, (tuple, list, dict)):
                hint = ("; to return extra values with it, use has_aux=True and return (value, aux)"
                        if isinstance(out, (tuple, list)) and name == "grad" else "")
                raise TypeError(f"{name}: f must return a Value or a number, got {_describe(out)}{hint}")
            out = Value._leaf(to_payload(out, f"{name}: f's output"))
        if scalar and out.size != 1:
            raise ValueError(f"{name}: f must return a single number, got shape {out.shape}; reduce it (e.g. .sum()), "
                             f"or use jacobian / elementwise_grad / Value.backward(grad) for a vector output")
        return out

    def pullback(self, out, seed=None):
        """d<out, seed>/d wrt, one entry per node (None where out does not depend on it)."""
        # A leaf (a constant, or a Value f made afresh) cannot depend on the fresh nodes, which are op nodes.
        if not out.requires_grad or out.is_leaf:
            return [None] * len(self.wrt)
        return gradients(out, self.wrt, grad=seed, create_graph=self.nested)

    def keeps(self, v):
        """Whether a result that is a Value stays one: when nested, if Values were differentiated (Values in,
        Values out) or it depends on something that requires a gradient; else it becomes plain."""
        return self.nested and (self.values_in or v.requires_grad)

    def value(self, out):
        return out if self.keeps(out) else out.data

    def fit(self, g, x):
        """The gradient g (from `pullback`) of node x as the transform returns it."""
        if self.nested:
            g = _grad_for(g, x, True)
            if self.keeps(g):
                return g
            g = g.data
        return _grad_for(g, x, False)

    def arrange(self, per_node):
        """Per-node results put back into the arguments' structures, in argnums order: a tuple for a
        tuple argnums (an argument named twice appears twice), one structure for an int."""
        per_arg = {i: _unflatten(tree, iter(per_node[a:b])) for i, (tree, a, b) in self.trees.items()}
        if self.single:
            return per_arg[self.nums[0]]
        seen = set()
        result = []
        for i in self.nums:
            # A repeated argument's result is a copy, so that changing one array leaves the other alone.
            result.append(per_arg[i] if i not in seen else _copy_tree(per_arg[i]))
            seen.add(i)
        return tuple(result)


def _copy_tree(x):
    leaves, tree = _leaves(x)
    return _unflatten(tree, iter([v.copy() if isinstance(v, np.ndarray) else v for v in leaves]))


def _grad_for(g, x, as_value):
    """A gradient for node x: zeros when None; a Value if as_value; else a float (float x) or a writable
    array of x's shape and dtype that shares memory with nothing else handed out."""
    if isinstance(g, Value):  # only when the gradients were graphs
        return g
    d = x.data
    if g is None:
        g = 0.0 if d.__class__ is float else np.zeros(d.shape, dtype=d.dtype)
    elif d.__class__ is float:
        g = float(g) if np.ndim(g) == 0 else float(np.sum(g))
    else:
        # Always a copy: a gradient can be a read-only broadcast view, or one array given to two inputs
        # (add's rule gives g to both), or another node's gradient.
        g = np.array(g, dtype=d.dtype, copy=True).reshape(d.shape)
    return Value._leaf(g) if as_value else g


def _basis(out, k):
    """The k-th one-hot seed for out (1.0 for a float output)."""
    d = out.data
    if d.__class__ is float:
        return 1.0
    e = np.zeros(d.shape, dtype=d.dtype)
    e.flat[k] = 1.0
    return e


def _dot(g, v):
    """<g, v> summed over every element: a Value when g is one."""
    if not isinstance(g, Value):  # a zero gradient (None)
        return None
    p = g * v
    return p if p.shape == () and p.data.__class__ is float else _sum(p)


def _tangent(name, v, x, i):
    """The tangent (or vector) v for the primal node x: x's shape; x's dtype unless it is a Value."""
    if isinstance(v, Value):
        if v.shape != x.shape:
            raise ValueError(f"{name}: tangent {i} has shape {v.shape} but its primal has shape {x.shape}; "
                             f"they must match")
        return v
    d = x.data
    p = to_payload(v, f"{name}: tangent {i}")
    if np.shape(p) != x.shape:
        raise ValueError(f"{name}: tangent {i} has shape {np.shape(p)} but its primal has shape {x.shape}; "
                         f"they must match")
    return float(p) if d.__class__ is float else np.asarray(p, dtype=d.dtype)


def _match(name, xs, vs, what):
    """The leaves of vs, checked to have the same structure as xs."""
    x_leaves, x_tree = _leaves(xs)
    v_leaves, v_tree = _leaves(vs)
    if x_tree != v_tree:
        raise ValueError(f"{name}: {what} must have the same structure as the primals; got {_describe(vs)} "
                         f"with {len(v_leaves)} arrays for {_describe(xs)} with {len(x_leaves)}")
    return v_leaves


# ----------------------------------------------------------------------------------------------
# The transforms.


def value_and_grad(f, argnums=0, has_aux=False):
    """A function that returns `(f(*args), d f / d args[argnums])`, as jax.value_and_grad.

    f must return a single number (a scalar Value, a one-element tensor, or a constant). `argnums` is an
    int or a tuple of ints (then the gradients come as a tuple); each argument may be a number, an array,
    a Value or a structure of them (tuples, lists, dicts), and its gradient has the same structure.
    With has_aux=True, f returns (value, aux) and the result is ((value, aux), gradient).

    >>> from tinygrad_nn import value_and_grad
    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    >>> value_and_grad(lambda p: p["w"] * p["b"] ** 2)({"w": 2.0, "b": 3.0})
    (18.0, {'w': 9.0, 'b': 12.0})
    >>> value_and_grad(lambda x: (x * x, "aux"), has_aux=True)(3.0)
    ((9.0, 'aux'), 6.0)
    """

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        with enable_grad():
            t = _Trace("grad", f, args, kwargs, argnums, has_aux)
            out = t.output(t.out, scalar=True)
            g = t.arrange([t.fit(g, x) for g, x in zip(t.pullback(out), t.wrt)])
        value = t.value(out)
        return ((value, t.aux) if has_aux else value), g

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False):
    """A function that returns d f / d args[argnums] (see `value_and_grad`); with has_aux=True it
    returns (gradient, aux).

    >>> import numpy as np
    >>> from tinygrad_nn import grad
    >>> grad(lambda w: (w * w).sum())(np.array([1.0, 2.0]))
    array([2., 4.])
    >>> grad(lambda x: x * grad(lambda y: x * y)(2.0))(3.0)  # d(x * x)/dx: the inner grad is x
    6.0
    >>> grad(lambda x: 5.0)(1.0)  # an output that does not depend on x
    0.0
    """
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


def elementwise_grad(f, argnums=0):
    """The gradient of sum(f(x)), as HIPS autograd's: for an elementwise f, the derivative at each element.

    f may return a Value of any shape (it is a vector-Jacobian product with a vector of ones).

    >>> import numpy as np
    >>> from tinygrad_nn import elementwise_grad
    >>> elementwise_grad(lambda x: x.tanh())(np.array([0.0, 1.0]))
    array([1.        , 0.41997434])
    """

    @functools.wraps(f)
    def elementwise_grad_f(*args, **kwargs):
        with enable_grad():
            t = _Trace("elementwise_grad", f, args, kwargs, argnums, False)
            out = t.output(t.out, scalar=False)
            d = out.data
            seed = 1.0 if d.__class__ is float else np.ones(d.shape, dtype=d.dtype)
            return t.arrange([t.fit(g, x) for g, x in zip(t.pullback(out, seed), t.wrt)])

    return elementwise_grad_f


def jacobian(f, argnums=0, has_aux=False):
    """The Jacobian of f in reverse mode (one backward pass per output element), as jax.jacrev.

    For an output of shape S and an input of shape T the result has shape S + T: entry [i..., j...] is
    d out[i...] / d x[j...]; a float output and a float input give a float. f may return a structure of
    outputs and take structured arguments: the result is the output's structure holding, for each output,
    the inputs' structure (a tuple for a tuple argnums). With has_aux=True it returns (jacobian, aux).

    >>> import numpy as np
    >>> from tinygrad_nn import jacobian
    >>> jacobian(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> jacobian(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0)
    (3.0, 2.0)
    """

    @functools.wraps(f)
    def jacobian_f(*args, **kwargs):
        with enable_grad():
            t = _Trace("jacobian", f, args, kwargs, argnums, has_aux)
            out_leaves, out_tree = _leaves(t.out)
            blocks = []
            for o in out_leaves:
                o = t.output(o, scalar=False)
                rows = [t.pullback(o, _basis(o, k)) for k in range(o.size)] if o.requires_grad else None
                cols = [[None if rows is None else r[j] for r in (rows or range(o.size))] for j in range(len(t.wrt))]
                blocks.append(t.arrange([_block(t, o, x, col) for x, col in zip(t.wrt, cols)]))
            jac = _unflatten(out_tree, iter(blocks))
        return (jac, t.aux) if has_aux else jac

    return jacobian_f


def _block(t, o, x, col):
    """d o / d x, of shape o.shape + x.shape, from col[k]: the gradient of output element k for x."""
    shape = o.shape + x.shape
    if t.nested:
        parts = [_grad_for(g, x, True) for g in col]
        if parts and (t.values_in or any(p.requires_grad for p in parts)):
            return parts[0] if o.shape == () else reshape(stack(parts), shape=shape)
        col = [p.data for p in parts]  # constants: assembled as arrays below
    d = x.data
    jac = np.zeros((o.size,) + x.shape, dtype=np.float64 if d.__class__ is float else d.dtype)
    for k, g in enumerate(col):
        if g is not None:
            jac[k] = _grad_for(g, x, False)
    jac = float(jac[0]) if o.data.__class__ is float and d.__class__ is float else jac.reshape(shape)
    return Value._leaf(jac) if t.nested and t.values_in else jac  # (an empty output, given Values)


def hessian(f, argnums=0, has_aux=False):
    """The Hessian of a scalar f: the Jacobian of its gradient, as jax.hessian (shape x.shape + x.shape).

    With a tuple argnums the result is a tuple of tuples, H[i][j] = d^2 f / d args[i] d args[j].

    >>> import numpy as np
    >>> from tinygrad_nn import hessian
    >>> hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    >>> hessian(lambda x, y: x * x * y, argnums=(0, 1))(1.0, 2.0)
    ((4.0, 2.0), (2.0, 0.0))
    """
    h = jacobian(grad(f, argnums, has_aux), argnums, has_aux)
    return functools.wraps(f)(h)


def hvp(f, x, v):
    """The Hessian of a scalar f at x times v, without forming the Hessian: the gradient of <grad f(x), v>.

    x is f's one argument (a number, an array, a Value or a structure of them); v has x's structure and
    shapes. Two backward passes, whatever the size of x.

    >>> import numpy as np
    >>> from tinygrad_nn import hvp
    >>> hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    x_leaves, _ = _leaves(x)
    v_leaves = _match("hvp", x, v, "v")
    for i, (xi, vi) in enumerate(zip(x_leaves, v_leaves)):  # checked now, before any work
        _tangent("hvp", vi, Value._leaf(to_payload(data_of(xi), f"hvp: argument leaf {i}")), i)

    def dot_grad(x, v):
        g_leaves, _ = _leaves(grad(f)(x))
        # Tangents take the primal's dtype, so a float32 x gives a float32 product.
        terms = [_dot(g, _tangent("hvp", vi, xi, i))
                 for i, (g, vi, xi) in enumerate(zip(g_leaves, _leaves(v)[0], _leaves(x)[0]))]
        terms = [s for s in terms if s is not None]
        if not terms:
            return 0.0  # f is linear in x (or constant): a zero Hessian
        total = terms[0]
        for s in terms[1:]:
            total = total + s
        return total

    # v goes in as an argument (never differentiated): a Value in it makes the result a Value too.
    return grad(dot_grad, argnums=0)(x, v)


def jvp(f, primals, tangents):
    """Forward mode: `(f(*primals), J v)`, the Jacobian of f at primals times the tangents, as jax.jvp.

    primals and tangents are tuples (or lists), one entry per argument of f, each tangent of its primal's
    structure and shapes. Built on reverse mode by the double-vjp trick: u -> <vjp(u), v> is linear in the
    dummy cotangent u, and its gradient in u is J v (two backward passes, whatever the sizes).

    >>> import numpy as np
    >>> from tinygrad_nn import jvp
    >>> jvp(lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))
    (6.0, 3.0)
    >>> jvp(lambda x: x.tanh(), (np.array([0.0, 1.0]),), (np.array([1.0, 1.0]),))[1]
    array([1.        , 0.41997434])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"jvp: primals and tangents must be tuples (or lists) with one entry per argument of f, "
                        f"got {_describe(primals)} and {_describe(tangents)}; for one argument write (x,) and (v,)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    v_leaves = _match("jvp", tuple(primals), tuple(tangents), "tangents")
    with enable_grad():
        t = _Trace("jvp", f, tuple(primals), {}, tuple(range(len(primals))), False,
                   also_values=holds_values(tangents))
        vs = [_tangent("jvp", v, x, i) for i, (v, x) in enumerate(zip(v_leaves, t.wrt))]
        out_leaves, out_tree = _leaves(t.out)
        outs = [t.output(o, scalar=False) for o in out_leaves]
        # One dummy cotangent per output; its value does not matter (the vjp is linear in it): zeros.
        us = [identity(Value._leaf(_grad_for(None, o, False), requires_grad=True)) for o in outs]
        total = None
        for o, u in zip(outs, us):
            if not o.requires_grad or o.is_leaf:
                continue
            for g, v in zip(gradients(o, t.wrt, grad=u, create_graph=True), vs):
                s = _dot(g, v)
                if s is not None:
                    total = s if total is None else total + s
        if total is not None and total.requires_grad:
            jv = gradients(total, us, create_graph=t.nested)
        else:
            jv = [None] * len(us)
        tangents_out = [t.fit(g, o) for g, o in zip(jv, outs)]
    primals_out = [t.value(o) for o in outs]
    return _unflatten(out_tree, iter(primals_out)), _unflatten(out_tree, iter(tangents_out))
