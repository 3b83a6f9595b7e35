"""ONNX out: `export(model_or_function, example_inputs, path)` writes the forward graph as an ONNX model.

ONNX is what onnxruntime, browsers and phones run. The exporter runs the forward pass once on the example
inputs, walks the graph it recorded (the same nodes `backward()` walks) and writes one ONNX node, or a few,
per op: the table is in `tinygrad_nn/onnx/ops.py`. Parameters become initializers under their `state_dict`
names, anything computed from constants alone is folded into an initializer, and the model is checked with
`onnx.checker` before a byte is written (atomically, as `save` writes). Shapes are those of the example inputs.
Integer example inputs (token ids into an embedding) stay graph inputs when an index uses them.

Needs the `onnx` package: ``pip install "tinygrad_nn[onnx]"``.

>>> import os, tempfile
>>> import numpy as np
>>> from tinygrad_nn.nn import MLP
>>> from tinygrad_nn.onnx import export
>>> net = MLP(12, [3, 2], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "book.onnx")
>>> model = export(net, np.zeros((1, 12)), path)
>>> [node.op_type for node in model.graph.node]
['Transpose', 'MatMul', 'Add', 'Sigmoid', 'Transpose', 'MatMul', 'Add', 'Sigmoid']
"""

from .export import UnsupportedOpError, export
from .ops import SUPPORTED

__all__ = ["SUPPORTED", "UnsupportedOpError", "export"]
