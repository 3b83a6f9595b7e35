"""Numerical extremes: the saturating functions and the exp-based losses at logits of +-1000 (and +-100,
+-30, mixed with moderate ones), float64 and float32, scalar and tensor payloads, stay finite and quiet:
no numpy floating-point error (np.errstate(all="raise")) and no warning of any kind (warnings as errors),
in the values and the gradients. Values are compared with stable references; with PyTorch installed,
values and gradients are compared with PyTorch's at the same points.

Second derivatives (create_graph=True) at the same points are finite and quiet too; in float32 their
products of tiny numbers underflow (to 0 or a subnormal, as they should), so there underflow is allowed.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest

from tinygrad_nn import Value, gradients, log_softmax, logsumexp, sigmoid, softmax, tanh
from tinygrad_nn.nn import binary_cross_entropy, cross_entropy
from tinygrad_nn.ops import identity

# Rows of logits: all huge, all tiny, a tie at the top, huge against moderate, everything equal.
Z = np.array([[1000.0, -1000.0, 0.0],
              [-1000.0, -1000.0, -1000.0],
              [1000.0, 1000.0, -1000.0],
              [100.0, -30.0, 30.0],
              [-1000.0, 1000.0, 999.0]])
T = (np.arange(Z.size).reshape(Z.shape) % 2).astype(np.float64)  # BCE targets: both kinds in every row
LABELS = np.array([0, 1, 2, 1, 2])  # cross-entropy classes: right, tied, wrong, ...


@contextlib.contextmanager
def strict():
    """Any numpy floating-point error raises, and so does any warning."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- stable references (float64, numpy's errors ignored: they are the reference's business) ---------------


def _lse(z):
    m = np.max(z, axis=-1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def _ref_bce(z, t, dtype):
    # sigmoid, then each log clamped at -100 as PyTorch does; in float32 at the log of its smallest normal
    # number instead (-87.3: see binary_cross_entropy; PyTorch clamps float32 at -100 too)
    p = 0.5 * (1.0 + np.tanh(z / 2.0))
    floor = math.log(max(math.exp(-100.0), float(np.finfo(dtype).tiny)))
    return -np.mean(t * np.maximum(np.log(p), floor) + (1 - t) * np.maximum(np.log(1 - p), floor))


# Each reference takes float64 logits and the dtype of the computation it stands for.
REFS = {
    "sigmoid": lambda z, dtype: 0.5 * (1.0 + np.tanh(z / 2.0)),
    "tanh": lambda z, dtype: np.tanh(z),
    "softmax": lambda z, dtype: np.exp(z - _lse(z)),
    "log_softmax": lambda z, dtype: z - _lse(z),
    "logsumexp": lambda z, dtype: _lse(z)[..., 0],
    "bce_of_sigmoid": lambda z, dtype: _ref_bce(z, T, dtype),
    "cross_entropy": lambda z, dtype: -np.mean((z - _lse(z))[np.arange(len(z)), LABELS]),
}
FUNCTIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": lambda z: softmax(z, axis=-1),
    "log_softmax": lambda z: log_softmax(z, axis=-1),
    "logsumexp": lambda z: logsumexp(z, axis=-1),
    "bce_of_sigmoid": lambda z: binary_cross_entropy(sigmoid(z), T),
    "cross_entropy": lambda z: cross_entropy(z, LABELS),
}
SCALAR = {"sigmoid": sigmoid, "tanh": tanh, "logsumexp": logsumexp}  # the ones that take Python floats


def _weights(shape, dtype):
    return (np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) % 3 - 1.0).astype(dtype)  # -1, 0, 1


def run(name, z):
    """(output, gradient of sum(w * f(z))) under strict(), with w of -1, 0 and 1."""
    with strict():
        x = identity(Value(z))
        out = FUNCTIONS[name](x)
        (g,) = gradients(out, [x], grad=_weights(out.shape, z.dtype))
    return out, g


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_tensors_at_extremes_are_finite_quiet_and_right(name, dtype):
    z = Z.astype(dtype)
    out, g = run(name, z)
    assert out.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(g))
    with np.errstate(all="ignore"):
        want = REFS[name](z.astype(np.float64), dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.data, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,dtype", [pytest.param(n, d, id=f"{n}-{d.__name__}")
                                        for n in sorted(FUNCTIONS) for d in (np.float64, np.float32)])
def test_second_derivatives_at_extremes_are_finite_and_quiet(name, dtype):
    z = Z.astype(dtype)
    under = "raise" if dtype == np.float64 else "ignore"
    with np.errstate(all="raise", under=under), warnings.catch_warnings():
        warnings.simplefilter("error")
        x = identity(Value(z))
        out = FUNCTIONS[name](x)
        (g,) = gradients(out, [x], grad=_weights(out.shape, z.dtype), create_graph=True)
        (gg,) = gradients((g * g).sum(), [x])
    assert g.dtype == dtype and gg.dtype == dtype
    assert np.all(np.isfinite(g.data)) and np.all(np.isfinite(gg))


@pytest.mark.parametrize("z", [1000.0, -1000.0, 710.0, -710.0, 1e308, -1e308])
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalars_at_extremes_are_finite_quiet_and_right(name, z):
    with strict():
        x = Value(z)
        out = SCALAR[name](x)
        out.backward()
    assert out.data.__class__ is float and x.grad.__class__ is float
    assert math.isfinite(out.data) and math.isfinite(x.grad)
    with np.errstate(all="ignore"):
        want = float(REFS[name](np.array([z]), np.float64)[0]) if name != "logsumexp" else z
    assert out.data == pytest.approx(want, rel=1e-15, abs=0.0)


def test_sigmoid_and_tanh_saturate_exactly():
    with strict():
        s, gs = run("sigmoid", np.array([1000.0, -1000.0]))
        t, gt = run("tanh", np.array([1000.0, -1000.0]))
    np.testing.assert_array_equal(s.data, [1.0, 0.0])
    np.testing.assert_array_equal(t.data, [1.0, -1.0])
    np.testing.assert_array_equal(gs, [0.0, 0.0])  # w is -1, 0: both saturated slopes are 0 anyway
    np.testing.assert_array_equal(gt, [0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradients_at_extremes_match_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    twins = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "softmax": lambda z: torch.softmax(z, dim=-1), "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
        "logsumexp": lambda z: torch.logsumexp(z, dim=-1),
        "bce_of_sigmoid": lambda z: tf.binary_cross_entropy(torch.sigmoid(z), torch.tensor(T, dtype=z.dtype)),
        "cross_entropy": lambda z: tf.cross_entropy(z, torch.tensor(LABELS)),
    }
    z = Z.astype(dtype)
    out, g = run(name, z)
    tz = torch.tensor(z, requires_grad=True)
    tout = twins[name](tz)
    tout.backward(torch.tensor(_weights(tuple(tout.shape), dtype)))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    if not (name == "bce_of_sigmoid" and dtype == np.float32):  # the float32 log floor differs: see _ref_bce
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(g, tz.grad.numpy(), rtol=tol, atol=tol)
