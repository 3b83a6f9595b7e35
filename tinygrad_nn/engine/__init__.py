"""The engine: the graph node `Value`, the one place ops run, and the backward pass. docs/engine.md has the map.

    modes.py      grad mode, mode blocks, the hooks (anomaly detection, jit), the creation counter
    fastpaths.py  the switch of the speed-only paths (same bits either way)
    links.py      how the node reaches the ops and the backward pass, which import it
    methods.py    the methods of Value that run ops (x.exp(), x.sum(), x - y), grouped as mixins
    node.py       Value, and _node: the one function that builds a node
    apply.py      apply: the one place an op runs
    op.py         Op, OPS, defop: the op table
    core_ops.py   sum_to, broadcast_to, identity: the ops the engine itself needs
    stale.py      stale graphs: a leaf changed in place after a graph was built from it
    backward.py   the backward pass: walk, the rules (run_rules), deposit; gradients

tinygrad_nn/micro.py is the same engine for scalars in micrograd's shape, for reading first.
"""

from . import backward, fastpaths, links, modes
from .apply import apply
from .backward import gradients
from .modes import enable_grad, is_grad_enabled, no_grad
from .node import Value, data_of, holds_values, shape_of, to_payload
from .op import OPS, Op, defop
from .stale import mark_changed

__all__ = ["OPS", "Op", "Value", "apply", "backward", "data_of", "defop", "enable_grad", "fastpaths", "gradients",
           "holds_values", "is_grad_enabled", "links", "mark_changed", "modes", "no_grad", "shape_of", "to_payload"]
