"""Embedding: a table of vectors looked up by integer ids, PyTorch's nn.Embedding.

>>> import numpy as np
>>> from tinygrad_nn.nn import Embedding
>>> emb = Embedding(27, 8, seed=0)           # 27 characters, 8 numbers each
>>> emb(np.array([[0, 5, 5, 1]])).shape      # (batch, time) ids -> (batch, time, 8)
(1, 4, 8)
"""

from __future__ import annotations

import numpy as np

from ..engine import Value
from . import functional
from .layers import _check_dtype, _rng, _size
from .module import Module


class Embedding(Module):
    """`weight` (num_embeddings, embedding_dim), drawn from N(0, 1) as PyTorch draws it; `padding_idx`'s row
    starts at zero and gets no gradient. The input is integer ids of any shape.

    >>> import numpy as np
    >>> emb = Embedding(10, 3, padding_idx=0, seed=0)
    >>> out = emb(np.array([[0, 4], [4, 4]]))        # (2, 2) ids -> (2, 2, 3) vectors
    >>> out.shape, out.data[0, 0].tolist()          # padding_idx's row is zero
    ((2, 2, 3), [0.0, 0.0, 0.0])
    >>> out.sum().backward(); emb.weight.grad[[0, 4]].tolist()   # row 4 was used three times
    [[0.0, 0.0, 0.0], [3.0, 3.0, 3.0]]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *, seed=None,
                 dtype=np.float64):
        self.num_embeddings = _size(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _size(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must lie in [-{num_embeddings}, {num_embeddings}), got "
                                 f"{padding_idx}")
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        dtype = _check_dtype(dtype, "Embedding")
        w = _rng(seed).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        if padding_idx is not None:
            w[padding_idx] = 0.0
        self.weight = Value(w)

    def forward(self, indices):
        return functional.embedding(indices, self.weight, self.padding_idx)

    def __repr__(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{pad})"
