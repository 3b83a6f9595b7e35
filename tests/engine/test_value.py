"""The Value node itself: payloads, gradients' initial state, accessors, identity, comparisons, no_grad."""

import threading

import numpy as np
import pytest

from tinygrad_nn import Value, is_grad_enabled, no_grad

# -- payloads ---------------------------------------------------------------------------------------


def test_scalar_payload_is_a_python_float_and_grad_starts_at_zero():
    v = Value(2.0)
    assert type(v.data) is float and v.data == 2.0
    assert type(v.grad) is float and v.grad == 0.0
    assert v.shape == () and v.ndim == 0 and v.size == 1 and v.dtype == np.float64


@pytest.mark.parametrize("x", [2, True, np.int64(2), np.float32(2.0), np.float64(2.0)])
def test_ints_bools_and_numpy_scalars_become_python_floats(x):
    v = Value(x)
    assert type(v.data) is float and v.data == float(x)
    assert type(v.grad) is float and v.grad == 0.0


def test_tensor_payload_from_ndarray_keeps_float64():
    v = Value(np.ones((3, 12)))
    assert isinstance(v.data, np.ndarray) and v.data.dtype == np.float64
    assert v.shape == (3, 12) and v.ndim == 2 and v.size == 36
    assert isinstance(v.grad, np.ndarray) and v.grad.shape == (3, 12) and v.grad.dtype == np.float64
    assert not v.grad.any()


def test_tensor_payload_from_nested_list_of_ints_is_float64():
    v = Value([[1, 2], [3, 4]])
    assert isinstance(v.data, np.ndarray) and v.data.dtype == np.float64
    np.testing.assert_array_equal(v.data, [[1.0, 2.0], [3.0, 4.0]])
    assert v.grad.shape == (2, 2) and v.grad.dtype == np.float64 and not v.grad.any()


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_])
def test_integer_and_bool_arrays_become_float64(dtype):
    v = Value(np.array([1, 0, 1], dtype=dtype))
    assert v.dtype == np.float64 and v.grad.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_float32_and_other_float_widths_stay(dtype):
    v = Value(np.ones((2, 3), dtype=dtype))
    assert v.dtype == dtype and v.data.dtype == dtype
    assert v.grad.dtype == dtype and v.grad.shape == (2, 3)


def test_float32_gradients_stay_float32_through_backward():
    x = Value(np.ones(3, dtype=np.float32))
    (x * x * 2.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [4.0, 4.0, 4.0])


def test_zero_d_array_stays_a_zero_d_tensor():
    v = Value(np.array(2.0))
    assert isinstance(v.data, np.ndarray) and v.data.shape == ()
    assert isinstance(v.grad, np.ndarray) and v.grad.shape == () and v.grad == 0.0
    assert v.shape == () and v.size == 1
    y = v * 3.0
    assert isinstance(y.data, np.ndarray) and y.data.shape == ()


def test_zero_d_tensor_grad_stays_an_ndarray_after_backward():
    x = Value(np.array(2.0))
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == ()
    assert x.grad == 4.0


# -- requires_grad and constants ------------------------------------------------------------------


def test_requires_grad_defaults_true():
    assert Value(1.0).requires_grad is True
    assert Value(np.ones(2)).requires_grad is True


def test_requires_grad_false_is_a_constant():
    c = Value(3.0, requires_grad=False)
    x = Value(2.0)
    y = x * c
    y.backward()
    assert x.grad == 3.0
    assert c.grad == 0.0
    assert c.requires_grad is False


def test_op_of_constants_only_does_not_require_grad():
    c = Value(3.0, requires_grad=False)
    y = c * 2 + c
    assert y.requires_grad is False
    assert y._prev == ()


@pytest.mark.parametrize("other", [2.5, 2, np.float64(2.5), np.array([1.0, 2.0, 3.0])])
def test_numbers_and_arrays_mixed_into_an_op_are_constants(other):
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = x * other
    assert y._op == "mul"
    consts = [p for p in y._prev if p is not x]
    assert len(consts) == 1
    assert consts[0].requires_grad is False
    (y.sum()).backward()
    np.testing.assert_array_equal(x.grad, np.broadcast_to(other, (3,)))


def test_detach_gives_a_constant_with_the_same_payload():
    x = Value(np.array([1.0, 2.0]))
    d = x.detach()
    assert d.requires_grad is False and d._prev == ()
    np.testing.assert_array_equal(d.data, x.data)
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])  # d is a constant: only one path


# -- accessors --------------------------------------------------------------------------------------


def test_item_and_numpy():
    assert Value(2.5).item() == 2.5 and type(Value(2.5).item()) is float
    assert Value(np.array([[4.0]])).item() == 4.0
    assert type(Value(np.array(3.0)).item()) is float
    a = Value(np.arange(3.0))
    assert isinstance(a.numpy(), np.ndarray)
    np.testing.assert_array_equal(a.numpy(), [0.0, 1.0, 2.0])
    s = Value(2.0).numpy()
    assert isinstance(s, np.ndarray) and s.shape == () and s == 2.0


def test_item_of_many_elements_raises():
    with pytest.raises(ValueError, match=r"item.*\(2,\)"):
        Value(np.ones(2)).item()


def test_float_conversion():
    assert float(Value(1.5)) == 1.5


def test_bool_of_a_value_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="ambiguous"):
        bool(Value(1.0))


def test_len_and_iteration_of_tensors():
    v = Value(np.arange(6.0).reshape(3, 2))
    assert len(v) == 3
    rows = list(v)
    assert [r.shape for r in rows] == [(2,), (2,), (2,)]
    with pytest.raises(TypeError):
        len(Value(1.0))


def test_repr_is_readable():
    assert repr(Value(2.0)) == "Value(2.0, grad=0.0)"
    assert repr(Value(2)) == "Value(2.0, grad=0.0)"
    assert "requires_grad=False" in repr(Value(2.0, requires_grad=False))
    assert "name='w'" in repr(Value(2.0, name="w"))
    r = repr(Value([[1, 2], [3, 4]]))
    assert r.startswith("Value(") and "1." in r and "4." in r
    assert "float32" in repr(Value(np.ones(2, dtype=np.float32)))
    x = Value(3.0)
    x.grad = 1.5
    assert "grad=1.5" in repr(x)


def test_repr_of_a_big_tensor_is_summarised():
    r = repr(Value(np.zeros(10_000)))
    assert "..." in r and len(r) < 200


def test_optional_name():
    assert Value(1.0).name is None
    assert Value(1.0, name="bias").name == "bias"


def test_op_label_and_prev():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert c._op == "mul" and isinstance(c._op, str) and str(c._op) == "mul"
    assert c.op == "mul"
    assert c._prev == (a, b)
    assert (a + b)._op == "add"
    assert a.relu()._op == "relu"
    assert a.tanh()._op == "tanh"
    assert a.exp()._op == "exp"
    # a leaf has no op: a falsy label, as micrograd's '' (drawing code tests `if n._op:`)
    assert not a._op and a.op == "" and a._prev == ()
    assert a.is_leaf and not c.is_leaf


def test_prev_of_a_many_input_op():
    from tinygrad_nn import stack

    xs = [Value(1.0), Value(2.0), Value(3.0)]
    s = stack(xs)
    # stack is built from expand_dims (a reshape) of each input, then one concatenate of three
    assert s._op == "concatenate" and len(s._prev) == 3
    assert [p._prev[0] for p in s._prev] == xs


def test_zero_grad_method():
    x = Value(np.ones(3))
    (x * 2).sum().backward()
    x.zero_grad()
    assert not x.grad.any() and x.grad.shape == (3,)
    s = Value(1.0)
    (s * 2).backward()
    s.zero_grad()
    assert s.grad == 0.0 and type(s.grad) is float


# -- identity, hashing and comparisons ------------------------------------------------------------


def test_eq_compares_values_and_hash_is_identity_based():
    # == and != compare numbers as < and > do (elementwise for tensors, as numpy and PyTorch); sets and dicts
    # still tell nodes apart by identity, as PyTorch's tensors and micrograd's topological sort need
    a, b = Value(1.0), Value(1.0)
    assert (a == b) is True and (a != b) is False and (a == 2.0) is False and (a != Value(3.0)) is True
    assert len({a, b}) == 2
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert hash(a) == object.__hash__(a) and hash(b) == object.__hash__(b)
    t = Value(np.ones(3))
    assert t in {t} and len({t, Value(np.ones(3))}) == 2  # a tensor Value is hashable too
    np.testing.assert_array_equal(t == Value(np.array([1.0, 0.0, 1.0])), [True, False, True])
    np.testing.assert_array_equal(t != np.array([1.0, 0.0, 1.0]), [False, True, False])
    assert np.sum(t == Value(np.array([1.0, 0.0, 1.0]))) == 2  # counts, as the same line on arrays


@pytest.mark.parametrize("op, expected", [("lt", True), ("le", True), ("gt", False), ("ge", False)])
def test_scalar_comparisons_return_plain_bools(op, expected):
    import operator

    f = getattr(operator, op)
    a, b = Value(1.0), Value(2.0)
    for rhs in (b, 2.0, 2):
        r = f(a, rhs)
        assert type(r) is bool and r is expected


def test_tensor_comparisons_return_bool_arrays():
    v = Value([1.0, 5.0, 3.0])
    r = v > 2
    assert isinstance(r, np.ndarray) and r.dtype == np.bool_
    np.testing.assert_array_equal(r, [False, True, True])
    np.testing.assert_array_equal(v <= Value([1.0, 4.0, 4.0]), [True, False, True])
    np.testing.assert_array_equal(v >= 3.0, [False, True, True])
    np.testing.assert_array_equal(v < np.array([2.0, 2.0, 2.0]), [True, False, False])


def test_comparisons_record_no_graph():
    # a comparison is a plain value: nothing to back-propagate
    a = Value(1.0)
    assert not isinstance(a < 2, Value)


# -- no_grad ----------------------------------------------------------------------------------------


def test_no_grad_context_manager():
    w = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = w * 3 + w
        t = Value(np.ones(2)) * 2
    assert is_grad_enabled()
    assert y.requires_grad is False and y._prev == () and not y._op
    assert t.requires_grad is False and t._prev == ()
    assert y.data == 8.0


def test_no_grad_decorator():
    @no_grad()
    def f(x):
        assert not is_grad_enabled()
        return x * x

    x = Value(3.0)
    y = f(x)
    assert y.requires_grad is False and y._prev == ()
    assert y.data == 9.0
    assert is_grad_enabled()
    assert f.__name__ == "f"  # functools.wraps


def test_no_grad_nests_and_restores_after_an_exception():
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled()


def test_backward_on_a_no_grad_result_is_refused():
    x = Value(2.0)
    with no_grad():
        y = x * 2
    with pytest.raises(ValueError, match="does not require"):
        y.backward()


def test_no_grad_is_thread_local():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def worker():
        with no_grad():
            inside.set()
            assert checked.wait(10)
            seen["worker_enabled"] = is_grad_enabled()
            seen["worker_rg"] = (Value(1.0) * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(10)
        # the other thread is inside no_grad right now: this thread must not notice
        seen["main_enabled"] = is_grad_enabled()
        x = Value(1.0)
        y = x * 2
        seen["main_rg"] = y.requires_grad
        seen["main_prev"] = len(y._prev) == 2 and y._prev[0] is x
    finally:
        checked.set()
        t.join(10)
    assert not t.is_alive()
    assert seen == {"main_enabled": True, "main_rg": True, "main_prev": True,
                    "worker_enabled": False, "worker_rg": False}


def test_main_thread_no_grad_does_not_leak_into_a_new_thread():
    seen = {}

    def worker():
        seen["enabled"] = is_grad_enabled()

    with no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join(10)
    assert seen == {"enabled": True}
