"""The op table, re-exported: `Op`, `OPS`, `defop`, `composite`, `Facts` and `NoNode` live in engine/op.py, beside
the engine that runs them; the ops' modules import them from here.

To add an op, see `defop` (engine/op.py) and examples/custom_op.py; its test entry goes in tinygrad_nn/testing.
"""

from ..engine.op import OPS, Facts, NoNode, Op, _replacing, composite, defop, doctests

__all__ = ["OPS", "Facts", "NoNode", "Op", "_replacing", "composite", "defop", "doctests"]
