"""A program made a slice per call (build.py, the default): the calls while it is made run eagerly, a long program
is compiled in parts, and every call lands on eager's bits, before, during and after. No budget makes the most
slices (one step each) and the smallest parts, the hardest case for the parts' plumbing."""

from __future__ import annotations

import random
import threading
import warnings

import numpy as np
import pytest

from tests.jit.helpers import assert_same_state, same_bits, train_twins, training_step, until_replaying
from tinygrad_nn import Value, jit
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.jit import build
from tinygrad_nn.nn import MLP, cross_entropy
from tinygrad_nn.optim import SGD, Adam

D = load_digits_4x3()


@pytest.fixture(autouse=True)
def _sliced(monkeypatch):
    monkeypatch.setattr(build, "SLICED", True)
    monkeypatch.setattr(build, "BUDGET", 0.0)
    monkeypatch.setattr(build, "MIN_SLICE", 0.0)  # one step of the making per call, whatever the machine's speed


def _book():
    net = MLP(12, [3, 2], activation="sigmoid", seed=0)
    return net.parameters(), training_step(net, SGD(net.parameters(), lr=0.2))


def _calls_to_replay(make, *args):
    _, step = make()
    jitted = jit(step)
    return jitted, until_replaying(jitted, *args)


def test_the_books_network_made_in_slices_and_parts_lands_on_eagers_bits():
    jitted, n = _calls_to_replay(_book, D.inputs, D.targets)
    assert n > 5 and jitted._last.parts > 1  # many slices; compiled in parts
    # the same number of calls again, so that every call of the twins below is compared while it records,
    # while it is made (eagerly) and while it replays
    jitted = train_twins(_book, lambda k: (D.inputs, D.targets), steps=n + 5)
    assert jitted.replaying and jitted._last.parts > 1


def test_a_program_made_in_parts_prints_as_the_one_made_at_once(monkeypatch):
    sliced, _ = _calls_to_replay(_book, D.inputs, D.targets)
    monkeypatch.setattr(build, "SLICED", False)
    whole, n = _calls_to_replay(_book, D.inputs, D.targets)
    assert n == 2 and whole._last.parts == 1
    assert sliced.trace(file=open("/dev/null", "w")) == whole.trace(file=open("/dev/null", "w"))


def test_an_mlp_with_minibatches_and_adam_made_in_slices():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 64)).astype(np.float32)
    y = rng.integers(0, 10, size=(20,))

    def make():
        net = MLP(64, [32, 16, 10], activation="relu", output_activation=None, seed=1, dtype=np.float32)
        return net.parameters(), training_step(net, Adam(net.parameters(), lr=0.01), cross_entropy)

    jitted = train_twins(make, lambda k: (X[(k % 4) * 5:(k % 4) * 5 + 5], y[(k % 4) * 5:(k % 4) * 5 + 5]),
                         steps=200)
    assert jitted.replaying and jitted._last.parts > 1


def _scalar_demo():
    """micrograd's demo in small: a 2-4-1 MLP of scalar Values over 6 points, hinge loss, SGD."""
    rnd = random.Random(0)
    ws = [[Value(rnd.uniform(-1, 1)) for _ in range(3)] for _ in range(4)] + [[Value(rnd.uniform(-1, 1))
                                                                                for _ in range(5)]]
    params = [w for row in ws for w in row]
    opt = SGD(params, lr=0.05)
    pts = [(rnd.uniform(-1, 1), rnd.uniform(-1, 1), rnd.choice((-1.0, 1.0))) for _ in range(6)]

    def step():
        losses = []
        for x0, x1, yi in pts:
            h = [(row[0] * x0 + row[1] * x1 + row[2]).relu() for row in ws[:4]]
            score = sum((w * hi for w, hi in zip(ws[4], h)), ws[4][4])
            losses.append((1 + -yi * score).relu())
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return params, step


def test_a_scalar_graph_made_in_slices_and_parts_lands_on_eagers_bits():
    jitted, n = _calls_to_replay(_scalar_demo)
    jitted = train_twins(_scalar_demo, lambda k: (), steps=n + 5)
    assert jitted.replaying and jitted._last.parts > 1


def test_a_generous_budget_makes_the_program_in_the_fourth_call_which_replays_it(monkeypatch):
    # the third call only times the eager step; the fourth makes the whole program first, then replays it
    monkeypatch.setattr(build, "BUDGET", float("inf"))
    jitted, n = _calls_to_replay(_book, D.inputs, D.targets)
    assert n == 4 and jitted._last.parts == 1


def test_guards_hold_for_a_program_made_in_slices():
    net = MLP(12, [3, 2], activation="sigmoid", seed=0)

    @jit
    def step(x, t):
        for p in net.parameters():
            p.grad = None  # jit cannot see this: refused at the first replay, never accumulated
        loss = ((net(x) - t) ** 2).sum()
        loss.backward()
        return loss

    from tinygrad_nn.jit import JitError

    with pytest.raises(JitError, match="zero_grad"):  # at the first replay: the call that finishes the making
        for _ in range(1000):
            step(D.inputs, D.targets)
    assert step.replaying


def test_check_mode_with_a_program_made_in_slices():
    params_e, eager = _book()
    params_j, step = _book()
    checked = jit(step, check=True)
    _, n = _calls_to_replay(_book, D.inputs, D.targets)
    for k in range(n + 5):
        assert same_bits(eager(D.inputs, D.targets), checked(D.inputs, D.targets))
        assert_same_state(params_e, params_j, f"step {k}")
    assert checked.replaying


def test_two_threads_share_one_step_while_it_is_made():
    w = Value(np.array([0.5, -0.25]))
    f = jit(lambda x: (w * x).sum() * 2.0)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(300):
                x = rng.standard_normal(2)
                got = f(x)
                if not same_bits(got, (w * x).sum() * 2.0):
                    errors.append(x)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threads = [threading.Thread(target=work, args=(s,)) for s in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors and f.replaying


def test_randomness_inside_is_refused_while_the_program_is_made_never_replayed():
    net = MLP(12, [3, 2], activation="sigmoid", seed=0)
    opt = SGD(net.parameters(), lr=0.2)
    rng = np.random.default_rng(0)

    @jit
    def step(x, t):
        opt.zero_grad()
        mask = (rng.random(x.shape) > 0.5) * 2.0  # new numbers every call
        loss = ((net(x * mask) - t) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    from tinygrad_nn.jit import JitError

    with pytest.raises(JitError, match="randomness"):
        for _ in range(1000):
            step(D.inputs, D.targets)
    assert not step.replaying
    step(D.inputs, D.targets)  # from then on, eagerly
    assert not step.replaying
