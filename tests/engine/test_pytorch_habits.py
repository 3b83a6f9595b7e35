"""PyTorch's and micrograd's habits (issue 19): tensor constructors, requires_grad_, unsqueeze / view / .mT /
.pow / .matmul, inputs by PyTorch's keyword names, integer astype, the error for item assignment, mse's
reduction, and MLP's documented output layer."""

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Value, linear, matmul, scatter_add, where
from tinygrad_nn.nn import MLP, Linear, MSELoss, mse


def test_constructors_make_constants_of_the_asked_shape_and_dtype():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).shape == (2, 3)
    assert not tg.ones(4).requires_grad and tg.ones(4, requires_grad=True).requires_grad
    np.testing.assert_array_equal(tg.full((2,), 7.0).data, [7.0, 7.0])
    np.testing.assert_array_equal(tg.arange(4).data, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tg.arange(1, 2, 0.5).data, [1.0, 1.5])
    np.testing.assert_array_equal(tg.eye(2).data, np.eye(2))
    assert tg.zeros(3, dtype=np.float32).dtype == np.float32
    assert tg.zeros_like(Value(np.ones((2, 2), np.float32))).dtype == np.float32
    assert tg.ones_like(np.ones(3, dtype=int)).dtype == np.float64
    assert tg.full_like(tg.zeros(2), 3.0).data.tolist() == [3.0, 3.0]
    t = tg.tensor([[1, 2], [3, 4]])
    assert t.dtype == np.float64 and not t.requires_grad
    with pytest.raises(TypeError, match="zeros: Values hold floats, so dtype must be a float type"):
        tg.zeros(2, dtype=np.int64)
    with pytest.raises(TypeError, match=r"ones: sizes must be whole numbers >= 0"):
        tg.ones(2.5)


def test_random_constructors_follow_seed_generator_and_manual_seed():
    np.testing.assert_array_equal(tg.randn(5, seed=3).data, np.random.default_rng(3).standard_normal(5))
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    np.testing.assert_array_equal(tg.rand(2, 2, generator=g1).data, g2.random((2, 2)))
    tg.manual_seed(7)
    a = tg.randn(3).data
    tg.manual_seed(7)
    np.testing.assert_array_equal(tg.randn(3).data, a)
    assert tg.randn_like(tg.zeros(2, 4), seed=0).shape == (2, 4)
    assert (0 <= tg.rand_like(np.zeros(9), seed=0).data).all()
    with pytest.raises(ValueError, match="randn: give seed or generator, not both"):
        tg.randn(2, seed=1, generator=g1)


def test_requires_grad_underscore():
    x = tg.zeros(3)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = Value(np.ones(2)) * 2
    with pytest.raises(RuntimeError, match=r"requires_grad_: this Value was made by 'mul'.*detach"):
        y.requires_grad_(False)


def test_unsqueeze_view_mT_pow_matmul_methods():
    x = Value(np.arange(6.0).reshape(2, 3))
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.view(3, 2).shape == (3, 2) and x.view((6,)).shape == (6,) and x.view(-1).shape == (6,)
    b = Value(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(b.mT.data, np.swapaxes(b.data, -1, -2))
    np.testing.assert_array_equal(x.pow(2).data, x.data ** 2)
    np.testing.assert_array_equal(x.matmul(x.T).data, x.data @ x.data.T)
    (b.mT.sum() + x.pow(3).sum()).backward()
    np.testing.assert_array_equal(x.grad, 3 * x.data ** 2)


def test_inputs_by_pytorchs_keyword_names():
    a, b = Value(np.ones((2, 3))), Value(np.ones((3, 4)))
    np.testing.assert_array_equal(matmul(input=a, other=b).data, np.full((2, 4), 3.0))
    np.testing.assert_array_equal(matmul(a, other=b).data, np.full((2, 4), 3.0))
    np.testing.assert_array_equal(a.matmul(other=b).data, np.full((2, 4), 3.0))
    w, bias = np.ones((5, 3)), np.zeros(5)
    assert linear(input=a, weight=w, bias=bias).shape == (2, 5)
    np.testing.assert_array_equal(tg.add(input=a, other=1.0).data, a.data + 1)
    with pytest.raises(TypeError, match="matmul: got two values for its input 'input'"):
        matmul(a, input=b)
    with pytest.raises(TypeError, match="matmul: input 'other' given by name, but an input before it is missing"):
        matmul(other=b)


def test_integer_astype_gives_integers_without_gradient():
    x = Value(np.array([1.7, -1.7, 3.0]))
    idx = x.astype(np.int64)
    assert isinstance(idx, np.ndarray) and idx.dtype == np.int64 and idx.tolist() == [1, -1, 3]
    assert tg.astype(Value(2.9), "int32") == 2 and tg.astype(Value(0.0), bool) == np.False_
    grid = Value(np.arange(10.0))
    cell = (Value(np.array([0.25, 0.75])) * 10).astype(int)  # indices computed from values, then used to index
    grid[cell].sum().backward()
    assert grid.grad.tolist() == [0, 0, 1, 0, 0, 0, 0, 1, 0, 0]
    with pytest.raises(ValueError, match=r"astype: values from .* do not fit in int8"):
        Value([300.0]).astype(np.int8)


def test_item_assignment_names_the_differentiable_ways():
    v = Value(np.zeros(3))
    with pytest.raises(TypeError, match=r"Value does not support item assignment \(v\[1\] = \.\.\.\).*where\(mask, "
                                        r"new, v\).*scatter_add.*concatenate"):
        v[1] = 5.0
    # the ways it names work, and carry the gradient
    new = Value(5.0)
    mask = np.arange(3) == 1
    for out in (where(mask, new, v), v + scatter_add(new - v[1], index=1, shape=v.shape),
                tg.concatenate([v[:1], tg.reshape(new, shape=(1,)), v[2:]])):
        np.testing.assert_array_equal(out.data, [0.0, 5.0, 0.0])


def test_mse_reductions_match_torch():
    torch = pytest.importorskip("torch")
    a, t = np.random.default_rng(0).normal(size=(2, 3)), np.random.default_rng(1).normal(size=(2, 3))
    for reduction in ("mean", "sum", "none"):
        ours = MSELoss(reduction)(Value(a), t)
        theirs = torch.nn.MSELoss(reduction=reduction)(torch.from_numpy(a), torch.from_numpy(t))
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="mse: reduction must be 'mean', 'sum' or 'none'"):
        mse(Value(a), t, reduction="avg")


def test_mlp_output_layer_is_documented_and_linear_has_none():
    assert "Unlike micrograd's MLP" in MLP.__doc__ and "output_activation=None" in MLP.__doc__
    net = MLP(64, [32, 10], activation="relu")
    assert net.layers[-1].activation is not None  # the book's shape, as documented
    assert MLP(64, [32, 10], activation="relu", output_activation=None).layers[-1].activation is None
    assert Linear(3, 2).activation is None
