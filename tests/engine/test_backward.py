"""The backward pass: seeding, upstream gradients, accumulation, shared nodes, un-broadcasting,
deep graphs (no recursion) and prompt freeing of finished graphs."""

import math
import weakref

import numpy as np
import pytest

from tinygrad_nn import Value

# -- seeding and upstream gradients ---------------------------------------------------------------


def test_scalar_output_is_seeded_with_one():
    x = Value(3.0)
    y = x * x + 2 * x
    y.backward()
    assert y.grad == 1.0 and type(y.grad) is float
    assert x.grad == 8.0 and type(x.grad) is float


@pytest.mark.parametrize("shape", [(1,), (1, 1), ()])
def test_one_element_tensor_output_is_seeded_with_one(shape):
    x = Value(np.full(shape, 3.0))
    y = x * x
    y.backward()
    np.testing.assert_array_equal(y.grad, np.ones(shape))
    np.testing.assert_array_equal(x.grad, np.full(shape, 6.0))
    assert np.shape(x.grad) == shape


def test_backward_with_an_explicit_gradient_on_a_scalar():
    x = Value(3.0)
    y = x * x
    y.backward(2.0)
    assert x.grad == 12.0


def test_backward_with_an_explicit_gradient_on_a_tensor():
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = x * x
    v = np.array([1.0, 0.5, -1.0])
    y.backward(v)
    np.testing.assert_array_equal(x.grad, 2 * x.data * v)
    np.testing.assert_array_equal(v, [1.0, 0.5, -1.0])  # the caller's array is not modified


def test_backward_with_a_value_gradient():
    x = Value(np.array([1.0, 2.0]))
    (x * 3).backward(Value(np.array([1.0, 2.0])))
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])


def test_backward_with_a_list_gradient():
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    (x * 3).backward([[1, 0], [0, 1]])
    np.testing.assert_array_equal(x.grad, [[3.0, 0.0], [0.0, 3.0]])


def test_backward_on_a_leaf():
    x = Value(np.array([1.0, 2.0]))
    x.backward(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(x.grad, [5.0, 6.0])
    s = Value(2.0)
    s.backward()
    assert s.grad == 1.0


def test_intermediate_gradients_are_available_after_backward():
    a = Value(2.0)
    b = a * 3.0
    c = b * b
    c.backward()
    assert b.grad == 12.0 and a.grad == 36.0


def test_vector_jacobian_product_matches_the_jacobian():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 3))
    x = Value(rng.standard_normal(3))
    y = Value(W) @ x
    v = rng.standard_normal(4)
    y.backward(v)
    np.testing.assert_allclose(x.grad, W.T @ v, rtol=1e-14, atol=1e-14)


# -- accumulation and stale gradients -------------------------------------------------------------


def test_leaves_accumulate_across_backward_calls():
    x = Value(2.0)
    (x * x).backward()
    (x * 3).backward()
    assert x.grad == 7.0


def test_backward_twice_on_one_graph_gives_exactly_twice_the_leaf_gradient():
    a = Value(2.0)
    b = a * 3.0
    c = b * b + b.tanh()
    c.backward()
    once_a, once_b = a.grad, b.grad
    c.backward()
    assert a.grad == 2 * once_a
    assert b.grad == once_b  # an intermediate starts afresh: no stale gradient


def test_backward_twice_on_a_tensor_graph_gives_exactly_twice():
    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal((4, 3)))
    w = Value(rng.standard_normal(3))
    h = (x * w).tanh()  # h is used twice below; each leaf is reached through h only
    loss = (h * h).sum() + h.exp().sum()
    loss.backward()
    gx, gw, gh = x.grad.copy(), w.grad.copy(), h.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2 * gx)
    np.testing.assert_array_equal(w.grad, 2 * gw)
    np.testing.assert_array_equal(h.grad, gh)


def test_backward_twice_gives_exactly_twice_for_a_leaf_on_several_paths():
    x = Value(np.array([0.1, 0.2, 0.3]))
    y = (x * 0.7).sum() + (x * x * 1.3).tanh().sum() + x.exp().sum()
    y.backward()
    once = x.grad.copy()
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * once)


def test_backward_twice_gives_exactly_twice_for_a_scalar_leaf_on_several_paths():
    fails = 0
    for a0, b0 in [(0.1, 0.2), (0.3, -1.1), (-0.7, 1.9), (1.3, 0.4), (-1.6, -0.9), (0.05, 1.7), (1.1, -1.3)]:
        a, b = Value(a0), Value(b0)
        y = (a * b).tanh() + a.exp() * b + a * 0.3
        y.backward()
        once = a.grad
        y.backward()
        fails += a.grad != 2 * once
    assert fails == 0


def test_leaf_gradient_array_is_updated_in_place():
    x = Value(np.ones(3))
    g = x.grad
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert x.grad is g
    np.testing.assert_array_equal(g, [4.0, 4.0, 4.0])


def test_micrograd_style_zero_grad_with_an_int_zero():
    x = Value(2.0)
    (x * x).backward()
    x.grad = 0
    (x * x).backward()
    assert x.grad == 4.0


def test_backward_from_a_different_output_does_not_see_old_intermediate_gradients():
    a = Value(1.5)
    b = a * 2.0
    y1 = b * b
    y2 = b * 5.0
    y1.backward()
    assert b.grad == 6.0
    y2.backward()
    assert b.grad == 5.0
    assert a.grad == 12.0 + 10.0


# -- shared nodes -----------------------------------------------------------------------------------


def test_a_plus_a():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_a_times_a():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


def test_diamond():
    x = Value(0.7)
    u = x * 2.0
    v = x.exp()
    y = u * v
    y.backward()
    assert math.isclose(x.grad, 2 * math.exp(0.7) + 2 * 0.7 * math.exp(0.7), rel_tol=1e-15)


def test_shared_subgraph_used_on_many_paths():
    a, b = Value(0.3), Value(-1.2)
    s = a * b + a  # shared
    y = s * s + s.tanh() + 3 * s
    y.backward()
    sv = 0.3 * -1.2 + 0.3
    dy_ds = 2 * sv + (1 - math.tanh(sv) ** 2) + 3
    assert math.isclose(a.grad, dy_ds * (-1.2 + 1), rel_tol=1e-14)
    assert math.isclose(b.grad, dy_ds * 0.3, rel_tol=1e-14)


def test_same_node_many_times_in_one_expression():
    x = Value(2.0)
    y = x * x * x + x * x + x
    y.backward()
    assert x.grad == 3 * 4 + 2 * 2 + 1


def test_same_tensor_used_twice_with_broadcasting():
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = (x * x.reshape(3, 1)).sum()  # outer product x_i x_j summed: (sum x)^2
    y.backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 2 * 6.0))

    z = Value(np.array([1.0, 2.0, 3.0]))
    (z + z.reshape(3, 1)).sum().backward()
    np.testing.assert_array_equal(z.grad, [6.0, 6.0, 6.0])


# -- un-broadcasting ------------------------------------------------------------------------------


def test_bias_shape_3_plus_4x3():
    b = Value(np.array([1.0, 2.0, 3.0]))
    X = Value(np.arange(12.0).reshape(4, 3))
    y = X + b
    assert y.shape == (4, 3)
    y.backward(np.arange(12.0).reshape(4, 3))
    np.testing.assert_array_equal(b.grad, np.arange(12.0).reshape(4, 3).sum(axis=0))
    assert b.grad.shape == (3,)
    np.testing.assert_array_equal(X.grad, np.arange(12.0).reshape(4, 3))


def test_4x1_times_1x3():
    a = Value(np.array([[1.0], [2.0], [3.0], [4.0]]))
    b = Value(np.array([[10.0, 20.0, 30.0]]))
    y = a * b
    assert y.shape == (4, 3)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((4, 1), 60.0))
    np.testing.assert_array_equal(b.grad, np.full((1, 3), 10.0))
    assert a.grad.shape == (4, 1) and b.grad.shape == (1, 3)


def test_scalar_value_times_tensor_value_gives_a_float_gradient():
    s = Value(2.0)
    t = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    y = s * t
    y.backward(np.ones((2, 2)))
    assert type(s.grad) is float and s.grad == 10.0
    np.testing.assert_array_equal(t.grad, np.full((2, 2), 2.0))


def test_tensor_plus_python_number_and_number_minus_tensor():
    t = Value(np.array([1.0, 2.0]))
    y = (3.0 - t) * 2 + t / 4 + 1
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, [-2 + 0.25, -2 + 0.25])


def test_broadcast_against_a_zero_d_tensor():
    z = Value(np.array(2.0))
    t = Value(np.ones((2, 3)))
    (z * t).sum().backward()
    assert np.shape(z.grad) == () and z.grad == 6.0


def test_broadcast_on_a_middle_axis():
    a = Value(np.ones((2, 1, 4)))
    b = Value(np.ones((3, 1)))
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 1, 4), 3.0))
    np.testing.assert_array_equal(b.grad, np.full((3, 1), 8.0))


# -- deep graphs: no recursion --------------------------------------------------------------------


def test_a_chain_of_a_million_nodes_back_propagates_without_recursion():
    n = 1_000_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y + 1.0
    y.backward()  # a recursive topological sort would raise RecursionError long before this
    assert y.data == n + 1.0
    assert x.grad == 1.0
    del y  # freeing the chain must not recurse either


def test_a_long_multiplicative_chain_gets_the_right_gradient():
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert math.isclose(x.grad, 1.0001 ** 20_000, rel_tol=1e-9)


def test_a_long_tensor_chain():
    x = Value(np.ones(4))
    y = x
    for _ in range(10_000):
        y = y + x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(4, 10_001.0))


# -- prompt freeing by reference counting ---------------------------------------------------------


def _build(scalar):
    if scalar:
        w = Value(0.5)
        x = Value(-1.5)
        mid = (w * x + 1.0).tanh()
        out = mid * mid + mid.exp()
        return w, mid, out
    w = Value(np.array([[0.1, -0.2], [0.3, 0.4]]))
    x = Value(np.array([1.0, 2.0]))
    mid = (w @ x).tanh()
    out = (mid * mid).sum() + mid.exp().mean()
    return w, mid, out


@pytest.mark.parametrize("scalar", [True, False], ids=["scalar", "tensor"])
def test_graph_is_freed_by_refcounting_without_backward(no_gc, scalar):
    w, mid, out = _build(scalar)
    wm, wo = weakref.ref(mid), weakref.ref(out)
    del mid, out
    assert wm() is None and wo() is None
    assert w.grad is not None  # the leaf itself lives on


@pytest.mark.parametrize("scalar", [True, False], ids=["scalar", "tensor"])
def test_graph_is_freed_by_refcounting_after_backward(no_gc, scalar):
    w, mid, out = _build(scalar)
    out.backward()
    wm, wo = weakref.ref(mid), weakref.ref(out)
    del mid, out
    assert wm() is None and wo() is None
    assert np.all(np.asarray(w.grad) != 0)


def test_training_steps_free_their_graphs(no_gc):
    w = Value(np.array([0.5, -0.5]))
    refs = []
    for _ in range(5):
        loss = ((w * np.array([1.0, 2.0])).tanh() ** 2).sum()
        loss.backward()
        w.data -= 0.1 * w.grad
        w.zero_grad()
        refs.append(weakref.ref(loss))
        del loss
    assert all(r() is None for r in refs)
