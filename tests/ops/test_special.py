"""tinygrad_nn.special: scipy.special's functions, with gradients to any order that agree with PyTorch's
(the forward, gradient and gradgrad checks against finite differences run from their OpInfos)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tn
from tinygrad_nn import Value, grad
from tinygrad_nn import special as sp
from tinygrad_nn.ops import OPS

pytest.importorskip("scipy", reason="tinygrad_nn.special computes its forwards with scipy")


def test_each_function_is_its_registered_op_and_expit_is_the_sigmoid():
    for name in sp.__all__:
        if name == "expit":
            assert sp.expit is tn.sigmoid
        elif name == "polygamma":
            assert sp.polygamma is OPS["polygamma"]  # the public order (n, x); the op's own is (x, n=...)
            assert OPS["polygamma"].raw(Value(2.0), n=1).data == sp.polygamma(1, Value(2.0)).data \
                == sp.polygamma(1, 2.0)
        else:
            assert getattr(sp, name) is OPS[name]


@pytest.mark.parametrize("name, x", [("erf", 0.3), ("erfc", -0.7), ("ndtr", 1.2), ("log_ndtr", -4.0),
                                     ("gammaln", 1.7), ("digamma", 2.5), ("logit", 0.3)])
def test_three_orders_of_derivative_agree_with_pytorch(name, x):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = getattr(torch.special, name)(t)
    f = getattr(sp, name)
    ours = [f, grad(f), grad(grad(f)), grad(grad(grad(f)))]
    theirs = y
    for order, ours_k in enumerate(ours):
        if order:
            theirs = torch.autograd.grad(theirs, t, create_graph=True)[0]
        value = ours_k(x)
        value = value.data if isinstance(value, Value) else value
        assert value == pytest.approx(theirs.item(), rel=1e-8, abs=1e-12), (name, order)


def test_xlogy_is_zero_at_zero_with_quiet_gradients():
    x, y = Value(np.array([0.0, 0.0, 2.0])), Value(np.array([0.0, 3.0, 3.0]))
    out = sp.xlogy(x, y)
    out.backward(np.ones(3))
    assert out.data.tolist() == [0.0, 0.0, 2.0 * np.log(3.0)]
    assert x.grad.tolist() == [0.0, np.log(3.0), np.log(3.0)]  # log y, the slope, except at x = y = 0
    assert y.grad.tolist() == [0.0, 0.0, 2.0 / 3.0]  # x / y, and 0 where x = 0 (PyTorch: NaN at 0 / 0)


def test_log_ndtr_gradient_is_finite_far_in_the_tail():
    assert grad(sp.log_ndtr)(-40.0) == pytest.approx(40.0248, rel=1e-4)  # ~ -x, where ndtr underflows to 0


def test_polygamma_refuses_a_bad_order():
    with pytest.raises(ValueError, match=r"^polygamma: n must be a whole number >= 0, got 2\.5"):
        sp.polygamma(2.5, Value(1.0))


def test_erf_erfc_ndtr_gammaln_need_no_scipy(monkeypatch):
    """Without scipy (the exact GELU needs ndtr), these four run on Python's math, to scipy's accuracy."""
    import sys

    x = np.array([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=np.float32)
    want = {name: getattr(sp, name)(x) for name in ("erf", "erfc", "ndtr", "gammaln")}
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy now raises ImportError
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    for name, expected in want.items():
        got = getattr(sp, name)(x)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=2e-7, err_msg=name)
        assert getattr(sp, name)(0.7) == pytest.approx(float(getattr(sp, name)(np.float64(0.7))), rel=1e-15)
    with pytest.raises(ImportError, match="needs scipy"):
        sp.digamma(x)
