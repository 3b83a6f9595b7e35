"""gradcheck and gradgradcheck: they pass correct functions and catch wrong gradient rules."""

import importlib
import itertools

import numpy as np
import pytest

from tinygrad_nn import GradcheckError, Value, gradcheck, gradgradcheck
from tinygrad_nn.engine import data_of
from tinygrad_nn.ops import defop

# tinygrad_nn.gradcheck is the function (the package re-exports it); the module holds FULL_JACOBIAN_MAX
gc_module = importlib.import_module("tinygrad_nn.gradcheck")
_counter = itertools.count()


def _unique(name):
    """Op names are global: each deliberately wrong op in this file gets a fresh one."""
    return f"test_gradcheck_{name}_{next(_counter)}"


def wrong_square():
    # forward x^2, but the rule says 3x instead of 2x
    return defop(_unique("wrong_square"), lambda x: x * x, lambda g, ans, x: (g * 3.0 * x,))


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


# -- correct functions pass -------------------------------------------------------------------------


@pytest.mark.parametrize("f, inputs", [
    (lambda x: (x.exp() * x).sum(), [np.array([0.5, -1.0])]),
    (lambda x: x.tanh() * x, [np.array([[0.1, -0.3], [0.7, 1.2]])]),
    (lambda x, y: x * y + x / y, [np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.5, 2.0])]),
    (lambda W, b: (W @ np.array([1.0, -2.0]) + b).sigmoid(), [np.ones((3, 2)) * 0.3, np.array([0.1, 0.2, 0.3])]),
    (lambda x: x.softmax(axis=-1), [np.array([[0.1, 0.5, -0.2], [1.0, 2.0, 3.0]])]),
    (lambda x: x.tanh(), [np.array(0.3)]),
    (lambda x, b: (x + b).sum(), [np.ones((4, 3)), np.ones(3)]),  # broadcasting
])
def test_correct_functions_pass(f, inputs):
    assert gradcheck(f, *inputs) is True
    assert gradgradcheck(f, *inputs) is True


def test_gradcheck_accepts_values_and_lists_as_inputs():
    assert gradcheck(lambda x: (x * x).sum(), Value(np.array([1.0, 2.0])))
    assert gradcheck(lambda x: (x * x).sum(), [1.0, 2.0])


def test_gradcheck_does_not_touch_the_inputs():
    x = Value(np.array([1.0, 2.0]))
    a = np.array([3.0, 4.0])
    gradcheck(lambda x, y: (x * y).sum(), x, a)
    assert not x.grad.any()
    np.testing.assert_array_equal(a, [3.0, 4.0])
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_gradgradcheck_on_scalar_inputs():
    assert gradgradcheck(lambda x: x.tanh(), 0.3) is True
    assert gradgradcheck(lambda x, y: (x * y).exp(), 0.3, -0.7) is True


def test_gradcheck_on_scalar_payloads_with_a_tensor_output():
    assert gradcheck(lambda x: x * Value(np.array([1.0, 2.0])), 0.5) is True


@pytest.mark.parametrize("f, inputs", [(lambda x: x.tanh(), (0.3,)), (lambda x, y: x * y, (0.3, 2.0))],
                         ids=["tanh", "mul"])
def test_gradcheck_on_python_float_scalars(f, inputs):
    assert gradcheck(f, *inputs) is True


# -- wrong rules are caught -------------------------------------------------------------------------


def test_a_wrong_rule_is_caught_with_input_index_and_both_values():
    op = wrong_square()
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: op(x), np.array([1.0, 2.0]))
    msg = str(info.value)
    assert "input 0" in msg and "[0]" in msg  # which input, which element
    assert "analytic 3.0" in msg and "numerical 2.0" in msg  # d(x^2)/dx at 1: rule says 3, truth is 2


def test_the_error_names_the_second_input_and_a_multi_dimensional_index():
    op = wrong_square()
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a + op(b), np.zeros(2), np.array([[1.0, 1.0], [1.0, 2.0]]))
    msg = str(info.value)
    assert "input 1" in msg and "[0, 0]" in msg
    assert "analytic" in msg and "numerical" in msg


def test_a_wrong_rule_on_a_large_input_is_caught_by_random_projections():
    op = wrong_square()
    x = np.linspace(0.1, 1.0, 100).reshape(10, 10)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: op(x).sum(), x)
    msg = str(info.value)
    assert "random projection" in msg and "analytic" in msg and "numerical" in msg and "[100]" in msg


def _count_calls(f):
    calls = []

    def counted(*xs):
        calls.append(1)
        return f(*xs)

    return counted, calls


def test_full_jacobian_for_small_inputs_and_projections_for_large():
    assert gc_module.FULL_JACOBIAN_MAX == 64
    # Full Jacobian: f runs once per output row (backward) and twice per input element (differences),
    # so the number of calls grows with the size. Random projections: a fixed number of calls.
    f, calls = _count_calls(lambda x: (x * x).sum())
    gradcheck(f, np.linspace(-1, 1, 64))
    small = len(calls)
    assert small >= 2 * 64
    f, calls = _count_calls(lambda x: (x * x).sum())
    gradcheck(f, np.linspace(-1, 1, 65))
    assert len(calls) < 20
    f, calls = _count_calls(lambda x: (x * x).sum())
    gradcheck(f, np.linspace(-1, 1, 5000))
    assert len(calls) < 20


def test_full_jacobian_counts_all_inputs_together():
    # 40 + 30 elements: more than 64 in all, so projections, although each input alone is small
    op = wrong_square()
    with pytest.raises(GradcheckError, match="random projection"):
        gradcheck(lambda a, b: (a.sum() + op(b).sum()), np.ones(40), np.linspace(0.5, 1, 30))
    with pytest.raises(GradcheckError, match=r"d output.*input 1"):
        gradcheck(lambda a, b: (a.sum() + op(b).sum()), np.ones(30), np.linspace(0.5, 1, 30))


def test_a_wrong_off_diagonal_jacobian_entry_is_caught():
    # only d out[1] / d x[0] is wrong: summing the output would hide nothing, but a per-row check finds it
    def fwd(x):
        return np.array([x[0] * x[1], x[0] + x[1]])

    def vjp(g, ans, x):
        gd, xd = data_of(g), data_of(x)
        return (np.array([gd[0] * xd[1] + 2.0 * gd[1], gd[0] * xd[0] + gd[1]]),)  # 2.0 should be 1.0

    op = defop(_unique("wrong_offdiag"), fwd, vjp)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: op(x), np.array([2.0, 3.0]))
    msg = str(info.value)
    assert "d output[1] / d input 0[0]" in msg and "analytic 2.0" in msg


def test_a_rule_that_is_not_zero_for_a_zero_upstream_gradient_is_caught():
    # right on every one-hot row of the Jacobian, but it adds 1 where the upstream gradient is 0
    op = defop(_unique("leaky"), lambda x: x * x,
               lambda g, ans, x: (g * 2.0 * x + np.equal(data_of(g), 0) * 1.0,))
    x = np.linspace(0.1, 1.0, 100)  # large: random projections never have exact zeros
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: op(x), x)
    assert "zero upstream gradient" in str(info.value) and "input 0" in str(info.value)


def test_a_rule_with_a_constant_offset_is_caught():
    op = defop(_unique("offset"), lambda x: x * x, lambda g, ans, x: (g * 2.0 * x + 1.0,))
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: op(x), np.array([1.0, 2.0]))


def test_a_rule_that_is_not_repeatable_is_caught():
    state = {"n": 0}

    def vjp(g, ans, x):
        state["n"] += 1
        return (g * 2.0 * x * (1.0 + 1e-9 * state["n"]),)  # drifts a little on every call

    op = defop(_unique("drifting"), lambda x: x * x, vjp)
    with pytest.raises(GradcheckError, match="repeatable"):
        gradcheck(lambda x: op(x), np.array([1.0, 2.0]))


def test_tolerances_are_honoured():
    op = defop(_unique("slightly_off"), lambda x: x * x, lambda g, ans, x: (g * 2.0 * x * (1 + 1e-4),))
    assert gradcheck(lambda x: op(x), np.array([1.0, 2.0]))  # within rtol=1e-3
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: op(x), np.array([1.0, 2.0]), rtol=1e-6, atol=1e-9)


# -- gradgradcheck ---------------------------------------------------------------------------------


def test_gradgradcheck_catches_a_rule_that_is_right_but_not_differentiable():
    # The first derivative is right, but the rule reads the payload (data_of), so under create_graph it is a
    # constant in x: the second derivative comes out 0.
    op = defop(_unique("flat_rule"), lambda x: x * x * x,
               lambda g, ans, x: (g * 3.0 * data_of(x) * data_of(x),))
    x = np.array([1.0, 2.0])
    assert gradcheck(lambda x: op(x), x)
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: op(x), x)
    assert "analytic 0.0" in str(info.value) and "numerical" in str(info.value)


def test_gradgradcheck_checks_the_rule_as_written_not_the_first_derivative():
    # gradgradcheck differentiates the vjp and compares with differences of that same vjp: a wrong but smooth
    # first-order rule is self-consistent there (as in PyTorch), so run gradcheck too for first order.
    op = wrong_square()
    x = np.array([1.0, 2.0])
    assert gradgradcheck(lambda x: op(x).sum(), x)
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: op(x).sum(), x)


def test_gradgradcheck_on_a_large_input():
    x = np.linspace(-1, 1, 80)
    assert gradgradcheck(lambda x: (x.tanh() * x).sum(), x)
    op = defop(_unique("flat_rule_big"), lambda x: x * x * x,
               lambda g, ans, x: (g * 3.0 * data_of(x) * data_of(x),))
    with pytest.raises(GradcheckError, match="random projection"):
        gradgradcheck(lambda x: op(x).sum(), x)
