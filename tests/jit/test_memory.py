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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_first_recording_lets_go_of_what_its_ops_made_and_the_program_is_the_same(monkeypatch, dtype):
    # Recording.shed: after the first call only the arguments, the leaves' payloads and the numbers stay; the
    # making computes every other value again. The program must be the one made from a recording that kept them.
    from tinygrad_nn.jit import recorder

    monkeypatch.setattr(recorder, "_SHED", 0)  # (this network's arrays are far below the megabyte it takes)
    rng = np.random.default_rng(3)
    X, labels = rng.standard_normal((7, 8)).astype(dtype), rng.integers(0, 3, 7)

    def program(shed):
        with monkeypatch.context() as patch:
            if not shed:
                patch.setattr(recorder.Recording, "shed", lambda self: None)
            net = MLP(8, [6, 5, 3], activation="relu", output_activation=None, seed=2, dtype=dtype)
            jitted = jit(training_step(net, SGD(net.parameters(), lr=0.1), loss=cross_entropy))
            jitted(X, labels)
            rec = jitted._cache[next(iter(jitted._cache))].recs[0]
            made = {s for ins in rec.instrs if ins.kind == "call" for s in ins.outs if s is not None}
            held = [s for s in made - rec.helper_slots if rec.values[s].__class__ is np.ndarray]
            until_replaying(jitted, X, labels)
            return held, jitted.trace(file=open(os.devnull, "w"))

    held, shed = program(True)
    kept, whole = program(False)
    assert held == [] and kept  # the activations and gradients went after the first call...
    assert shed == whole  # ...and every line of numpy was made all the same


def test_between_the_calls_that_make_it_the_making_holds_none_of_its_arrays(monkeypatch):
    # every slice ends after one step (the fixture): whatever the walk computed again and still needs goes when a
    # slice ends and is computed again when the next begins (emit.plan_and_emit), so the eager runs in between
    # do not carry it; the program is the one made at once, and every call lands on eager's bits
    from tinygrad_nn.jit import recorder
    from tinygrad_nn.jit.recorder import _SMALL

    monkeypatch.setattr(recorder, "_SHED", 0)  # (0.7 MB of arrays: below the megabyte it takes)
    rng = np.random.default_rng(4)
    X, labels = rng.standard_normal((64, 200)), rng.integers(0, 10, 64)

    def make():
        net = MLP(200, [100, 10], activation="relu", output_activation=None, seed=5)
        return net.parameters(), training_step(net, SGD(net.parameters(), lr=0.1), loss=cross_entropy)

    _, step = make()
    jitted = jit(step)
    held_at = []
    while not jitted.replaying:
        jitted(X, labels)
        entry = jitted._cache[next(iter(jitted._cache))]
        if entry.making is not None:
            rec = entry.making[0]
            made = {s for ins in rec.instrs if ins.kind == "call" for s in ins.outs if s is not None}
            held_at.append(sum(rec.values[s].nbytes for s in made if rec.values[s].__class__ is np.ndarray
                               and 0 not in rec.values[s].strides))
    assert len(held_at) > 20 and max(held_at) <= _SMALL  # (an activation alone is 51 KB, a gradient 160 KB)
    sliced = jitted.trace(file=open(os.devnull, "w"))

    monkeypatch.setattr(build, "SLICED", False)
    _, step = make()
    at_once = jit(step)
    until_replaying(at_once, X, labels)
    assert sliced == at_once.trace(file=open(os.devnull, "w"))
    monkeypatch.setattr(build, "SLICED", True)
    assert train_twins(make, lambda k: (X * (1 + 0.01 * k), labels), steps=len(held_at) + 8).replaying


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


def test_the_making_gives_free_heap_memory_back_on_glibc():
    import sys

    from tinygrad_nn.jit.buffers import _find_trim, give_back

    trim = _find_trim()
    if not sys.platform.startswith("linux") or trim is False:
        pytest.skip("no glibc malloc_trim here: give_back does nothing")
    assert trim(0) in (0, 1)  # 1: memory was returned, 0: there was none to return
    give_back()


def test_what_shares_memory_with_an_escaped_array_is_found_through_its_owner():
    from types import SimpleNamespace

    from tinygrad_nn.jit.recorder import _escaped_closure

    a = np.zeros((4, 5))
    raw = bytearray(80)
    over_raw, over_raw_again = np.frombuffer(raw, np.float64), np.frombuffer(raw, np.float64)[2:]
    values = [a, a[1:], a.T[::2], np.zeros((4, 5)), 1.5, over_raw, over_raw_again, a.copy()]
    assert _escaped_closure(SimpleNamespace(escaped={0}, values=values)) == {0, 1, 2}
    assert _escaped_closure(SimpleNamespace(escaped={2}, values=values)) == {0, 1, 2}  # through a's views
    assert _escaped_closure(SimpleNamespace(escaped={5}, values=values)) == {5, 6}  # one buffer, two owners
    assert _escaped_closure(SimpleNamespace(escaped={4}, values=values)) == {4}


def test_no_call_before_the_first_replay_holds_much_more_than_an_eager_step(monkeypatch):
    # tracemalloc's peak of every call over what was alive before the first, against an eager twin's: the
    # recording watches through digests and lets go of its arrays when its call ends; the calls that make the
    # program work on it right after the function's zero_grad (Recording.quiet_point), when the least of the
    # step is alive. (Slices before the function instead: 1.25x here; a recording that keeps its arrays: 1.64x.)
    import tracemalloc

    monkeypatch.setattr(build, "BUDGET", 2.2)  # the making as it is (not one step a call): a slice ends where
    monkeypatch.setattr(build, "MIN_SLICE", 0.6)  # its time does, so the bound must hold wherever that is
    rng = np.random.default_rng(6)
    X, labels = rng.standard_normal((128, 784)), rng.integers(0, 10, 128)

    def make():
        net = MLP(784, [256, 10], activation="relu", output_activation=None, seed=5)
        return training_step(net, SGD(net.parameters(), lr=0.1), loss=cross_entropy)

    def peaks(step, until):
        out = []
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            while not until(len(out)):
                tracemalloc.reset_peak()
                step(X, labels)
                out.append(tracemalloc.get_traced_memory()[1] - base)
        finally:
            tracemalloc.stop()
        return out

    eager = max(peaks(make(), lambda n: n == 4))
    jitted = jit(make())
    seen = peaks(jitted, lambda n: jitted.replaying or n == 300)
    assert jitted.replaying and len(seen) > 4
    assert max(seen) < 1.1 * eager, [round(p / eager, 2) for p in seen]


def test_a_program_finished_at_the_zero_grad_of_a_call_that_then_raises_is_still_installed(monkeypatch):
    # the slice runs inside the function (right after its zero_grad); if the function raises afterwards, the
    # finished program waits in entry.made and the next call installs and replays it
    from tinygrad_nn.jit import recorder

    monkeypatch.setattr(recorder, "_SHED", 0)
    monkeypatch.setattr(build, "BUDGET", float("inf"))  # the first slice finishes the program
    rng = np.random.default_rng(7)
    X, labels = rng.standard_normal((7, 8)), rng.integers(0, 3, 7)
    boom = [False]

    def make():
        net = MLP(8, [6, 3], activation="relu", output_activation=None, seed=2)
        opt = SGD(net.parameters(), lr=0.1)

        def step(x, t):
            opt.zero_grad()
            if boom[0]:
                raise RuntimeError("the function's own error")
            loss = cross_entropy(net(x), t)
            loss.backward()
            opt.step()
            return loss

        return net, step

    net_e, eager = make()
    net_j, step = make()
    jitted = jit(step)
    for _ in range(3):  # records, is checked, times the eager run
        assert eager(X, labels).item() == jitted(X, labels).item()
    entry = jitted._cache[next(iter(jitted._cache))]
    assert entry.making[0].quiet_point and not jitted.replaying
    boom[0] = True
    with pytest.raises(RuntimeError, match="own error"):
        jitted(X, labels)  # the slice at its zero_grad finished the program, then the function raised
    with pytest.raises(RuntimeError, match="own error"):
        eager(X, labels)  # (the twin zeroes its gradients too)
    assert entry.made is not None
    boom[0] = False
    assert eager(X, labels).item() == jitted(X, labels).item()  # installed, and replayed
    assert jitted.replaying and entry.made is None
    for p, q in zip(net_e.parameters(), net_j.parameters()):
        assert p.data.tobytes() == q.data.tobytes() and p.grad.tobytes() == q.grad.tobytes()


def test_a_recorded_helper_that_draws_from_a_generator_is_called_once_a_call_as_eager_calls_it(monkeypatch):
    # what a `recorded` helper gave is not let go and computed again by the making: a helper that draws noise
    # from a generator would draw more than eager does, and every call after would part from eager's bits
    from tinygrad_nn.jit import recorded, recorder

    monkeypatch.setattr(recorder, "_SHED", 0)

    def make():
        rng = np.random.default_rng(11)

        @recorded
        def noise(x):  # noise on the logits, one row per example of the argument
            return rng.standard_normal((x.shape[0], 3)) * 0.01

        net = MLP(8, [6, 3], activation="relu", output_activation=None, seed=2)
        opt = SGD(net.parameters(), lr=0.1)

        def step(x, t):
            opt.zero_grad()
            loss = cross_entropy(net(x) + noise(x), t)
            loss.backward()
            opt.step()
            return loss

        return net.parameters(), step

    rng = np.random.default_rng(12)
    X, labels = rng.standard_normal((7, 8)), rng.integers(0, 3, 7)
    assert train_twins(make, lambda k: (X, labels), steps=400).replaying
