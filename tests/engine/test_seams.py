"""The core at its seams (issue 8): where gradients nest, where backward fails or runs in two threads, where
NaN or float32 meets a fast path, where a Value is copied, subclassed or updated in place. Each test failed
on the engine before this was reshaped."""

from __future__ import annotations

import copy
import math
import pickle
import re
import threading
import warnings

import numpy as np
import pytest

from tinygrad_nn import (
    Value,
    detect_anomaly,
    enable_grad,
    grad,
    gradients,
    log_softmax,
    logsumexp,
    no_grad,
    sigmoid,
    softmax,
    tanh,
    where,
)
from tinygrad_nn.anomaly import AnomalyError
from tinygrad_nn.engine import modes
from tinygrad_nn.nn import MLP, binary_cross_entropy, cross_entropy
from tinygrad_nn.ops import defop, identity
from tinygrad_nn.optim import SGD

# -- gradients that nest or overlap ------------------------------------------------------------------------


def test_gradients_through_an_input_that_depends_on_another():
    x = Value(3.0)
    h1 = identity(x)
    h2 = h1 * 2
    assert gradients(h2 * h1, [h1, h2]) == [12.0, 3.0]  # as torch.autograd.grad: h1 also reaches out via h2
    assert gradients(h2 * h1, [h2, h1]) == [3.0, 12.0]
    assert x.grad == 0.0 and h1.grad == 0.0  # no .grad changes


def test_gradients_of_leaves_and_of_a_leaf_output():
    w, b = Value(2.0), Value(0.5)
    y = w * w + b
    assert gradients(y, [w, b]) == [4.0, 1.0]
    assert (w.grad, b.grad) == (0.0, 0.0)
    assert gradients(w, [w]) == [1.0]
    assert gradients(w, [b]) == [None]


def test_grad_with_the_same_argnum_twice_agrees_with_gradients():
    f = lambda x: x * x * x
    assert grad(f, argnums=(0, 0))(2.0) == (12.0, 12.0)


def test_a_constant_base_to_a_value_power_needs_no_base_gradient():
    assert grad(lambda y: 0.0 ** y)(0.5) == 0.0  # the base's slope, 0 ** -0.5, is never evaluated
    assert grad(lambda y: 2.0 ** y)(1.0) == pytest.approx(2.0 * math.log(2.0))


def test_nested_grad_that_closes_over_an_outer_variable():
    f = lambda x: x * grad(lambda y: x * y)(2.0)  # x * x
    assert grad(f)(1.0) == 2.0
    assert grad(f)(3.0) == 6.0
    assert np.allclose(grad(lambda x: (x * grad(lambda y: (x * y).sum())(np.ones(2))).sum())(np.array([1.0, 2.0])),
                       [2.0, 4.0])


def test_mixed_partials_through_argnums():
    h = lambda x: grad(lambda x, y: x * y, argnums=1)(x, 3.0)  # d/dy (x y) = x
    assert grad(h)(2.0) == 1.0
    assert grad(lambda x: x * h(x))(2.0) == 4.0


# -- a backward that fails, runs twice at once, or runs under no_grad --------------------------------------

_boom = defop("test_seams_boom", forward=lambda x: x * 1.0,
              vjp=lambda g, ans, x: (_raise(ValueError("the rule failed")),))
_interrupt = defop("test_seams_interrupt", forward=lambda x: x * 1.0,
                   vjp=lambda g, ans, x: (_raise(KeyboardInterrupt()),))


def _raise(e):
    raise e


@pytest.mark.parametrize("op,error", [(_boom, ValueError), (_interrupt, KeyboardInterrupt)])
def test_a_backward_that_raises_changes_no_grad(op, error):
    w = Value(1.5)
    (w * 2.0).backward()  # an earlier micro-batch: w.grad is 2.0
    t = Value(np.array([1.0, 2.0]))
    (t * 3.0).sum().backward()
    y = w * w + op(w * 4.0)  # w's gradient from w * w is found first, then the rule raises
    z = (t * t).sum() + op(t).sum()
    with pytest.raises(error):
        y.backward()
    with pytest.raises(error):
        z.backward()
    assert w.grad == 2.0
    np.testing.assert_array_equal(t.grad, [3.0, 3.0])
    (w * 5.0).backward()  # and the engine is usable afterwards
    assert w.grad == 7.0


def _backward_in_threads(work, n=2):
    barrier = threading.Barrier(n)

    def run():
        barrier.wait()
        work()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def test_two_threads_back_propagating_through_shared_leaves_both_land():
    for _ in range(20):
        w = Value(np.ones(3))
        s = Value(1.0)

        def work(w=w, s=s):
            for _ in range(20):
                ((w * s) * (w * 2.0)).sum().backward()

        _backward_in_threads(work)
        np.testing.assert_array_equal(w.grad, np.full(3, 2 * 20 * 4.0))  # d/dw 2 w^2 s = 4 w s, 40 times
        assert s.grad == 2 * 20 * 6.0


def test_two_threads_back_propagating_the_same_graph_both_land():
    w = Value(2.0)
    y = (w * w).tanh() * w
    ref = Value(2.0)
    ((ref * ref).tanh() * ref).backward()

    def work():
        for _ in range(50):
            y.backward()

    _backward_in_threads(work, 4)
    expected = sum([ref.grad] * 200)
    assert w.grad == pytest.approx(expected, rel=1e-12)


def test_backward_with_create_graph_inside_no_grad_records_the_gradient_graph():
    x = Value(3.0)
    with no_grad():
        y = identity(x)  # nothing recorded...
        assert not y.requires_grad
    with enable_grad():
        y = x * x * x
    with no_grad():
        y.backward(create_graph=True)  # ...but the gradient graph is, as in PyTorch
    assert isinstance(x.grad, Value) and x.grad.requires_grad
    gx = x.grad
    x.grad = 0.0
    gx.backward()
    assert x.grad == 18.0  # d/dx 3x^2


def test_a_rule_that_runs_a_backward_pass_of_its_own():
    # A rule may itself differentiate (an implicit function, say): the nested pass puts back what it borrowed.
    def vjp(g, ans, x):
        inner = grad(lambda t: t * t * data_of_x[0])(3.0)  # 6 * x, through a pass of its own
        return (g * inner,)

    data_of_x = [0.0]

    def forward(x):
        data_of_x[0] = float(np.asarray(x))
        return x * 1.0

    op = defop("test_seams_nested_rule", forward=forward, vjp=vjp)
    w = Value(2.0)
    y = op(w * w) * w
    y.backward()
    # y = op(u) * w with u = w * w: the rule sends g * 24 (d/dt 4 t^2 at 3) to u, so w gets 2 * 24 * 2w + u.
    assert w.grad == 2 * 24.0 * 4.0 + 4.0


# -- NaN, extremes and dtypes ----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [lambda v: v.relu(), lambda v: v.maximum(1.0), lambda v: Value(1.0).maximum(v),
                                lambda v: v.minimum(1.0), lambda v: Value(1.0).minimum(v), lambda v: v.log()],
                         ids=["relu", "max(nan,1)", "max(1,nan)", "min(nan,1)", "min(1,nan)", "log"])
def test_scalar_nan_propagates_as_in_numpy(fn):
    assert math.isnan(fn(Value(math.nan)).data)
    assert np.isnan(fn(Value(np.array([math.nan]))).data).all()


EXTREMES = {
    "sigmoid": lambda x: sigmoid(x).sum(),
    "tanh": lambda x: tanh(x).sum(),
    "softmax": lambda x: (softmax(x) * np.arange(2.0)).sum(),
    "log_softmax": lambda x: log_softmax(x)[..., 0].sum(),
    "logsumexp": lambda x: logsumexp(x),
    "bce": lambda x: binary_cross_entropy(sigmoid(x), np.array([1.0, 0.0], dtype=x.dtype)),
    "cross_entropy": lambda x: cross_entropy(x[None, :], np.array([1])),
}


@pytest.mark.parametrize("name", sorted(EXTREMES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extremes_are_finite_and_quiet_under_errstate_raise(name, dtype):
    for logits in ([1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0], [-1000.0, -1000.0]):
        x = Value(np.array(logits, dtype=dtype))
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            y = EXTREMES[name](x)
            y.backward()
        assert np.isfinite(y.data) and np.all(np.isfinite(x.grad)), (name, logits, y.data, x.grad)
        assert x.grad.dtype == dtype


def test_a_float16_leaf_gets_a_float16_gradient_through_fancy_indexing():
    x = Value(np.arange(4, dtype=np.float16))
    x[np.array([0, 2, 2])].sum().backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad, [1, 0, 2, 0])


@pytest.mark.parametrize("fn", [lambda x: x.sqrt(), lambda x: x.log(), lambda x: x ** 0.5, lambda x: x ** -1.0],
                         ids=["sqrt", "log", "pow 0.5", "pow -1"])
def test_scalar_slopes_at_zero_are_infinite_as_in_pytorch(fn):
    s, t = Value(0.0), Value(np.array(0.0))
    try:
        fn(s).backward()
    except ZeroDivisionError:  # x ** -1 at 0: the forward divides by zero, as Python does
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        fn(t).backward()
    assert s.grad.__class__ is float and math.isinf(s.grad)
    assert s.grad == float(t.grad)


def test_where_refuses_a_condition_that_is_not_boolean():
    for bad in ("abc", np.array(["a", "b"]), np.array([0.5, 1.0]), [None, None]):
        with pytest.raises(TypeError, match="where: the condition must be booleans"):
            where(bad, Value([1.0, 2.0]), 0.0)
    assert where(np.array([1, 0]), Value([1.0, 2.0]), 0.0).data.tolist() == [1.0, 0.0]


# -- Values: copies, subclasses, in-place updates, errors ------------------------------------------------


def test_values_copy_and_pickle_as_leaves():
    w = Value(np.array([1.0, 2.0]), name="w")
    (w * w).sum().backward()
    for clone in (copy.deepcopy(w), pickle.loads(pickle.dumps(w))):
        assert clone is not w and clone.name == "w" and clone.requires_grad
        np.testing.assert_array_equal(clone.data, w.data)
        np.testing.assert_array_equal(clone.grad, w.grad)
        assert not np.shares_memory(clone.data, w.data)
        (clone * 3.0).sum().backward()  # a leaf of its own, in the graph of today
        np.testing.assert_array_equal(clone.grad, [5.0, 7.0])
    assert pickle.loads(pickle.dumps(sigmoid)) is sigmoid  # ops by name
    with pytest.raises(TypeError, match="only leaf Values"):
        copy.deepcopy(w * 2.0)


def test_a_model_with_activations_survives_deepcopy_and_pickle():
    net = MLP(3, [4, 2], seed=0)
    x = np.ones((2, 3))
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(clone(x).data, net(x).data)
        clone.parameters()[0].data += 1.0
        assert not np.array_equal(clone(x).data, net(x).data)


class Tagged(Value):
    """A user's subclass of Value."""


def test_subclasses_of_value_work_in_every_operator():
    for a, b in ((Tagged(2.0), Value(3.0)), (Value(2.0), Tagged(3.0)), (Tagged(2.0), Tagged(3.0))):
        results = [a + b, a - b, a * b, a / b, a ** b, -a, b + 1.0, 1.0 + b, 2.0 * a, a * 2.0, 1.0 / a]
        assert [r.data for r in results] == [5.0, -1.0, 6.0, 2.0 / 3.0, 8.0, -2.0, 4.0, 4.0, 4.0, 4.0, 0.5]
        sum(results).backward()
        assert a.grad != 0.0 and b.grad != 0.0
    m = Tagged(np.eye(2))
    (m @ Value(np.ones(2))).sum().backward()
    np.testing.assert_array_equal(m.grad, np.ones((2, 2)))


def test_in_place_update_of_a_leaf_under_no_grad_keeps_the_leaf():
    w = Value(np.array([1.0, 2.0]))
    s = Value(3.0)
    keep_w, keep_array = w, w.data
    (w * w).sum().backward()
    (s * s).backward()
    with no_grad():
        w -= 0.1 * w.grad
        s -= 0.5 * s.grad
        w *= 2.0
        s += 1.0
    assert w is keep_w and w.data is keep_array and w.is_leaf and s.is_leaf
    np.testing.assert_allclose(w.data, [1.6, 3.2])
    assert s.data == 1.0


def test_in_place_operators_outside_no_grad_make_new_nodes_as_in_micrograd():
    # micrograd's test: c = a + b; c += c + 1 (c is made by an op, not a leaf)
    a = Value(2.0)
    c = a * 1.0
    c0 = c
    c += c + 1
    assert c is not c0 and c.data == 5.0 and not c.is_leaf
    c.backward()
    assert c0.grad == 2.0 and a.grad == 2.0
    k = Value(2.0, requires_grad=False)  # a constant: nothing is recorded either way, a new constant
    k0 = k
    k += 1
    assert k is not k0 and k.data == 3.0 and k0.data == 2.0


@pytest.mark.parametrize("symbol", ["+=", "-=", "*=", "/="])
def test_in_place_operators_on_a_leaf_that_requires_grad_are_refused_outside_no_grad(symbol):
    # `w -= lr * w.grad` outside no_grad would rebind w to a new node, silently growing a graph every step (as
    # PyTorch, refused); inside no_grad it changes the leaf in place
    w = Value(np.array([1.0, 2.0]), name="w")
    w.grad = np.array([1.0, 1.0])
    with pytest.raises(RuntimeError, match=rf"^{re.escape(symbol)}: 'w' requires a gradient.*no_grad"):
        exec(f"w {symbol} 0.5 * w.grad", {}, {"w": w})
    assert w.is_leaf and w.data.tolist() == [1.0, 2.0]
    same = w
    with no_grad():
        exec(f"w {symbol} 0.5", {}, {"w": w})
    assert same.is_leaf and not np.array_equal(same.data, [1.0, 2.0])


def test_in_place_update_keeps_shape():
    w = Value(np.ones(2))
    with no_grad(), pytest.raises(ValueError, match="keeps the Value's shape"):
        w += np.ones((3, 2))


def test_an_operand_that_is_no_number_names_the_op():
    with pytest.raises(TypeError, match="add: cannot combine a Value with str"):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="mul: cannot combine a Value with NoneType"):
        None * Value(1.0)


def test_value_copies_the_array_it_is_given():
    a = np.array([1.0, 2.0])
    v = Value(a)
    a[0] = 99.0
    assert v.data[0] == 1.0
    assert v.numpy() is v.data  # the payload itself, no copy


# -- gradient rules that break the contract ---------------------------------------------------------------


def test_a_rule_that_returns_the_wrong_number_of_gradients_is_named():
    two = defop("test_seams_two_grads", forward=lambda x: x * 2.0, vjp=lambda g, ans, x: (g, g))
    with pytest.raises(TypeError, match="test_seams_two_grads: its gradient rule returned the wrong number"):
        two(Value(1.0)).backward()
    with pytest.raises(TypeError, match="test_seams_two_grads: its gradient rule returned 2 gradients for 1"):
        two(Value(1.0)).backward(create_graph=True)


def test_a_rule_that_calls_numpy_on_values_is_named_under_create_graph():
    # np.cbrt has no op here: on the Values of a create_graph pass numpy cannot run it (np.cos would: it
    # dispatches to the op cos).
    bad = defop("test_seams_numpy_rule", forward=lambda x: np.cbrt(x),
                vjp=lambda g, ans, x: (g / (3.0 * np.cbrt(x) ** 2),))
    x = Value(np.array([0.5]))
    bad(x).sum().backward()  # a plain backward is fine: the rule sees arrays
    with pytest.raises(TypeError, match="test_seams_numpy_rule: its gradient rule failed on Values.*ops themselves"):
        bad(Value(np.array([0.5]))).sum().backward(create_graph=True)


# -- stale graphs and anomalies (issue 11) -----------------------------------------------------------------


def test_backward_of_a_graph_built_before_an_optimizer_step_is_refused():
    net = MLP(2, [3, 1], seed=0)
    opt = SGD(net.parameters(), lr=0.1)
    x = np.ones((4, 2))
    first, stale = net(x).sum(), net(x).sum()
    first.backward()
    opt.step()
    with pytest.raises(RuntimeError, match=r"'\d\.(weight|bias)' was changed in place by SGD\.step\(\)"):
        stale.backward()
    opt.zero_grad()
    net(x).sum().backward()  # a graph built after the step is fine
    net.load_state_dict(net.state_dict())
    with pytest.raises(RuntimeError, match="load_state_dict"):
        first.backward()


def test_the_stale_check_reads_constants_made_by_the_scalar_fast_paths():
    # k * w: a constant leaf made by the inline scalar * (engine/node.py) is an input the check walks past.
    w = Value(2.0)
    k = Value(2.0, requires_grad=False) * 3.0
    y, z = k * w, k + w
    opt = SGD([w], lr=0.1)
    (w * w).backward()
    opt.step()
    for stale in (y, z):
        with pytest.raises(RuntimeError, match="was changed in place by SGD.step"):
            stale.backward()


def test_anomaly_detection_names_the_op_and_the_line():
    x = Value(np.array([1.0, -1.0]))
    with detect_anomaly(), np.errstate(invalid="ignore"), pytest.raises(AnomalyError) as info:
        x.sqrt()
    assert "op 'sqrt' made nan" in str(info.value) and "test_seams.py" in str(info.value)
    y = Value(0.0)
    with detect_anomaly():
        z = y.sqrt() * 2.0  # fine forward: sqrt(0) = 0
        with pytest.raises(AnomalyError, match=r"backward of op 'sqrt' gave inf.*z = y\.sqrt\(\) \* 2\.0"):
            z.backward()
    assert y.grad == 0.0  # nothing landed
    w = Value(2.0)
    (w * w).backward()  # off again: the fast paths are back
    # The scalar fast paths run again: the inline + (engine/node.py) records a running sum as one add_n node.
    s = (w * w + w * w) + w * w
    assert w.grad == 4.0 and modes.fast and s.op == "add_n"


def test_a_stale_graph_names_its_changer_after_later_changes_by_others():
    # Two optimizers of one class, each stepping after the graph was built: the message says what changed w.
    # Then a hundred in-place changes of another leaf: the latest one names the change.
    w, v = Value(np.ones(2)), Value(np.ones(2))
    loss = (w * w).sum()
    opt_w, opt_v = SGD([w], lr=0.1), SGD([v], lr=0.1)
    (w * w).sum().backward()
    opt_w.step()
    (v * v).sum().backward()
    opt_v.step()
    with pytest.raises(RuntimeError, match=r"changed in place by SGD\.step\(\)"):
        loss.backward()
    u = Value(np.ones(2))
    fresh = (w * u).sum()
    with no_grad():
        for _ in range(100):
            u += 1.0
    with pytest.raises(RuntimeError, match=r"changed in place by an in-place \+= under no_grad"):
        fresh.backward()
    (w * w).sum().backward()  # a graph built after the changes is fine
