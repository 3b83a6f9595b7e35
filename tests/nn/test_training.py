"""The book's network really learns: 100% on its 64 images from several seeds, and the engine's
gradient of C_T equals the book's hand-written back-propagation."""

import numpy as np
import pytest

from tinygrad_nn.data import load_backprop_params, load_digits_4x3
from tinygrad_nn.nn import MLP, squared_error
from tinygrad_nn.optim import SGD

STEP_BUDGET = 1500


def train(seed, steps=STEP_BUDGET, lr=0.2):
    data = load_digits_4x3()
    net = MLP(12, [3, 2], seed=seed)
    opt = SGD(net.parameters(), lr=lr)
    costs = []
    for _ in range(steps):
        opt.zero_grad()
        c = squared_error(net(data.inputs), data.targets)
        c.backward()
        opt.step()
        costs.append(c.item())
    accuracy = np.mean(net(data.inputs).data.argmax(axis=1) == data.digits)
    return net, costs, accuracy


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_reaches_full_accuracy(seed):
    _, costs, accuracy = train(seed)
    assert accuracy == 1.0
    assert costs[-1] < costs[0] / 100


def test_seeded_training_is_bit_identical():
    a, ca, _ = train(3, steps=50)
    b, cb, _ = train(3, steps=50)
    assert ca == cb
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_hand_written_deltas_equal_autodiff():
    data, params = load_digits_4x3(), load_backprop_params()
    net = MLP(12, [3, 2])
    net.load_state_dict({"0.weight": params["W_hidden"], "0.bias": params["b_hidden"],
                         "2.weight": params["W_out"], "2.bias": params["b_out"]})
    squared_error(net(data.inputs), data.targets).backward()

    x, t = data.inputs, data.targets                       # (64, 12), (64, 2)
    a2 = sigmoid(x @ params["W_hidden"].T + params["b_hidden"])
    a3 = sigmoid(a2 @ params["W_out"].T + params["b_out"])
    d3 = (a3 - t) * a3 * (1 - a3)                          # the book's δ of the output layer
    d2 = (d3 @ params["W_out"]) * a2 * (1 - a2)            # δ2 = (W3ᵀ δ3) * a2 (1 - a2), per image
    expected = {"0.weight": d2.T @ x, "0.bias": d2.sum(0),
                "2.weight": d3.T @ a2, "2.bias": d3.sum(0)}
    for name, p in net.named_parameters():
        np.testing.assert_allclose(p.grad, expected[name], rtol=0, atol=1e-12)
