"""`Module`: the base of everything with parameters. It finds its parameters by itself: any Value
attribute that requires a gradient, any Module attribute, and lists or tuples of Modules, named as
PyTorch names them (`layers.0.weight`).

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.nn import Module
>>> class Line(Module):
...     def __init__(self):
...         self.slope = Value(2.0)
...         self.offset = Value(np.zeros(1))
...     def forward(self, x):
...         return self.slope * x + self.offset
>>> [name for name, _ in Line().named_parameters()]
['slope', 'offset']
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..engine import Value


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define `forward`."""

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- parameters ---------------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        seen = set()
        for name, p in self._walk(prefix):
            if p not in seen:  # a parameter shared by two sub-modules is listed once
                seen.add(p)
                yield name, p

    def _walk(self, prefix):
        for key, attr in vars(self).items():
            name = f"{prefix}{key}"
            if isinstance(attr, Value):
                if attr.requires_grad and attr.is_leaf:
                    yield name, attr
            elif isinstance(attr, Module):
                yield from attr._walk(name + ".")
            elif isinstance(attr, (list, tuple)):
                for i, item in enumerate(attr):
                    if isinstance(item, Module):
                        yield from item._walk(f"{name}.{i}.")
                    elif isinstance(item, Value) and item.requires_grad and item.is_leaf:
                        yield f"{name}.{i}", item

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    # -- saving and loading -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's payload as a numpy array (0-d for a scalar parameter)."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict, strict: bool = True):
        """Copy arrays into the parameters. With strict=True, missing or unexpected names are refused;
        a wrong shape is always refused. Nothing is changed unless every check passes."""
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing {missing}, unexpected {unexpected}; "
                           f"the state must come from a {type(self).__name__} of the same architecture "
                           f"(or pass strict=False to load what matches)")
        # Every value is converted to its parameter's dtype and checked before the first one is assigned:
        # never a half-loaded model, whatever fails (a shape, a dtype, a value too large for float32).
        updates = []
        for name, p in params.items():
            if name not in state:
                continue
            new = state[name]
            if isinstance(new, Value):
                new = new.data
            new = np.asarray(new)
            if new.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict: {name} holds dtype {new.dtype}; expected real numbers")
            if new.shape != p.shape:
                raise ValueError(f"load_state_dict: {name} has shape {p.shape} here but {new.shape} in the state; "
                                 f"the layer sizes differ")
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below, whatever the caller's errstate
                converted = new.astype(p.dtype)
            if not np.array_equal(np.isfinite(converted), np.isfinite(new)):
                raise ValueError(f"load_state_dict: {name} holds values that do not fit {p.dtype} (largest "
                                 f"magnitude {np.max(np.abs(new[np.isfinite(new)])):.3g}); they would become inf")
            updates.append((p, converted))
        for p, new in updates:
            if p.data.__class__ is float:
                p.data = float(new)
            else:
                p.data[...] = new

    def __repr__(self):
        return f"{type(self).__name__}()"
