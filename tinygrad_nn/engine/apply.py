"""`apply`: the one place an op runs. Every op call (`exp(x)`, `x - y`, `x.sum()`) comes here through `Op.__call__`.

It runs the op's forward on the payloads, explains a forward's error with the op's name and the input shapes, and
builds the result node with `node._node`. The jit recorder (modes.recorder) hooks in here: it is told of every
op, on Values or on bare payloads. Without any Value among the inputs it returns the bare payload: that is
how gradient rules, written with the same ops, run on plain numpy arrays when no graph is wanted.
"""

from __future__ import annotations

import numpy as np

from . import modes as _modes
from .links import ops
from .node import Value, _node, data_of, holds_values, shape_of, to_payload, too_large

ndarray = np.ndarray
NO_PARAMS: dict = {}


def apply(op, inputs, params):
    """Run primitive `op` on `inputs` (Values, numbers or arrays) with static keywords `params`."""
    n = len(inputs)
    a = b = more = None
    try:
        if n == 1:  # one and two inputs are spelled out: this runs for every tensor op
            a = inputs[0]
            if not isinstance(a, Value):
                if _modes.recorder is not None:
                    return _modes.recorder.payload(op, inputs, params)
                return op.forward(a, **params)
            datas = (a.data,)
            rg = a.requires_grad
        elif n == 2:
            a, b = inputs
            if not isinstance(a, Value):
                if not isinstance(b, Value):
                    if _modes.recorder is not None:
                        return _modes.recorder.payload(op, inputs, params)
                    return op.forward(a, b, **params)
                a = _as_constant(a, op, b)
            elif not isinstance(b, Value):
                b = _as_constant(b, op, a)
            datas = (a.data, b.data)
            rg = a.requires_grad or b.requires_grad
        else:
            like, rg = None, False
            for x in inputs:
                if isinstance(x, Value):
                    if like is None:
                        like = x
                    rg = rg or x.requires_grad
            if like is None:
                if _modes.recorder is not None:
                    return _modes.recorder.payload(op, inputs, params)
                return op.forward(*inputs, **params)
            more = tuple([x if isinstance(x, Value) else _as_constant(x, op, like) for x in inputs])
            datas = [x.data for x in more]
        out = op.forward(*datas, **params)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as e:
        # A list of Values given as one input: its Values refused to become numbers (np.asarray), or it is no
        # array at all. Stacked, it keeps every gradient (HIPS autograd's and JAX's reading of np.sum([a, b])).
        # Looked for only here, so that the common calls pay nothing for it.
        if _has_value_list(inputs):
            return apply(op, tuple(stacked(x) if (x.__class__ is list or x.__class__ is tuple) and holds_values(x)
                                   else x for x in inputs), params)
        raise _explain(op, [data_of(x) for x in inputs], params, e) from e
    if out.__class__ is not ndarray or datas[0].__class__ is float:  # skip the check in the common case
        out = _normalize(out, datas)
    if rg and (_modes.special == 0 or _modes.grad_mode.enabled):
        if more is not None:
            v = _node(out, op, None, None, more, params or None)
        else:
            v = _node(out, op, a, b, None, params or None)
    else:
        if _modes.anomaly is not None:  # a constant result (under no_grad, or of constants) is checked too
            _modes.anomaly.made_constant(op, out, datas)
        v = _node(out, None, None, None, None, None)
    if _modes.recorder is not None:  # tinygrad_nn.jit: this op's forward, for replay
        _modes.recorder.forward(op, (a,) if n == 1 else (a, b) if n == 2 else more, params, v)
    return v


def _as_constant(x, op, like=None):
    """A non-Value input of an op as a constant node: a number or array as it is, a boolean or integer array (a
    mask) in the float width of the Value `like` it meets, so that it promotes nothing: float32 stays float32 (as
    in PyTorch; numpy would promote int64 to float64). A list or tuple holding Values is stacked (a node, then)."""
    cls = x.__class__
    if cls is float:  # a number, as in x * 0.5: already a payload
        return _node(x, None, None, None, None, None)
    if cls is int:  # as in x ** 2
        try:
            return _node(float(x), None, None, None, None, None)
        except OverflowError:
            raise too_large(x, op.name) from None
    if cls is ndarray:
        kind = x.dtype.kind
        if kind == "f":  # a data batch or a target: already a payload
            return _node(x, None, None, None, None, None)
        if kind in "biu" and isinstance(like, Value) and like.data.__class__ is ndarray:
            return _node(x.astype(like.data.dtype), None, None, None, None, None)
    if (cls is list or cls is tuple) and holds_values(x):
        return stacked(x)
    try:
        return _node(to_payload(x, op.name), None, None, None, None, None)
    except TypeError:
        raise TypeError(f"{op.name}: cannot combine a Value with {type(x).__name__} {x!r:.60}; the other "
                        f"operand must be real numbers: a number, a numpy array, or a Value") from None


def _has_value_list(inputs) -> bool:
    for x in inputs:
        cls = x.__class__
        if (cls is list or cls is tuple) and holds_values(x):
            return True
    return False


def stacked(items):
    """A (nested) list or tuple of Values and numbers given as one input: stacked into one Value, keeping every
    gradient, as HIPS autograd and JAX read `np.sum([a, b])` (a plain list would turn the Values into constants)."""
    return ops.stack([stacked(x) if x.__class__ is list or x.__class__ is tuple else x for x in items])


def _normalize(out, datas):
    """A float payload comes only from Python floats: tensors in give an array out (0-d included)."""
    if out.__class__ is float:
        return out
    for d in datas:
        if d.__class__ is not float:
            break
    else:
        if out.__class__ is not ndarray or out.ndim == 0:  # e.g. a numpy scalar from np.sum(2.0)
            return float(out)
    if out.__class__ is not ndarray:
        out = np.asarray(out)
    if out.dtype.kind != "f":
        out = out.astype(np.float64)
    return out


def _explain(op, datas, params, e):
    """The forward's exception, re-raised with the op's name, the input shapes and a hint."""
    msg = str(e).strip()
    if isinstance(e, ZeroDivisionError):
        # Scalars follow Python (and micrograd): dividing a float by 0.0 raises; numpy arrays give inf.
        values = ", ".join(repr(d) for d in datas)
        return ZeroDivisionError(f"{op.name}: division by zero on the scalars {values} ({msg}); as in Python, a "
                                 f"float divided by 0.0 raises: guard the divisor (or use tensors, which give inf)")
    if msg.startswith(op.name + ":"):  # the op's forward (or _as_constant) explained itself already
        kept = (ValueError, TypeError, IndexError, OverflowError, np.linalg.LinAlgError)
        return type(e)(msg) if type(e) in kept else ValueError(msg)
    shapes = ", ".join(str(shape_of(d)) for d in datas)
    extra = "".join(f", {k}={v!r}" for k, v in params.items()) if params else ""
    hint = op.hint or "check the inputs' shapes and values"
    if isinstance(e, IndexError) and not isinstance(e, ValueError):
        cls = IndexError
    elif isinstance(e, TypeError):
        cls = TypeError
    elif isinstance(e, np.linalg.LinAlgError):  # `except LinAlgError` must still catch it (a ValueError too)
        cls = np.linalg.LinAlgError
    else:  # ValueError, numpy's AxisError (a ValueError and an IndexError), OverflowError
        cls = ValueError
    return cls(f"{op.name}: cannot apply to inputs of shapes {shapes}{extra}: {msg}; {hint}")
