"""A jitted training step lands on the same bits as eager: the book's network, an MLP with each optimizer, the
chapter 5 CNN, minibatches, mixed eager and jitted calls, saving in between, new signatures."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.jit.helpers import assert_same_state, same_bits, train_twins, training_step
from tinygrad_nn import Value, jit, load, save
from tinygrad_nn.data import load_digits_4x3, load_digits_6x6
from tinygrad_nn.nn import (
    MLP,
    Conv2d,
    Flatten,
    Layer,
    MaxPool2d,
    Sequential,
    Sigmoid,
    cross_entropy,
    mse,
    squared_error,
)
from tinygrad_nn.optim import SGD, Adam, AdamW, RMSprop


def _book():
    net = MLP(12, [3, 2], activation="sigmoid", seed=0)
    return net.parameters(), training_step(net, SGD(net.parameters(), lr=0.2))


def test_the_books_network_trains_to_the_same_bits():
    d = load_digits_4x3()
    jitted = train_twins(_book, lambda k: (d.inputs, d.targets), steps=12)
    assert jitted._last is not None  # it did replay


@pytest.mark.parametrize("optimizer", [
    lambda ps: SGD(ps, lr=0.05),
    lambda ps: SGD(ps, lr=0.05, momentum=0.9),
    lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: SGD(ps, lr=0.05, momentum=0.5, dampening=0.1),
    lambda ps: Adam(ps, lr=0.01),
    lambda ps: Adam(ps, lr=0.01, weight_decay=1e-2),
    lambda ps: Adam([{"params": ps[:2], "lr": 0.02}, {"params": ps[2:]}], lr=0.005, betas=(0.8, 0.99)),
    lambda ps: SGD([{"params": ps[:2], "momentum": 0.9}, {"params": ps[2:], "lr": 0.1}], lr=0.05),
    lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
    lambda ps: RMSprop(ps, lr=0.01, momentum=0.5),
    lambda ps: SGD(ps, lr=0.05, maximize=True),
], ids=["sgd", "momentum", "nesterov-wd", "dampening", "adam", "adam-wd", "adam-groups", "sgd-groups", "adamw",
        "rmsprop", "sgd-maximize"])
def test_an_mlp_with_each_optimizer_trains_to_the_same_bits(optimizer):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 16 * 4)).astype(np.float32)
    y = rng.integers(0, 10, size=(20,))

    def make():
        net = MLP(64, [32, 16, 10], activation="relu", output_activation=None, seed=1, dtype=np.float32)
        return net.parameters(), training_step(net, optimizer(net.parameters()), cross_entropy)

    # minibatches: a different slice (and different labels) every call
    train_twins(make, lambda k: (X[(k % 4) * 5:(k % 4) * 5 + 5], y[(k % 4) * 5:(k % 4) * 5 + 5]), steps=9)


def test_the_chapter_5_cnn_trains_to_the_same_bits():
    d = load_digits_6x6()
    images = d.inputs.reshape(-1, 1, 6, 6)

    def make():
        rng = np.random.default_rng(0)
        net = Sequential(Conv2d(1, 3, 3, seed=rng), Sigmoid(), MaxPool2d(2), Flatten(),
                         Layer(12, 3, activation="sigmoid", seed=rng))
        return net.parameters(), training_step(net, SGD(net.parameters(), lr=0.2))

    train_twins(make, lambda k: (images, d.targets), steps=6)


def test_eager_and_jitted_calls_mix_and_state_dicts_save_between_them(tmp_path):
    d = load_digits_4x3()
    params_e, step_e = _book()
    params_j, step_j = _book()
    jitted = jit(step_j)
    for k in range(10):
        step_e(d.inputs, d.targets)
        (step_j if k % 3 == 2 else jitted)(d.inputs, d.targets)  # every third step eagerly
        assert_same_state(params_e, params_j, f"step {k}")
        if k == 5:
            path = tmp_path / "w.npz"
            save({f"p{i}": p.data for i, p in enumerate(params_j)}, path)
            back = load(path)
            assert all(same_bits(back[f"p{i}"], p.data) for i, p in enumerate(params_j))


def test_a_new_signature_records_again_and_the_cache_is_bounded():
    w = Value(np.ones(3))

    def f(x):
        return (w * x).sum() * 2.0

    jf = jit(f, max_signatures=2)
    for n in (1, 2, 3, 1):
        x = np.arange(3 * n, dtype=np.float64).reshape(n, 3)
        for _ in range(3):
            assert same_bits(jf(x), f(x))
    assert jf.signatures == 2
    assert same_bits(jf(np.ones(3, np.float32)), f(np.ones(3, np.float32)))  # another dtype: another recording


def test_signatures_that_alternate_each_replay_their_own_program():
    # arrays, floats, Values around arrays and around floats, with and without gradients: each call must replay
    # the recording of its own signature (the check written out per signature, api._fast_entry), never another's
    w = Value(np.array([0.5, -1.0]))

    def f(*args):
        total = w.sum()
        for a in args:
            total = total + (w * a).sum() if not isinstance(a, Value) or isinstance(a.data, np.ndarray) else total * a
        return total

    jf = jit(f, max_signatures=10)
    calls = [(np.array([1.0, 2.0]),), (np.array([1.0, 2.0], np.float32),), (np.ones((3, 2)),), (2.5,),
             (Value(np.array([3.0, 4.0])),), (Value(np.array([3.0, 4.0]), requires_grad=False),), (Value(1.5),),
             (Value(1.5, requires_grad=False),), (np.array([1.0, 2.0]), 0.5), ()]
    for rnd in range(4):
        for k, args in enumerate(calls):
            scaled = tuple(a * (rnd + 1) if not isinstance(a, Value) else a for a in args)
            assert same_bits(jf(*scaled), f(*scaled)), (rnd, k)
            assert (jf._last is not None) == (rnd >= 1)  # rounds 0 and 1 record, 2 and 3 replay
    assert jf.signatures == len(calls)


def test_an_upstream_gradient_changed_in_place_between_calls_is_followed():
    # the backward seed made by the engine is a constant the program computes with once (emit.py folds it); an
    # upstream gradient passed in from outside is the caller's array, read afresh at every call
    upstream = np.ones(3)

    def step(x):
        out = x.sum(axis=1) * 3.0
        out.backward(upstream)
        return out

    jf = jit(step)
    for k in range(5):
        upstream[:] = [1.0, 2.0, 3.0 + k] if k >= 3 else 1.0
        x_j, x_e = Value(np.ones((3, 4))), Value(np.ones((3, 4)))
        assert same_bits(jf(x_j), step(x_e))
        assert same_bits(x_j.grad, x_e.grad), f"call {k}"


def test_numbers_and_values_as_arguments_and_results_in_structures():
    w = Value(np.array([0.5, -1.0]))

    def f(inputs, scale):
        x, extra = inputs["x"], inputs["extra"]
        y = (w * x + extra) * scale
        loss = (y * y).sum()
        loss.backward()
        return {"loss": loss, "y": y, "tag": "ok"}

    jf = jit(f)
    w_e = Value(w.data.copy())
    for k in range(5):
        x = Value(np.array([1.0, 2.0]) + k)
        w.grad = None
        w_e.grad = None
        got = jf({"x": x, "extra": np.array([0.25, 0.5])}, 1.5 + k)
        y_e = (w_e * Value(np.array([1.0, 2.0]) + k) + np.array([0.25, 0.5])) * (1.5 + k)
        (y_e * y_e).sum().backward()
        assert got["tag"] == "ok" and same_bits(got["y"], y_e)
        assert same_bits(got["loss"], (y_e * y_e).sum())
        assert same_bits(w.grad, w_e.grad)


def test_argument_values_receive_their_gradients():
    w = Value(np.array([2.0, 3.0]))

    def f(x):
        loss = mse(w * x, np.zeros(2))
        loss.backward()
        return loss

    jf = jit(f)
    for k in range(4):
        x, x_e = Value(np.array([1.0, -1.0]) * (k + 1)), Value(np.array([1.0, -1.0]) * (k + 1))
        w.grad = None
        jf(x)
        w.grad = None
        f(x_e)
        assert same_bits(x.grad, x_e.grad)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_gradients_written_in_place_during_the_call_replay(set_to_none):
    # zero_grad(set_to_none=False) fills the .grad arrays a previous call left, a second backward adds into the
    # .grad the first gave, momentum keeps its buffers: arrays the recording saw are written in place while the
    # call runs, and the lines emit.py checks against the values as they were made must still be right
    rng = np.random.default_rng(1)
    X, T = rng.standard_normal((6, 5)), rng.standard_normal((6, 2))

    def make():
        net = MLP(5, [4, 2], activation="tanh", seed=3)
        opt = SGD(net.parameters(), lr=0.1, momentum=0.5)

        def step(x1, t1, x2, t2):
            opt.zero_grad(set_to_none=set_to_none)
            squared_error(net(x1), t1).backward()
            loss = squared_error(net(x2), t2)
            loss.backward()
            opt.step()
            return loss

        return net.parameters(), step

    jitted = train_twins(make, lambda k: (X[:3] * (1 + 0.1 * k), T[:3], X[3:], T[3:] * (1 - 0.1 * k)), steps=6)
    # the layers replayed as numpy lines, checked on the parameters as they were before the step changed them
    program = jitted.trace(file=open(os.devnull, "w"))
    assert "np.matmul(x0, _0_weight.T" in program and "linear_forward(" not in program


def test_a_schedule_and_changed_settings_between_calls_are_followed():
    d = load_digits_4x3()
    net_e = MLP(12, [3, 2], activation="sigmoid", seed=0)
    net_j = MLP(12, [3, 2], activation="sigmoid", seed=0)
    opt_e, opt_j = SGD(net_e.parameters(), lr=0.2), SGD(net_j.parameters(), lr=0.2)
    eager, jitted = training_step(net_e, opt_e), jit(training_step(net_j, opt_j))
    for k in range(10):
        for opt in (opt_e, opt_j):
            opt.lr = 0.2 / (1 + k)  # a schedule, set outside the step
            if k == 6:  # momentum switched on after the recording: the optimizer's own step runs
                opt.param_groups[0]["momentum"] = 0.9
            if k == 8:  # and then plain SGD that ascends
                opt.param_groups[0]["momentum"] = 0.0
                opt.param_groups[0]["maximize"] = True
        assert same_bits(eager(d.inputs, d.targets), jitted(d.inputs, d.targets))
        assert_same_state(net_e.parameters(), net_j.parameters(), f"step {k}")
