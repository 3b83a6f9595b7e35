"""Dropout, PyTorch's nn.Dropout: active in train() (the default), the identity in eval().

>>> import numpy as np
>>> from tinygrad_nn.nn import Dropout
>>> drop = Dropout(0.5, seed=0)
>>> drop(np.ones(6)).data                     # training: half dropped, the rest doubled
array([2., 0., 0., 0., 2., 2.])
>>> drop.eval()(np.ones(6)).data               # evaluation: nothing changes
array([1., 1., 1., 1., 1., 1.])
"""

from __future__ import annotations

import numpy as np

from ..engine import Value
from . import functional
from .module import Module


class Dropout(Module):
    """Zero each element with probability `p` and scale the others by 1 / (1 - p), in training only.

    The masks come from the module's own numpy Generator, made from `seed` (or given as one): two modules made
    with the same seed drop the same elements call after call, so a training run is reproduced exactly.
    `generator_state()` and `set_generator_state()` save and restore where it is. `inplace` is taken for
    PyTorch's code and changes nothing: no op here overwrites its input's data.

    >>> import numpy as np
    >>> a, b = Dropout(0.25, seed=1), Dropout(0.25, seed=1)
    >>> bool((a(np.ones(8)).data == b(np.ones(8)).data).all())    # the same seed, the same mask
    True
    >>> sorted(set(a(np.ones(1000)).data.tolist()))               # kept elements scaled by 1 / (1 - p)
    [0.0, 1.3333333333333333]
    >>> a.eval()(np.ones(3)).data                                  # eval(): the identity
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, seed=None):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        if not isinstance(inplace, (bool, np.bool_)):
            raise TypeError(f"Dropout: inplace must be True or False, got {inplace!r} (the second argument is "
                            f"inplace, as in PyTorch; give the seed as seed=)")
        self.p, self.inplace = float(p), bool(inplace)
        self.generator = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def forward(self, x):
        if not isinstance(x, Value):
            x = Value(x, requires_grad=False)
        return functional.dropout(x, self.p, self.training, self.generator)

    def generator_state(self) -> dict:
        """Where the mask generator is (a dict of plain data): restore it to draw the same masks again."""
        return self.generator.bit_generator.state

    def set_generator_state(self, state: dict):
        self.generator.bit_generator.state = state

    def __repr__(self):
        return f"Dropout(p={self.p})"
