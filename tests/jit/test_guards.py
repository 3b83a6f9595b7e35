"""What a recording cannot hold is refused clearly or run eagerly with a warning, never replayed wrongly:
numbers leaving the graph, printing, higher order, randomness, hand-written writes to .data and .grad; and
threads, nested jitted functions, trace()."""

from __future__ import annotations

import io
import threading
import warnings

import numpy as np
import pytest

from tests.jit.helpers import assert_same_state, same_bits, training_step
from tinygrad_nn import Value, jit, no_grad
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.jit import JitError, JitWarning
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD


def _net(seed=0):
    net = MLP(12, [3, 2], activation="sigmoid", seed=seed)
    return net, SGD(net.parameters(), lr=0.2)


D = load_digits_4x3()


def _twins(body, steps=5, **options):
    """Run body(net, opt, x, t) eagerly and through jit on twin networks; the jitted twin's parameters and
    results must equal eager's (whatever jit decided to do). Returns the warnings jit gave."""
    net_e, opt_e = _net()
    net_j, opt_j = _net()
    jitted = jit.jit(lambda x, t: body(net_j, opt_j, x, t), **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JitWarning)
        for k in range(steps):
            a = body(net_e, opt_e, D.inputs, D.targets)
            b = jitted(D.inputs, D.targets)
            assert same_bits(a, b) if isinstance(a, (Value, float)) else a == b
            assert_same_state(net_e.parameters(), net_j.parameters(), f"step {k}")
    return [w for w in caught if issubclass(w.category, JitWarning)], jitted


def test_item_inside_steering_python_falls_back_to_eager_with_one_warning():
    def body(net, opt, x, t):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        if loss.item() > 1e9:  # value-dependent control flow through a number
            return loss
        loss.backward()
        opt.step()
        return loss

    caught, _ = _twins(body)
    assert len(caught) == 1 and "item()" in str(caught[0].message) and "eagerly" in str(caught[0].message)


def test_strict_raises_instead():
    def body(net, opt, x, t):
        loss = squared_error(net(x), t)
        print(loss, file=io.StringIO())
        return loss

    net, _ = _net()
    jitted = jit.jit(lambda x, t: body(net, None, x, t), strict=True)
    with pytest.raises(JitError, match="printing a Value"):
        jitted(D.inputs, D.targets)


def test_a_loss_containing_a_gradient_runs_eagerly():
    from tinygrad_nn import gradients

    def body(net, opt, x, t):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        (g,) = gradients(loss, [net.layers[0].weight], create_graph=True)
        total = loss + (g * g).sum() * 0.01
        total.backward()
        opt.step()
        return total

    caught, _ = _twins(body, steps=3)
    assert caught and "create_graph=True" in str(caught[0].message)


def test_randomness_inside_is_refused_not_replayed():
    rng = np.random.default_rng(0)
    net, opt = _net()

    @jit
    def step(x, t):
        opt.zero_grad()
        mask = (rng.random(x.shape) > 0.5) * 2.0  # dropout written by hand: new numbers every call
        loss = squared_error(net(x * mask), t)
        loss.backward()
        opt.step()
        return loss

    step(D.inputs, D.targets)
    with pytest.raises(JitError, match="randomness"):
        step(D.inputs, D.targets)
    step(D.inputs, D.targets)  # from then on, eagerly


def test_a_hand_written_update_of_data_falls_back_to_eager():
    def body(net, opt, x, t):
        for p in net.parameters():
            p.grad = None
        loss = squared_error(net(x), t)
        loss.backward()
        for p in net.parameters():
            p.data -= 0.2 * p.grad  # numpy, in place: no op records it
        return loss

    caught, _ = _twins(body)
    assert caught and ".data of a leaf" in str(caught[0].message)


@pytest.mark.parametrize("after_step", [False, True])
@pytest.mark.parametrize("attr", ["grad", "data"])
def test_a_write_by_hand_into_a_leafs_array_falls_back_to_eager(attr, after_step):
    # in place, before or after the optimizer's step: the copies watching the leaves see it (a .grad keeps its
    # copy across the step, which writes only .data)
    def body(net, opt, x, t):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        loss.backward()
        if not after_step:
            array = getattr(net.parameters()[0], attr)
            array *= 0.5
        opt.step()
        if after_step:
            array = getattr(net.parameters()[0], attr)
            array *= 0.5
        return loss

    caught, _ = _twins(body)
    assert caught and f".{attr} of a leaf" in str(caught[0].message)


@pytest.mark.parametrize("attr", ["grad", "data"])
def test_a_write_by_hand_into_a_large_leaf_is_seen_too(attr):
    # 600 KB of float64: watched through a 128-bit digest of its bytes (recorder.fingerprint), not a copy; the
    # write changes one number, the last
    rng = np.random.default_rng(0)
    w = Value(rng.standard_normal((300, 250)))
    opt = SGD([w], lr=0.01)
    x = rng.standard_normal((8, 300))

    def step(x):
        opt.zero_grad()
        loss = ((x @ w) ** 2).sum()
        loss.backward()
        getattr(w, attr)[-1, -1] += 1.0  # numpy, in place: no op records it
        opt.step()
        return loss

    jitted = jit(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JitWarning)
        jitted(x)
    assert any(f".{attr} of a leaf" in str(c.message) for c in caught)


def test_a_large_leaf_is_watched_by_a_digest_that_tells_every_one_bit_change():
    from tinygrad_nn.jit.recorder import fingerprint, unchanged

    a = np.random.default_rng(1).standard_normal((300, 250))
    kept = fingerprint(a)
    assert kept.__class__ is tuple and unchanged(a, kept)  # 16 bytes kept, not 600 KB
    bits = a.view(np.uint64).reshape(-1)
    for i in (0, 1, 37_499, 74_999):
        for bit in (0, 31, 63):  # the lowest mantissa bit, one in the middle, the sign
            bits[i] ^= np.uint64(1 << bit)
            assert not unchanged(a, kept)
            bits[i] ^= np.uint64(1 << bit)
    assert unchanged(a, kept)
    a.shape = (250, 300)  # the same bytes under another shape
    assert not unchanged(a, kept)


def test_an_in_place_update_of_a_value_under_no_grad_falls_back_to_eager():
    def body(net, opt, x, t):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        loss.backward()
        with no_grad():
            for p in net.parameters():
                p -= 0.2 * p.grad
        return loss

    caught, _ = _twins(body)
    assert caught and "in-place -=" in str(caught[0].message)


def test_clearing_grad_by_hand_is_refused_at_replay_not_accumulated():
    net, _ = _net()

    @jit
    def step(x, t):
        for p in net.parameters():
            p.grad = None  # jit cannot see this
        loss = squared_error(net(x), t)
        loss.backward()
        return loss

    step(D.inputs, D.targets)
    step(D.inputs, D.targets)
    with pytest.raises(JitError, match="zero_grad"):
        step(D.inputs, D.targets)


def test_gradients_accumulated_over_calls_when_zeroed_outside():
    net_e, opt_e = _net()
    net_j, opt_j = _net()

    def make(net):
        def step(x, t):
            loss = squared_error(net(x), t)
            loss.backward()
            return loss
        return step

    eager, jitted = make(net_e), jit(make(net_j))
    for k in range(6):
        if k % 2 == 0:
            opt_e.zero_grad()
            opt_j.zero_grad()
        eager(D.inputs[k:k + 8], D.targets[k:k + 8])
        try:
            jitted(D.inputs[k:k + 8], D.targets[k:k + 8])
        except JitError as e:  # .grad None at one call and a gradient at the next: refused, never summed wrongly
            assert "zero the gradients" in str(e)
            return
        assert_same_state(net_e.parameters(), net_j.parameters(), f"call {k}")


def test_two_threads_two_models_both_land():
    results = {}

    def train(seed, key):
        net, opt = _net(seed)
        step = jit(training_step(net, opt))
        for _ in range(30):
            step(D.inputs, D.targets)
        results[key] = [p.data.copy() for p in net.parameters()]

    threads = [threading.Thread(target=train, args=(s, s)) for s in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for seed in (0, 1):
        net, opt = _net(seed)
        for _ in range(30):
            opt.zero_grad()
            squared_error(net(D.inputs), D.targets).backward()
            opt.step()
        assert all(same_bits(a, p.data) for a, p in zip(results[seed], net.parameters()))


def test_a_jitted_function_called_inside_another_becomes_part_of_it():
    w = Value(np.array([1.0, 2.0]))
    inner = jit(lambda x: (w * x).sum())

    @jit
    def outer(x):
        y = inner(x) * 3.0
        y.backward()
        return y

    for k in range(4):
        x = np.array([1.0, 1.0 + k])
        w.grad = None
        assert same_bits(outer(x), (w * x).sum() * 3.0)
        assert same_bits(w.grad, 3.0 * x)


def test_trace_prints_the_books_step_line_by_line():
    net, opt = _net()
    step = jit(training_step(net, opt))
    with pytest.raises(JitError, match="no program yet"):
        step.trace()
    for _ in range(3):
        step(D.inputs, D.targets)
    out = io.StringIO()
    src = step.trace(file=out)
    assert out.getvalue() == src
    assert "np.matmul(" in src and "rule of sigmoid" in src and "SGD.step" in src and "δ" in src


def test_check_mode_agrees_with_eager_on_the_books_step():
    net_e, opt_e = _net()
    net_j, opt_j = _net()

    eager, checked = training_step(net_e, opt_e), jit.jit(training_step(net_j, opt_j), check=True)
    for k in range(5):
        assert same_bits(eager(D.inputs, D.targets), checked(D.inputs, D.targets))
        assert_same_state(net_e.parameters(), net_j.parameters(), f"step {k}")


def test_check_mode_names_the_op_where_a_replay_goes_wrong(monkeypatch):
    from tinygrad_nn.jit import emit

    net, opt = _net()
    step = jit.jit(training_step(net, opt), check=True)
    step(D.inputs, D.targets)
    # A wrong emitter (sigmoid's rule without its last factor) slips past the compile-time check only if the
    # check is blinded; check=True must still catch it at the first replay.
    monkeypatch.setitem(emit._EMITTERS, emit._rule("sigmoid"), lambda vals, outs, kw: (
        ["np.subtract(1.0, {a1}, out={o0})", "np.multiply({a0}, {o0}, out={o0})"], []))
    monkeypatch.setattr(emit, "_same_bits", lambda a, b: True)
    step(D.inputs, D.targets)
    with pytest.raises(JitError, match="rule of sigmoid"):
        step(D.inputs, D.targets)


def test_micrograd_style_zero_grad_by_hand_is_refused_at_replay():
    w = Value(1.5)

    @jit
    def step(x):
        w.grad = 0  # micrograd's Module.zero_grad: invisible to jit
        y = w * x * w
        y.backward()
        return y

    step(2.0)
    step(2.0)
    with pytest.raises(JitError, match="zero_grad"):
        step(2.0)


def test_gradients_accumulating_from_fresh_zeros_over_calls_replay():
    w_e, w_j = Value(np.array([0.9, 1.1])), Value(np.array([0.9, 1.1]))  # .grad starts as zeros

    def make(w):
        def step(x):
            (w * x).tanh().sum().backward()  # no zero_grad: gradients accumulate, as in benchmark W4
            return w.grad
        return step

    eager, jitted = make(w_e), jit(make(w_j))
    for k in range(5):
        x = np.array([0.5, -0.25]) * (k + 1)
        eager(x)
        jitted(x)
        assert same_bits(w_e.grad, w_j.grad)


def test_a_recording_leaves_the_engine_as_it_found_it_even_when_the_function_raises():
    import gc

    from tinygrad_nn.engine import modes

    w = Value(np.array([1.0, 2.0]))
    calls = [0]

    @jit
    def f(x):
        calls[0] += 1
        y = (w * x).sum()
        if calls[0] == 1:
            raise KeyError("boom")
        return y

    with pytest.raises(KeyError, match="boom"):
        f(np.ones(2))
    assert modes.recorder is None and modes.special == 0 and gc.isenabled()
    assert modes.fast  # the scalar fast paths are back
    for _ in range(3):
        assert same_bits(f(np.ones(2)), (w * np.ones(2)).sum())
    assert modes.recorder is None and modes.special == 0 and gc.isenabled()


def test_detect_anomaly_runs_the_function_eagerly():
    from tinygrad_nn import detect_anomaly

    net_j, opt_j = _net()
    jitted = jit(training_step(net_j, opt_j))
    with detect_anomaly(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JitWarning)
        jitted(D.inputs, D.targets)
    assert any("detect_anomaly" in str(w.message) for w in caught)


def test_dropout_inside_is_refused_not_replayed():
    from tinygrad_nn.nn import Dropout, Sequential

    base, opt = _net()
    net = Sequential(Dropout(0.5, seed=0), base)
    step = jit(training_step(net, opt))
    step(D.inputs, D.targets)
    with pytest.raises(JitError, match="randomness"):
        step(D.inputs, D.targets)
