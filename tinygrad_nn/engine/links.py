"""The two things the node calls but cannot import, because they import it: the ops and the backward pass.

`Value`'s methods (`x.exp()`, `x - y`, `x.backward()`) call `ops.exp`, `ops.sub`, `backward.backprop`. The modules
that define those, `tinygrad_nn.ops` and `engine/backward.py`, import the node to build nodes, so the node cannot
import them without a circle. Instead each one, as the last thing it does when imported, links itself here
(`link(ops, module)`), before any Value can call it; `tinygrad_nn/__init__.py` imports both. The names are then
ordinary attributes: a call costs one attribute lookup, as a module's would.

>>> from tinygrad_nn.engine import links
>>> links.ops.exp.name, links.backward.backprop.__module__
('exp', 'tinygrad_nn.engine.backward')
"""

from __future__ import annotations


class _Namespace:
    """The names of one module, once it has linked itself. (No __getattr__ for a friendlier error: a class with one
    makes every lookup here take the slow path, and `ops.add` runs for every scalar `+`.)"""

    def __init__(self, module_name):
        self.module_name = module_name

    def __repr__(self):
        return f"<the names of {self.module_name}, linked into the engine>"


ops = _Namespace("tinygrad_nn.ops")
backward = _Namespace("tinygrad_nn.engine.backward")


def link(namespace: _Namespace, module):
    """Make the public names of `module` (and the ones the engine uses) attributes of `namespace`."""
    namespace.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
