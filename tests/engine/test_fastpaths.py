"""fastpaths.py changes speed, never results: with the fast paths on and off, the same programs give the same
bits; and a leaf adopts a gradient array without a copy only when nothing else holds that array.

(Random scalar programs are run both ways in test_reference_engine.py.)
"""

import weakref

import numpy as np
import pytest

from tinygrad_nn import Value, fastpaths, ops
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.ops import identity
from tinygrad_nn.optim import SGD


@pytest.fixture
def slow():
    fastpaths.disable()
    try:
        yield
    finally:
        fastpaths.enable()


def _train_book_net(steps=5):
    rng = np.random.default_rng(0)
    X, T = rng.random((8, 12)), rng.random((8, 2))
    net = MLP(12, [3, 2], seed=0)
    opt = SGD(net.parameters(), lr=0.2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = squared_error(net(X), T)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.data.copy() for p in net.parameters()]


def test_training_gives_the_same_bits_with_and_without_the_fast_paths():
    fast = _train_book_net()
    fastpaths.disable()
    try:
        slow = _train_book_net()
    finally:
        fastpaths.enable()
    assert fast[0] == slow[0]
    assert all(np.array_equal(a, b) for a, b in zip(fast[1], slow[1]))


def _watch_mul_gradients(monkeypatch):
    """Weak references to the gradient arrays mul's rule makes (a strong one would itself block adoption)."""
    made = []
    rule = ops.mul.vjp

    def watched(*args, **params):
        grads = rule(*args, **params)
        made.extend(weakref.ref(g) for g in grads if isinstance(g, np.ndarray))
        return grads

    monkeypatch.setattr(ops.mul, "vjp", watched)
    return made


def test_a_fresh_gradient_array_is_adopted_without_a_copy(monkeypatch):
    made = _watch_mul_gradients(monkeypatch)
    w = Value(np.ones((3, 2)))
    w.grad = None  # as after optimizer.zero_grad()
    (w * np.full((3, 2), 2.0)).sum().backward()
    assert any(ref() is w.grad for ref in made)
    np.testing.assert_array_equal(w.grad, np.full((3, 2), 2.0))


def test_an_array_another_node_holds_is_copied():
    # identity passes its gradient through: h.grad and w's gradient are one array. Adopting it would let
    # w's next accumulation (in place) change h.grad too.
    w = Value(np.ones(3))
    w.grad = None
    h = identity(w)
    (h * 3.0).sum().backward()
    assert w.grad is not h.grad
    kept = h.grad.copy()
    (h * 3.0).sum().backward()  # accumulates into w.grad in place
    np.testing.assert_array_equal(h.grad, kept)
    np.testing.assert_array_equal(w.grad, np.full(3, 6.0))


def test_without_the_fast_paths_every_gradient_is_copied(slow, monkeypatch):
    made = _watch_mul_gradients(monkeypatch)
    w = Value(np.ones(3))
    w.grad = None
    (w * np.full(3, 2.0)).sum().backward()
    assert made and not any(ref() is w.grad for ref in made)


def test_scalar_paths_step_aside_while_a_mode_block_is_open():
    # One comparison decides "a float payload, and the fast paths on": modes.fast_scalar is float only while
    # modes.fast, so inside no_grad a scalar + and * go through apply, which honours the mode.
    from tinygrad_nn import no_grad
    from tinygrad_nn.engine import modes

    a, b = Value(2.0), Value(3.0)
    assert modes.fast and modes.fast_scalar is float
    with no_grad():
        assert not modes.fast and modes.fast_scalar is None
        s, p = a + b, a * b
    assert (s.data, p.data) == (5.0, 6.0) and not s.requires_grad and not p.requires_grad and s._op is None
    assert modes.fast_scalar is float and (a + b).requires_grad


def test_methods_of_ops_without_parameters_refuse_arguments():
    x = Value(np.ones(3))
    for name in ("exp", "tanh", "sigmoid", "relu", "log"):
        with pytest.raises(TypeError):
            getattr(x, name)(0)
    np.testing.assert_array_equal(x.exp().data, ops.exp(x).data)
