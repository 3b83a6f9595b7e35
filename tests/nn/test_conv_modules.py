"""Conv2d, MaxPool2d, AvgPool2d and Flatten as modules, and the book's chapter 5 network built from them."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Value
from tinygrad_nn.data import load_digits_6x6
from tinygrad_nn.nn import AvgPool2d, Conv2d, Flatten, Layer, MaxPool2d, Sequential, Sigmoid, squared_error
from tinygrad_nn.ops import avg_pool2d, conv2d, max_pool2d
from tinygrad_nn.optim import SGD


def book_network(seed):
    rng = np.random.default_rng(seed)
    return Sequential(Conv2d(1, 3, 3, seed=rng), Sigmoid(), MaxPool2d(2), Flatten(),
                      Layer(12, 3, activation="sigmoid", seed=rng))


def test_conv2d_parameters_and_pytorch_init():
    conv = Conv2d(2, 5, (3, 2), seed=0)
    assert conv.weight.shape == (5, 2, 3, 2) and conv.bias.shape == (5,)
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    bound = 1.0 / np.sqrt(2 * 3 * 2)  # fan_in = in_channels * kh * kw
    for p in (conv.weight.data, conv.bias.data):
        assert np.all(np.abs(p) <= bound)
    big = Conv2d(4, 64, 3, seed=1).weight.data  # spread over the whole interval, not a corner of it
    assert big.min() < -0.9 / 6 and big.max() > 0.9 / 6
    np.testing.assert_array_equal(Conv2d(2, 5, 3, seed=7).weight.data, Conv2d(2, 5, 3, seed=7).weight.data)
    assert Conv2d(1, 1, 3, dtype=np.float32).weight.dtype == np.float32


def test_conv2d_forward_is_the_op_with_its_parameters():
    conv = Conv2d(2, 3, 3, stride=2, padding=1, seed=0)
    x = np.random.default_rng(1).normal(size=(4, 2, 7, 7))
    np.testing.assert_array_equal(conv(x).data, conv2d(x, conv.weight.data, conv.bias.data, stride=2, padding=1))
    assert conv(x).shape == (4, 3, 4, 4)
    assert repr(conv) == "Conv2d(2, 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    xv = Value(x)
    conv(xv).sum().backward()
    assert xv.grad.shape == x.shape and conv.weight.grad.shape == (3, 2, 3, 3)


def test_conv2d_bad_arguments():
    with pytest.raises(ValueError, match="Conv2d: in_channels must be a positive int"):
        Conv2d(0, 3, 3)
    with pytest.raises(ValueError, match="Conv2d: stride must be positive"):
        Conv2d(1, 3, 3, stride=0)
    with pytest.raises(ValueError, match="conv2d: the input has 2 channels"):
        Conv2d(1, 3, 3)(np.zeros((1, 2, 6, 6)))


def test_pool_and_flatten_modules():
    x = np.random.default_rng(2).normal(size=(2, 3, 6, 6))
    np.testing.assert_array_equal(MaxPool2d(2)(x), max_pool2d(x, 2))
    np.testing.assert_array_equal(MaxPool2d(3, stride=1)(x), max_pool2d(x, 3, 1))
    np.testing.assert_array_equal(AvgPool2d((2, 3))(x), avg_pool2d(x, (2, 3)))
    assert Flatten()(x).shape == (2, 108) and Flatten(0, 1)(x).shape == (6, 6, 6)
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2))"
    assert repr(AvgPool2d(3, stride=1)) == "AvgPool2d(kernel_size=(3, 3), stride=(1, 1))"
    assert MaxPool2d(2).parameters() == [] and Flatten().parameters() == []
    assert MaxPool2d(2)(x.astype(np.float32)).dtype == AvgPool2d(2)(x.astype(np.float32)).dtype == np.float32
    ints = np.arange(16).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(AvgPool2d(2)(ints), [[[[2.5, 4.5], [10.5, 12.5]]]])
    np.testing.assert_array_equal(avg_pool2d(ints, 2), [[[[2.5, 4.5], [10.5, 12.5]]]])


def test_book_network_composes_in_sequential():
    net = book_network(0)
    out = net(load_digits_6x6().images.reshape(96, 1, 6, 6))
    assert out.shape == (96, 3) and np.all((out.data > 0) & (out.data < 1))
    names = [name for name, _ in net.named_parameters()]
    # The module's index in the Sequential ends every name (PyTorch's "0.weight"; whatever prefix comes before).
    assert [".".join(n.split(".")[-2:]) for n in names] == ["0.weight", "0.bias", "4.weight", "4.bias"]
    assert sum(p.size for p in net.parameters()) == 3 * 9 + 3 + 12 * 3 + 3


def test_book_network_matches_torch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    data = load_digits_6x6()
    x = data.images.reshape(96, 1, 6, 6)
    conv, layer = Conv2d(1, 3, 3, seed=0), Layer(12, 3, activation=None, seed=1)
    net = Sequential(conv, Sigmoid(), MaxPool2d(2), Flatten(), layer, Sigmoid())
    tconv, tlin = tnn.Conv2d(1, 3, 3).double(), tnn.Linear(12, 3).double()
    with torch.no_grad():
        for mine, theirs in ((conv, tconv), (layer, tlin)):
            theirs.weight.copy_(torch.from_numpy(mine.weight.data))
            theirs.bias.copy_(torch.from_numpy(mine.bias.data))
    tnet = tnn.Sequential(tconv, tnn.Sigmoid(), tnn.MaxPool2d(2), tnn.Flatten(), tlin, tnn.Sigmoid())
    cost = squared_error(net(x), data.targets)
    tcost = 0.5 * ((tnet(torch.from_numpy(x)) - torch.from_numpy(data.targets)) ** 2).sum()
    assert cost.item() == pytest.approx(tcost.item(), rel=1e-13)
    cost.backward()
    tcost.backward()
    for mine, theirs in ((conv, tconv), (layer, tlin)):
        np.testing.assert_allclose(mine.weight.grad, theirs.weight.grad.numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(mine.bias.grad, theirs.bias.grad.numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_book_network_reads_all_96_images_within_the_step_budget(seed):
    """Full-batch gradient descent on C_T (the book's cost) with lr 0.2 reads every image right within 300
    steps (from 30 seeds tried, none needed more than 240; these three take 158, 78 and 237)."""
    data = load_digits_6x6()
    x = data.images.reshape(96, 1, 6, 6)
    net = book_network(seed)
    opt = SGD(net.parameters(), lr=0.2)
    for _ in range(301):  # 300 updates, and the check after the last
        out = net(x)
        if (out.data.argmax(axis=1) + 1 == data.digits).all():
            break
        opt.zero_grad()
        squared_error(out, data.targets).backward()
        opt.step()
    else:
        pytest.fail(f"seed {seed}: not every image right after 300 steps")
