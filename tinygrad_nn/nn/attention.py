"""Multi-head attention, PyTorch's nn.MultiheadAttention: its parameters (names, shapes, initialisation), its
arguments and its results; the arithmetic is scaled_dot_product_attention (tinygrad_nn.nn.functional).

>>> import numpy as np
>>> from tinygrad_nn.nn import MultiheadAttention
>>> mha = MultiheadAttention(8, 2, batch_first=True, seed=0)
>>> x = np.random.default_rng(0).normal(size=(3, 5, 8))            # 3 sequences of 5 positions
>>> out, weights = mha(x, x, x, is_causal=True)
>>> out.shape, weights.shape
((3, 5, 8), (3, 5, 5))
>>> [name for name, _ in mha.named_parameters()]
['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
"""

from __future__ import annotations

import numpy as np

from ..engine import Value, data_of, shape_of
from ..ops import linear, matmul, mean, reshape, softmax, swapaxes, transpose
from . import functional
from .layers import Linear, _check_dtype, _rng, _size
from .module import Module


class MultiheadAttention(Module):
    """Attention with `num_heads` heads over `embed_dim` features, PyTorch's arguments:
    MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) returns (output, weights): the inputs are (L, N, E) (or
    (N, L, E) with batch_first, or (L, E) unbatched), the weights (N, L, S) averaged over the heads (or per head
    (N, heads, L, S)), None when need_weights=False. As in PyTorch, a boolean `attn_mask` or `key_padding_mask`
    marks with True what may NOT be attended to (the opposite of scaled_dot_product_attention's boolean mask);
    a float mask is added to the scores. `is_causal=True` alone builds the causal mask.

    >>> import numpy as np
    >>> mha = MultiheadAttention(4, 2, seed=0)
    >>> x = np.random.default_rng(1).normal(size=(3, 4))          # unbatched: 3 positions, 4 features
    >>> out, w = mha(x, x, x, is_causal=True)
    >>> out.shape, w.data.round(3)[0].tolist()                    # position 0 sees only itself
    ((3, 4), [1.0, 0.0, 0.0])
    >>> w.data.sum(axis=-1).round(12).tolist()                    # each row of weights sums to 1
    [1.0, 1.0, 1.0]
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, *, seed=None, dtype=np.float64):
        self.embed_dim = _size(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = _size(num_heads, "num_heads", "MultiheadAttention")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        if isinstance(dropout, bool) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        dtype = _check_dtype(dtype, "MultiheadAttention")
        rng = _rng(seed)
        # PyTorch: xavier_uniform_ on the stacked (3E, E) projection, zero biases, out_proj as a Linear whose
        # bias is then zeroed.
        bound = np.sqrt(6.0 / (embed_dim + 3 * embed_dim))
        self.in_proj_weight = Value(rng.uniform(-bound, bound, (3 * embed_dim, embed_dim)).astype(dtype))
        self.in_proj_bias = Value(np.zeros(3 * embed_dim, dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, seed=rng, dtype=dtype)
        if bias:
            self.out_proj.bias.data[...] = 0.0
        self._generator = rng  # for attention dropout

    def _project(self, x, i):
        e = self.embed_dim
        w = self.in_proj_weight[i * e:(i + 1) * e]
        if self.in_proj_bias is None:
            return matmul(x, transpose(w))
        return linear(x, w, self.in_proj_bias[i * e:(i + 1) * e])

    def _mask(self, attn_mask, key_padding_mask, is_causal, length, source, n):
        """One float mask (0 or -inf, or the given floats), broadcastable to (N, heads, L, S), or None."""
        total = None
        if attn_mask is None and is_causal:
            attn_mask = ~np.tril(np.ones((length, source), dtype=bool))
        for m, shape_ok in ((attn_mask, True), (key_padding_mask, False)):
            if m is None:
                continue
            m = np.asarray(data_of(m))
            if shape_ok and m.shape not in ((length, source), (n * self.num_heads, length, source)):
                raise ValueError(f"MultiheadAttention: attn_mask must have shape ({length}, {source}) or "
                                 f"({n * self.num_heads}, {length}, {source}) (batch * num_heads, L, S), got "
                                 f"{m.shape}")
            if not shape_ok:  # (N, S) -> (N, 1, 1, S)
                if m.shape != (n, source) and m.shape != (source,):
                    raise ValueError(f"MultiheadAttention: key_padding_mask must have shape ({n}, {source}), got "
                                     f"{m.shape}")
                m = m.reshape(m.shape[:-1] + (1, 1, source)) if m.ndim == 2 else m
            elif m.ndim == 3:  # (N * heads, L, S) -> (N, heads, L, S)
                m = m.reshape(n, self.num_heads, length, source)
            f = np.where(m, -np.inf, 0.0) if m.dtype == bool else m.astype(np.float64)
            total = f if total is None else total + f
        return total

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        in_shapes = [shape_of(t) for t in (query, key, value)]
        batched = len(in_shapes[0]) == 3
        if not batched and len(in_shapes[0]) != 2:
            raise ValueError(f"MultiheadAttention: query must be (L, N, E), (N, L, E) with batch_first, or (L, E); "
                             f"got shape {shape_of(query)}")
        if not batched:
            query, key, value = (reshape(t, shape=(1,) + shape_of(t)) for t in (query, key, value))
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = (swapaxes(t, 0, 1) for t in (query, key, value))
        n, length, e = shape_of(query)
        source = shape_of(key)[1]
        if e != self.embed_dim:
            raise ValueError(f"MultiheadAttention: the inputs end in {e} features, the module has embed_dim "
                             f"{self.embed_dim}")
        if shape_of(key) != (n, source, e) or shape_of(value) != (n, source, e):
            order = "(N, S, E)" if self.batch_first else "(S, N, E)"
            raise ValueError(f"MultiheadAttention: key and value must be {order} with the query's batch and E "
                             f"(one source length S for both), got query {in_shapes[0]}, key {in_shapes[1]}, "
                             f"value {in_shapes[2]}")
        h, d = self.num_heads, self.embed_dim // self.num_heads

        def heads(x, size):  # (N, T, E) -> (N, heads, T, d)
            return swapaxes(reshape(x, shape=(n, size, h, d)), 1, 2)

        q, k, v = heads(self._project(query, 0), length), heads(self._project(key, 1), source), \
            heads(self._project(value, 2), source)
        scores = matmul(q, swapaxes(k, -1, -2)) * (1.0 / np.sqrt(d))
        mask = self._mask(attn_mask, key_padding_mask, is_causal, length, source, n)
        if mask is not None:
            scores = scores + mask.astype(scores.dtype)  # -inf where masked: softmax gives 0 there, and no gradient
        weights = softmax(scores, axis=-1)
        dropped = functional.dropout(weights, self.dropout, self.training, self._generator) if self.dropout else weights
        out = reshape(swapaxes(matmul(dropped, v), 1, 2), shape=(n, length, self.embed_dim))
        out = self.out_proj(out)
        if not batched:
            out = reshape(out, shape=(length, self.embed_dim))
        elif not self.batch_first:
            out = swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = mean(weights, axis=1)
        if not batched:
            weights = reshape(weights, shape=shape_of(weights)[1:])
        return out, weights

    def __repr__(self):
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first})")
