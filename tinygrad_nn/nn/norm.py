"""Normalisation layers with PyTorch's names, parameters and defaults: LayerNorm and RMSNorm.

>>> import numpy as np
>>> from tinygrad_nn.nn import LayerNorm
>>> ln = LayerNorm(4)
>>> [(name, p.shape) for name, p in ln.named_parameters()]
[('weight', (4,)), ('bias', (4,))]
>>> ln(np.array([[1.0, 2.0, 3.0, 4.0]])).data.round(3)
array([[-1.342, -0.447,  0.447,  1.342]])
"""

from __future__ import annotations

import numpy as np

from ..engine import Value
from . import functional
from .layers import _check_dtype
from .module import Module


def _shape(who, normalized_shape):
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not ns or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in ns):
        raise ValueError(f"{who}: normalized_shape must be a positive size or a tuple of them (the last axes of "
                         f"the input), got {normalized_shape!r}")
    return tuple(int(n) for n in ns)


def _eps(who, eps):
    if eps is not None and (isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0):
        raise ValueError(f"{who}: eps must be a number >= 0, got {eps!r}")
    return eps if eps is None else float(eps)


class LayerNorm(Module):
    """Normalise over the last axes `normalized_shape` to mean 0 and variance 1, then scale by `weight` (ones)
    and shift by `bias` (zeros): PyTorch's nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True,
    bias=True).

    >>> import numpy as np
    >>> ln = LayerNorm(3)
    >>> y = ln(np.array([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]])).data      # each row on its own
    >>> y.mean(axis=-1).round(12).tolist(), y.var(axis=-1).round(4).tolist()
    ([0.0, 0.0], [1.0, 1.0])
    >>> LayerNorm((2, 3), elementwise_affine=False)(np.ones((4, 2, 3))).shape   # over the last two axes
    (4, 2, 3)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True, *,
                 dtype=np.float64):
        self.normalized_shape = _shape("LayerNorm", normalized_shape)
        self.eps = _eps("LayerNorm", eps)
        dtype = _check_dtype(dtype, "LayerNorm")
        self.weight = Value(np.ones(self.normalized_shape, dtype)) if elementwise_affine else None
        self.bias = Value(np.zeros(self.normalized_shape, dtype)) if elementwise_affine and bias else None

    def forward(self, x):
        return functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def __repr__(self):
        return (f"LayerNorm({self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.weight is not None})")


class RMSNorm(Module):
    """Divide by the root mean square over the last axes `normalized_shape`, then scale by `weight` (ones):
    PyTorch's nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True); eps=None is the dtype's machine
    epsilon, as there.

    >>> import numpy as np
    >>> RMSNorm(2)(np.array([3.0, 4.0])).data.round(4)
    array([0.8485, 1.1314])
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, *,
                 dtype=np.float64):
        self.normalized_shape = _shape("RMSNorm", normalized_shape)
        self.eps = _eps("RMSNorm", eps)
        dtype = _check_dtype(dtype, "RMSNorm")
        self.weight = Value(np.ones(self.normalized_shape, dtype)) if elementwise_affine else None

    def forward(self, x):
        return functional.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def __repr__(self):
        return f"RMSNorm({self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None})"
