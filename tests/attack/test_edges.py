"""Wrong values, crashes and messages at the edges that attacks found (issue 20): each test failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import AnomalyError, Value, detect_anomaly, no_grad
from tinygrad_nn.optim import SGD


def test_a_graph_built_from_a_detached_alias_is_stale_after_an_in_place_change():
    # PyTorch shares the version counter through detach(): the alias holds the same array
    w, x = Value([1.0, 2.0], name="w"), Value([3.0, 4.0])
    y = (w.detach() * x).sum()
    w.grad = np.ones(2)
    SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="changed in place by SGD.step"):
        y.backward()
    # and the other way round: the alias changed in place under no_grad makes w's graphs stale
    w = Value([1.0, 2.0])
    d = w.detach()
    y = (w * x).sum()
    with no_grad():
        d += 1.0
    assert w.data.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()
    # a graph built after the change is fine
    (w * x).sum().backward()


@pytest.mark.parametrize("fn, torch_name", [(tg.maximum, "maximum"), (tg.minimum, "minimum")])
def test_maximum_and_minimum_pass_the_gradient_on_at_nan_as_pytorch(fn, torch_name):
    a, b = np.array([np.nan, 1.0, 2.0, 3.0, np.nan]), np.array([0.0, 2.0, 2.0, 1.0, np.nan])
    x, y = Value(a), Value(b)
    fn(x, y).sum().backward()
    assert x.grad[0] == 1.0 and y.grad[0] == 1.0 and x.grad[4] == 1.0 and y.grad[4] == 1.0  # NaN: both
    assert x.grad[2] == y.grad[2] == 0.5  # a tie: shared
    torch = pytest.importorskip("torch")
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    getattr(torch, torch_name)(xt, yt).sum().backward()
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())
    np.testing.assert_array_equal(y.grad, yt.grad.numpy())
    s, t = Value(float("nan")), Value(1.0)
    fn(s, t).backward()
    assert (s.grad, t.grad) == (1.0, 1.0)


def test_pad_with_a_value_constant_differentiates_it():
    x, c = Value([1.0, 2.0]), Value(3.0)
    y = tg.pad(x, (1, 2), constant_values=c)
    assert y.data.tolist() == [3.0, 1.0, 2.0, 3.0, 3.0]
    (y * np.arange(5.0)).sum().backward()
    assert c.grad == 0.0 + 3.0 + 4.0 and x.grad.tolist() == [1.0, 2.0]
    assert tg.gradcheck(lambda x, c: tg.pad(x, ((1, 0), (0, 2)), constant_values=c), np.ones((2, 2)), 0.5)
    with pytest.raises(TypeError, match="pad: constant_values as a Value must be one number"):
        tg.pad(x, 1, constant_values=Value([1.0, 2.0]))


def test_conv2d_and_pools_of_an_empty_batch_give_an_empty_result():
    x, w, b = Value(np.zeros((0, 1, 5, 5))), Value(np.ones((2, 1, 3, 3))), Value(np.ones(2))
    y = tg.conv2d(x, w, b, stride=2, padding=1)
    assert y.shape == (0, 2, 3, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 1, 5, 5) and not w.grad.any() and not b.grad.any()
    assert tg.max_pool2d(Value(np.zeros((0, 1, 4, 4))), 2).shape == (0, 1, 2, 2)
    assert tg.avg_pool2d(Value(np.zeros((0, 1, 4, 4))), 2).shape == (0, 1, 2, 2)


def test_sigmoid_of_an_integer_array_works_as_other_ops():
    np.testing.assert_allclose(tg.sigmoid(np.array([0, 2])), 1 / (1 + np.exp(-np.array([0.0, 2.0]))))
    np.testing.assert_allclose(tg.sigmoid(np.array([True, False])), [1 / (1 + np.exp(-1.0)), 0.5])


def test_a_huge_int_is_a_clear_error_naming_where():
    for make, where in [(lambda: Value(2 ** 1100), "Value"), (lambda: Value(1.0) + 2 ** 1100, "add"),
                        (lambda: 2 ** 1100 * Value(1.0), "mul"), (lambda: Value(np.ones(2)) - 2 ** 1100, "sub"),
                        (lambda: Value(1.0) ** (2 ** 1100), "pow")]:
        with pytest.raises(OverflowError, match=rf"^{where}: the int 2\*\*1100\.\.\. is too large for a float64"):
            make()


def test_unary_plus_and_format_of_a_scalar():
    v = Value(2.0)
    assert +v is v
    assert f"{v:.3f}" == "2.000" and f"{Value(np.array([1.5])):.1e}" == "1.5e+00" and f"{v}" == repr(v)
    with pytest.raises(TypeError, match=r"format: the spec '\.2f' is for one number.*shape \(2,\)"):
        f"{Value([1.0, 2.0]):.2f}"


def test_detect_anomaly_checks_ops_on_constants_and_under_no_grad():
    with detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(AnomalyError, match="op 'log' made -inf from finite inputs.*a constant"):
            Value([1.0, 0.0], requires_grad=False).log()
        with no_grad(), pytest.raises(AnomalyError, match="op 'log' made -inf"):
            Value([1.0, 0.0]).log()
    # a backward anomaly still names where the node was made (the sites are kept by id: == is elementwise)
    x = Value(np.array([0.0, 1.0]))
    with detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt()
        with pytest.raises(AnomalyError, match=r"backward of op 'sqrt' gave inf.*made at .*test_edges\.py"):
            y.sum().backward()


def test_running_sums_in_numpy_object_arrays_make_no_reference_cycle():
    # numpy's object loops hold their elements without counting the references, so a partial sum kept only by
    # an array looks like a temporary: added to a sum grown from it, it used to be appended to its own list of
    # terms (a cycle, freed only by the cyclic collector)
    import gc
    import weakref

    xs = [Value(float(i + 1)) for i in range(5)]
    partial = np.cumsum(np.array([x * x for x in xs], dtype=object))  # running sums sharing one list of terms
    pair = np.empty(2, dtype=object)
    pair[0], pair[1] = partial[3], partial[4]
    del partial
    out = np.add(pair[1:], pair[:1])[0]
    assert out.data == 55.0 + 30.0
    out.backward()
    assert [x.grad for x in xs] == [4.0, 8.0, 12.0, 16.0, 10.0]
    refs = [weakref.ref(v) for v in (pair[0], pair[1], out)]
    enabled = gc.isenabled()
    gc.disable()
    try:
        del pair, out
        assert [r() is None for r in refs] == [True, True, True], "freed by reference counting alone"
    finally:
        if enabled:
            gc.enable()
