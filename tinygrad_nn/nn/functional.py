"""The building blocks of today's small models as functions, with PyTorch's names, arguments and formulas
(torch.nn.functional): `gelu`, `softmax`, `layer_norm`, `rms_norm`, `embedding`, `dropout`,
`scaled_dot_product_attention`. Each is composed of the ops (so it differentiates to any order and the ONNX
exporter sees primitive ops); the modules in tinygrad_nn.nn hold their parameters and call these.

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.nn import functional as F
>>> q = Value(np.eye(3))                       # three positions, each attending to the ones before it
>>> F.scaled_dot_product_attention(q, q, q, is_causal=True).data.round(3)
array([[1.   , 0.   , 0.   ],
       [0.36 , 0.64 , 0.   ],
       [0.264, 0.264, 0.471]])
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Value, data_of, shape_of
from ..ops import log_softmax as _log_softmax
from ..ops import matmul, mean, sigmoid, sqrt, swapaxes, where
from ..ops import softmax as _softmax
from ..ops.special import ndtr

__all__ = ["dropout", "embedding", "gelu", "layer_norm", "log_softmax", "rms_norm", "scaled_dot_product_attention",
           "softmax"]


def gelu(x, approximate: str = "none"):
    """GELU(x) = x Φ(x), Φ the standard normal distribution function (PyTorch's default; Φ is
    tinygrad_nn.special.ndtr: scipy's where installed, else slower on Python's math), or with approximate="tanh"
    the tanh formula 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))) of GPT-2.

    >>> from tinygrad_nn import Value
    >>> round(gelu(Value(1.0)).data, 6), round(gelu(Value(1.0), approximate="tanh").data, 6)
    (0.841345, 0.841192)
    """
    if approximate == "none":
        return x * ndtr(x)
    if approximate == "tanh":
        # 0.5 (1 + tanh(u)) is sigmoid(2u) exactly, without the cancellation of 1 + tanh(u) for negative x
        return x * sigmoid((2.0 * math.sqrt(2.0 / math.pi)) * (x + 0.044715 * (x * x * x)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh' (PyTorch's choices), got {approximate!r}")


def softmax(x, dim: int = -1):
    """exp(x) / sum(exp(x)) along `dim` (PyTorch's name for numpy's axis), without overflow."""
    return _softmax(x, axis=dim)


def log_softmax(x, dim: int = -1):
    """log(softmax(x)) along `dim`, computed stably."""
    return _log_softmax(x, axis=dim)


def _normalized_axes(who, x, normalized_shape):
    shape = shape_of(x)
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not ns or len(ns) > len(shape) or tuple(shape[len(shape) - len(ns):]) != ns:
        raise ValueError(f"{who}: normalized_shape {ns} must be the last axes of the input, whose shape is {shape}")
    return tuple(range(-len(ns), 0)), ns


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """(x - mean) / sqrt(var + eps) over the last axes `normalized_shape` (the biased variance, as PyTorch), then
    times `weight` plus `bias` when given.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> layer_norm(Value([1.0, 2.0, 3.0]), 3).data.round(4)
    array([-1.2247,  0.    ,  1.2247])
    """
    axes, _ = _normalized_axes("layer_norm", x, normalized_shape)
    centred = x - mean(x, axis=axes, keepdims=True)
    var = mean(centred * centred, axis=axes, keepdims=True)
    y = centred * (1.0 / sqrt(var + eps))  # PyTorch multiplies by rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_norm(x, normalized_shape, weight=None, eps: float | None = None):
    """x / sqrt(mean(x²) + eps) over the last axes `normalized_shape`, times `weight` when given. As in PyTorch,
    eps=None means the machine epsilon of x's dtype.

    >>> from tinygrad_nn import Value
    >>> rms_norm(Value([3.0, 4.0]), 2).data.round(4)           # divided by sqrt((9 + 16) / 2)
    array([0.8485, 1.1314])
    """
    axes, _ = _normalized_axes("rms_norm", x, normalized_shape)
    if eps is None:
        dtype = x.dtype if isinstance(x, Value) else np.asarray(x).dtype
        eps = float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
    y = x * (1.0 / sqrt(mean(x * x, axis=axes, keepdims=True) + eps))
    return y if weight is None else y * weight


def _indices(who, indices, num):
    idx = np.asarray(data_of(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be integers (token ids), got {idx.dtype}; convert them with "
                        f".astype(np.int64)")
    # A negative id would pick a row from the end, as numpy indexes, where PyTorch refuses it: an id of -1 is
    # a padding or "unknown" marker more often than a wish for the last row.
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(f"{who}: indices must lie in [0, {num}) for {num} embeddings, got values from {idx.min()} "
                         f"to {idx.max()}")
    return idx


def embedding(indices, weight, padding_idx: int | None = None):
    """Rows of `weight` (num_embeddings, embedding_dim) picked by integer `indices` of any shape: the result has
    shape indices.shape + (embedding_dim,). Rows used twice add up their gradients. The row `padding_idx` gets no
    gradient, as in PyTorch.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> w = Value(np.arange(6.0).reshape(3, 2))
    >>> embedding(np.array([[2, 0]]), w).data
    array([[[4., 5.],
            [0., 1.]]])
    """
    num = shape_of(weight)[0]
    idx = _indices("embedding", indices, num)
    rows = weight[idx]
    if padding_idx is not None and isinstance(weight, Value):
        pad = (np.asarray(idx) == padding_idx % num)[..., None]
        if pad.any():  # the padding rows as constants: their gradient stops here
            rows = where(pad, data_of(weight)[idx], rows)
    return rows


def _rng(generator):
    if generator is None:
        return np.random.default_rng()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(generator)
    raise TypeError(f"dropout: generator must be a numpy Generator or a seed, got {type(generator).__name__}")


def dropout(x, p: float = 0.5, training: bool = True, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) when `training` (else x itself),
    as PyTorch's dropout. The mask comes from `generator` (a numpy Generator, or a seed): the same generator
    state gives the same mask.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> dropout(Value(np.ones(6)), 0.5, generator=np.random.default_rng(0)).data
    array([2., 0., 0., 0., 2., 2.])
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    shape, dtype = shape_of(x), (x.dtype if isinstance(x, Value) else np.asarray(x).dtype)
    if p == 1.0:
        return x * np.zeros(shape, dtype)
    keep = _rng(generator).random(shape) >= p
    return x * (keep.astype(dtype) / dtype.type(1.0 - p))


def _causal_mask(length, source):
    # Position i may look at positions 0..i (and, with more keys than queries, as PyTorch aligns them: to the top
    # left corner).
    return np.tril(np.ones((length, source), dtype=bool))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, generator=None):
    """softmax(q kᵀ · scale + mask) v over the last two axes, as PyTorch's F.scaled_dot_product_attention.

    query (..., L, E), key (..., S, E), value (..., S, Ev) give (..., L, Ev); scale defaults to 1/sqrt(E).
    `is_causal=True` lets position i attend to positions <= i only. `attn_mask` is either boolean (True: may
    attend, PyTorch's convention here) or a float mask added to the scores. `dropout_p` drops attention weights
    (pass it only in training).
    """
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both (PyTorch "
                         "refuses the pair too)")
    qs, ks = shape_of(query), shape_of(key)
    if len(qs) < 2 or len(ks) < 2 or qs[-1] != ks[-1]:
        raise ValueError(f"scaled_dot_product_attention: query (..., L, E) and key (..., S, E) must share E, got "
                         f"shapes {qs} and {ks}")
    scale = 1.0 / math.sqrt(qs[-1]) if scale is None else float(scale)
    scores = matmul(query, swapaxes(key, -1, -2)) * scale
    if is_causal:
        attn_mask = _causal_mask(qs[-2], ks[-2])
    if attn_mask is not None:
        mask = np.asarray(data_of(attn_mask)) if not isinstance(attn_mask, Value) else attn_mask
        if isinstance(mask, np.ndarray) and mask.dtype == bool:
            scores = where(mask, scores, -np.inf)
        else:
            scores = scores + mask
    weights = _softmax(scores, axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, True, generator)
    return matmul(weights, value)

