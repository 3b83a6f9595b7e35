"""Errors a learner will meet: the exception type, and a message that names the op, the shapes and a hint."""

import math

import numpy as np
import pytest

from tinygrad_nn import Value, grad, no_grad

# -- shapes that do not broadcast -----------------------------------------------------------------


@pytest.mark.parametrize("opname, fn", [("add", lambda a, b: a + b), ("mul", lambda a, b: a * b),
                                        ("sub", lambda a, b: a - b), ("div", lambda a, b: a / b)])
def test_non_broadcastable_shapes(opname, fn):
    a, b = Value(np.ones((2, 3))), Value(np.ones(4))
    with pytest.raises(ValueError) as info:
        fn(a, b)
    msg = str(info.value)
    assert msg.startswith(opname + ":")
    assert "(2, 3)" in msg and "(4,)" in msg
    assert "broadcast" in msg  # the hint: how broadcasting aligns shapes


def test_non_broadcastable_with_a_plain_array_on_either_side():
    with pytest.raises(ValueError, match=r"add.*\(3,\).*\(2,\).*broadcast"):
        Value(np.ones(3)) + np.ones(2)
    with pytest.raises(ValueError, match=r"mul.*\(2,\).*\(3,\).*broadcast"):
        np.ones(2) * Value(np.ones(3))


def test_failed_op_records_nothing_and_later_ops_work():
    a = Value(np.ones(3))
    with pytest.raises(ValueError):
        a + Value(np.ones(2))
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])


# -- matmul -----------------------------------------------------------------------------------------


def test_matmul_inner_sizes_differ():
    with pytest.raises(ValueError) as info:
        Value(np.ones((2, 3))) @ Value(np.ones((4, 5)))
    msg = str(info.value)
    assert msg.startswith("matmul:")
    assert "(2, 3)" in msg and "(4, 5)" in msg  # both shapes
    assert "3" in msg and "4" in msg and "inner" in msg  # the sizes that differ
    assert ".T" in msg or "transpose" in msg  # a hint


def test_matmul_with_a_vector():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4,\)"):
        Value(np.ones((2, 3))) @ np.ones(4)


def test_matmul_with_a_scalar_is_refused_with_a_hint():
    with pytest.raises(ValueError, match=r"matmul.*axis.*\*"):
        Value(np.ones(3)) @ Value(np.array(2.0))


# -- backward ---------------------------------------------------------------------------------------


def test_backward_on_a_non_scalar_output_without_grad():
    y = Value(np.ones((2, 3))) * 2
    with pytest.raises(ValueError) as info:
        y.backward()
    msg = str(info.value)
    assert "backward" in msg and "(2, 3)" in msg
    assert ".sum()" in msg and "backward(grad)" in msg  # both ways out


@pytest.mark.parametrize("bad", [np.ones(3), np.ones((3, 2)), np.ones((1, 2, 3)), 1.0])
def test_backward_with_a_grad_of_the_wrong_shape(bad):
    y = Value(np.ones((2, 3))) * 2
    with pytest.raises(ValueError) as info:
        y.backward(bad)
    msg = str(info.value)
    assert "backward" in msg and "(2, 3)" in msg and str(np.shape(bad)) in msg and "shape" in msg


def test_backward_of_a_scalar_with_an_array_grad():
    y = Value(2.0) * 3
    with pytest.raises(ValueError, match=r"backward.*\(3,\).*\(\)"):
        y.backward(np.ones(3))


def test_backward_on_a_value_that_does_not_require_grad():
    for v in (Value(2.0, requires_grad=False), Value(np.ones(2), requires_grad=False) * 3):
        with pytest.raises(ValueError) as info:
            v.sum().backward() if v.ndim else v.backward()
        msg = str(info.value)
        assert "backward" in msg and "does not require" in msg and "requires_grad=True" in msg


def test_backward_on_a_value_made_under_no_grad():
    x = Value(1.0)
    with no_grad():
        y = x.exp()
    with pytest.raises(ValueError, match="no_grad"):
        y.backward()


# -- axes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sum", "max", "min", "logsumexp"])
@pytest.mark.parametrize("axis", [2, -3, (0, 2)])
def test_axis_out_of_range_in_reductions(method, axis):
    x = Value(np.ones((2, 3)))
    with pytest.raises(ValueError) as info:
        getattr(x, method)(axis=axis)
    msg = str(info.value)
    assert "axis" in msg and "out of range" in msg and "2 axes" in msg
    assert msg.startswith(method + ":") and "(2, 3)" in msg  # named by what the user called (min is -max(-x))


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_axis_out_of_range_in_softmax(method):
    x = Value(np.ones((2, 3)))
    with pytest.raises(ValueError) as info:
        getattr(x, method)(axis=2)
    msg = str(info.value)
    assert "axis 2" in msg and "out of range" in msg and "2 axes" in msg and "(2, 3)" in msg


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_axis_error_in_softmax_names_softmax(method):
    with pytest.raises(ValueError) as info:
        getattr(Value(np.ones((2, 3))), method)(axis=2)
    assert str(info.value).startswith(method + ":")


def test_axis_error_in_mean_names_mean():
    with pytest.raises(ValueError) as info:
        Value(np.ones((2, 3))).mean(axis=2)
    assert str(info.value).startswith("mean:") and "(2, 3)" in str(info.value)


# -- payloads that are not real numbers -----------------------------------------------------------


@pytest.mark.parametrize("payload, words", [
    ("abc", ["real numbers", "str"]),
    (None, ["real numbers", "NoneType"]),
    (1 + 2j, ["real numbers", "complex"]),
    (np.array([1 + 2j]), ["real numbers", "complex128"]),
    (np.array([object(), object()], dtype=object), ["real numbers", "object"]),
    (np.array(["a", "b"]), ["real numbers", "<U1"]),
    ([[1, 2], [3]], ["rectangular", "list"]),
    ([1, [2, 3]], ["rectangular"]),
])
def test_payload_that_is_not_real_numbers(payload, words):
    with pytest.raises(TypeError) as info:
        Value(payload)
    msg = str(info.value)
    assert msg.startswith("Value:")
    for w in words:
        assert w in msg, (w, msg)


def test_a_value_as_payload_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"Value.*detach\(\)"):
        Value(Value(1.0))


@pytest.mark.parametrize("other", ["a", None, 1j])
def test_non_numeric_operand_in_an_op(other):
    with pytest.raises(TypeError, match="real numbers"):
        Value(1.0) + other


# -- powers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [Value(-2.0), -2.0])
def test_value_exponent_with_a_negative_base(base):
    with pytest.raises(ValueError) as info:
        base ** Value(0.5)
    msg = str(info.value)
    assert "pow" in msg and "exponent 0.5" in msg and "base" in msg and "-2.0" in msg
    assert "abs()" in msg  # the hint


def test_non_integer_number_exponent_of_a_negative_base():
    with pytest.raises(ValueError, match=r"pow.*negative base.*1\.5.*abs\(\)"):
        Value(-2.0) ** 1.5



def test_a_negative_base_of_a_tensor_gives_nan_as_numpy_and_pytorch():
    # Outside the domain an elementwise function of a tensor gives NaN (the README's convention): a NaN where
    # the base is negative, the other elements as they are, forward and backward.
    x = Value(np.array([-2.0, 4.0]))
    for y in (x ** 0.5, x ** Value(0.5), x ** np.array([1.5, 0.5]), np.power(x, 0.5)):
        assert np.isnan(y.data[0]) and y.data[1] == 2.0
    y = x ** 0.5
    y.sum().backward()
    assert np.isnan(x.grad[0]) and x.grad[1] == 0.25


def test_square_root_power_of_a_negative_scalar_explains_itself():
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5


@pytest.mark.parametrize("expr", [lambda: Value(1.0) / 0.0, lambda: 1.0 / Value(0.0),
                                  lambda: Value(0.0) ** -1, lambda: Value(1.0) / Value(0.0)],
                         ids=["value/0.0", "1.0/value", "value**-1", "value/value"])
def test_scalar_division_by_zero_raises_zerodivisionerror(expr):
    with pytest.raises(ZeroDivisionError):
        expr()


def test_scalar_division_by_zero_raises_with_the_op_name():
    with pytest.raises((ValueError, ZeroDivisionError), match="div"):
        Value(1.0) / 0.0


def test_log_and_sqrt_of_a_negative_scalar_are_nan_as_in_numpy_and_pytorch():
    for fn in (lambda v: v.log(), lambda v: v.sqrt()):
        y = fn(Value(-2.0))
        assert y.data.__class__ is float and math.isnan(y.data)
    assert Value(0.0).log().data == -math.inf


# -- transforms -------------------------------------------------------------------------------------


def test_grad_of_a_non_scalar_function():
    with pytest.raises(ValueError) as info:
        grad(lambda x: x * 2)(np.ones(3))
    msg = str(info.value)
    assert "grad" in msg and "single number" in msg and "(3,)" in msg and ".sum()" in msg


def test_grad_of_a_constant_function_is_zero_and_of_a_non_number_is_refused():
    assert grad(lambda x: 3.0)(1.0) == 0.0  # as HIPS autograd and JAX: the output does not depend on x
    with pytest.raises(TypeError, match="grad.*real numbers"):
        grad(lambda x: "abc")(1.0)


def test_grad_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        grad(lambda x: x, argnums=2)(1.0)


def test_item_of_a_tensor():
    with pytest.raises(ValueError, match=r"item.*\(2, 2\).*sum"):
        Value(np.ones((2, 2))).item()


def test_indexing_a_scalar():
    with pytest.raises(TypeError, match="scalar"):
        Value(1.0)[0]


def test_micrograds_internal_constructor_is_refused_not_silently_disconnected():
    a, b = Value(1.0), Value(2.0)
    # micrograd's Value(data, _children, _op): taking (a, b) as requires_grad would drop the edges silently.
    with pytest.raises(TypeError, match=r"requires_grad must be True or False, got tuple.*internal constructor"):
        Value(3.0, (a, b), "+")
