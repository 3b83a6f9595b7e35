"""Gradient clipping, PyTorch's nn.utils.clip_grad_norm_ and clip_grad_value_: they change the parameters'
`.grad` in place, between backward() and the optimizer's step().

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> w = Value(np.zeros(2)); w.grad = np.array([3.0, 4.0])
>>> float(clip_grad_norm_([w], max_norm=1.0))                # the norm before clipping
5.0
>>> w.grad.round(6)
array([0.6, 0.8])
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Value

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters, who):
    from .module import Module

    if isinstance(parameters, Module):
        raise TypeError(f"{who}: got the model itself; pass model.parameters()")
    params = [parameters] if isinstance(parameters, Value) else list(parameters)
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{who}: parameters must be Values, got {type(p).__name__}")
    return [p for p in params if p.grad is not None]


def _payload(g):
    return g.data if isinstance(g, Value) else g


def _scale(p, factor):
    g = p.grad
    if isinstance(g, Value):
        p.grad = g * factor
    elif g.__class__ is float:
        p.grad = g * float(factor)
    else:
        g *= g.dtype.type(factor)  # in place, as PyTorch: anything holding the array sees the clipped values


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False):
    """Scale all gradients together so that their joint `norm_type` norm (2 by default, inf for the largest
    absolute value) is at most `max_norm`; returns the norm they had, as a 0-d array. PyTorch's arithmetic:
    the factor max_norm / (norm + 1e-6), capped at 1, multiplies every gradient."""
    who = "clip_grad_norm_"
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: max_norm must be a number, got {type(max_norm).__name__}")
    norm_type = float(norm_type)
    params = _grads(parameters, who)
    if not params:
        return np.array(0.0)
    grads = [np.asarray(_payload(p.grad), dtype=np.float64) for p in params]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        norms = np.array([np.linalg.norm(g.ravel(), norm_type) for g in grads])
        total = float(np.linalg.norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"{who}: the total norm of the gradients is {total}; set error_if_nonfinite=False to "
                           f"clip anyway (the gradients then become NaN)")
    factor = min(float(max_norm) / (total + 1e-6), 1.0)
    for p in params:
        _scale(p, factor)
    return np.array(total)


def clip_grad_value_(parameters, clip_value: float):
    """Clip every gradient element to [-clip_value, clip_value], in place."""
    who = "clip_grad_value_"
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: clip_value must be a number, got {type(clip_value).__name__}")
    c = float(clip_value)
    for p in _grads(parameters, who):
        g = p.grad
        if isinstance(g, Value):
            from ..ops import clip

            p.grad = clip(g, lo=-c, hi=c)
        elif g.__class__ is float:
            p.grad = min(max(g, -c), c)
        else:
            np.clip(g, -c, c, out=g)
