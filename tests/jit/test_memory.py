"""What a jitted step holds on to: the recording's values only until the program is made (no copies of what is
written in place after them), and the program's buffers shared by liveness (buffers.py), without losing a line of
numpy or a bit."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.jit.helpers import train_twins, training_step, until_replaying
from tinygrad_nn import jit
from tinygrad_nn.jit import build
from tinygrad_nn.jit.buffers import Buffer, allocate, plan
from tinygrad_nn.nn import MLP, cross_entropy
from tinygrad_nn.optim import SGD

F32 = np.dtype(np.float32)


@pytest.fixture(autouse=True)
def _sliced(monkeypatch):
    monkeypatch.setattr(build, "SLICED", True)
    monkeypatch.setattr(build, "BUDGET", 0.0)
    monkeypatch.setattr(build, "MIN_SLICE", 0.0)  # one step of the making per call: the most calls in between


def _mlp_step():
    def make():
        net = MLP(8, [6, 5, 3], activation="relu", output_activation=None, seed=2, dtype=np.float32)
        return net.parameters(), training_step(net, SGD(net.parameters(), lr=0.1), loss=cross_entropy)

    return make


def test_the_mlp_is_made_of_numpy_lines_though_its_parameters_and_batch_change_while_it_is_made():
    # the parameters are stepped, the gradients dropped and the batch written in place by every call between the
    # recording and the program: the lines that read them are checked on what those arrays hold now, and the
    # calls computed again there (emit.py), instead of on copies taken at record time
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 8)).astype(np.float32)
    labels = rng.integers(0, 3, 7)
    batch = np.empty_like(X)

    def data(k):
        batch[...] = X * (1 + 0.05 * k)  # one array, written in place: a data loader's buffer
        return batch, labels

    jitted = train_twins(_mlp_step(), data, steps=400)
    assert jitted.replaying
    program = jitted.trace(file=open(os.devnull, "w"))
    for kept in ("linear_forward(", "relu_forward(", "log_softmax_forward(", "relu_vjp(", "log_softmax_vjp("):
        assert kept not in program, kept


def test_the_program_shares_buffers_and_the_recording_is_let_go():
    rng = np.random.default_rng(1)
    X, labels = rng.standard_normal((7, 8)).astype(np.float32), rng.integers(0, 3, 7)
    _, step = _mlp_step()()
    jitted = jit(step)
    jitted(X, labels)
    jitted(X, labels)  # checked against the recording, which the program is then made from
    rec = jitted._cache[next(iter(jitted._cache))].making[0]
    assert rec.watch == {} and rec.keep == [] and rec.node_slot == {}  # no watch copies, no graph past its call
    assert rec.live  # what the step and the next calls write in place is marked, not copied
    until_replaying(jitted, X, labels)
    program = jitted._last
    assert program.rec is None
    ns = program.replay.__globals__
    names = [n for n in ns if n.startswith(("buf_", "tmp"))]
    arrays = {id(ns[n]) for n in names}
    assert all(ns[n].__class__ is np.ndarray for n in names)
    assert len(arrays) < len(names)  # e.g. a layer's activation and the gradient flowing back into its shape


def test_plan_shares_only_buffers_whose_lives_do_not_overlap():
    lines = ["np.exp(x0, out=a)", "np.negative(a, out=b)", "np.log(b, out=c)",  # a is dead when c is written
             "np.add(c, b, out=d)",  # d is written while c and b are read: kept apart
             "y = np.multiply(d, 2.0)"]
    ns = {n: Buffer((3,), F32) for n in "abcd"}
    groups = [names for _, _, names in plan(lines, "(y,)", ns)]
    assert groups == [["a", "c"], ["b"], ["d"]]
    allocate(plan(lines, "(y,)", ns), ns)
    assert ns["a"] is ns["c"] and len({id(ns[n]) for n in "abcd"}) == 3
    ns = {n: Buffer((3,), F32) for n in "abc"} | {"d": Buffer((4,), F32)}  # one shape and dtype per array
    assert [names for _, _, names in plan(["np.exp(x0, out=d)"] + lines[:3], "()", ns)] == [["d"], ["a", "c"], ["b"]]


@pytest.mark.parametrize("later, why", [
    ("z = some_call(a)", "a call kept as a call may return a view of its input"),
    ("    np.negative(a, out=e)", "a guarded line may not run"),
    ("e = a", "a second name for it"),
])
def test_plan_keeps_a_buffer_of_its_own_when_something_may_hold_its_memory(later, why):
    lines = ["np.exp(x0, out=a)", later, "np.exp(x0, out=b)", "y = np.add(b, 1.0)"]
    ns = {"a": Buffer((3,), F32), "b": Buffer((3,), F32), "e": Buffer((3,), F32)}
    groups = [names for _, _, names in plan(lines, "(y,)", ns)]
    assert ["a"] in groups, why


def test_plan_keeps_apart_a_buffer_first_written_in_part_and_one_the_program_returns():
    lines = ["np.exp(x0, out=a)", "np.copyto(b, a, where=m)", "np.exp(x0, out=c)", "np.log(c, out=d)"]
    ns = {n: Buffer((3,), F32) for n in "abcd"}
    groups = [names for _, _, names in plan(lines, "(d,)", ns)]
    assert ["b"] in groups  # copyto with where= keeps what b held: it must not be another buffer's memory
    assert ["d"] in groups  # returned: the caller holds it
    assert ["a", "c"] in groups
    assert plan(lines, "(d,)", {"a": 1.0}) == []  # no buffers, nothing to plan
