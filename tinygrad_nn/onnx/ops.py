"""The exporter's table: for each op of tinygrad_nn, the ONNX node (or few) that computes the same thing.

An emitter is ``emit(g, v, ins) -> name``: `g` the GraphBuilder, `v` the traced node (its inputs `v._prev`,
its static parameters `v._params`, its shape and dtype), `ins` the ONNX names of its inputs. ONNX wants
both operands of an arithmetic node in one dtype where numpy promotes, so binary ops cast to the result's.
"""

from __future__ import annotations

import math

import numpy as np


def _params(v) -> dict:
    return v._params or {}


def _dtype(x):
    return x.dtype


def _same_dtype(g, v, ins):
    """The inputs cast to v's dtype (numpy promoted them; ONNX wants them equal)."""
    return [g.cast(name, _dtype(x), v.dtype) for name, x in zip(ins, v._prev)]


def _elementwise(op_type):
    def emit(g, v, ins):
        return g.node(op_type, _same_dtype(g, v, ins))
    return emit


def _scalar(g, v, number):
    return g.const(np.asarray(number, dtype=v.dtype))


def _composed(build):
    """An op written as a few ONNX nodes: build(g, v, x) with x the input cast to v's dtype."""
    def emit(g, v, ins):
        return build(g, v, *_same_dtype(g, v, ins))
    return emit


def _step(g, v, x):
    return g.node("Cast", [g.node("GreaterOrEqual", [x, _scalar(g, v, 0.0)])],
                  to=g.onnx.helper.np_dtype_to_tensor_dtype(v.dtype))


def _round(g, v, x):
    if _params(v).get("decimals", 0) != 0:
        raise _unsupported(v, "round with decimals other than 0")
    return g.node("Round", [x])  # ONNX rounds half to even, as numpy does


def _unsupported(v, what):
    from .export import UnsupportedOpError

    return UnsupportedOpError(f"onnx.export: {v.op}: {what} has no ONNX counterpart here")


def _axes_input(g, axis, ndim):
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return g.ints([a % ndim for a in axes], "axes")


def _reduce(op_type):
    def emit(g, v, ins):
        x = v._prev[0]
        if len(x.shape) == 0:  # a scalar reduced over nothing
            return g.node("Identity", ins)
        p = _params(v)
        axes = _axes_input(g, p.get("axis"), len(x.shape))
        inputs = [ins[0]] if axes is None else [ins[0], axes]
        return g.node(op_type, inputs, keepdims=int(bool(p.get("keepdims", False))))
    return emit


def _softmax_like(op_type):
    def emit(g, v, ins):
        return g.node(op_type, ins, axis=_params(v).get("axis", -1) % max(len(v.shape), 1))
    return emit


def _matmul(g, v, ins):
    return g.node("MatMul", _same_dtype(g, v, ins))


def _linear(g, v, ins):
    x, w, b = _same_dtype(g, v, ins)
    return g.node("Add", [g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])]), b])


def _einsum(g, v, ins):
    return g.node("Einsum", _same_dtype(g, v, ins), equation=_params(v)["subscripts"].replace(" ", ""))


def _reshape(g, v, ins):
    return g.node("Reshape", [ins[0], g.ints(v.shape, "shape")])


def _transpose(g, v, ins):
    axes = _params(v).get("axes")
    n = len(v.shape)
    perm = list(range(n))[::-1] if axes is None else [a % n for a in axes]
    return g.node("Transpose", ins, perm=perm)


def _broadcast_to(g, v, ins):
    return g.node("Expand", [ins[0], g.ints(v.shape, "shape")])


def _sum_to(g, v, ins):
    src, want = v._prev[0].shape, v.shape
    lead = len(src) - len(want)
    axes = list(range(lead)) + [lead + i for i, n in enumerate(want) if n == 1 and src[lead + i] != 1]
    if not axes:
        return g.node("Reshape", [ins[0], g.ints(want, "shape")])
    summed = g.node("ReduceSum", [ins[0], g.ints(axes, "axes")], keepdims=1)
    return g.node("Reshape", [summed, g.ints(want, "shape")])


def _concatenate(g, v, ins):
    axis = _params(v).get("axis", 0)
    if axis is None:
        raise _unsupported(v, "concatenate with axis=None")
    return g.node("Concat", _same_dtype(g, v, ins), axis=axis % len(v.shape))


def _astype(g, v, ins):
    return g.node("Cast", ins, to=g.onnx.helper.np_dtype_to_tensor_dtype(v.dtype))


def _clip(g, v, ins):
    p = _params(v)
    lo, hi = p.get("lo"), p.get("hi")
    bounds = ["" if b is None else _scalar(g, v, b) for b in (lo, hi)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return g.node("Clip", [ins[0], *bounds])


def _where(g, v, ins):
    cond = g.const(np.asarray(_params(v)["cond"]).astype(bool), "cond")
    a, b = _same_dtype(g, v, ins)
    return g.node("Where", [cond, a, b])


def _pair(p):
    return list(p) if isinstance(p, (tuple, list)) else [p, p]


def _conv2d(g, v, ins):
    x, w, b = v._prev
    p = _params(v)
    pads = _pair(p.get("padding", 0))
    inputs = [g.cast(ins[0], x.dtype, v.dtype), g.cast(ins[1], w.dtype, v.dtype)]
    if not (b.data.__class__ is float and b.data == 0.0 and b._op is None):  # no bias: conv2d passes 0.0
        inputs.append(g.cast(ins[2], b.dtype, v.dtype))
    return g.node("Conv", inputs, strides=_pair(p.get("stride", 1)), pads=pads + pads)


def _max_pool2d(g, v, ins):
    p = _params(v)
    return g.node("MaxPool", ins, kernel_shape=_pair(p["kernel"]), strides=_pair(p["stride"]))


# ---- indexing: basic indices (ints, slices, None, ...) as Slice, Squeeze and Unsqueeze; one integer array
# along one axis (an embedding's lookup) as Gather.

INT64_MIN = -(2 ** 63)


def _expand_ellipsis(parts, ndim):
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    out = []
    for p in parts:
        if p is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(p)
    if not any(p is Ellipsis for p in parts):
        out.extend([slice(None)] * (ndim - consumed))
    return out


def _index_array(g, v, array):
    """An integer index array: the graph input it came from, or a constant."""
    name = g.index_inputs.get(id(array))
    if name is not None:
        g.used_index_inputs.add(name)
        return g.cast(name, array.dtype, np.int64)
    return g.const(array.astype(np.int64), "index")


def _getitem(g, v, ins):
    shape = v._prev[0].shape
    index = _params(v)["index"]
    parts = list(index) if isinstance(index, tuple) else [index]
    parts = [np.asarray(p) if isinstance(p, list) else p for p in parts]
    parts = [np.nonzero(p)[0] if isinstance(p, np.ndarray) and p.dtype == bool and p.ndim == 1 else p
             for p in parts]
    arrays = [p for p in parts if isinstance(p, np.ndarray) and p.ndim > 0]
    if arrays:
        full = _expand_ellipsis(parts, len(shape))
        where = [i for i, p in enumerate(full) if isinstance(p, np.ndarray)]
        others_full = all(isinstance(p, slice) and p == slice(None) for i, p in enumerate(full) if i not in where)
        if len(arrays) == 1 and others_full and arrays[0].dtype.kind in "iu" and not any(p is None for p in full):
            return g.node("Gather", [ins[0], _index_array(g, v, arrays[0])], axis=where[0])
        raise _unsupported(v, f"indexing with {index!r} (only one integer array along one axis, the rest ':')")
    full = _expand_ellipsis(parts, len(shape))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for p in full:
        if p is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        n = shape[axis]
        if isinstance(p, slice):
            if p != slice(None):
                start, stop, step = p.indices(n)
                if step < 0 and stop < 0:
                    stop = INT64_MIN  # run to the front: -1 would mean the last element
                starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
            out_axis += 1
        else:  # an int: a one-wide slice, squeezed below
            i = int(p) % n
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1)
            squeeze.append(axis)
        axis += 1
    out = ins[0]
    if axes:
        out = g.node("Slice", [out, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"),
                               g.ints(steps, "steps")])
    if squeeze:
        out = g.node("Squeeze", [out, g.ints(squeeze, "axes")])
    if unsqueeze:
        out = g.node("Unsqueeze", [out, g.ints(unsqueeze, "axes")])
    return out if out != ins[0] else g.node("Identity", [out])


def _norm_root(g, v, x):
    p = _params(v)["p"]
    return g.node("Sqrt", [x]) if p == 2 else g.node("Pow", [x, _scalar(g, v, 1.0 / p)])


def _logaddexp(base):
    """log(e^a + e^b) as m + log(e^(a-m) + e^(b-m)) with m = max(a, b): no overflow (base 2 for logaddexp2)."""
    def build(g, v, a, b):
        m = g.node("Max", [a, b])
        if base == 2.0:
            ln2 = _scalar(g, v, math.log(2.0))
            exp = lambda d: g.node("Exp", [g.node("Mul", [g.node("Sub", [d, m]), ln2])])  # noqa: E731
            total = g.node("Add", [exp(a), exp(b)])
            return g.node("Add", [m, g.node("Div", [g.node("Log", [total]), ln2])])
        total = g.node("Add", [g.node("Exp", [g.node("Sub", [a, m])]), g.node("Exp", [g.node("Sub", [b, m])])])
        return g.node("Add", [m, g.node("Log", [total])])
    return build


def _hypot(g, v, a, b):
    return g.node("Sqrt", [g.node("Add", [g.node("Mul", [a, a]), g.node("Mul", [b, b])])])


def _remainder(g, v, a, b):
    # numpy's remainder takes the divisor's sign: a - floor(a / b) * b (ONNX's Mod on floats is C's fmod).
    return g.node("Sub", [a, g.node("Mul", [g.node("Floor", [g.node("Div", [a, b])]), b])])


def _cumsum(g, v, ins):
    axis = _params(v)["axis"]
    return g.node("CumSum", [ins[0], g.const(np.asarray(axis % len(v.shape), dtype=np.int64))])


def _binary(build):
    def emit(g, v, ins):
        return build(g, v, *_same_dtype(g, v, ins))
    return emit


TABLE = {
    "add": _elementwise("Add"), "sub": _elementwise("Sub"), "mul": _elementwise("Mul"), "div": _elementwise("Div"),
    "pow": _elementwise("Pow"), "maximum": _elementwise("Max"), "minimum": _elementwise("Min"),
    "add_n": _elementwise("Sum"),
    "neg": _elementwise("Neg"), "exp": _elementwise("Exp"), "log": _elementwise("Log"), "sqrt": _elementwise("Sqrt"),
    "abs": _elementwise("Abs"), "reciprocal": _elementwise("Reciprocal"), "sigmoid": _elementwise("Sigmoid"),
    "tanh": _elementwise("Tanh"), "relu": _elementwise("Relu"), "sin": _elementwise("Sin"),
    "cos": _elementwise("Cos"), "tan": _elementwise("Tan"), "arcsin": _elementwise("Asin"),
    "arccos": _elementwise("Acos"), "arctan": _elementwise("Atan"), "sinh": _elementwise("Sinh"),
    "cosh": _elementwise("Cosh"), "arcsinh": _elementwise("Asinh"), "arccosh": _elementwise("Acosh"),
    "arctanh": _elementwise("Atanh"), "floor": _elementwise("Floor"), "ceil": _elementwise("Ceil"),
    "sign": _elementwise("Sign"), "identity": _elementwise("Identity"),
    "erf": _elementwise("Erf"),
    "erfc": _composed(lambda g, v, x: g.node("Sub", [_scalar(g, v, 1.0), g.node("Erf", [x])])),
    "ndtr": _composed(lambda g, v, x: g.node("Mul", [_scalar(g, v, 0.5), g.node(
        "Add", [_scalar(g, v, 1.0), g.node("Erf", [g.node("Mul", [x, _scalar(g, v, math.sqrt(0.5))])])])])),
    "expm1": _composed(lambda g, v, x: g.node("Sub", [g.node("Exp", [x]), _scalar(g, v, 1.0)])),
    "log1p": _composed(lambda g, v, x: g.node("Log", [g.node("Add", [x, _scalar(g, v, 1.0)])])),
    "log2": _composed(lambda g, v, x: g.node("Div", [g.node("Log", [x]), _scalar(g, v, math.log(2.0))])),
    "log10": _composed(lambda g, v, x: g.node("Div", [g.node("Log", [x]), _scalar(g, v, math.log(10.0))])),
    "exp2": _composed(lambda g, v, x: g.node("Pow", [_scalar(g, v, 2.0), x])),
    "step": _composed(_step), "round": _composed(_round),
    "matmul": _matmul, "linear": _linear, "einsum": _einsum,
    "sum": _reduce("ReduceSum"), "max": _reduce("ReduceMax"), "logsumexp": _reduce("ReduceLogSumExp"),
    "prod": _reduce("ReduceProd"), "cumsum": _cumsum, "norm_root": _composed(_norm_root),
    "logaddexp": _binary(_logaddexp(math.e)), "logaddexp2": _binary(_logaddexp(2.0)), "hypot": _binary(_hypot),
    "remainder": _binary(_remainder), "fmax": _elementwise("Max"), "fmin": _elementwise("Min"),
    "log_softmax": _softmax_like("LogSoftmax"),
    "reshape": _reshape, "transpose": _transpose, "broadcast_to": _broadcast_to, "sum_to": _sum_to,
    "concatenate": _concatenate, "getitem": _getitem, "astype": _astype, "clip": _clip, "where": _where,
    "conv2d": _conv2d, "max_pool2d": _max_pool2d,
}
SUPPORTED = frozenset(TABLE)


def emit(g, v, ins) -> str:
    return TABLE[v.op](g, v, ins)
