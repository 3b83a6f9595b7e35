"""Function transformations, as in JAX and HIPS autograd: `grad(f)` and `value_and_grad(f)` return
new functions. Given plain numbers or arrays they return plain numbers or arrays; given Values they
return Values that can be differentiated again, so `grad(grad(f))` is the second derivative.

>>> from tinygrad_nn import grad
>>> f = lambda x: x ** 3
>>> grad(f)(2.0), grad(grad(f))(2.0)
(12.0, 12.0)
"""

from __future__ import annotations

import functools

import numpy as np

from . import engine
from .engine import Value, gradients
from .ops import identity


def value_and_grad(f, argnums=0):
    """A function that returns (f(*args), d f / d args[argnums]); argnums may be an int or a tuple.

    f must return a single number (a scalar Value, or a tensor of one element).

    >>> from tinygrad_nn import value_and_grad
    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        args = list(args)
        for i in nums:
            if not -len(args) <= i < len(args):
                raise ValueError(f"grad: argnums {argnums!r} asks for argument {i}, but f got {len(args)} arguments")
        nested = any(isinstance(args[i], Value) for i in nums)
        wrt = []
        prev_mode = engine._grad_mode.enabled
        engine._grad_mode.enabled = True  # a transform records its graph even inside no_grad
        try:
            for i in nums:
                a = args[i]
                if not isinstance(a, Value) or not a.requires_grad:
                    a = Value._leaf(engine.to_payload(engine.data_of(a), "grad"), requires_grad=True)
                # A fresh node to differentiate at: the walk stops there, so no leaf's .grad changes.
                args[i] = identity(a)
                wrt.append(args[i])
            out = f(*args, **kwargs)
            if not isinstance(out, Value):
                raise TypeError(f"grad: f must return a Value computed from its inputs, got {type(out).__name__}")
            if out.size != 1:
                raise ValueError(f"grad: f must return a single number, got shape {out.shape}; reduce it "
                                 f"(e.g. .sum()) or use Value.backward(grad) for a vector-Jacobian product")
            grads = gradients(out, wrt, create_graph=nested)
        finally:
            engine._grad_mode.enabled = prev_mode
        grads = [_zeros_like(x, nested) if g is None else g for g, x in zip(grads, wrt)]
        if nested:  # Values in, Values out: even for an input f ignores
            grads = [g if isinstance(g, Value) else Value(g, requires_grad=False) for g in grads]
        if not nested:
            grads = [_plain(g, x) for g, x in zip(grads, wrt)]
            value = out.data
        else:
            value = out
        return value, (grads[0] if isinstance(argnums, int) else tuple(grads))

    return wrapped


def grad(f, argnums=0):
    """A function that returns d f / d args[argnums] (see `value_and_grad`).

    >>> import numpy as np
    >>> from tinygrad_nn import grad
    >>> grad(lambda w: (w * w).sum())(np.array([1.0, 2.0]))
    array([2., 4.])
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped


def _zeros_like(x, as_value):
    """The gradient of an input f does not use: zero (a constant Value when Values went in)."""
    d = x.data
    zero = 0.0 if d.__class__ is float else np.zeros_like(d)
    return Value(zero, requires_grad=False) if as_value else zero


def _plain(g, x):
    g = g.data if isinstance(g, Value) else g
    if x.data.__class__ is float:
        return g if g.__class__ is float else float(g)
    return np.asarray(g, dtype=x.dtype).reshape(x.shape)
