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

import types


def _namespace(module_name):
    # A module object, not an instance of a class: `ops.add` then takes the interpreter's fast path for module
    # attributes, and Value.__add__ reads it for every scalar `+`.
    return types.ModuleType(f"{__name__}.{module_name}", f"The names of {module_name}, linked into the engine.")


ops = _namespace("tinygrad_nn.ops")
backward = _namespace("tinygrad_nn.engine.backward")


def link(namespace: types.ModuleType, module):
    """Make the public names of `module` (and the ones the engine uses) attributes of `namespace`."""
    namespace.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
