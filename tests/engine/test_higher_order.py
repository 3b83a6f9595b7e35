"""Gradients of gradients: backward(create_graph=True), and the grad / value_and_grad transforms."""

import math
import weakref

import numpy as np
import pytest

from tinygrad_nn import Value, grad, no_grad, value_and_grad


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# -- backward(create_graph=True) ------------------------------------------------------------------


def test_create_graph_cube_gives_six_x():
    x = Value(2.0)
    y = x ** 3
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value) and g.data == 12.0 and g.requires_grad
    x.grad = 0.0
    g.backward()
    assert x.grad == 6 * 2.0


def test_create_graph_tanh_second_derivative():
    for z in (-1.3, 0.0, 0.5, 2.0):
        x = Value(z)
        x.tanh().backward(create_graph=True)
        g = x.grad
        t = math.tanh(z)
        assert math.isclose(g.data, 1 - t * t, rel_tol=1e-15)
        x.grad = 0.0
        g.backward()
        assert math.isclose(x.grad, -2 * t * (1 - t * t), rel_tol=1e-14, abs_tol=1e-300)


def test_create_graph_on_a_tensor():
    xs = np.array([0.1, 0.5, -1.0, 2.0])
    x = Value(xs)
    (x.exp() * x).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    np.testing.assert_allclose(g.data, np.exp(xs) * (xs + 1), rtol=1e-15)
    x.zero_grad()
    g.sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(xs) * (xs + 2), rtol=1e-14)


def test_create_graph_mixed_partials():
    x, y = Value(1.5), Value(-0.5)
    f = x * x * y + (x * y).exp()
    f.backward(create_graph=True)
    gx = x.grad  # 2xy + y e^{xy}
    x.grad, y.grad = 0.0, 0.0
    gx.backward()
    # d/dy (2xy + y e^{xy}) = 2x + e^{xy} + xy e^{xy}
    e = math.exp(1.5 * -0.5)
    assert math.isclose(y.grad, 2 * 1.5 + e + 1.5 * -0.5 * e, rel_tol=1e-14)
    # d/dx (2xy + y e^{xy}) = 2y + y^2 e^{xy}
    assert math.isclose(x.grad, 2 * -0.5 + 0.25 * e, rel_tol=1e-14)


def test_create_graph_third_derivative_by_repeated_backward():
    x = Value(1.2)
    (x ** 4).backward(create_graph=True)
    g1 = x.grad
    x.grad = 0.0
    g1.backward(create_graph=True)
    g2 = x.grad
    x.grad = 0.0
    g2.backward()
    assert math.isclose(g1.data, 4 * 1.2 ** 3, rel_tol=1e-15)
    assert math.isclose(g2.data, 12 * 1.2 ** 2, rel_tol=1e-15)
    assert math.isclose(x.grad, 24 * 1.2, rel_tol=1e-15)


def test_create_graph_with_a_broadcast_bias():
    b = Value(np.array([0.1, -0.2, 0.3]))
    X = np.arange(6.0).reshape(2, 3) / 10
    ((Value(X) + b) ** 2).sum().backward(create_graph=True)
    g = b.grad
    assert g.shape == (3,)
    np.testing.assert_allclose(g.data, (2 * (X + b.data)).sum(axis=0), rtol=1e-15)
    b.zero_grad()
    (g * g).sum().backward()  # d/db sum((2 sum_i (X_i + b))^2) = 2 * g * 2 * 2
    np.testing.assert_allclose(b.grad, 8 * g.data, rtol=1e-14)


# -- grad and value_and_grad: plain numbers in, plain numbers out ---------------------------------


def test_grad_of_a_float_is_a_python_float():
    g = grad(lambda x: x ** 3)(2.0)
    assert type(g) is float and g == 12.0
    g = grad(lambda x: x ** 3)(2)
    assert type(g) is float and g == 12.0


def test_grad_of_an_array_is_an_ndarray():
    xs = np.array([1.0, 2.0, -3.0])
    g = grad(lambda x: (x ** 3).sum())(xs)
    assert isinstance(g, np.ndarray) and g.shape == (3,) and g.dtype == np.float64
    np.testing.assert_array_equal(g, 3 * xs ** 2)
    g2 = grad(lambda x: (x * x).sum())(np.ones((2, 1)))
    assert isinstance(g2, np.ndarray) and g2.shape == (2, 1)


def test_grad_keeps_float32():
    g = grad(lambda x: (x * x).sum())(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32


def test_grad_of_a_zero_d_array_is_an_ndarray():
    g = grad(lambda x: x ** 3)(np.array(2.0))
    assert isinstance(g, np.ndarray) and g.shape == () and g == 12.0


def test_value_and_grad_plain():
    v, g = value_and_grad(lambda x: x * x + 1.0)(3.0)
    assert type(v) is float and v == 10.0
    assert type(g) is float and g == 6.0


@pytest.mark.parametrize("argnums, expected", [(0, 16.0), (1, 24.0), (-1, 24.0), ((0, 1), (16.0, 24.0)),
                                               ((1, 0), (24.0, 16.0)), ((1,), (24.0,))])
def test_argnums(argnums, expected):
    f = lambda x, y: x * y * y
    v, g = value_and_grad(f, argnums=argnums)(3.0, 4.0)
    assert v == 48.0
    assert g == expected
    assert grad(f, argnums=argnums)(3.0, 4.0) == expected
    if isinstance(argnums, tuple):
        assert isinstance(g, tuple)


def test_argnums_with_arrays_and_a_keyword_argument():
    def f(w, x, scale=1.0):
        return ((w @ x) * scale).sum()

    W, x = np.ones((2, 3)), np.array([1.0, 2.0, 3.0])
    gW, gx = grad(f, argnums=(0, 1))(W, x, scale=2.0)
    np.testing.assert_array_equal(gW, np.tile(2 * x, (2, 1)))
    np.testing.assert_array_equal(gx, np.full(3, 4.0))


def test_grad_of_an_unused_argument_is_zero():
    g = grad(lambda x, y: y * 2.0, argnums=0)(1.0, Value(3.0))
    assert g == 0.0 and type(g) is float
    g = grad(lambda x, y: (y * 2.0).sum(), argnums=0)(np.ones(2), Value(np.ones(2)))
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_grad_records_its_graph_even_inside_no_grad():
    with no_grad():
        assert grad(lambda x: x ** 3)(2.0) == 12.0


# -- Values in, Values out ------------------------------------------------------------------------


def test_grad_of_a_value_is_a_differentiable_value():
    x = Value(2.0)
    g = grad(lambda x: x ** 3)(x)
    assert isinstance(g, Value) and g.data == 12.0 and g.requires_grad
    g.backward()
    assert x.grad == 12.0  # d(3x^2)/dx


def test_value_and_grad_of_values():
    x = Value(np.array([1.0, 2.0]))
    v, g = value_and_grad(lambda x: (x ** 3).sum())(x)
    assert isinstance(v, Value) and isinstance(g, Value)
    assert v.data == 9.0
    np.testing.assert_array_equal(g.data, [3.0, 12.0])
    g.sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])


def test_grad_of_a_value_is_a_value_even_when_f_ignores_it():
    g = grad(lambda x, y: y * 2.0)(Value(1.0), Value(3.0))
    assert isinstance(g, Value) and g.data == 0.0


# -- grad(grad(f)) and beyond, against closed forms ---------------------------------------------


@pytest.mark.parametrize("x", [-1.5, 0.0, 0.3, 2.0])
def test_polynomial_derivatives(x):
    f = lambda x: 2 * x ** 4 - 3 * x ** 3 + x * x - 5 * x + 7
    d1 = lambda x: 8 * x ** 3 - 9 * x ** 2 + 2 * x - 5
    d2 = lambda x: 24 * x ** 2 - 18 * x + 2
    d3 = lambda x: 48 * x - 18
    assert math.isclose(grad(f)(x), d1(x), rel_tol=1e-14, abs_tol=1e-14)
    assert math.isclose(grad(grad(f))(x), d2(x), rel_tol=1e-14, abs_tol=1e-14)
    assert math.isclose(grad(grad(grad(f)))(x), d3(x), rel_tol=1e-14, abs_tol=1e-14)
    assert grad(grad(grad(grad(grad(f)))))(x) == 0.0


@pytest.mark.parametrize("z", [-2.0, -0.4, 0.0, 0.3, 1.7])
def test_tanh_derivatives(z):
    f = lambda x: x.tanh()
    t = math.tanh(z)
    assert math.isclose(grad(f)(z), 1 - t * t, rel_tol=1e-14)
    assert math.isclose(grad(grad(f))(z), -2 * t * (1 - t * t), rel_tol=1e-13, abs_tol=1e-15)
    assert math.isclose(grad(grad(grad(f)))(z), -2 * (1 - t * t) * (1 - 3 * t * t), rel_tol=1e-13, abs_tol=1e-15)


@pytest.mark.parametrize("z", [-2.0, -0.4, 0.0, 0.3, 1.7])
def test_sigmoid_derivatives(z):
    f = lambda x: x.sigmoid()
    s = _sigmoid(z)
    assert math.isclose(grad(f)(z), s * (1 - s), rel_tol=1e-14)
    assert math.isclose(grad(grad(f))(z), s * (1 - s) * (1 - 2 * s), rel_tol=1e-13, abs_tol=1e-15)
    assert math.isclose(grad(grad(grad(f)))(z), s * (1 - s) * (1 - 6 * s + 6 * s * s), rel_tol=1e-12, abs_tol=1e-15)


def test_second_derivative_of_a_tensor_function_via_nested_grad():
    xs = np.array([0.2, -0.7, 1.1])
    # f(x) = sum(exp(x) * x); d/dx_i = e^{x_i}(x_i + 1); grad of sum of that = e^{x_i}(x_i + 2)
    g2 = grad(lambda x: grad(lambda y: (y.exp() * y).sum())(x).sum())(xs)
    np.testing.assert_allclose(g2, np.exp(xs) * (xs + 2), rtol=1e-14)


def test_hessian_vector_product():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: ((Value(A) @ x) * x).sum() * 0.5 + (x ** 3).sum()  # Hessian: A + diag(6x)
    x0, v = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    hvp = grad(lambda x: (grad(f)(x) * v).sum())(x0)
    np.testing.assert_allclose(hvp, (A + np.diag(6 * x0)) @ v, rtol=1e-14)


# -- grad leaves every leaf's .grad alone ---------------------------------------------------------


def test_grad_does_not_touch_a_closure_parameter():
    W = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    W.grad[...] = 5.0
    before = W.grad.copy()
    g = grad(lambda x: (W @ x).tanh().sum())(np.array([0.1, 0.2]))
    assert g.shape == (2,)
    np.testing.assert_array_equal(W.grad, before)


def test_grad_does_not_touch_the_inputs_grad():
    x = Value(2.0)
    x.grad = 7.0
    b = Value(1.0)
    g = grad(lambda x: b * x * x)(x)
    assert g.data == 4.0
    assert x.grad == 7.0 and b.grad == 0.0
    gg = grad(grad(lambda x: b * x * x))(x)
    assert gg.data == 2.0
    assert x.grad == 7.0 and b.grad == 0.0


def test_value_and_grad_does_not_touch_leaves_of_a_tensor_model():
    rng = np.random.default_rng(0)
    W, bias = Value(rng.standard_normal((3, 2))), Value(np.zeros(3))
    X = rng.standard_normal((4, 2))
    loss = lambda W, bias: ((X @ W.T + bias).tanh() ** 2).mean()
    v, (gW, gb) = value_and_grad(loss, argnums=(0, 1))(W, bias)
    assert not W.grad.any() and not bias.grad.any()
    # the same numbers as a normal backward pass
    loss(W, bias).backward()
    np.testing.assert_allclose(gW.data, W.grad, rtol=1e-15)
    np.testing.assert_allclose(gb.data, bias.grad, rtol=1e-15, atol=1e-18)


# -- the transforms free their graphs by reference counting ---------------------------------------


def _traced(refs):
    def f(x):
        h = (x * 2.0).tanh()
        out = (h * h).sum()
        refs.extend([weakref.ref(h), weakref.ref(out)])
        return out

    return f


def test_grad_of_plain_inputs_leaves_no_graph_behind(no_gc):
    refs = []
    g = grad(_traced(refs))(np.array([0.1, 0.2]))
    assert isinstance(g, np.ndarray)
    assert refs and all(r() is None for r in refs)
    refs.clear()
    value_and_grad(_traced(refs))(np.array([0.1, 0.2]))
    assert refs and all(r() is None for r in refs)


def test_grad_of_values_frees_the_graph_with_the_result(no_gc):
    refs = []
    x = Value(np.array([0.1, 0.2]))
    g = grad(_traced(refs))(x)
    assert refs[0]() is not None  # the differentiable result still needs h
    del g
    assert all(r() is None for r in refs)
