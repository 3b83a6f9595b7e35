"""Deterministic tests exactly at the kinks, ties and extremes that the property tests keep away from.

The conventions are PyTorch's (relu'(0) = 0, abs'(0) = 0, ties share the gradient evenly, clip passes the
gradient at its bounds); where torch is installed, the last tests compare with it directly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_nn import Value, grad, no_grad
from tinygrad_nn.ops import (
    abs,
    clip,
    log_softmax,
    logsumexp,
    max,
    maximum,
    min,
    minimum,
    relu,
    sigmoid,
    softmax,
    step,
)
from tinygrad_nn.ops import sum as vsum


def grads_of(f, *payloads):
    """Run f on fresh leaves, backward with ones (a sum of the outputs); the leaves' gradients."""
    xs = [Value(p) for p in payloads]
    out = f(*xs)
    out.backward(None if out.size == 1 else np.ones(out.shape))
    return [x.grad for x in xs]


def assert_same(actual, expected):
    """Equal values, and a float for a float: exact, as the math at these points is exact."""
    if isinstance(expected, float):
        assert actual.__class__ is float, f"expected a Python float, got {type(actual).__name__}"
        assert actual == expected
    else:
        assert isinstance(actual, np.ndarray)
        np.testing.assert_array_equal(actual, expected)


@pytest.fixture
def no_warnings():
    """Any RuntimeWarning (overflow, division by zero, invalid value) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- relu, abs, step --------------------------------------------------------------------------------------


def test_relu_grad_at_zero_is_zero():
    assert_same(grads_of(relu, 0.0)[0], 0.0)
    assert_same(grads_of(relu, np.array([-1.0, 0.0, 2.0]))[0], np.array([0.0, 0.0, 1.0]))
    assert_same(grads_of(relu, np.array(0.0))[0], np.array(0.0))


def test_abs_grad_at_zero_is_zero():
    assert_same(grads_of(abs, 0.0)[0], 0.0)
    assert_same(grads_of(abs, -0.0)[0], 0.0)
    assert_same(grads_of(abs, np.array([-2.0, 0.0, -0.0, 3.0]))[0], np.array([-1.0, 0.0, 0.0, 1.0]))


@pytest.mark.parametrize("z", [0.0, -0.0, 1.0, -1.0])
def test_step_grad_is_zero_everywhere(z):
    assert_same(grads_of(step, z)[0], 0.0)
    assert_same(grads_of(lambda x: step(x) * 3.0 + x, z)[0], 1.0)  # nothing flows through step, the rest does


def test_step_forward_is_one_from_zero_on():
    assert step(Value(0.0)).data == 1.0 and step(Value(0.0)).data.__class__ is float
    assert step(Value(-0.0)).data == 1.0
    assert step(Value(-1e-300)).data == 0.0
    x = np.array([-1.0, -1e-300, 0.0, 1e-300, 1.0])
    out = step(Value(x))
    assert_same(out.data, np.array([0.0, 0.0, 1.0, 1.0, 1.0]))
    assert_same(grads_of(step, x)[0], np.zeros(5))


# -- max and min with ties ---------------------------------------------------------------------------------


def test_max_ties_share_the_gradient_evenly():
    assert_same(grads_of(max, np.array([1.0, 3.0, 3.0]))[0], np.array([0.0, 0.5, 0.5]))
    assert_same(grads_of(max, np.array([2.0, 2.0, 2.0, 2.0]))[0], np.full(4, 0.25))
    assert_same(grads_of(min, np.array([1.0, 3.0, 1.0]))[0], np.array([0.5, 0.0, 0.5]))
    assert_same(grads_of(lambda x: x.max(), np.array([[5.0, 1.0], [5.0, 5.0]]))[0], np.array([[1, 0], [1, 1]]) / 3)


X_TIES = np.array([[1.0, 3.0, 3.0],
                   [2.0, 2.0, 2.0],
                   [5.0, 1.0, 0.0]])


@pytest.mark.parametrize("keepdims", [False, True])
def test_max_ties_per_axis(keepdims):
    third = 1.0 / 3.0
    assert_same(grads_of(lambda x: max(x, axis=1, keepdims=keepdims), X_TIES)[0],
                np.array([[0.0, 0.5, 0.5], [third, third, third], [1.0, 0.0, 0.0]]))
    assert_same(grads_of(lambda x: max(x, axis=-2, keepdims=keepdims), X_TIES)[0],
                np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert_same(grads_of(lambda x: min(x, axis=0, keepdims=keepdims), X_TIES)[0],
                np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
    # Upstream gradients other than 1 are shared too.
    w = np.array([2.0, 4.0, 6.0]).reshape((3, 1) if keepdims else (3,))
    assert_same(grads_of(lambda x: max(x, axis=1, keepdims=keepdims) * w, X_TIES)[0],
                np.array([[0.0, 1.0, 1.0], [4 * third, 4 * third, 4 * third], [6.0, 0.0, 0.0]]))


def test_max_ties_over_a_tuple_of_axes():
    x = np.array([[[1.0, 4.0], [4.0, 0.0]], [[2.0, 2.0], [-1.0, 2.0]]])
    assert_same(grads_of(lambda v: max(v, axis=(1, 2)), x)[0],
                np.array([[[0.0, 0.5], [0.5, 0.0]], [[1 / 3, 1 / 3], [0.0, 1 / 3]]]))


def test_max_of_a_scalar_passes_the_gradient():
    assert_same(grads_of(max, 2.5)[0], 1.0)
    assert_same(grads_of(min, -2.5)[0], 1.0)


# -- maximum, minimum, clip --------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [maximum, minimum])
def test_maximum_minimum_ties_split_half_half(fn):
    assert [*grads_of(fn, 1.5, 1.5)] == [0.5, 0.5]
    ga, gb = grads_of(fn, np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0]))
    other = {maximum: (np.array([0.5, 1.0, 0.0]), np.array([0.5, 0.0, 1.0])),
             minimum: (np.array([0.5, 0.0, 1.0]), np.array([0.5, 1.0, 0.0]))}[fn]
    assert_same(ga, other[0])
    assert_same(gb, other[1])


def test_maximum_tie_against_a_broadcast_scalar():
    ga, gb = grads_of(maximum, np.array([1.0, 1.0, 0.0]), 1.0)
    assert_same(ga, np.array([0.5, 0.5, 0.0]))
    assert_same(gb, 2.0)  # a Python float: the sum of its shares (0.5 + 0.5 + 1)


def test_clip_grad_is_one_inside_and_at_the_bounds_zero_outside():
    x = np.array([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5])
    assert_same(grads_of(lambda v: clip(v, -1.0, 1.0), x)[0], np.array([0.0, 1.0, 1.0, 1.0, 1.0, 0.0]))
    assert_same(grads_of(lambda v: clip(v, lo=-1.0), x)[0], np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0]))
    assert_same(grads_of(lambda v: clip(v, hi=1.0), x)[0], np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0]))
    assert_same(grads_of(lambda v: v.clip(0, 0), np.array([-1.0, 0.0, 1.0]))[0], np.array([0.0, 1.0, 0.0]))
    for z, want in [(-2.0, 0.0), (-1.0, 1.0), (0.3, 1.0), (1.0, 1.0), (1.5, 0.0)]:
        assert_same(grads_of(lambda v: clip(v, -1.0, 1.0), z)[0], want)
    assert_same(clip(Value(x), -1.0, 1.0).data, np.array([-1.0, -1.0, -0.5, 0.0, 1.0, 1.0]))


# -- extreme inputs: exact 0 and 1, no warnings -----------------------------------------------------------


@pytest.mark.usefixtures("no_warnings")
def test_sigmoid_saturates_exactly_without_warnings():
    assert sigmoid(Value(1000.0)).data == 1.0 and sigmoid(Value(-1000.0)).data == 0.0
    assert sigmoid(Value(-1000.0)).data.__class__ is float
    for dtype in (np.float64, np.float32):
        x = np.array([-1000.0, -800.0, 0.0, 800.0, 1000.0], dtype=dtype)  # exp(800) overflows float64 too
        out = sigmoid(Value(x))
        assert out.dtype == dtype
        assert_same(out.data, np.array([0.0, 0.0, 0.5, 1.0, 1.0], dtype=dtype))
        assert_same(grads_of(sigmoid, x)[0], np.array([0.0, 0.0, 0.25, 0.0, 0.0], dtype=dtype))
        assert_same(sigmoid(Value(np.array(-1000.0, dtype=dtype))).data, np.array(0.0, dtype=dtype))
    assert_same(grads_of(sigmoid, 1000.0)[0], 0.0)
    assert_same(grads_of(sigmoid, -1000.0)[0], 0.0)


@pytest.mark.usefixtures("no_warnings")
@pytest.mark.parametrize("x", [[1000.0, 1000.0], [-1000.0, 0.0], [-1000.0, 1000.0], [0.0, -np.inf]])
def test_softmax_family_of_huge_logits(x):
    x = np.array(x)
    m = np.max(x)
    shifted = x - m  # the shifted formulas, by hand
    lse = logsumexp(Value(x))
    assert np.isfinite(lse.data) and lse.data == pytest.approx(m + np.log(np.sum(np.exp(shifted))), rel=1e-15)
    ls = log_softmax(Value(x)).data
    np.testing.assert_allclose(ls, shifted - np.log(np.sum(np.exp(shifted))), rtol=1e-15, atol=0)
    sm = softmax(Value(x)).data
    np.testing.assert_allclose(sm, np.exp(shifted) / np.sum(np.exp(shifted)), rtol=1e-15, atol=0)
    assert sm.sum() == pytest.approx(1.0, abs=1e-15)
    for f in (logsumexp, lambda v: log_softmax(v)[0], lambda v: softmax(v)[0]):
        g = grads_of(f, x)[0]
        assert np.all(np.isfinite(g)), g


@pytest.mark.usefixtures("no_warnings")
def test_softmax_family_of_huge_logits_exact_values():
    assert logsumexp(Value(np.array([-1000.0, 0.0]))).data == 0.0
    assert_same(softmax(Value(np.array([-1000.0, 0.0]))).data, np.array([0.0, 1.0]))
    assert_same(softmax(Value(np.array([1000.0, 1000.0]))).data, np.array([0.5, 0.5]))
    assert_same(log_softmax(Value(np.array([-1000.0, 0.0]))).data, np.array([-1000.0, 0.0]))
    assert logsumexp(Value(1000.0)).data == 1000.0  # a float payload too
    # Row-wise, on a batch.
    rows = np.array([[1000.0, 1000.0], [-1000.0, 0.0]])
    assert_same(softmax(Value(rows), axis=1).data, np.array([[0.5, 0.5], [0.0, 1.0]]))
    # logsumexp's gradient is exp(x - logsumexp(x)), PyTorch's formula: right to rounding at x's magnitude.
    np.testing.assert_allclose(grads_of(lambda v: logsumexp(v, axis=1), rows)[0], [[0.5, 0.5], [0.0, 1.0]],
                               rtol=1e-13, atol=0)
    # The logits' size no longer matters: log_softmax shifts by the maximum before anything is rounded.
    for big in (1e10, 1e17):
        assert_same(softmax(Value(np.array([big, big, big]))).data, np.full(3, 1 / 3))
        assert_same(log_softmax(Value(np.array([big, big]))).data, np.full(2, -np.log(2.0)))


# -- indexing with repeats, pow with exponent 0 ------------------------------------------------------------


def test_getitem_repeated_indices_add_up():
    assert_same(grads_of(lambda x: x[[0, 0, 1]].sum(), np.arange(5.0))[0], np.array([2.0, 1.0, 0.0, 0.0, 0.0]))
    assert_same(grads_of(lambda x: vsum(x[np.array([3, -2, 0, 3])] * np.array([1.0, 2.0, 3.0, 4.0])),
                         np.zeros(4))[0], np.array([3.0, 0.0, 2.0, 5.0]))
    x = np.arange(6.0).reshape(2, 3)
    assert_same(grads_of(lambda v: v[[1, 1]].sum(), x)[0], np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]))
    assert_same(grads_of(lambda v: v[[0, 0, 1], [2, 2, 2]].sum(), x)[0], np.array([[0, 0, 2], [0, 0, 1.0]]))
    assert_same(grads_of(lambda v: v[:, [0, 0]].sum(), x)[0], np.array([[2.0, 0, 0], [2.0, 0, 0]]))


@pytest.mark.usefixtures("no_warnings")
def test_pow_exponent_zero_has_zero_grad_even_at_base_zero():
    y = Value(0.0) ** 0
    assert y.data == 1.0 and y.data.__class__ is float
    assert_same(grads_of(lambda x: x ** 0, 0.0)[0], 0.0)
    assert_same(grads_of(lambda x: x ** 0.0, 0.0)[0], 0.0)
    assert_same(grads_of(lambda x: x ** 0, np.array([0.0, 2.0, -1.0]))[0], np.zeros(3))
    assert grad(grad(lambda x: x ** 0))(0.0) == 0.0


@pytest.mark.usefixtures("no_warnings")
def test_pow_value_exponent_zero_at_base_zero():
    # 0 ** 0 = 1 with d/da = 0 (exponent 0) and d/db = 0 (PyTorch's convention at a = 0); this used to raise
    # ZeroDivisionError for scalars and warn for arrays.
    y = Value(0.0) ** Value(0.0)
    assert y.data == 1.0
    assert [*grads_of(lambda a, b: a ** b, 0.0, 0.0)] == [0.0, 0.0]
    ga, gb = grads_of(lambda a, b: a ** b, np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0]))
    assert_same(ga, np.array([0.0, 0.0, 0.0]))
    assert_same(gb, np.array([0.0, 0.0, np.log(2.0)]))


# -- the same conventions as PyTorch --------------------------------------------------------------------------

KINK_CASES = {
    "relu": (relu, "relu", [np.array([-1.0, 0.0, -0.0, 2.0])]),
    "abs": (abs, "abs", [np.array([-1.0, 0.0, -0.0, 2.0])]),
    "clip": (lambda x: clip(x, -1.0, 1.0), lambda x: x.clamp(-1.0, 1.0), [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])]),
    "max": (max, "amax", [np.array([1.0, 3.0, 3.0])]),
    "max_axis": (lambda x: max(x, axis=1), lambda x: x.amax(dim=1), [X_TIES]),
    "min_axis": (lambda x: min(x, axis=0), lambda x: x.amin(dim=0), [X_TIES]),
    "maximum": (maximum, "maximum", [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])]),
    "minimum": (minimum, "minimum", [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])]),
    "pow0": (lambda x: x ** 0, lambda x: x ** 0, [np.array([0.0, 1.0])]),
    "getitem": (lambda x: x[[0, 0, 2]], lambda x: x[[0, 0, 2]], [np.arange(3.0)]),
}


@pytest.mark.parametrize("case", sorted(KINK_CASES))
def test_kink_conventions_match_torch(case):
    torch = pytest.importorskip("torch")
    fn, tfn, arrays = KINK_CASES[case]
    tfn = getattr(torch, tfn) if isinstance(tfn, str) else tfn
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    tout = tfn(*ts)
    tout.backward(torch.ones_like(tout))
    ours = grads_of(fn, *arrays)
    with no_grad():
        np.testing.assert_array_equal(fn(*[Value(a) for a in arrays]).data, tout.detach().numpy())
    for g, t in zip(ours, ts):
        np.testing.assert_array_equal(g, t.grad.numpy())
