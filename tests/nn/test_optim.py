import numpy as np
import pytest

from tinygrad_nn import Value
from tinygrad_nn.optim import SGD, Adam


def test_sgd_updates_in_place():
    w = Value(np.array([1.0, -2.0]))
    ref = w.data
    (w * w).sum().backward()
    SGD([w], lr=0.1).step()
    assert w.data is ref  # the same array, updated in place
    np.testing.assert_allclose(w.data, [1.0 - 0.2, -2.0 + 0.4])


def test_sgd_momentum_matches_pytorch_formula():
    w = Value(np.array([1.0]))
    opt = SGD([w], lr=0.1, momentum=0.9)
    v, x = 0.0, 1.0
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        v = 0.9 * v + 2 * x if _ else 2 * x
        x = x - 0.1 * v
    assert w.data[0] == pytest.approx(x, rel=1e-15)


def test_adam_matches_reference():
    w = Value(np.array([0.5, -1.5]))
    opt = Adam([w], lr=0.01)
    x, m, v = np.array([0.5, -1.5]), 0.0, 0.0
    for t in range(1, 6):
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()
        g = 3 * x ** 2
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(w.data, x, rtol=1e-14)


def test_scalar_parameters_and_zero_grad():
    b = Value(2.0)
    opt = SGD([b], lr=0.5)
    (b * 3).backward()
    opt.step()
    assert b.data == 0.5 and isinstance(b.data, float)
    opt.zero_grad()
    assert b.grad is None  # PyTorch's default: the next backward stores its gradient afresh
    (b * 3).backward()
    assert b.grad == 3.0
    opt.zero_grad(set_to_none=False)
    assert b.grad == 0.0


def test_zero_grad_to_none_never_shares_gradient_arrays():
    a, b = Value(np.ones(3)), Value(np.ones(3))
    opt = SGD([a, b], lr=0.1)
    opt.zero_grad()
    (a + b).sum().backward()  # add hands the same upstream array to both inputs
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad[0] = 5.0
    assert b.grad[0] == 1.0
    opt.zero_grad()
    w = Value(np.ones((2, 3)), requires_grad=True)
    (w * 2.0).sum().backward()
    w.grad += 1  # the gradient array is the parameter's own and writable
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 3.0))


def test_step_skips_parameters_without_gradient():
    used, unused = Value(np.ones(2)), Value(np.ones(2))
    opt = SGD([used, unused], lr=0.5)
    opt.zero_grad()
    (used * 2.0).sum().backward()
    opt.step()
    np.testing.assert_array_equal(used.data, [0.0, 0.0])
    np.testing.assert_array_equal(unused.data, [1.0, 1.0])
    assert unused.grad is None


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        SGD([Value(1.0)], lr=0)
    with pytest.raises(ValueError, match="got no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameters must be Values"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=1.5)


# -- issue 8: clear errors ------------------------------------------------------------------------------


def test_optimizer_given_the_model_says_pass_parameters():
    from tinygrad_nn.nn import MLP

    for opt in (SGD, Adam):
        with pytest.raises(TypeError, match=r"got the model itself; pass model.parameters\(\)"):
            opt(MLP(2, [1]), lr=0.1)
    with pytest.raises(TypeError, match=r"got one Value; pass a list of parameters, e.g. \[w\]"):
        SGD(Value(np.ones(2)), lr=0.1)


@pytest.mark.parametrize("lr", [np.nan, np.inf, -np.inf, -0.1, 0.0])
def test_lr_must_be_positive_and_finite(lr):
    for opt in (SGD, Adam):
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            opt([Value(1.0)], lr=lr)


@pytest.mark.parametrize("lr", ["0.1", None, [0.1], True, 1j])
def test_lr_must_be_a_number(lr):
    for opt in (SGD, Adam):
        with pytest.raises(TypeError, match="lr must be a number"):
            opt([Value(1.0)], lr=lr)


def test_numpy_lr_is_fine():
    w = Value(np.array([1.0]))
    (w * w).sum().backward()
    SGD([w], lr=np.float32(0.25)).step()
    assert w.data[0] == 0.5


@pytest.mark.parametrize("eps, kind", [(np.nan, ValueError), (-1e-8, ValueError), (np.inf, ValueError),
                                       ("1e-8", TypeError), (None, TypeError)])
def test_adam_eps_is_checked(eps, kind):
    with pytest.raises(kind, match="Adam: eps must be"):
        Adam([Value(1.0)], eps=eps)


@pytest.mark.parametrize("betas, kind", [((1.0, 0.999), ValueError), ((0.9, np.nan), ValueError),
                                         ((-0.1, 0.9), ValueError), ((0.9,), TypeError), (0.9, TypeError),
                                         (("a", 0.9), TypeError)])
def test_adam_betas_are_checked(betas, kind):
    with pytest.raises(kind, match="Adam: betas must"):
        Adam([Value(1.0)], betas=betas)


def test_momentum_nan_is_refused():
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=np.nan)


def test_a_parameter_listed_twice_is_refused():
    w, b = Value(np.ones(2), name="w"), Value(0.0)
    for opt in (SGD, Adam):
        with pytest.raises(ValueError, match=r"appears more than once in the list \(shape \(2,\), name 'w'\)"):
            opt([w, b, w], lr=0.1)
