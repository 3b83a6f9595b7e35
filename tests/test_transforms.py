"""The function transforms (tinygrad_nn/transforms.py): grad over structures, jacobian, hessian, hvp, jvp,
elementwise_grad, has_aux; nesting; zero gradients of constant outputs.

Every numeric result is checked against closed forms, central finite differences, and (when installed)
torch.autograd.functional and jax.
"""

import collections
import functools
import math
import threading
import weakref

import numpy as np
import pytest

from tests.ops.test_op_properties import canonical_cases
from tinygrad_nn import (
    Value,
    elementwise_grad,
    grad,
    gradients,
    hessian,
    hvp,
    jacobian,
    jvp,
    no_grad,
    value_and_grad,
)
from tinygrad_nn.ops import identity
from tinygrad_nn.testing import OPINFOS

RNG = np.random.default_rng(7)
W = RNG.standard_normal((2, 3))
A = RNG.standard_normal((3, 3))
A = A + A.T
B = RNG.standard_normal((3, 2))


class Ours:
    """The few functions the test functions need, for Values; Torch and Jax below give the same for theirs."""

    tanh = staticmethod(lambda v: v.tanh())
    exp = staticmethod(lambda v: v.exp())

    @staticmethod
    def const(a):
        return a


# -- test functions, written once for every framework (lib gives tanh, exp and constants) ---------------


def vec_fns(lib):
    """Functions of one input with outputs of several shapes: (name, f, input)."""
    c = lib.const
    return [
        ("1d->1d", lambda x: lib.tanh(c(W) @ x) * x.sum(), RNG.standard_normal(3)),
        ("2d->2d", lambda X: X @ X.T * 0.5 + lib.exp(X[:, :2] * 0.3), RNG.standard_normal((2, 3))),
        ("1d->2d", lambda x: lib.tanh(x.reshape(3, 1) * c(W.T)) ** 2, RNG.standard_normal(3)),
        ("0d->2d", lambda x: lib.tanh(x * c(W)) * x, np.array(0.7)),
        ("2d->0d", lambda X: (lib.tanh(X) * X).sum(), RNG.standard_normal((2, 3))),
    ]


def scalar_fns(lib):
    """Scalar functions for Hessians: (name, f, input)."""
    c = lib.const
    return [
        ("1d", lambda x: (lib.tanh(x) * x ** 2).sum() + x @ c(A) @ x, RNG.standard_normal(3)),
        ("2d", lambda X: ((lib.tanh(X) @ c(B)) ** 2).sum() + (X ** 3).sum() * 0.1, RNG.standard_normal((2, 3))),
        ("0d", lambda x: lib.exp(x * 0.5) * x ** 3, np.array(0.8)),
    ]


def ours_on(f):
    """f with its numpy input made a constant Value and its output a payload: for finite differences."""
    return lambda x: np.asarray(f(Value(x, requires_grad=False)).data, dtype=np.float64)


def fd_jacobian(fun, x, eps=1e-6):
    """Central differences of a numpy function: shape fun(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        dx = np.zeros(x.size)
        dx[k] = eps
        dx = dx.reshape(x.shape)
        cols.append((fun(x + dx) - fun(x - dx)) / (2 * eps))
    out_shape = np.shape(fun(x))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


# -- issue 8: nested transforms that close over an outer variable ---------------------------------------


def test_nested_grad_closing_over_the_outer_variable():
    f = lambda x: x * grad(lambda y: x * y)(2.0)  # the inner grad is x, so f is x**2
    assert grad(f)(1.0) == 2.0
    assert grad(f)(3.0) == 6.0
    assert grad(grad(f))(3.0) == 2.0


def test_nested_grad_closing_over_the_outer_variable_tensors():
    c = np.array([2.0, 5.0])
    # inner: d/dy sum(x * y) = x, so f(x) = sum(x * x) and its gradient is 2x
    f = lambda x: (x * grad(lambda y: (x * y).sum())(c)).sum()
    x0 = np.array([1.0, -3.0])
    np.testing.assert_array_equal(grad(f)(x0), 2 * x0)
    np.testing.assert_array_equal(hessian(f)(x0), 2 * np.eye(2))


def test_mixed_partials_through_argnums():
    h = lambda x: grad(lambda x, y: x * y, argnums=1)(x, 3.0)  # h(x) = x
    assert h(2.0) == 2.0
    assert grad(h)(2.0) == 1.0
    assert grad(lambda x: x * h(x))(2.0) == 4.0
    # the same in tensors, and through value_and_grad
    ht = lambda x: value_and_grad(lambda x, y: (x * y).sum(), argnums=1)(x, np.ones(2))[1]
    np.testing.assert_array_equal(grad(lambda x: (x * ht(x)).sum())(np.array([1.0, 2.0])), [2.0, 4.0])


def test_an_inner_transform_given_a_value_returns_a_differentiable_value():
    x = Value(2.0)
    g = grad(lambda y: y ** 3)(x)
    assert isinstance(g, Value) and g.data == 12.0
    g.backward()
    assert x.grad == 12.0
    # a Value among the arguments that are not differentiated counts too: the result depends on it
    y = Value(3.0)
    g = grad(lambda x, y: x * y * y, argnums=0)(1.0, y)
    assert isinstance(g, Value) and g.data == 9.0
    g.backward()
    assert y.grad == 6.0
    # and inside a structure
    y = Value(3.0)
    g = grad(lambda x, p: x * p["y"] * p["y"])(1.0, {"y": y})
    g.backward()
    assert g.data == 9.0 and y.grad == 6.0


def test_outermost_plain_inputs_give_plain_results_even_over_a_closed_over_value():
    w = Value(2.0)
    g = grad(lambda x: w * x * x)(3.0)
    assert type(g) is float and g == 12.0
    assert w.grad == 0.0


def test_argnums_repeated_returns_the_gradient_twice_agreeing_with_gradients():
    f = lambda x, y: (x * x * y).sum()
    x0 = np.array([1.0, 2.0])
    g0, g1, gy = grad(f, argnums=(0, 0, 1))(x0, 3.0)
    np.testing.assert_array_equal(g0, [6.0, 12.0])
    np.testing.assert_array_equal(g1, g0)
    assert g0 is not g1 and not np.shares_memory(g0, g1)  # two arrays: changing one leaves the other
    assert gy == 5.0
    # the engine's own answer for the same input named twice
    xn = identity(Value(x0))
    expected = gradients(f(xn, 3.0), [xn, xn])
    np.testing.assert_array_equal(g0, expected[0])
    np.testing.assert_array_equal(g1, expected[1])
    assert grad(lambda x: x * x, argnums=(0, -1))(3.0) == (6.0, 6.0)


def test_gradients_are_fresh_writable_arrays_even_when_the_engine_shares_them():
    # add's rule hands the same array to both inputs, and sum's is a read-only broadcast view
    gx, gy = grad(lambda x, y: (x + y).sum(), argnums=(0, 1))(np.ones(3), np.ones(3))
    gx += 1.0
    np.testing.assert_array_equal(gy, np.ones(3))


@pytest.mark.parametrize("make", [
    lambda: grad(lambda x: (x ** 3).sum()),
    lambda: jacobian(lambda x: x ** 3),
    lambda: hessian(lambda x: (x ** 3).sum()),
    lambda: elementwise_grad(lambda x: x ** 3),
])
def test_transforms_record_their_graph_inside_no_grad(make):
    x0 = np.array([1.0, 2.0])
    expected = make()(x0)
    with no_grad():
        got = make()(x0)
        w = Value(1.0) * 2.0  # and no_grad still holds afterwards
    assert not w.requires_grad
    np.testing.assert_array_equal(got, expected)
    assert np.any(got != 0)


def test_nested_transforms_inside_no_grad():
    f = lambda x: x * grad(lambda y: x * y)(2.0)
    with no_grad():
        assert grad(f)(3.0) == 6.0
        assert hessian(f)(3.0) == 2.0


def test_jvp_and_hvp_inside_no_grad():
    f = lambda x: (x ** 3).sum()
    x0, v = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    with no_grad():
        np.testing.assert_array_equal(hvp(f, x0, v), [6.0, -12.0])
        assert jvp(f, (x0,), (v,))[1] == -9.0


def test_nesting_depth_is_per_thread():
    # While an outer transform runs f in this thread, a transform of plain inputs in another thread is at
    # the outermost level there: plain results.
    seen = []

    def other():
        seen.append(grad(lambda x: x * x)(3.0))

    def f(x):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        return x * x

    assert grad(f)(1.0) == 2.0
    assert seen == [6.0] and type(seen[0]) is float


def test_nesting_depth_is_restored_when_f_raises():
    def bad(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        grad(lambda x: grad(bad)(x) * x)(1.0)
    g = grad(lambda x: x * x)(3.0)
    assert type(g) is float and g == 6.0


# -- outputs that do not depend on the input: zeros of the input's shape and dtype ----------------------


@pytest.mark.parametrize("const", [
    lambda x: 3.0,
    lambda x: 7,
    lambda x: np.float32(2.0),
    lambda x: np.array([4.0]),
    lambda x: Value(2.0),  # a fresh leaf f made
    lambda x: Value(2.0, requires_grad=False),
    lambda x: x.detach().sum() * 2.0,
], ids=["float", "int", "np.float32", "array1", "fresh value", "constant value", "detached"])
def test_grad_of_a_constant_output_is_zeros(const):
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    g = grad(const)(x32)
    assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.shape == (2,) and not g.any()
    g = grad(lambda x: const(Value(np.ones(2))))(1.5)
    assert type(g) is float and g == 0.0
    v, g = value_and_grad(const)(np.ones((2, 2)))
    assert g.shape == (2, 2) and not g.any()
    c = const(Value(np.ones((2, 2))))
    assert np.asarray(v).item() == np.asarray(c.data if isinstance(c, Value) else c).item()


def test_other_transforms_of_a_constant_output_are_zeros():
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    J = jacobian(lambda x: np.ones(3))(x32)
    assert J.shape == (3, 2) and J.dtype == np.float32 and not J.any()
    H = hessian(lambda x: x.sum())(x32)  # linear: the gradient is constant
    assert H.shape == (2, 2) and H.dtype == np.float32 and not H.any()
    np.testing.assert_array_equal(hvp(lambda x: x.sum() + 1.0, x32, x32), [0.0, 0.0])
    assert hvp(lambda x: 2.0, 1.0, 1.0) == 0.0
    y, t = jvp(lambda x: np.full(2, 5.0, dtype=np.float32), (1.0,), (1.0,))
    assert t.dtype == np.float32 and not t.any()
    e = elementwise_grad(lambda x: Value(np.ones(2)))(x32)
    assert e.dtype == np.float32 and not e.any()


def test_a_constant_output_inside_a_transform_gives_constant_zero_values():
    g = grad(lambda x: 3.0)(Value(2.0))
    assert isinstance(g, Value) and g.data == 0.0
    # nested: the outer transform sees a zero it can differentiate (to zero)
    assert grad(lambda x: grad(lambda y: 5.0)(x) + x * x)(3.0) == 6.0


def test_an_output_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match="grad: f's output: payload must be real numbers, got str 'abc'"):
        grad(lambda x: "abc")(1.0)
    with pytest.raises(TypeError, match=r"grad: f must return.*tuple of 2.*has_aux=True"):
        grad(lambda x: (x, x))(1.0)
    with pytest.raises(TypeError, match="grad: f must return a Value or a number, got a NoneType"):
        grad(lambda x: None)(1.0)


# -- structured arguments -------------------------------------------------------------------------------


def test_grad_over_a_dict_of_arrays_and_numbers():
    def loss(p, x):
        return ((p["W"] @ x + p["b"]).tanh() ** 2).sum() * p["scale"]

    p = {"W": RNG.standard_normal((2, 3)), "b": np.array([0.1, -0.2]), "scale": 1.5}
    x = RNG.standard_normal(3)
    g = grad(loss)(p, x)
    assert list(g) == ["W", "b", "scale"] and type(g["scale"]) is float
    for k in ("W", "b", "scale"):
        def loss_at(v, k=k):  # the loss as a function of p[k] alone, on constants
            q = {kk: Value(vv, requires_grad=False) for kk, vv in dict(p, **{k: v}).items()}
            return np.asarray(loss(q, x).data)
        np.testing.assert_allclose(g[k], fd_jacobian(loss_at, p[k]), rtol=1e-6, atol=1e-8, err_msg=k)


def test_grad_over_nested_tuples_lists_and_namedtuples():
    Pair = collections.namedtuple("Pair", "a b")

    def f(t):
        (x, [y, z]), pair, nothing = t
        return (x * y).sum() + z ** 2 + pair.a * pair.b

    arg = ((np.array([1.0, 2.0]), [np.array([3.0, 4.0]), 5.0]), Pair(2.0, 7.0), None)
    g = grad(f)(arg)
    (gx, [gy, gz]), gp, gn = g
    assert isinstance(g, tuple) and isinstance(g[0][1], list) and isinstance(gp, Pair) and gn is None
    np.testing.assert_array_equal(gx, [3.0, 4.0])
    np.testing.assert_array_equal(gy, [1.0, 2.0])
    assert gz == 10.0 and gp == Pair(7.0, 2.0)


def test_a_list_is_a_structure_not_an_array():
    # as in JAX and HIPS autograd: a list of numbers is a list of scalar arguments
    g = grad(lambda xs: xs[0] * xs[1] + xs[2])([2.0, 3.0, 4.0])
    assert g == [3.0, 2.0, 1.0]


def test_structures_with_argnums_and_values_inside():
    f = lambda a, b: a[0] * b["k"] + a[1]
    ga, gb = grad(f, argnums=(0, 1))((2.0, 1.0), {"k": 5.0})
    assert ga == (5.0, 1.0) and gb == {"k": 2.0}
    k = Value(5.0)
    # A Value inside a non-differentiated structure: the gradient that depends on it is a Value, the
    # one that does not (d f / d a[1] = 1) stays a number.
    ga = grad(f)((2.0, 1.0), {"k": k})
    assert isinstance(ga[0], Value) and type(ga[1]) is float and ga[1] == 1.0
    ga[0].backward()
    assert ga[0].data == 5.0 and k.grad == 1.0
    # a Value among the differentiated leaves: Values in, Values out, constants included
    ga = grad(f)((Value(2.0), 1.0), {"k": 5.0})
    assert isinstance(ga[0], Value) and isinstance(ga[1], Value) and ga[1].data == 1.0


def test_a_leaf_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match=r"grad: argument 0.*str"):
        grad(lambda p: p["x"] * 2.0)({"x": "abc"})


# -- has_aux --------------------------------------------------------------------------------------------


def test_has_aux_as_jax():
    def f(x):
        y = x * x
        return y.sum(), {"y": y, "n": 2}

    x0 = np.array([1.0, 2.0])
    g, aux = grad(f, has_aux=True)(x0)
    np.testing.assert_array_equal(g, [2.0, 4.0])
    assert isinstance(aux["y"], np.ndarray) and aux["n"] == 2  # plain at the outermost level
    np.testing.assert_array_equal(aux["y"], [1.0, 4.0])
    (v, aux), g = value_and_grad(f, has_aux=True)(x0)
    assert v == 5.0 and isinstance(aux["y"], np.ndarray)
    J, aux = jacobian(lambda x: (x * 2.0, x.sum()), has_aux=True)(x0)
    np.testing.assert_array_equal(J, 2 * np.eye(2))
    assert aux == 3.0
    H, aux = hessian(lambda x: ((x ** 3).sum(), "tag"), has_aux=True)(x0)
    np.testing.assert_array_equal(H, np.diag(6 * x0))
    assert aux == "tag"


def test_has_aux_nested_keeps_aux_differentiable():
    # aux is a Value inside an outer transform, so the outer one can differentiate through it
    def outer(x):
        g, aux = grad(lambda y: (y * y * x, y * x * x), has_aux=True)(2.0)  # g = 4x, aux = 2x^2
        return g + aux

    assert grad(outer)(3.0) == 4.0 + 12.0


def test_has_aux_requires_a_pair():
    with pytest.raises(TypeError, match=r"grad: with has_aux=True, f must return a pair \(value, aux\), got a Value"):
        grad(lambda x: x * x, has_aux=True)(1.0)
    with pytest.raises(TypeError, match="tuple of 3"):
        grad(lambda x: (x, 1, 2), has_aux=True)(1.0)


# -- jacobian -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(5))
def test_jacobian_against_finite_differences(i):
    name, f, x0 = vec_fns(Ours)[i]
    J = jacobian(f)(x0)
    out_shape = np.shape(f(Value(x0)).data)
    assert J.shape == out_shape + x0.shape
    np.testing.assert_allclose(J, fd_jacobian(ours_on(f), x0), rtol=1e-6, atol=1e-8, err_msg=name)


def test_jacobian_of_scalar_inputs_and_outputs():
    assert jacobian(lambda x: x.tanh())(0.5) == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-14)
    assert type(jacobian(lambda x: x * x)(3.0)) is float
    J = jacobian(lambda x: x * np.array([1.0, 2.0, 3.0]))(2.0)  # float in, vector out: shape (3,)
    np.testing.assert_array_equal(J, [1.0, 2.0, 3.0])
    J = jacobian(lambda x: (x * x).sum())(np.array([1.0, 2.0]))  # vector in, number out: the gradient
    np.testing.assert_array_equal(J, [2.0, 4.0])
    J = jacobian(lambda x: x * 3.0)(np.array(2.0))  # 0-d in, 0-d out: a 0-d array
    assert isinstance(J, np.ndarray) and J.shape == () and J == 3.0
    J = jacobian(lambda x: x[:0] * 2.0)(np.ones(3))  # an empty output: an empty Jacobian
    assert isinstance(J, np.ndarray) and J.shape == (0, 3)


def test_jacobian_of_several_arguments_and_structured_outputs():
    f = lambda x, y: {"p": x * y, "s": (x.sum() * y, 1.0)}
    x0 = np.array([1.0, 2.0])
    J = jacobian(f, argnums=(0, 1))(x0, 3.0)
    np.testing.assert_array_equal(J["p"][0], 3.0 * np.eye(2))
    np.testing.assert_array_equal(J["p"][1], x0)
    np.testing.assert_array_equal(J["s"][0][0], [3.0, 3.0])
    assert J["s"][0][1] == 3.0
    np.testing.assert_array_equal(J["s"][1][0], [0.0, 0.0])
    assert J["s"][1][1] == 0.0


def test_jacobian_keeps_float32():
    _, f, x0 = vec_fns(Ours)[0]
    x32 = x0.astype(np.float32)
    J = jacobian(lambda x: (Value(W.astype(np.float32)) @ x).tanh() * x.sum())(x32)
    assert J.dtype == np.float32
    np.testing.assert_allclose(J, jacobian(f)(x0), rtol=2e-5, atol=1e-6)


def test_jacobian_of_values_is_differentiable():
    # d/dx of the Jacobian of x -> x^3 (elementwise) is 6x on the diagonal
    x = Value(np.array([1.0, 2.0]))
    J = jacobian(lambda x: x ** 3)(x)
    assert isinstance(J, Value) and J.shape == (2, 2)
    np.testing.assert_array_equal(J.data, np.diag([3.0, 12.0]))
    J.sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])


def test_jacobian_leaves_a_closed_over_leaf_alone_and_frees_its_graph(no_gc):
    w = Value(np.array([1.0, 2.0]))
    refs = []

    def f(x):
        h = (x * w).tanh()
        refs.append(weakref.ref(h))
        return h * 2.0

    J = jacobian(f)(np.array([0.1, 0.2]))
    assert isinstance(J, np.ndarray) and J.shape == (2, 2)
    assert not w.grad.any()
    assert refs and refs[0]() is None


# -- hessian --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(3))
def test_hessian_against_finite_differences_of_the_gradient(i):
    name, f, x0 = scalar_fns(Ours)[i]
    H = hessian(f)(x0)
    assert H.shape == x0.shape + x0.shape
    np.testing.assert_allclose(H, fd_jacobian(lambda x: grad(f)(x), x0), rtol=1e-6, atol=1e-7, err_msg=name)
    # symmetric, as a Hessian of a smooth function is
    n = x0.size
    np.testing.assert_allclose(H.reshape(n, n), H.reshape(n, n).T, rtol=1e-12, atol=1e-12)


def test_hessian_of_a_float_against_second_differences():
    f = lambda x: (x * 0.5).exp() * x ** 3 + x.tanh()
    x0, eps = 0.8, 1e-4
    fv = lambda x: f(Value(x)).data
    fd = (fv(x0 + eps) - 2 * fv(x0) + fv(x0 - eps)) / eps ** 2
    h = hessian(f)(x0)
    assert type(h) is float and h == pytest.approx(fd, rel=1e-6)


def test_hessian_of_several_arguments():
    f = lambda x, y: (x * x * y).sum() + y ** 3
    x0, y0 = np.array([1.0, 2.0]), 3.0
    (Hxx, Hxy), (Hyx, Hyy) = hessian(f, argnums=(0, 1))(x0, y0)
    np.testing.assert_array_equal(Hxx, 2 * y0 * np.eye(2))
    np.testing.assert_array_equal(Hxy, 2 * x0)
    np.testing.assert_array_equal(Hyx, 2 * x0)
    assert Hyy == 6 * y0


def test_hessian_of_a_function_that_calls_grad():
    inner = lambda y: (y ** 3).sum()
    f = lambda x: (grad(inner)(x) * x).sum()  # = sum(3 x^3): Hessian diag(18 x)
    x0 = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(hessian(f)(x0), np.diag(18 * x0), rtol=1e-14)
    # closing over the outer variable: g(x) = sum over i of (d/dy_i sum(x * y^2)) at c = sum(2 x c)
    c = np.array([1.0, 2.0, 3.0])
    f2 = lambda x: grad(lambda y: (x * y * y).sum())(c).sum() * x.sum()  # 2 (c.x)(sum x)
    H = hessian(f2)(x0)
    np.testing.assert_allclose(H, 2 * (c[:, None] + c[None, :]), rtol=1e-14)
    np.testing.assert_allclose(H, fd_jacobian(lambda x: grad(f2)(x), x0), rtol=1e-6)


def test_hessian_keeps_float32():
    _, f, x0 = scalar_fns(Ours)[0]
    x32 = x0.astype(np.float32)
    A32 = A.astype(np.float32)
    H = hessian(lambda x: (x.tanh() * x ** 2).sum() + x @ A32 @ x)(x32)
    assert H.dtype == np.float32
    np.testing.assert_allclose(H, hessian(f)(x0), rtol=1e-4, atol=1e-5)


# -- hvp ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(3))
def test_hvp_is_the_hessian_times_v(i):
    name, f, x0 = scalar_fns(Ours)[i]
    v = RNG.standard_normal(x0.shape)
    Hv = hvp(f, x0, v)
    assert Hv.shape == x0.shape
    n = x0.size
    np.testing.assert_allclose(Hv, (hessian(f)(x0).reshape(n, n) @ v.reshape(n)).reshape(x0.shape),
                               rtol=1e-12, atol=1e-12, err_msg=name)
    # and against finite differences of the gradient along v
    eps = 1e-6
    fd = (grad(f)(x0 + eps * v) - grad(f)(x0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(Hv, fd, rtol=1e-6, atol=1e-7)


def test_hvp_of_floats_structures_and_float32():
    assert hvp(lambda x: x ** 4, 2.0, 0.5) == 12 * 4 * 0.5
    p = {"w": np.array([1.0, 2.0]), "b": 3.0}
    Hv = hvp(lambda p: (p["w"] ** 2 * p["b"]).sum(), p, {"w": np.array([1.0, 0.0]), "b": 1.0})
    np.testing.assert_array_equal(Hv["w"], [2 * 3 * 1 + 2 * 1, 2 * 2])
    assert Hv["b"] == 2.0
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    Hv = hvp(lambda x: (x ** 3).sum(), x32, np.array([1.0, 1.0]))
    assert Hv.dtype == np.float32
    np.testing.assert_array_equal(Hv, [6.0, 12.0])


def test_hvp_checks_v():
    with pytest.raises(ValueError, match=r"hvp: tangent 0 has shape \(3,\) but its primal has shape \(2,\)"):
        hvp(lambda x: (x * x).sum(), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="hvp: v must have the same structure"):
        hvp(lambda p: p[0] * p[1], (1.0, 2.0), [1.0, 2.0])


# -- jvp ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(5))
def test_jvp_is_the_jacobian_times_v(i):
    name, f, x0 = vec_fns(Ours)[i]
    v = RNG.standard_normal(x0.shape)
    y, Jv = jvp(f, (x0,), (v,))
    np.testing.assert_array_equal(y, f(Value(x0)).data)
    J = jacobian(f)(x0)
    out_shape = np.shape(y)
    expected = (J.reshape(-1, x0.size) @ v.reshape(-1)).reshape(out_shape)
    assert np.shape(Jv) == out_shape
    np.testing.assert_allclose(Jv, expected, rtol=1e-12, atol=1e-12, err_msg=name)
    eps = 1e-6
    fd = (ours_on(f)(x0 + eps * v) - ours_on(f)(x0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(Jv, fd, rtol=1e-6, atol=1e-8)


def test_jvp_of_several_arguments_floats_and_structured_outputs():
    f = lambda x, y: {"a": x * y, "b": [(x * x).sum(), y * y, 4.0]}
    y, t = jvp(f, (np.array([1.0, 2.0]), 3.0), (np.array([1.0, -1.0]), 0.5))
    np.testing.assert_array_equal(y["a"], [3.0, 6.0])
    np.testing.assert_array_equal(t["a"], [3.0 * 1 + 1.0 * 0.5, -3.0 + 2.0 * 0.5])
    assert t["b"][0] == 2 * 1 - 2 * 2 * 1
    assert t["b"][1] == 2 * 3.0 * 0.5 and type(t["b"][1]) is float
    assert t["b"][2] == 0.0
    assert jvp(lambda x: x, (2.0,), (5.0,)) == (2.0, 5.0)  # f's output is its input


def test_jvp_keeps_float32():
    x32 = np.array([0.5, 1.0], dtype=np.float32)
    y, t = jvp(lambda x: x.tanh() * 2.0, (x32,), (np.array([1.0, 2.0]),))
    assert y.dtype == np.float32 and t.dtype == np.float32
    np.testing.assert_allclose(t, 2 * (1 - np.tanh(x32.astype(float)) ** 2) * [1.0, 2.0], rtol=1e-6)


def test_jvp_nested_in_grad_is_a_second_derivative():
    f = lambda x: (x * 0.5).exp() * x ** 3
    d1 = lambda x: lambda v: jvp(f, (x,), (v,))[1]
    x0 = 0.8
    assert d1(x0)(1.0) == pytest.approx(grad(f)(x0), rel=1e-14)
    assert grad(lambda x: d1(x)(1.0))(x0) == pytest.approx(grad(grad(f))(x0), rel=1e-14)
    # jvp of values: the tangent output is a Value depending on the primal and on the tangent
    x, v = Value(2.0), Value(3.0)
    _, t = jvp(lambda x: x ** 3, (x,), (v,))
    assert isinstance(t, Value) and t.data == 3 * 4 * 3.0
    t.backward()
    assert x.grad == 6 * 2 * 3.0 and v.grad == 12.0


def test_jvp_checks_its_arguments():
    with pytest.raises(TypeError, match=r"jvp: primals and tangents must be tuples.*\(x,\)"):
        jvp(lambda x: x, 1.0, 1.0)
    with pytest.raises(ValueError, match="jvp: got 2 primals but 1 tangents"):
        jvp(lambda x, y: x, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match=r"jvp: tangent 0 has shape \(2,\).*\(3,\)"):
        jvp(lambda x: x, (np.ones(3),), (np.ones(2),))


@pytest.mark.parametrize("name", sorted(OPINFOS))
def test_jvp_of_every_op_is_its_jacobian_times_v(name):
    # jvp differentiates each gradient rule with respect to the upstream gradient g (the double-vjp trick),
    # which gradgradcheck does not exercise (it holds g constant): a rule that reads g's payload instead of
    # computing with it would give a zero or wrong tangent here.
    info = OPINFOS[name]
    rng = np.random.default_rng(3)
    cases = [c for c in canonical_cases(info) if sum(a.size for a in c[0]) <= 30][:2]
    assert cases, f"no small canonical case for {name}"
    for arrays, params in cases:
        fn = functools.partial(info.fn, **params)
        vs = [rng.standard_normal(a.shape) for a in arrays]
        _, t = jvp(fn, tuple(arrays), tuple(vs))
        Js = jacobian(fn, argnums=tuple(range(len(arrays))))(*arrays)
        expected = sum(np.tensordot(J, v, axes=v.ndim) for J, v in zip(Js, vs))
        np.testing.assert_allclose(t, expected, rtol=1e-12, atol=1e-12, err_msg=f"{name} {params}")


# -- elementwise_grad -----------------------------------------------------------------------------------


def test_elementwise_grad_of_elementwise_functions():
    x0 = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(elementwise_grad(lambda x: x.tanh())(x0), 1 - np.tanh(x0) ** 2, rtol=1e-14)
    d2 = elementwise_grad(elementwise_grad(lambda x: x.tanh()))(x0)
    t = np.tanh(x0)
    np.testing.assert_allclose(d2, -2 * t * (1 - t * t), rtol=1e-13, atol=1e-15)
    X = RNG.standard_normal((2, 3)).astype(np.float32)
    g = elementwise_grad(lambda x: x ** 3)(X)
    assert g.dtype == np.float32 and g.shape == (2, 3)
    np.testing.assert_allclose(g, 3 * X ** 2, rtol=1e-6)
    assert elementwise_grad(lambda x: x ** 3)(2.0) == 12.0
    # it is the gradient of sum(f(x)), also for functions that are not elementwise
    f = lambda x: (Value(W) @ x).tanh()
    x1 = RNG.standard_normal(3)
    np.testing.assert_allclose(elementwise_grad(f)(x1), grad(lambda x: f(x).sum())(x1), rtol=1e-15)


# -- argnums --------------------------------------------------------------------------------------------


def test_bad_argnums():
    with pytest.raises(ValueError, match="jacobian: argnums 2 asks for argument 2, but f got 1 positional"):
        jacobian(lambda x: x, argnums=2)(1.0)
    with pytest.raises(TypeError, match="grad: argnums must be an int or a tuple of ints, got 0.5"):
        grad(lambda x: x, argnums=0.5)(1.0)
    with pytest.raises(ValueError, match="grad: argnums is empty"):
        grad(lambda x: x, argnums=())(1.0)


# -- against torch.autograd.functional ------------------------------------------------------------------


def _torch_lib(torch):
    class Torch:
        tanh = staticmethod(torch.tanh)
        exp = staticmethod(torch.exp)

        @staticmethod
        def const(a):
            return torch.tensor(a, dtype=torch.float64)

    return Torch


@pytest.mark.parametrize("i", range(5))
def test_jacobian_and_jvp_against_torch(i):
    torch = pytest.importorskip("torch")
    tf = torch.autograd.functional
    name, f, x0 = vec_fns(Ours)[i]
    _, ft, _ = vec_fns(_torch_lib(torch))[i]
    xt = torch.tensor(x0, dtype=torch.float64)
    np.testing.assert_allclose(jacobian(f)(x0), tf.jacobian(ft, xt).numpy(), rtol=1e-13, atol=1e-14, err_msg=name)
    v = RNG.standard_normal(x0.shape)
    _, Jv = jvp(f, (x0,), (v,))
    _, Jv_t = tf.jvp(ft, xt, torch.tensor(v))
    np.testing.assert_allclose(Jv, Jv_t.numpy(), rtol=1e-13, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("i", range(3))
def test_hessian_and_hvp_against_torch(i):
    torch = pytest.importorskip("torch")
    tf = torch.autograd.functional
    name, f, x0 = scalar_fns(Ours)[i]
    _, ft, _ = scalar_fns(_torch_lib(torch))[i]
    xt = torch.tensor(x0, dtype=torch.float64)
    np.testing.assert_allclose(hessian(f)(x0), tf.hessian(ft, xt).numpy(), rtol=1e-12, atol=1e-13, err_msg=name)
    v = RNG.standard_normal(x0.shape)
    _, Hv_t = tf.hvp(ft, xt, torch.tensor(v))
    np.testing.assert_allclose(hvp(f, x0, v), Hv_t.numpy(), rtol=1e-12, atol=1e-13, err_msg=name)


def test_hessian_of_two_arguments_against_torch():
    torch = pytest.importorskip("torch")
    f = lambda x, y: ((x.tanh() * y) ** 2).sum() + (x * x).sum() * y.sum()
    x0, y0 = RNG.standard_normal(3), RNG.standard_normal(3)
    ours = hessian(f, argnums=(0, 1))(x0, y0)
    theirs = torch.autograd.functional.hessian(f, (torch.tensor(x0), torch.tensor(y0)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours[i][j], theirs[i][j].numpy(), rtol=1e-12, atol=1e-13)


# -- against jax ----------------------------------------------------------------------------------------


def test_structured_transforms_against_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    def f(p, x):  # arithmetic and .sum() only: the same code runs on Values and on jax arrays
        h = p["W"] @ x + p["b"]
        return (h * h * p["s"]).sum() + (p["b"] ** 3).sum()

    p = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(2), "s": 0.7}
    x = RNG.standard_normal(3)
    tp = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(2), "s": 0.3}
    tx = RNG.standard_normal(3)
    with jax.enable_x64(True):  # (jax's Hessian of this takes seconds eagerly: see the next test instead)
        pj = {k: jnp.asarray(v) for k, v in p.items()}
        xj = jnp.asarray(x)
        g, gx = grad(f, argnums=(0, 1))(p, x)
        gj, gxj = jax.grad(f, argnums=(0, 1))(pj, xj)
        assert list(g) == list(p) and type(g["s"]) is float
        for k in p:
            np.testing.assert_allclose(g[k], np.asarray(gj[k]), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(gx, np.asarray(gxj), rtol=1e-13)
        y, t = jvp(f, (p, x), (tp, tx))
        yj, tj = jax.jvp(f, (pj, xj), ({k: jnp.asarray(v) for k, v in tp.items()}, jnp.asarray(tx)))
        np.testing.assert_allclose(y, float(yj), rtol=1e-13)
        np.testing.assert_allclose(t, float(tj), rtol=1e-12)


def test_hessian_of_a_dict_matches_the_hessian_of_the_packed_vector():
    # H[a][b] is d^2 f / d p[a] d p[b] with shape p[a].shape + p[b].shape, as jax.hessian lays it out
    def f(p):
        h = p["W"] @ X + p["b"]
        return (h.tanh() * h * p["s"]).sum() + (p["b"] ** 3).sum()

    X = RNG.standard_normal(3)
    p = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(2), "s": 0.7}
    sizes = {"W": 6, "b": 2, "s": 1}
    offsets = dict(zip(sizes, np.cumsum([0] + list(sizes.values()))))

    def packed(v):  # the same function of one vector holding W, b and s
        return f({"W": v[0:6].reshape(2, 3), "b": v[6:8], "s": v[8]})

    Hv = hessian(packed)(np.concatenate([p["W"].ravel(), p["b"], [p["s"]]]))
    H = hessian(f)(p)
    assert list(H) == list(p) and all(list(H[a]) == list(p) for a in p)
    for a in p:
        for b in p:
            block = Hv[offsets[a]:offsets[a] + sizes[a], offsets[b]:offsets[b] + sizes[b]]
            assert np.shape(H[a][b]) == np.shape(p[a]) + np.shape(p[b])
            np.testing.assert_allclose(np.reshape(H[a][b], block.shape), block, rtol=1e-13, atol=1e-14,
                                       err_msg=f"{a},{b}")
