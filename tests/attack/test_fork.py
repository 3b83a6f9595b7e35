"""fork() while another thread is inside backward(): the child (which has only the forking thread) must be able
to run backward, grad-mode blocks and optimizer steps of its own, never wait forever on a lock held by a
thread that does not exist in it. multiprocessing forks by default on Linux, so this is what a DataLoader
with workers or a pool of evaluations does.

Every child is given a deadline and killed past it: a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import faulthandler
import itertools
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

from tinygrad_nn import Value, no_grad, parallel
from tinygrad_nn.nn import Conv2d, squared_error
from tinygrad_nn.ops import conv2d, defop
from tinygrad_nn.optim import SGD

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "register_at_fork"),
                                reason="this platform has no fork()")

DEADLINE = 15.0  # seconds a child may take (it needs well under one)
_names = itertools.count()


def _in_child(work):
    """Fork; the child runs work() and exits 0 if it returns True. Returns the child's exit code, 1 if it was
    stuck at the deadline (its Python stack is then on stderr), or "hung" if it could not even say so."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "use of fork() may lead to deadlocks": the subject
        pid = os.fork()
    if pid == 0:
        code = 1
        # Past the deadline the child writes where it is stuck (the test's captured stderr), then exits 1.
        faulthandler.dump_traceback_later(DEADLINE - 3, exit=True)
        try:
            code = 0 if work() else 3
        except BaseException:  # noqa: B036  (anything at all: the child must exit, never return into pytest)
            code = 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


def _child_trains():
    """What a forked worker does: backward, a no_grad block, an optimizer step, a second-order gradient."""
    w = Value(np.arange(3.0))
    opt = SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward()
    with no_grad():
        _ = w * 2
    opt.step()
    x = Value(1.5)
    (g,) = __import__("tinygrad_nn").gradients(x ** 3, [x], create_graph=True)
    g.backward()
    return np.array_equal(w.data, np.arange(3.0) * 0.8) and x.grad == 9.0


def test_fork_while_another_thread_is_inside_backward():
    inside, release = threading.Event(), threading.Event()

    def wait_in_rule(g, ans, x):
        inside.set()
        release.wait(DEADLINE)
        return (g * 2.0,)

    double = defop(f"fork_wait_double_{next(_names)}", lambda x: x * 2.0, wait_in_rule)
    x = Value(np.ones(4))
    result = {}

    def parent_backward():
        y = double(x).sum()
        y.backward()
        result["grad"] = x.grad.copy()

    t = threading.Thread(target=parent_backward)
    t.start()
    try:
        assert inside.wait(DEADLINE), "the thread never reached its gradient rule"
        status = _in_child(_child_trains)  # the thread holds the backward pass's lock at this moment
    finally:
        release.set()
        t.join(DEADLINE)
    assert status == 0, f"the child {'deadlocked' if status == 'hung' else f'exited with {status}'}"
    np.testing.assert_array_equal(result["grad"], np.full(4, 2.0))  # the parent's pass finished as usual


def test_fork_while_threads_train_and_convolve(monkeypatch):
    # Threads stepping optimizers (in-place changes), opening no_grad blocks and running threaded
    # convolutions: each fork lands wherever they are. Every child must finish.
    monkeypatch.setattr(parallel, "PARALLEL_WORK", 0)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    stop = threading.Event()
    errors = []

    def train(seed):
        try:
            rng = np.random.default_rng(seed)
            conv = Conv2d(2, 3, 3, padding=1, seed=seed)
            opt = SGD(conv.parameters(), lr=1e-4)  # small enough not to diverge over a long run
            x = rng.standard_normal((4, 2, 6, 6))
            while not stop.is_set():
                opt.zero_grad()
                squared_error(conv(x), np.zeros((4, 3, 6, 6))).backward()
                opt.step()
                with no_grad():
                    conv(x)
        except BaseException as e:  # noqa: B036
            errors.append(e)

    def child():
        w = Value(np.ones((3, 2, 3, 3)))
        conv2d(np.ones((4, 2, 6, 6)), w, padding=1).sum().backward()
        return _child_trains() and w.grad.shape == (3, 2, 3, 3)

    threads = [threading.Thread(target=train, args=(s,)) for s in range(2)]
    for t in threads:
        t.start()
    try:
        statuses = []
        for _ in range(12):
            time.sleep(0.01)
            statuses.append(_in_child(child))
    finally:
        stop.set()
        for t in threads:
            t.join(DEADLINE)
    assert errors == []
    assert statuses == [0] * len(statuses), statuses
