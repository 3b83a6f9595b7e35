"""Payload kinds, dtypes and the method forms of the ops.

- a Python float in gives a Python float out; an array in gives an ndarray out (0-d for full reductions);
- ints and bools become float64, float32 stays float32 (also next to Python floats), gradients included;
- x.sum(axis=0), x.reshape(2, 3), x.T, x.clip(0, 1), x[1:] ... are the same functions as the ops.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn.ops as ops
from tinygrad_nn import Value, grad
from tinygrad_nn.ops import where

A = np.arange(6.0).reshape(2, 3) - 2.5


def is_0d_array(d):
    return d.__class__ is np.ndarray and d.ndim == 0


# -- payload kinds ----------------------------------------------------------------------------------------

SCALAR_FNS = {
    "add": lambda x: x + 1.5, "radd": lambda x: 1.5 + x, "sub": lambda x: x - 1, "rsub": lambda x: 1 - x,
    "mul": lambda x: x * 3, "div": lambda x: x / 2, "rdiv": lambda x: 2 / x, "pow": lambda x: x ** 3,
    "rpow": lambda x: 2 ** x, "pow_value": lambda x: x ** Value(2.0), "neg": lambda x: -x,
    "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(), "abs": lambda x: abs(x),
    "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(),
    "step": lambda x: x.step(), "clip": lambda x: x.clip(0, 1), "maximum": lambda x: x.maximum(1.0),
    "minimum": lambda x: x.minimum(1.0), "where": lambda x: where(True, x, 0.0), "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(), "max": lambda x: x.max(), "min": lambda x: x.min(),
    "logsumexp": lambda x: x.logsumexp(),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FNS))
def test_scalar_in_float_out(name):
    x = Value(0.75)
    y = SCALAR_FNS[name](x)
    assert y.data.__class__ is float, f"{name}: a {type(y.data).__name__} payload"
    y.backward()
    assert x.grad.__class__ is float


@pytest.mark.parametrize("name", sorted(SCALAR_FNS))
def test_0d_tensor_in_0d_array_out(name):
    y = SCALAR_FNS[name](Value(np.array(0.75)))
    assert is_0d_array(y.data), f"{name}: a {type(y.data).__name__} payload"


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
def test_full_reductions_of_tensors_are_0d_arrays(name):
    y = getattr(Value(np.ones(3)), name)()
    assert is_0d_array(y.data)
    assert y.data == {"sum": 3.0, "logsumexp": 1.0 + np.log(3.0)}.get(name, 1.0)
    assert is_0d_array(getattr(Value(A), name)(axis=(0, 1)).data)
    assert getattr(Value(A), name)(keepdims=True).data.shape == (1, 1)


def test_vector_dot_vector_is_a_0d_array():
    v = Value(np.array([1.0, 2.0]))
    assert is_0d_array((v @ v).data) and (v @ v).data == 5.0
    assert is_0d_array(Value(A)[1, 2].data)


def test_numbers_of_every_kind_make_float_payloads():
    for x in (2, 2.0, True, np.float64(2.0), np.float32(2.0), np.int64(2)):
        assert Value(x).data.__class__ is float, type(x)
    assert Value(np.array(2.0)).data.__class__ is np.ndarray  # a 0-d array stays a tensor


def test_scalar_value_mixed_with_tensor_value():
    s, t = Value(2.0), Value(np.array([1.0, 2.0, 4.0]))
    y = s * t
    assert y.data.__class__ is np.ndarray and y.shape == (3,)
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 8.0])
    (y * np.array([1.0, 10.0, 100.0])).sum().backward()
    assert s.grad.__class__ is float and s.grad == 1.0 + 20.0 + 400.0  # the sum of its contributions
    np.testing.assert_array_equal(t.grad, [2.0, 20.0, 200.0])
    s2 = Value(3.0)
    (s2 + Value(A)).sum().backward()
    assert s2.grad.__class__ is float and s2.grad == 6.0


def test_tensor_and_scalar_leaf_grads_match_their_payloads():
    x, s = Value(A.copy()), Value(0.5)
    ((x * s).exp()).sum().backward()
    assert x.grad.__class__ is np.ndarray and x.grad.shape == A.shape
    assert s.grad.__class__ is float


# A 0-d tensor leaf's gradient is a 0-d array like its payload, not a numpy scalar (numpy's arithmetic on 0-d
# arrays returns numpy scalars; the engine adds them into the leaf's own array).
@pytest.mark.parametrize("f", [lambda x: x.exp(), lambda x: x * x, lambda x: x + Value(np.ones(2))],
                         ids=["exp", "mul", "broadcast"])
def test_0d_tensor_leaf_grad_is_a_0d_array(f):
    x = Value(np.array(0.5))
    out = f(x)
    out.backward(np.ones(out.shape))
    assert x.grad.__class__ is np.ndarray and x.grad.shape == ()


def test_scalar_leaf_grad_under_create_graph_is_a_float_value():
    s, t = Value(2.0), Value(np.array([1.0, 2.0, 3.0]))
    (s * s * t).sum().backward(create_graph=True)
    assert isinstance(s.grad, Value) and s.grad.data == 24.0
    assert s.grad.data.__class__ is float


# -- dtypes -------------------------------------------------------------------------------------------------


def test_ints_and_bools_become_float64():
    for x in ([1, 2], np.arange(3), np.array([True, False]), np.arange(3, dtype=np.int8), [[1], [2]]):
        v = Value(x)
        assert v.dtype == np.float64 and v.data.__class__ is np.ndarray
        assert v.grad.dtype == np.float64
    assert (Value([1, 2]) * Value([3, 4])).dtype == np.float64


X32 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)

FLOAT32_FNS = {
    "add_float": lambda x: x + 1.5, "rsub_int": lambda x: 1 - x, "mul_float": lambda x: x * 0.1,
    "rdiv": lambda x: 2.0 / x, "div": lambda x: x / 3.0, "pow_int": lambda x: x ** 2,
    "pow_float": lambda x: abs(x) ** 1.5,
    "pow_half": lambda x: abs(x) ** 0.5, "rpow": lambda x: 2.0 ** x, "pow_value_float": lambda x: abs(x) ** Value(1.5),
    "mul_scalar_value": lambda x: x * Value(0.1), "add_0d_f32": lambda x: x + np.float32(1.0),
    "exp": lambda x: x.exp(), "log": lambda x: abs(x).log(), "sqrt": lambda x: abs(x).sqrt(),
    "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(),
    "step": lambda x: x.step() + x, "clip": lambda x: x.clip(0, 1), "clip_floats": lambda x: x.clip(-0.3, 0.9),
    "maximum": lambda x: x.maximum(0.5), "minimum": lambda x: x.minimum(0.5),
    "where": lambda x: where(x > 0, x, 0.0), "sum": lambda x: x.sum(axis=0), "mean": lambda x: x.mean(),
    "max": lambda x: x.max(axis=1), "min": lambda x: x.min(), "logsumexp": lambda x: x.logsumexp(axis=0),
    "softmax": lambda x: x.softmax(), "log_softmax": lambda x: x.log_softmax(axis=0),
    "matmul": lambda x: x @ x.T, "matvec": lambda x: x @ np.ones(3, np.float32),
    "getitem_0d": lambda x: x[0, 1].exp(), "getitem_rows": lambda x: x[[1, 1, 0]],
    "reshape": lambda x: x.reshape(3, 2), "transpose": lambda x: x.transpose(1, 0),
    "broadcast_to": lambda x: x.broadcast_to(4, 2, 3), "flatten": lambda x: x.flatten(),
    "stack": lambda x: ops.stack([x, x], axis=1), "concatenate": lambda x: ops.concatenate([x, x[:1]]),
    "mean_of_0d": lambda x: x[1, 1].mean(), "min_of_0d": lambda x: x[0, 0].min(keepdims=True),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_FNS))
def test_float32_stays_float32_with_python_numbers(name):
    f = FLOAT32_FNS[name]
    out = f(Value(X32))
    assert out.dtype == np.float32, f"{name}: {out.dtype}"
    g = grad(lambda x: f(x).sum())(X32)  # grad returns the raw gradient: no in-place cast hides a float64
    assert g.dtype == np.float32, f"{name}: gradient {g.dtype}"
    g64 = grad(lambda x: f(x).sum())(X32.astype(np.float64))
    np.testing.assert_allclose(g, g64, rtol=1e-5, atol=1e-6)


def test_float32_leaf_keeps_its_grad_dtype_and_array():
    x = Value(X32.copy())
    held = x.grad
    (x * 2.0).sum().backward()
    assert x.grad is held and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0, np.float32))


def test_float32_with_float64_tensor_promotes():
    assert (Value(X32) + Value(np.ones(3))).dtype == np.float64


# -- method forms ---------------------------------------------------------------------------------------------


def check_method(method, function, x=A):
    """The method form gives the function form's value, bit for bit, and the same gradient."""
    xm, xf = Value(x.copy()), Value(x.copy())
    ym, yf = method(xm), function(xf)
    assert ym.shape == yf.shape
    np.testing.assert_array_equal(ym.data, yf.data)
    w = np.arange(1.0, 1.0 + ym.size).reshape(ym.shape)
    ym.backward(w)
    yf.backward(w)
    np.testing.assert_array_equal(xm.grad, xf.grad)
    return ym


def test_method_sum_axis():
    y = check_method(lambda x: x.sum(axis=0), lambda x: ops.sum(x, axis=0))
    np.testing.assert_array_equal(y.data, A.sum(axis=0))
    np.testing.assert_array_equal(check_method(lambda x: x.mean(1, True), lambda x: ops.mean(x, 1, True)).data,
                                  A.mean(axis=1, keepdims=True))


@pytest.mark.parametrize("form", [lambda x: x.reshape(3, 2), lambda x: x.reshape((3, 2)), lambda x: x.reshape([3, 2]),
                                  lambda x: x.reshape(-1, 2)], ids=["ints", "tuple", "list", "minus-one"])
def test_method_reshape(form):
    y = check_method(form, lambda x: ops.reshape(x, shape=(3, 2)))
    np.testing.assert_array_equal(y.data, A.reshape(3, 2))


@pytest.mark.parametrize("form", [lambda x: x.T, lambda x: x.transpose(), lambda x: x.transpose(1, 0),
                                  lambda x: x.transpose((1, 0)), lambda x: x.transpose(-1, 0)],
                         ids=["T", "noargs", "ints", "tuple", "negative"])
def test_method_transpose(form):
    y = check_method(form, lambda x: ops.transpose(x))
    np.testing.assert_array_equal(y.data, A.T)


def test_method_transpose_of_3d():
    x = np.arange(24.0).reshape(2, 3, 4)
    y = check_method(lambda v: v.transpose(2, 0, 1), lambda v: ops.transpose(v, axes=(2, 0, 1)), x)
    np.testing.assert_array_equal(y.data, x.transpose(2, 0, 1))
    check_method(lambda v: v.transpose(-1, -3, -2), lambda v: ops.transpose(v, axes=(2, 0, 1)), x)
    np.testing.assert_array_equal(Value(x).T.data, x.T)


def test_method_clip():
    y = check_method(lambda x: x.clip(0, 1), lambda x: ops.clip(x, 0, 1))
    np.testing.assert_array_equal(y.data, np.clip(A, 0, 1))
    check_method(lambda x: x.clip(lo=-1), lambda x: ops.clip(x, -1, None))
    check_method(lambda x: x.clip(hi=0.5), lambda x: ops.clip(x, None, 0.5))


@pytest.mark.parametrize("index", [slice(1, None), (slice(None), slice(1, None)), 1, (1, 2), (Ellipsis, 0),
                                   [1, 1, 0], (None, 0)], ids=str)
def test_method_getitem(index):
    y = check_method(lambda x: x[index], lambda x: ops.getitem(x, index))
    np.testing.assert_array_equal(y.data, A[index if not isinstance(index, list) else np.array(index)])


def test_getitem_gradient_lands_where_it_was_read():
    x = Value(A.copy())
    x[1:].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def test_method_elementwise_and_reductions_are_the_ops():
    for name in ("exp", "tanh", "sigmoid", "relu", "step", "abs", "softmax", "log_softmax", "flatten", "max", "min",
                 "logsumexp"):
        y = check_method(lambda x, n=name: getattr(x, n)(), lambda x, n=name: getattr(ops, n)(x))
        assert y.data.__class__ is np.ndarray
    check_method(lambda x: abs(x), ops.abs)
    check_method(lambda x: x.expand_dims(1), lambda x: ops.expand_dims(x, 1))
    check_method(lambda x: x.expand_dims(0).squeeze(0), lambda x: ops.squeeze(ops.expand_dims(x, 0)))
    check_method(lambda x: x.broadcast_to(2, 2, 3), lambda x: ops.broadcast_to(x, shape=(2, 2, 3)))
    check_method(lambda x: x.maximum(0.0), lambda x: ops.maximum(x, 0.0))
