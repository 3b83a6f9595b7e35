import numpy as np
import pytest

from tinygrad_nn import Value, gradcheck
from tinygrad_nn.nn import binary_cross_entropy, cross_entropy, mse, squared_error


def test_squared_error_is_the_books_sum():
    a = np.array([[0.8, 0.1], [0.3, 0.6]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    c = squared_error(Value(a), t)
    assert c.item() == pytest.approx(0.5 * np.sum((t - a) ** 2), rel=1e-15)
    per_image = sum(squared_error(Value(a[i]), t[i]).item() for i in range(2))
    assert c.item() == pytest.approx(per_image, rel=1e-15)  # C_T = sum of the images' C


def test_costs_refuse_mismatched_shapes():
    for cost in (squared_error, mse, binary_cross_entropy):
        with pytest.raises(ValueError, match=r"output has shape \(2, 2\) but target has shape \(2,\)"):
            cost(Value(np.full((2, 2), 0.5)), np.array([1.0, 0.0]))


def test_mse_matches_numpy_and_targets_may_be_values():
    a, t = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    assert mse(Value(a), Value(t)).item() == pytest.approx(np.mean((a - t) ** 2))


def test_bce_matches_formula_and_is_finite_at_0_and_1():
    p, t = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])
    expect = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert binary_cross_entropy(Value(p), t).item() == pytest.approx(expect, rel=1e-14)
    extreme = binary_cross_entropy(Value(np.array([0.0, 1.0])), np.array([1.0, 0.0])).item()
    assert np.isfinite(extreme) and extreme == pytest.approx(100.0)


def test_cross_entropy_labels_and_onehot_agree_with_log_softmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    lsm = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expect = -np.mean(lsm[np.arange(5), labels])
    assert cross_entropy(Value(logits), labels).item() == pytest.approx(expect, rel=1e-14)
    assert cross_entropy(Value(logits), np.eye(4)[labels]).item() == pytest.approx(expect, rel=1e-14)
    assert np.isfinite(cross_entropy(Value(np.array([[1000.0, -1000.0]])), np.array([1])).item())


def test_cross_entropy_gradient():
    labels = np.array([2, 0, 1])
    assert gradcheck(lambda z: cross_entropy(z, labels), np.random.default_rng(1).normal(size=(3, 3)))


def test_cross_entropy_bad_labels():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        cross_entropy(Value(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels must be integers of shape"):
        cross_entropy(Value(np.zeros((2, 3))), np.array([0.5, 1.0]))


# -- issue 8: dtypes, domains and extremes ---------------------------------------------------------------


@pytest.mark.parametrize("p", [[0.3, 0.6], [0.0, 1.0]])
def test_bce_keeps_float32_end_to_end(p):
    probs = Value(np.array(p, dtype=np.float32))
    loss = binary_cross_entropy(probs, np.array([1.0, 0.0]))
    assert loss.dtype == np.float32
    loss.backward()
    assert probs.grad.dtype == np.float32


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan])
def test_bce_refuses_probabilities_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"binary_cross_entropy: probabilities must lie in \[0, 1\]"):
        binary_cross_entropy(Value(np.array([0.5, bad])), np.array([1.0, 0.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_at_probabilities_0_and_1_is_finite_under_errstate(dtype):
    # Every pairing of p in {0, 1} with t in {0, 1}: the wrong ones cost -log(e^-100) (float32: -log of its
    # smallest normal number), the right ones nothing; no warning, no inf, no NaN in value or gradient.
    p = Value(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype))
    with np.errstate(all="raise"):
        loss = binary_cross_entropy(p, np.array([1.0, 0.0, 0.0, 1.0]))
        loss.backward()
    cap = 100.0 if dtype == np.float64 else -np.log(np.finfo(np.float32).tiny)
    assert loss.item() == pytest.approx(2 * cap / 4, rel=1e-6)
    assert np.all(np.isfinite(p.grad))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_of_sigmoid_at_logits_1000_is_finite_under_errstate(dtype):
    from tinygrad_nn import sigmoid

    z = Value(np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype))
    with np.errstate(all="raise"):
        loss = binary_cross_entropy(sigmoid(z), np.array([1.0, 0.0, 0.0, 1.0]))
        loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))
    assert z.grad[0] == 0.0 and z.grad[1] == 0.0  # right and saturated: nothing to learn


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_at_logits_1000_is_finite_under_errstate(dtype):
    z = Value(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=dtype))
    with np.errstate(all="raise"):
        loss = cross_entropy(z, np.array([1, 1]))
        loss.backward()
    assert loss.item() == pytest.approx(1000.0, rel=1e-6)  # (2000 + 0) / 2
    np.testing.assert_allclose(z.grad, [[0.5, -0.5], [0.0, 0.0]], atol=1e-6)
    assert loss.dtype == dtype and z.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis_shape", [((5,), ()), ((6, 4), (6,)), ((3, 4, 5), (3, 5))])
def test_cross_entropy_coefficients_without_weights_are_the_formulas_bits(dtype, axis_shape):
    # Plain labels skip the factors that are 1 everywhere (weights, smoothing, the counted mask): the same bits as
    # the whole formula, and the mean's divisor is the count, as summing ones gives.
    from tinygrad_nn.nn.costs import _index_coefficients, _index_total

    shape, sample = axis_shape
    axis = 1 if len(shape) >= 2 else 0
    classes = shape[axis]
    labels = np.random.default_rng(0).integers(0, classes, sample)
    dt = np.dtype(dtype)
    ones = np.ones(classes, dt).reshape((classes,) + (1,) * (len(shape) - axis - 1))
    onehot = np.moveaxis(np.eye(classes, dtype=dt)[labels], -1, axis)
    formula = -(((onehot * (1.0 - 0.0) + 0.0 / classes) * ones) * np.expand_dims(labels != -100, axis).astype(dt))
    got = _index_coefficients(labels, classes, dt, None, -100, 0.0, axis)
    assert got.dtype == dt and got.tobytes() == formula.tobytes()
    total = _index_total(labels, None, -100, dt, classes)
    assert total.dtype == dt and total.tobytes() == np.asarray(np.ones(classes, dt)[labels].sum(), dt).tobytes()
