"""Trace the forward pass, walk its graph in creation order, and write each op through the table in ops.py."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from .._files import replacing
from ..engine import Value, enable_grad

OPSET = 18  # ReduceMax and ReduceLogSumExp take their axes as an input from 18 on, as ReduceSum does from 13
IR_VERSION = 10  # what onnxruntime 1.17 and later read


class UnsupportedOpError(RuntimeError):
    """An op of the traced graph has no ONNX counterpart in the exporter's table (tinygrad_nn/onnx/ops.py).

    >>> import numpy as np
    >>> import tinygrad_nn
    >>> try:
    ...     export(lambda x: tinygrad_nn.cumprod(x, axis=0), np.ones((2, 2)))
    ... except UnsupportedOpError as e:
    ...     print(str(e)[:60])
    onnx.export: the op 'cumprod' (output shape (2, 2)) has no O
    """


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('tinygrad_nn.onnx needs the onnx package: pip install "tinygrad_nn[onnx]"') from None
    return onnx


class GraphBuilder:
    """The ONNX graph under construction: nodes, initializers and fresh names. The emitters in ops.py call
    `node`, `const` and `cast`; `name_of` gives the ONNX name of a traced Value."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.initializers = [], []
        self.constants = {}  # initializer name -> its array (emitters re-type constants instead of casting)
        self.names = {}  # id(Value) -> ONNX name
        self.index_inputs = {}  # id(integer example array) -> graph input name
        self.used_index_inputs = set()  # the names of those an index read
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def node(self, op_type: str, inputs, **attributes) -> str:
        out = self.fresh(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], **attributes))
        return out

    def const(self, array, hint: str = "const") -> str:
        array = np.asarray(array)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        self.constants[name] = array
        return name

    def ints(self, values, hint: str = "ints") -> str:
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    def cast(self, name: str, from_dtype, to_dtype) -> str:
        """`name` as `to_dtype`: a constant is re-typed in place of a Cast node."""
        if np.dtype(from_dtype) == np.dtype(to_dtype):
            return name
        if name in self.constants:
            return self.const(self.constants[name].astype(to_dtype), "const")
        return self.node("Cast", [name], to=self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(to_dtype)))

    def name_of(self, v) -> str:
        return self.names[id(v)]

    def value_info(self, name, dtype, shape):
        elem = self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        return self.onnx.helper.make_tensor_value_info(name, elem, list(shape))


def _creation_order(outputs, stop):
    """Every node the outputs depend on, inputs before the nodes made from them (an iterative walk: a chain
    of 10,000 ops must not hit Python's recursion limit)."""
    order, seen = [], set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                order.append(v)
                continue
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.append((v, True))
            if id(v) not in stop:
                stack.extend((p, False) for p in reversed(v._prev))
    return order


class _evaluating:
    """Within it, a Module and every module inside it are in eval() mode; their own modes come back after."""

    def __init__(self, model):
        modules = model.modules() if hasattr(model, "modules") and hasattr(model, "training") else ()
        self.modes = [(m, m.training) for m in modules]

    def __enter__(self):
        for m, _ in self.modes:
            m.training = False

    def __exit__(self, *exc):
        for m, mode in self.modes:
            m.training = mode


def _flat(result) -> list:
    """The outputs in order, nested tuples and lists opened (an LSTM returns (output, (h_n, c_n)))."""
    if isinstance(result, (tuple, list)):
        return [out for item in result for out in _flat(item)]
    return [result]


def _as_traced_input(x, i):
    """A float example becomes a fresh leaf that records; an integer array stays an array (an index)."""
    if isinstance(x, Value):
        x = x.data
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Value(float(x))
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return arr
    if arr.dtype.kind != "f":
        raise TypeError(f"onnx.export: example input {i} has dtype {arr.dtype}; give float arrays (or integer "
                        f"arrays used as indices, such as token ids)")
    return Value(arr)


def export(model_or_function, example_inputs, path=None, *, input_names=None, output_names=None,
           check: bool = True):
    """Trace `model_or_function(*example_inputs)` and return its forward graph as an `onnx.ModelProto`,
    written to `path` when one is given (atomically; the model passes `onnx.checker` first).

    `example_inputs` is one input or a tuple of them: float arrays (or Values, or numbers) become graph
    inputs of that shape and dtype; an integer array stays an input where the model indexes with it (an
    embedding's token ids). A Module's parameters keep their `state_dict` names. An op with no ONNX form
    raises `UnsupportedOpError` naming it.

    A Module is traced in eval() mode, as torch.onnx.export does by default, and put back in its modes after:
    traced in training, a Dropout would freeze the one random mask it drew into the exported model. Nested
    results, such as an LSTM's (output, (h_n, c_n)), become the outputs in order (output_0, output_1, ...).

    >>> import numpy as np
    >>> model = export(lambda x: (x * 2.0).tanh().sum(axis=1), np.zeros((4, 3)))
    >>> [node.op_type for node in model.graph.node]
    ['Mul', 'Tanh', 'ReduceSum']
    """
    onnx = _require_onnx()
    from .ops import SUPPORTED, emit

    examples = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    traced = [_as_traced_input(x, i) for i, x in enumerate(examples)]
    in_names = list(input_names) if input_names is not None else [f"input_{i}" for i in range(len(traced))]
    if len(in_names) != len(traced):
        raise ValueError(f"onnx.export: {len(in_names)} input names for {len(traced)} example inputs")

    if not callable(model_or_function):
        raise TypeError(f"onnx.export: the model must be a Module or a function of Values, got "
                        f"{type(model_or_function).__name__}")
    param_names = {}
    if hasattr(model_or_function, "named_parameters"):
        param_names = {id(p): name for name, p in model_or_function.named_parameters()}
    with enable_grad(), _evaluating(model_or_function):
        result = model_or_function(*traced)
    outputs = _flat(result)
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TypeError(f"onnx.export: output {i} is a {type(out).__name__}, not a Value computed from the "
                            f"inputs; return Values (a tuple of them for several outputs)")
    out_names = list(output_names) if output_names is not None else [f"output_{i}" for i in range(len(outputs))]
    if len(out_names) != len(outputs):
        raise ValueError(f"onnx.export: {len(out_names)} output names for {len(outputs)} outputs")

    g = GraphBuilder(onnx)
    graph_inputs = []
    for x, name in zip(traced, in_names):
        if isinstance(x, Value):
            g.names[id(x)] = name
            graph_inputs.append(g.value_info(name, x.dtype, x.shape))
        else:
            g.index_inputs[id(x)] = name
            graph_inputs.append(g.value_info(name, x.dtype, x.shape))

    for v in _creation_order(outputs, stop=g.names):
        if id(v) in g.names:
            continue
        if v._op is None:  # a leaf: a parameter under its name, or a constant
            data = v.data if v.data.__class__ is not float else np.asarray(v.data)
            name = param_names.get(id(v))
            if name is None:
                name = g.const(data, "const")
            else:
                g.initializers.append(onnx.numpy_helper.from_array(np.asarray(data), name))
            g.names[id(v)] = name
            continue
        if v.op not in SUPPORTED:
            raise UnsupportedOpError(
                f"onnx.export: the op {v.op!r} (output shape {v.shape}) has no ONNX counterpart here; the exporter "
                f"writes {', '.join(sorted(SUPPORTED))}. Compose the model from those ops, or export the part "
                f"without {v.op!r}")
        g.names[id(v)] = emit(g, v, [g.name_of(p) for p in v._prev])

    unused = [name for x, name in zip(traced, in_names) if not isinstance(x, Value) and name not in g.used_index_inputs]
    if unused:
        raise ValueError(f"onnx.export: the integer input(s) {unused} are not used as an index by the model, so "
                         f"the exported graph could not take them; give float inputs as float arrays")

    graph_outputs, nodes = [], g.nodes
    for out, name in zip(outputs, out_names):
        nodes.append(onnx.helper.make_node("Identity", [g.name_of(out)], [name]))
        graph_outputs.append(g.value_info(name, out.dtype, out.shape))
    used = {name for node in nodes for name in node.input}
    initializers = [t for t in g.initializers if t.name in used]  # constants re-typed by `cast` drop their original
    graph = onnx.helper.make_graph(nodes, "tinygrad_nn", graph_inputs, graph_outputs, initializers)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   ir_version=IR_VERSION, producer_name="tinygrad_nn")
    _drop_output_identities(model)
    if check:
        onnx.checker.check_model(model, full_check=True)
    if path is not None:
        _write(model, path)
    return model


def _drop_output_identities(model):
    """An output's Identity is needed only when its source is an input, an initializer, another output or
    used elsewhere: otherwise the node that makes the value writes the output name directly."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    producer = {out: node for node in graph.node for out in node.output}
    uses = Counter(name for node in graph.node for name in node.input)
    keep = []
    for node in graph.node:
        source = node.input[0] if node.op_type == "Identity" else None
        if node.output[0] in outputs and source in producer and uses[source] == 1 and source not in outputs:
            made = producer[source]
            made.output[list(made.output).index(source)] = node.output[0]
            continue
        keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)


def _write(model, path):
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"onnx.export: the folder {folder} does not exist; create it first")
    with replacing(path) as f:
        f.write(model.SerializeToString())
