"""The second call of a signature is checked against the first recording rather than recorded again (verify.py):
it records nothing when it did what the first call did; a difference before any backward pass raises JitError at
once; what the check cannot follow (gradients read as payloads, gradients(), a difference after a backward pass)
makes the next call record a second time, compared with the first as before. Every way ends bit for bit as
eager does."""

from __future__ import annotations

import numpy as np
import pytest

from tests.jit.helpers import assert_same_state, same_bits, until_replaying
from tinygrad_nn import Value, gradients, jit
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.jit import JitError, recorder
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD

D = load_digits_4x3()


def _net():
    net = MLP(12, [3, 2], activation="sigmoid", seed=0)
    return net, SGD(net.parameters(), lr=0.2)


def _count_recordings(monkeypatch):
    made = []
    real = recorder.Recording

    def counting(*args, **kwargs):
        made.append(kwargs.get("snapshot", args[0] if args else False))
        return real(*args, **kwargs)

    monkeypatch.setattr(recorder, "Recording", counting)
    return made


def _twins(body, steps=8):
    """body(net, opt, x, t) eagerly and jitted on twin networks, bit for bit after every call; the jitted one."""
    net_e, opt_e = _net()
    net_j, opt_j = _net()
    jitted = jit.jit(lambda x, t: body(net_j, opt_j, x, t))
    for k in range(steps):
        a = body(net_e, opt_e, D.inputs, D.targets)
        b = jitted(D.inputs, D.targets)
        assert same_bits(a, b), f"call {k + 1}"
        assert_same_state(net_e.parameters(), net_j.parameters(), f"call {k + 1}")
    return jitted


def _plain(net, opt, x, t):
    opt.zero_grad()
    loss = squared_error(net(x), t)
    loss.backward()
    opt.step()
    return loss


def test_a_second_call_that_does_the_same_is_checked_not_recorded(monkeypatch):
    made = _count_recordings(monkeypatch)
    jitted = _twins(_plain)
    assert made == ["lazy"], made  # one recording, the first call's, which the program is made from
    assert jitted.replaying


def test_gradients_read_as_payloads_after_backward_record_a_second_time(monkeypatch):
    made = _count_recordings(monkeypatch)

    def with_norm(net, opt, x, t):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        loss.backward()
        norm = sum((Value(p.grad) ** 2).sum() for p in net.parameters())  # gradients as payloads: no slots in the
        opt.step()  # check
        return loss + 0.001 * norm

    jitted = _twins(with_norm)
    assert made == ["lazy", False], made  # the check gave up; a second recording was compared with the first
    assert jitted.replaying


def test_gradients_inside_record_a_second_time(monkeypatch):
    made = _count_recordings(monkeypatch)
    w = Value(np.array([0.5, -1.0, 2.0]))

    def step(x):
        (gw,) = gradients(((w * x) ** 2).sum(), [w])
        return (gw * w).sum()

    jitted = jit(step)
    x = np.array([1.0, 2.0, 3.0])
    want = step(x).data
    for _ in range(6):
        assert same_bits(jitted(x), want)
    assert made == ["lazy", False] and jitted.replaying


def test_a_changing_constant_before_backward_is_refused_at_the_second_call():
    net, opt = _net()
    scale = [1.0]

    @jit
    def step(x, t):
        opt.zero_grad()
        scale[0] += 1.0  # a Python number that changes every call, frozen by a recording
        loss = squared_error(net(x * scale[0]), t)
        loss.backward()
        opt.step()
        return loss

    step(D.inputs, D.targets)
    with pytest.raises(JitError, match="differs between calls"):
        step(D.inputs, D.targets)
    step(D.inputs, D.targets)  # eagerly from now on
    assert not step.replaying


def test_a_changing_constant_after_backward_is_found_by_a_second_recording():
    net, opt = _net()
    scale = [1.0]

    @jit
    def step(x, t):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        loss.backward()
        opt.step()
        scale[0] += 1.0
        return loss * scale[0]  # after the backward pass: the check records again rather than judge

    step(D.inputs, D.targets)
    step(D.inputs, D.targets)
    with pytest.raises(JitError, match="differs between calls"):
        step(D.inputs, D.targets)  # the second recording, compared with the first (its program made at once)
    assert not step.replaying


def test_the_first_recording_is_what_replays_with_sliced_making(monkeypatch):
    from tinygrad_nn.jit import build

    monkeypatch.setattr(build, "SLICED", True)
    net_e, opt_e = _net()
    net_j, opt_j = _net()
    jitted = jit(lambda x, t: _plain(net_j, opt_j, x, t))
    n = until_replaying(jitted, D.inputs, D.targets)
    for _ in range(n):
        _plain(net_e, opt_e, D.inputs, D.targets)
    for k in range(5):
        assert same_bits(_plain(net_e, opt_e, D.inputs, D.targets), jitted(D.inputs, D.targets))
        assert_same_state(net_e.parameters(), net_j.parameters(), f"replay {k}")


def test_a_second_call_that_lets_a_number_out_runs_eagerly_after_one_more_recording():
    import warnings

    from tinygrad_nn.jit import JitWarning

    net_e, opt_e = _net()
    net_j, opt_j = _net()
    calls = [0]

    def body(net, opt, x, t, counted=False):
        opt.zero_grad()
        loss = squared_error(net(x), t)
        if counted:
            calls[0] += 1
            if calls[0] >= 2:
                float(loss.item())  # from the second call on, a number leaves the graph
        loss.backward()
        opt.step()
        return loss

    jitted = jit(lambda x, t: body(net_j, opt_j, x, t, counted=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JitWarning)
        for k in range(5):
            assert same_bits(body(net_e, opt_e, D.inputs, D.targets), jitted(D.inputs, D.targets)), k
            assert_same_state(net_e.parameters(), net_j.parameters(), f"call {k + 1}")
    assert any("item()" in str(w.message) for w in caught)
    (entry,) = jitted._cache.values()
    assert entry.eager and entry.recs == []  # the first recording's values are not kept for nothing
