"""Graphs cut without a word, and wrong values at the edges (issue 20): every path that would turn Values into
plain numbers either keeps the gradients or raises, for every op of the OpInfo registry.

- A list of Values given to an op where it takes a tensor is stacked, keeping every gradient (HIPS autograd's and
  JAX's reading), or refused with a message naming the fix; never the constant it used to become.
- A foreign library's call (anything that goes through np.asarray, as scipy and sklearn do) on an op's result
  raises while that result's gradient is recorded, and gives the numbers under no_grad or after .detach().
- Second derivatives through every kind of exponent (a float, an int, a 0-d array, a scalar Value, a tensor
  Value) agree with finite differences of the first derivative, and with PyTorch where it is installed.
- Matrix functions through eigh and svd at repeated eigen/singular values give the finite-difference gradient or
  the clear error, never another finite value.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Value, eigh, grad, gradients, no_grad, stack, svd
from tinygrad_nn import sum as vsum
from tinygrad_nn.testing import OPINFOS, canonical_cases

CUT = r"np\.asarray: this Value.*requires a gradient.*cut the graph.*detach\(\).*no_grad"


def _first_case(info):
    """The first canonical case whose first input has an axis to split into a list (None if there is none)."""
    for arrays, params in canonical_cases(info):
        if np.ndim(arrays[0]) >= 1 and np.shape(arrays[0])[0] >= 1:
            return arrays, params
    return None


def _scalar_out(y):
    """A number from an op's result (a Value, or a tuple of them), weighted so that no gradient is symmetric."""
    parts = y if isinstance(y, (tuple, list)) else (y,)
    total = 0.0
    for k, part in enumerate(parts):
        if isinstance(part, Value) and part.requires_grad:
            w = np.cos(np.arange(part.size, dtype=np.float64) + k).reshape(part.shape)
            total = total + vsum(part * w)
    return total


@pytest.mark.parametrize("name", sorted(OPINFOS))
def test_a_list_of_values_is_stacked_or_refused(name):
    info = OPINFOS[name]
    case = _first_case(info)
    if case is None:
        pytest.skip(f"{name}: no case whose first input has an axis")
    arrays, params = case
    # the reference: the first input as one Value
    whole = [Value(a) for a in arrays]
    ref = _scalar_out(info.fn(*whole, **params))
    if not isinstance(ref, Value):
        pytest.skip(f"{name}: its result carries no gradient")
    ref.backward()
    # the same input as a list of Values, one per row
    rows = [Value(r) for r in arrays[0]]
    rest = [Value(a) for a in arrays[1:]]
    try:
        out = _scalar_out(info.fn(rows, *rest, **params))
    except (TypeError, ValueError, AttributeError) as e:
        # refused: by this package, saying how to keep the gradients; or by Python itself, where the entry's
        # function is an operator or a method (x ** 2, x.astype), which a list does not have
        assert "stack" in str(e) or "detach" in str(e) or "'list'" in str(e), \
            f"{name}: refused a list of Values without the fix: {e}"
        return
    assert isinstance(out, Value), f"{name}: a list of Values gave a constant result"
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12, atol=1e-12)
    out.backward()
    got = np.stack([np.broadcast_to(r.grad, np.shape(arrays[0][0])) for r in rows])
    np.testing.assert_allclose(got, whole[0].grad, rtol=1e-10, atol=1e-12,
                               err_msg=f"{name}: the rows of a list lost (some of) their gradients")
    for v, w in zip(rest, whole[1:]):
        np.testing.assert_allclose(v.grad, w.grad, rtol=1e-10, atol=1e-12)


def _foreign(x):
    """What a library written for numpy does with whatever it is given (scipy.special.logsumexp, sklearn...)."""
    a = np.asarray(x, dtype=np.float64)
    return float(np.log(np.sum(np.exp(a - a.max()))) + a.max())


@pytest.mark.parametrize("name", sorted(OPINFOS))
def test_a_foreign_library_call_on_an_ops_result_is_refused_while_recording(name):
    info = OPINFOS[name]
    arrays, params = canonical_cases(info)[0]
    xs = [Value(a) for a in arrays]
    y = info.fn(*xs, **params)
    y = y[0] if isinstance(y, (tuple, list)) else y
    if not (isinstance(y, Value) and y.requires_grad):
        pytest.skip(f"{name}: its result carries no gradient")
    with pytest.raises(TypeError, match=CUT):
        _foreign(y)
    with pytest.raises(TypeError, match=CUT):  # its inputs too
        _foreign(xs[0])
    expected = _foreign(y.data)
    assert _foreign(y.detach()) == expected
    with no_grad():  # nothing is recorded: the numbers are handed over
        assert _foreign(y) == expected


def test_scipy_logsumexp_of_a_value_raises_instead_of_a_zero_gradient():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TypeError, match=CUT):
        grad(lambda x: special.logsumexp(x))(np.array([1.0, 2.0]))
    assert special.logsumexp(Value([1.0, 2.0]).detach()) == pytest.approx(np.logaddexp(1.0, 2.0))


def test_a_rule_that_converts_its_input_under_create_graph_gets_the_contract_error():
    from tinygrad_nn.ops import defop

    cut_sin = defop("cut_sin_attack", forward=np.sin,
                    vjp=lambda g, ans, x: (g * np.cos(np.asarray(x)),))  # numpy on the input: cuts the graph
    assert grad(cut_sin)(0.5) == pytest.approx(np.cos(0.5))  # first order runs on payloads: right
    with pytest.raises(TypeError, match=r"cut_sin_attack: its gradient rule failed on Values.*docs/engine\.md"):
        grad(grad(cut_sin))(0.5)


def test_a_rule_that_computes_with_payloads_under_create_graph_gets_the_contract_error():
    from tinygrad_nn.engine import data_of
    from tinygrad_nn.ops import defop

    x = np.array([0.5, 1.0])
    for name, rule in [("cut_data_attack", lambda g, ans, x: (g * np.cos(x.data),)),
                       ("cut_data_of_attack", lambda g, ans, x: (g * np.cos(data_of(x)),)),
                       ("cut_ans_attack", lambda g, ans, x: (g * np.sqrt(1.0 - data_of(ans) ** 2),))]:
        op = defop(name, forward=np.sin, vjp=rule)
        np.testing.assert_allclose(grad(lambda v, op=op: vsum(op(v)))(x), np.cos(x))  # first order: right
        with pytest.raises(TypeError, match=rf"^{name}: its gradient rule computes with the numbers of its input.*"
                                            r"cuts the graph.*docs/engine\.md"):
            grad(lambda w, op=op: vsum(grad(lambda v: vsum(op(v)))(w)))(x)
    plain = defop("cut_plain_attack", forward=np.exp,
                  vjp=lambda g, ans, x: (np.exp(np.asarray(data_of(x))) * np.asarray(data_of(g)),))
    with pytest.raises(TypeError, match=r"^cut_plain_attack: its gradient rule returned ndarray for input 0 under "
                                        r"backward\(create_graph=True\)"):
        grad(lambda w: vsum(grad(lambda v: vsum(plain(v)))(w)))(x)
    # masks from payloads are allowed: their slope is 0
    for name, forward, rule, want in [
            ("mask_gt_attack", lambda x: np.maximum(x, 0.0), lambda g, ans, x: (g * (data_of(x) > 0),), [0.0, 2.0]),
            ("mask_sign_attack", np.abs, lambda g, ans, x: (g * np.sign(data_of(x)),), [2.0, 2.0]),
            ("mask_where_attack", np.abs, lambda g, ans, x: (g * np.where(data_of(x) > 0, 1.0, -1.0),), [2.0, 2.0])]:
        op = defop(name, forward=forward, vjp=rule)
        got = grad(lambda w, op=op: vsum(grad(lambda v: vsum(op(v) ** 2))(w)))(np.array([-1.0, 2.0]))
        np.testing.assert_allclose(got, want)


# -- second derivatives through every kind of exponent ------------------------------------------------------------


def _fd(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


EXPONENTS = {
    "float": lambda x, y: x ** 1.7,
    "int": lambda x, y: x ** 3,
    "0-d array": lambda x, y: x ** np.array(1.7),
    "scalar Value": lambda x, y: x ** y,
    "tensor Value": lambda x, y: x ** stack([y, y * 0.5]),
}


@pytest.mark.parametrize("kind", sorted(EXPONENTS))
@pytest.mark.parametrize("x0, y0", [(1.5, 1.5), (0.7, 2.3), (2.0, -0.5)])
def test_second_derivatives_through_every_exponent_kind(kind, x0, y0):
    f = EXPONENTS[kind]

    def loss(x, y):
        return vsum(f(x, y) * x) if kind == "tensor Value" else f(x, y) * x

    for wrt in (0, 1):
        d1 = grad(loss, argnums=wrt)
        for second in (0, 1):
            d2 = grad(d1, argnums=second)
            args = [x0, y0]

            def first(t, second=second, args=args, d1=d1):
                a = list(args)
                a[second] = t
                return d1(*a)

            got = d2(*args)
            want = _fd(first, args[second])
            assert np.isclose(got, want, rtol=1e-6, atol=1e-7), (kind, wrt, second, got, want)


def _torch_exponents(torch):
    return {
        "float": lambda x, y: x ** 1.7,
        "int": lambda x, y: x ** 3,
        "0-d array": lambda x, y: x ** torch.tensor(1.7, dtype=torch.float64),
        "scalar Value": lambda x, y: x ** y,
        "tensor Value": lambda x, y: x ** torch.stack([y, y * 0.5]),
    }


@pytest.mark.parametrize("kind", sorted(EXPONENTS))
def test_hessians_through_every_exponent_kind_match_pytorch(kind):
    torch = pytest.importorskip("torch")
    from tinygrad_nn import hessian

    f, tf = EXPONENTS[kind], _torch_exponents(torch)[kind]
    point = np.array([1.3, 0.8])
    ours = hessian(lambda v: vsum(f(v[0], v[1]) * v[0]))(point)
    theirs = torch.autograd.functional.hessian(lambda v: (tf(v[0], v[1]) * v[0]).sum(),
                                               torch.tensor(point, dtype=torch.float64))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_x_to_the_x_second_derivative_is_pytorchs():
    assert grad(grad(lambda x: x ** x))(1.5) == pytest.approx(4.853661788346, rel=1e-10)
    torch = pytest.importorskip("torch")
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(t ** t, t, create_graph=True)
    (h,) = torch.autograd.grad(g, t)
    assert grad(grad(lambda x: x ** x))(1.5) == pytest.approx(h.item(), rel=1e-12)
    # the cross term of x ** y's Hessian: d2/dxdy x ** y = x ** (y - 1) (1 + y log x)
    x, y = Value(1.5), Value(1.7)
    (gx,) = gradients(x ** y, [x], create_graph=True)
    (cross,) = gradients(gx, [y])
    assert cross == pytest.approx(1.5 ** 0.7 * (1 + 1.7 * np.log(1.5)), rel=1e-12)


# -- eigh and svd at repeated values: the finite-difference gradient, or the clear error -------------------------


def _sqrtm(a):
    w, v = eigh(a)
    return (v * w.sqrt()) @ v.T


def _expm_sym(a):
    w, v = eigh(a)
    return (v * w.exp()) @ v.T


def _reconstruct_svd(a):
    u, s, vh = svd(a, full_matrices=False)
    return (u * s) @ vh


def _polar(a):
    u, s, vh = svd(a, full_matrices=False)
    return u @ vh


def _projector(a):
    w, v = eigh(a)
    return v[:, :2] @ v[:, :2].T


def _eigenvalues(a):
    w, v = eigh(a)
    return w * w


def _singular_values(a):
    return svd(a, compute_uv=False) ** 2


FUNCTIONS = {"sqrtm": _sqrtm, "expm": _expm_sym, "U diag(s) Vh": _reconstruct_svd, "polar": _polar,
             "projector": _projector, "eigenvalues": _eigenvalues, "singular values": _singular_values}
POINTS = {"identity": np.eye(3), "diag(1, 1, 3)": np.diag([1.0, 1.0, 3.0]), "2I": 2.0 * np.eye(3),
          "distinct": np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 3.0]])}
WEIGHTS = np.arange(1.0, 10.0).reshape(3, 3) / 10.0


def _weights(out):
    # a matrix result weighted unevenly; the values (a vector) evenly: a function of tied values that is not
    # symmetric in them has no derivative there
    return WEIGHTS if out.ndim == 2 else np.ones(out.shape)


def _numeric_gradient(f, a, eps=1e-6):
    """Central differences of sum(f(a) * W) over symmetric perturbations (eigh reads (a + aᵀ) / 2)."""
    def value(m):
        with no_grad():
            out = f(Value(m))
        return float(np.sum(out.data * _weights(out)))

    g = np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            e = np.zeros_like(a)
            e[i, j] = eps
            g[i, j] = (value(a + e) - value(a - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("point", sorted(POINTS))
@pytest.mark.parametrize("fname", sorted(FUNCTIONS))
def test_matrix_functions_at_repeated_values_agree_with_finite_differences_or_raise(fname, point):
    f, a = FUNCTIONS[fname], POINTS[point]
    if fname == "projector" and point in ("identity", "2I"):
        pytest.skip("the projector onto two of three equal eigenvalues' vectors has no derivative there")
    x = Value(a)
    out = f(x)
    try:
        vsum(out * _weights(out)).backward()
    except ValueError as e:
        assert "repeated" in str(e) and ("eigh" in str(e) or "svd" in str(e)), e
        assert point != "distinct", f"{fname}: refused at distinct values: {e}"
        return
    want = _numeric_gradient(f, a)
    np.testing.assert_allclose(x.grad, want, rtol=1e-5, atol=1e-6,
                               err_msg=f"{fname} at {point}: a finite gradient that is not the true one")
