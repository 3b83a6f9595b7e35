"""The new reductions and scans (issue 9) at their edges: zeros in prod and cumprod (first and second order),
underflow in cumprod, std at a constant input, norm at 0, ties in sort and the inf-norm, argmax's integers,
ddof and the axis forms. Where torch is installed, the last tests compare with it directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_nn.ops as ops
from tinygrad_nn import Value, grad, gradcheck, gradgradcheck
from tinygrad_nn.engine import gradients
from tinygrad_nn.ops import identity


def grads_of(f, *payloads):
    xs = [Value(p) for p in payloads]
    out = f(*xs)
    out.backward(None if out.size == 1 else np.ones(out.shape))
    return [x.grad for x in xs]


def hessian(f, x):
    """The full Hessian of a scalar f at x, row by row through backward(create_graph=True)."""
    x = np.asarray(x, dtype=np.float64)
    rows = []
    for i in range(x.size):
        v = identity(Value(x))
        (gi,) = gradients(f(v), [v], create_graph=True)
        (h,) = gradients(gi.reshape(-1)[i], [v])
        rows.append(np.zeros(x.size) if h is None else np.ravel(h))
    return np.array(rows)


# -- prod: zeros -----------------------------------------------------------------------------------------------


def test_prod_one_zero_gives_the_product_of_the_others_there():
    np.testing.assert_array_equal(grads_of(ops.prod, np.array([2.0, 0.0, 3.0]))[0], [0.0, 6.0, 0.0])


def test_prod_two_zeros_give_zero_everywhere():
    np.testing.assert_array_equal(grads_of(ops.prod, np.array([2.0, 0.0, 3.0, 0.0]))[0], np.zeros(4))
    np.testing.assert_array_equal(grads_of(ops.prod, np.array([0.0, 0.0]))[0], np.zeros(2))


def test_prod_zeros_per_reduced_group():
    x = np.array([[2.0, 0.0, 3.0],   # one zero
                  [2.0, 5.0, 3.0],   # none
                  [0.0, 5.0, 0.0]])  # two
    np.testing.assert_array_equal(grads_of(lambda v: ops.prod(v, axis=1), x)[0],
                                  [[0.0, 6.0, 0.0], [15.0, 6.0, 10.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(grads_of(lambda v: ops.prod(v, axis=0, keepdims=True), x)[0],
                                  [[0.0, 25.0, 0.0], [0.0, 0.0, 0.0], [4.0, 0.0, 9.0]])
    # axis over both: two zeros in all -> 0; a tuple axis in any order
    np.testing.assert_array_equal(grads_of(lambda v: ops.prod(v, axis=(1, 0)), x[:2])[0],
                                  [[0.0, 180.0, 0.0], [0.0, 0.0, 0.0]])


def test_prod_second_derivatives_at_zeros_are_exact():
    # f = x0 x1 x2: H01 = x2, H02 = x1, H12 = x0 (zero or not)
    np.testing.assert_array_equal(hessian(ops.prod, [2.0, 0.0, 3.0]), [[0, 3, 0], [3, 0, 2], [0, 2, 0]])
    np.testing.assert_array_equal(hessian(ops.prod, [0.0, 0.0, 3.0]), [[0, 3, 0], [3, 0, 0], [0, 0, 0]])
    assert gradgradcheck(lambda v: ops.prod(v, axis=0), np.array([[0.0, 1.5], [2.0, 0.0], [0.0, -1.0]]))


def test_prod_forms():
    assert ops.prod(Value(3.0)).data == 3.0 and grads_of(ops.prod, 3.0) == [1.0]
    x = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(ops.prod(Value(x), axis=()).data, x)
    assert ops.prod(Value(x), keepdims=True).shape == (1, 1)
    assert Value(x).prod(axis=-1).shape == (2,) and Value(x).prod(1).shape == (2,)
    with pytest.raises(ValueError, match="prod: axis 2 is out of range"):
        ops.prod(Value(x), axis=2)


# -- cumprod: zeros and underflow --------------------------------------------------------------------------------


def test_cumprod_with_one_zero():
    # y = [2, 0, 0, 0]; d sum(y) / dx: before the zero 1 + 0 + ..., at the zero 2 * (1 + 3 + 12), after it 0
    np.testing.assert_array_equal(grads_of(ops.cumprod, np.array([2.0, 0.0, 3.0, 4.0]))[0], [1.0, 32.0, 0.0, 0.0])


def test_cumprod_with_two_zeros_and_zeros_first():
    np.testing.assert_array_equal(grads_of(ops.cumprod, np.array([2.0, 0.0, 3.0, 0.0, 5.0]))[0], [1, 8, 0, 0, 0])
    np.testing.assert_array_equal(grads_of(ops.cumprod, np.array([0.0, 3.0, 4.0]))[0], [16.0, 0.0, 0.0])


def test_cumprod_zeros_along_an_axis_against_the_definition():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (3, 4, 5))
    x[rng.random(x.shape) < 0.3] = 0.0
    w = rng.uniform(-1, 1, x.shape)
    for axis in (0, 1, -1):
        (g,) = grads_of(lambda v, axis=axis: ops.cumprod(v, axis=axis) * w, x)
        # d/dx_i sum_k w_k prod_{j <= k} x_j, written out
        xm, wm = np.moveaxis(x, axis, -1), np.moveaxis(w, axis, -1)
        n = xm.shape[-1]
        want = np.zeros_like(xm)
        for i in range(n):
            for k in range(i, n):
                others = np.prod(np.delete(xm[..., : k + 1], i, axis=-1), axis=-1)
                want[..., i] += wm[..., k] * others
        np.testing.assert_allclose(g, np.moveaxis(want, -1, axis), rtol=1e-13, atol=1e-15)


def test_cumprod_second_derivatives_at_zeros_are_exact():
    # f = x0 + x0 x1 + x0 x1 x2: H01 = 1 + x2, H02 = x1, H12 = x0 (PyTorch's values too)
    np.testing.assert_array_equal(hessian(lambda v: ops.cumprod(v).sum(), [2.0, 0.0, 3.0]),
                                  [[0, 4, 0], [4, 0, 2], [0, 2, 0]])
    assert gradgradcheck(lambda v: ops.cumprod(v, axis=1), np.array([[0.0, 1.5, 2.0], [1.0, 0.0, 0.0]]))


def test_cumprod_underflow_keeps_the_gradient_exact():
    # y_1 = 1e-200 * 1e-200 underflows to 0 without any zero in x: y / x would give 0 instead of x_0
    x = np.array([1e-200, 1e-200, 3.0])
    (g,) = grads_of(ops.cumprod, x)
    np.testing.assert_array_equal(g, [1.0 + 1e-200 + 3e-200, 1e-200 + 3e-200, 0.0])
    x32 = np.array([1.5, 1.4e-45], dtype=np.float32)  # a subnormal product loses its digits
    (g32,) = grads_of(ops.cumprod, x32)
    np.testing.assert_allclose(g32, [1.0 + 1.4e-45, 1.5], rtol=1e-6)
    assert g32.dtype == np.float32


def test_cumprod_second_order_for_tiny_inputs():
    # the rule used in differentiable passes divides by nothing: d^2 x / dx^2 = 0, not a cancelled 1/x - x/x^2
    assert grad(grad(lambda v: ops.cumprod(v).sum()))(np.array([3e-260]))[0] == 0.0


def test_cumsum_and_cumprod_axis_none_flatten_as_numpy():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(ops.cumsum(Value(x)).data, np.cumsum(x))
    np.testing.assert_array_equal(ops.cumprod(Value(x)).data, np.cumprod(x))
    np.testing.assert_array_equal(grads_of(ops.cumsum, x)[0], [[6, 5, 4], [3, 2, 1]])
    np.testing.assert_array_equal(ops.cumsum(Value(2.0)).data, [2.0])
    assert grads_of(ops.cumsum, 2.0) == [1.0]
    with pytest.raises(ValueError, match="cumsum: a scalar has no axis"):
        ops.cumsum(Value(2.0), axis=0)
    with pytest.raises(ValueError, match="cumprod: axis 2 is out of range"):
        ops.cumprod(Value(x), axis=2)


def test_linear_recurrence():
    b, a = np.array([1.0, 2.0, 3.0]), np.array([9.0, 0.5, -1.0])
    np.testing.assert_array_equal(ops.reductions.linear_recurrence(b, a), [1.0, 2.5, 0.5])
    np.testing.assert_array_equal(ops.reductions.linear_recurrence(b, a, reverse=True),
                                  [1.0 + 9 * 3.5, 2.0 + 0.5 * 3, 3.0])
    assert gradgradcheck(lambda u, v: ops.reductions.linear_recurrence(u, v, reverse=True), b, a)


# -- var and std -------------------------------------------------------------------------------------------------


def test_var_std_ddof_axis_keepdims():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    for kw in [{}, {"ddof": 1}, {"axis": 0}, {"axis": 1, "ddof": 1, "keepdims": True}, {"axis": (0, 1)}]:
        np.testing.assert_allclose(ops.var(Value(x), **kw).data, np.var(x, **kw), rtol=1e-14)
        np.testing.assert_allclose(ops.std(Value(x), **kw).data, np.std(x, **kw), rtol=1e-14)
    np.testing.assert_allclose(ops.var(Value(x), correction=1).data, np.var(x, ddof=1), rtol=1e-14)
    assert Value(x).std(1).shape == (3,)


def test_var_refuses_ddof_without_degrees_of_freedom():
    with pytest.raises(ValueError, match="var: ddof=1 leaves 0 degrees of freedom"):
        ops.var(Value(np.ones((3, 1))), axis=1, ddof=1)
    with pytest.raises(ValueError, match="ddof=2 and correction=1 disagree"):
        ops.var(Value(np.ones(3)), ddof=2, correction=1)


def test_std_at_a_constant_input_has_gradient_zero():
    # the square root has no slope at 0; the gradient is taken as 0 there, as in PyTorch
    np.testing.assert_array_equal(grads_of(ops.std, np.ones(3))[0], np.zeros(3))
    np.testing.assert_array_equal(grads_of(lambda v: ops.std(v, axis=1), np.array([[2.0, 2.0], [1.0, 3.0]]))[0],
                                  [[0.0, 0.0], [-0.5, 0.5]])
    assert grads_of(ops.std, 2.0) == [0.0]
    assert ops.var(Value(2.0)).data == 0.0


# -- norm ----------------------------------------------------------------------------------------------------------


def test_norm_values_match_numpy():
    rng = np.random.default_rng(1)
    v, m, t = rng.normal(size=5), rng.normal(size=(3, 4)), rng.normal(size=(2, 3, 4))
    cases = [(v, {}), (v, {"ord": 1}), (v, {"ord": np.inf}), (v, {"ord": -np.inf}), (v, {"ord": 3}),
             (v, {"ord": 2.5}), (m, {}), (m, {"ord": "fro"}), (m, {"ord": 1}), (m, {"ord": -1}), (m, {"ord": np.inf}),
             (m, {"ord": -np.inf}), (m, {"axis": 1}), (m, {"axis": 0, "ord": 1, "keepdims": True}),
             (t, {}), (t, {"axis": (2, 0)}), (t, {"axis": (0, 2), "ord": 1}), (t, {"axis": (-1, 1), "ord": np.inf,
                                                                                    "keepdims": True}),
             (t, {"axis": -1, "ord": -np.inf}), (t, {"keepdims": True})]
    for x, kw in cases:
        np.testing.assert_allclose(ops.norm(Value(x), **kw).data, np.linalg.norm(x, **kw), rtol=1e-14, err_msg=kw)


def test_norm_gradient_at_zero_is_zero():
    for kw in [{}, {"ord": 1}, {"ord": np.inf}, {"ord": 3}]:
        np.testing.assert_array_equal(grads_of(lambda v, kw=kw: ops.norm(v, **kw), np.zeros(3))[0], np.zeros(3))
    # one zero row among others: the zero row gets 0, the other its usual x / |x|
    np.testing.assert_allclose(grads_of(lambda v: ops.norm(v, axis=1), np.array([[0.0, 0.0], [3.0, -4.0]]))[0],
                               [[0.0, 0.0], [0.6, -0.8]], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(grads_of(lambda v: ops.norm(v, "fro"), np.zeros((2, 2)))[0], np.zeros((2, 2)))
    assert grads_of(ops.norm, 0.0) == [0.0] and grads_of(ops.norm, -2.0) == [-1.0]


def test_norm_inf_ties_share_the_gradient():
    np.testing.assert_array_equal(grads_of(lambda v: ops.norm(v, np.inf), np.array([1.0, -1.0, 0.5]))[0],
                                  [0.5, -0.5, 0.0])


def test_norm_refuses_what_it_cannot_do():
    m = Value(np.ones((2, 2)))
    with pytest.raises(ValueError, match="is a matrix norm, but one axis"):
        ops.norm(m, "fro", axis=0)
    with pytest.raises(ValueError, match="unsupported ord=0.5"):
        ops.norm(Value(np.ones(3)), 0.5)
    with pytest.raises(ValueError, match="needs a 1-D or 2-D input"):
        ops.norm(Value(np.ones((2, 2, 2))), 1)
    with pytest.raises(ValueError, match="repeats an axis"):
        ops.norm(m, axis=(0, -2))
    with pytest.raises(ValueError, match="norm: axis 3 is out of range"):
        ops.norm(m, axis=3)


def test_matrix_norms_from_singular_values_where_svd_exists():
    x = np.array([[[3.0, 1.0, 0.5], [1.0, -2.0, 0.25]], [[0.5, 0.0, 1.0], [2.0, 1.0, -1.0]]])
    if not hasattr(ops, "svd"):
        with pytest.raises(ValueError, match="needs singular values, and tinygrad_nn.ops has no svd"):
            ops.norm(Value(x[0]), 2)
        return
    for ord in (2, -2, "nuc"):
        np.testing.assert_allclose(ops.norm(Value(x[0]), ord).data, np.linalg.norm(x[0], ord), rtol=1e-13)
        for axis in [(1, 2), (2, 1), (0, 2)]:
            for keepdims in (False, True):
                np.testing.assert_allclose(ops.norm(Value(x), ord, axis, keepdims).data,
                                           np.linalg.norm(x, ord, axis, keepdims), rtol=1e-13)
        assert gradcheck(lambda v, ord=ord: ops.norm(v, ord, (2, 1)), x)


def test_norm_second_order_away_from_zero():
    assert gradgradcheck(lambda v: ops.norm(v, axis=0), np.array([[1.0, -2.0], [0.5, 3.0]]))
    assert gradgradcheck(lambda v: ops.norm(v, 3), np.array([1.0, -2.0, 0.5]))


# -- argmax, argmin, argsort: integers, no gradient ----------------------------------------------------------------


def test_argmax_argmin_are_numpy_integers():
    x = Value(np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]]))
    assert ops.argmax(x) == 3 and ops.argmin(x) == 0
    assert not isinstance(ops.argmax(x), Value) and np.issubdtype(np.asarray(ops.argmax(x)).dtype, np.integer)
    np.testing.assert_array_equal(x.argmax(axis=1), [1, 0])  # ties: the first
    np.testing.assert_array_equal(x.argmin(axis=0, keepdims=True), [[0, 1, 0]])
    assert x.argmax(1).dtype.kind == "i" and ops.argmax(Value(2.0)) == 0
    np.testing.assert_array_equal(ops.argsort(Value(np.array([2.0, 1.0, 2.0, 0.0]))), [3, 1, 0, 2])  # stable


# -- sort ----------------------------------------------------------------------------------------------------------


def test_sort_gradient_follows_the_permutation():
    x = np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    w = np.array([1.0, 10.0, 100.0])
    (g,) = grads_of(lambda v: ops.sort(v) * w, x)
    np.testing.assert_array_equal(g, [[100.0, 1.0, 10.0], [10.0, 1.0, 100.0]])
    (g,) = grads_of(lambda v: ops.sort(v, axis=0) * np.array([[1.0], [10.0]]), x)
    np.testing.assert_array_equal(g, [[10.0, 10.0, 1.0], [1.0, 1.0, 10.0]])
    (g,) = grads_of(lambda v: ops.sort(v, axis=None) * np.arange(6.0), x)
    np.testing.assert_array_equal(g, [[4.0, 2.0, 3.0], [1.0, 0.0, 5.0]])


def test_sort_ties_are_stable():
    # equal elements keep their order: the first 1.0 goes to the first tied place (PyTorch gives the same here)
    (g,) = grads_of(lambda v: ops.sort(v) * np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0, 3.0])


def test_sort_values_and_errors():
    x = np.array([2.0, np.nan, -1.0, 0.5])
    np.testing.assert_array_equal(ops.sort(Value(x)).data, np.sort(x))  # nan last, as numpy
    with pytest.raises(ValueError, match="sort: a scalar has no axis"):
        ops.sort(Value(2.0))
    np.testing.assert_array_equal(ops.sort(Value(2.0), axis=None).data, [2.0])
    assert gradgradcheck(lambda v: ops.sort(v) ** 2, np.array([0.3, -1.0, 2.0]))


# -- diff ------------------------------------------------------------------------------------------------------------


def test_diff_forms():
    x = np.array([[1.0, 4.0, 9.0, 16.0], [2.0, 3.0, 5.0, 7.0]])
    for kw in [{}, {"n": 2}, {"n": 3}, {"n": 0}, {"axis": 0}, {"prepend": 0.0}, {"append": [[1.0], [2.0]]},
               {"n": 2, "prepend": 1.0, "append": -1.0}, {"axis": 0, "prepend": np.zeros((1, 4))}, {"n": 5}]:
        np.testing.assert_array_equal(ops.diff(Value(x), **kw).data, np.diff(x, **kw), err_msg=str(kw))
    assert gradcheck(lambda v: ops.diff(v, n=2, prepend=0.5), x)
    p = Value(np.array([[0.5], [1.0]]))
    ops.diff(Value(x), prepend=p).sum().backward()
    np.testing.assert_array_equal(p.grad, [[-1.0], [-1.0]])  # prepended Values get gradients too
    with pytest.raises(ValueError, match="diff: needs an input with at least one axis"):
        ops.diff(Value(1.0))
    with pytest.raises(ValueError, match="non-negative int"):
        ops.diff(Value(x), n=-1)


# -- PyTorch, where installed ----------------------------------------------------------------------------------------


def test_reduction_edges_match_pytorch():
    torch = pytest.importorskip("torch")

    def both(ours, theirs, x):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        theirs(t).sum().backward()
        (g,) = grads_of(ours, x)
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14, atol=0)
        np.testing.assert_allclose(ours(Value(x)).data, theirs(torch.tensor(x, dtype=torch.float64)).detach().numpy(),
                                   rtol=1e-14)

    both(ops.prod, torch.prod, np.array([2.0, 0.0, 3.0]))
    both(ops.prod, torch.prod, np.array([2.0, 0.0, 3.0, 0.0]))
    both(lambda v: ops.prod(v, axis=1), lambda t: torch.prod(t, 1), np.array([[2.0, 0.0], [0.0, 0.0], [1.0, 3.0]]))
    both(lambda v: ops.cumprod(v, axis=0), lambda t: torch.cumprod(t, 0), np.array([2.0, 0.0, 3.0, 4.0]))
    both(lambda v: ops.cumprod(v, axis=0), lambda t: torch.cumprod(t, 0), np.array([2.0, 0.0, 3.0, 0.0, 5.0]))
    both(lambda v: ops.cumsum(v, axis=1), lambda t: torch.cumsum(t, 1), np.arange(6.0).reshape(2, 3))
    both(lambda v: ops.std(v, ddof=1), torch.std, np.ones(3))  # torch's std defaults to ddof=1
    both(lambda v: ops.std(v, ddof=1), torch.std, np.array([1.0, 2.0, 4.0]))
    both(lambda v: ops.var(v, axis=0), lambda t: torch.var(t, 0, correction=0), np.array([[1.0, 2.0], [4.0, 3.0]]))
    both(ops.norm, torch.linalg.norm, np.zeros(3))
    both(ops.norm, torch.linalg.norm, np.array([3.0, -4.0]))
    both(lambda v: ops.norm(v, 1), lambda t: torch.linalg.vector_norm(t, 1), np.array([0.0, -2.0, 1.0]))
    both(lambda v: ops.norm(v, np.inf), lambda t: torch.linalg.vector_norm(t, math.inf), np.array([1.0, -1.0, 0.5]))
    both(lambda v: ops.norm(v, 3), lambda t: torch.linalg.vector_norm(t, 3), np.array([1.0, -2.0, 0.0]))
    both(lambda v: ops.sort(v) * np.array([1.0, 2.0, 3.0]), lambda t: torch.sort(t).values
         * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), np.array([1.0, 0.0, 1.0]))
    both(lambda v: ops.diff(v, n=2), lambda t: torch.diff(t, n=2), np.array([1.0, 4.0, 9.0, 16.0]))


def test_cumprod_hessian_at_zeros_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([2.0, 0.0, 3.0, 0.0, 1.5])
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    want = torch.autograd.functional.hessian(lambda u: (torch.cumprod(u, 0) * torch.arange(1.0, 6.0,
                                                                                     dtype=torch.float64)).sum(), t)
    got = hessian(lambda v: (ops.cumprod(v, axis=0) * np.arange(1.0, 6.0)).sum(), x)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-14, atol=0)
