"""Weights move to and from PyTorch (issue 11): same names and shapes, same outputs to 1e-12 in float64; and
the code in docs/saving.md runs as written."""

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_python_blocks
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.nn import MLP, Layer, ReLU, Sequential, squared_error
from tinygrad_nn.optim import SGD

torch = pytest.importorskip("torch")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "saving.md"


def to_torch(net, torch_net):
    torch_net.load_state_dict({name: torch.from_numpy(array) for name, array in net.state_dict().items()})


def from_torch(torch_net, net):
    net.load_state_dict({name: tensor.detach().numpy() for name, tensor in torch_net.state_dict().items()})


def _same_outputs(net, torch_net, x):
    ours = net(x).data
    theirs = torch_net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-12)


def test_the_book_network_trained_here_then_there_then_here():
    data = load_digits_4x3()
    net = MLP(12, [3, 2], seed=0)
    opt = SGD(net.parameters(), lr=0.2)
    for _ in range(100):
        opt.zero_grad()
        squared_error(net(data.inputs), data.targets).backward()
        opt.step()
    torch_net = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Sigmoid(),
                                    torch.nn.Linear(3, 2), torch.nn.Sigmoid()).double()
    assert {k: tuple(v.shape) for k, v in torch_net.state_dict().items()} == \
           {k: v.shape for k, v in net.state_dict().items()}
    to_torch(net, torch_net)
    _same_outputs(net, torch_net, data.inputs)

    torch_opt = torch.optim.SGD(torch_net.parameters(), lr=0.2)
    x, t = torch.from_numpy(data.inputs), torch.from_numpy(data.targets)
    for _ in range(100):
        torch_opt.zero_grad()
        (0.5 * ((torch_net(x) - t) ** 2).sum()).backward()
        torch_opt.step()
    back = MLP(12, [3, 2], seed=99)
    from_torch(torch_net, back)
    _same_outputs(back, torch_net, data.inputs)
    assert not np.allclose(back(data.inputs).data, net(data.inputs).data)  # it did learn more over there


@pytest.mark.parametrize("make", [
    lambda: (MLP(5, [8, 8, 3], activation="relu", output_activation=None, seed=1),
             torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 3))),
    lambda: (MLP(5, [4, 3], activation=None, seed=1),
             torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Linear(4, 3))),
    lambda: (Sequential(Layer(5, 4, activation=None, seed=2), ReLU(), Layer(4, 2, activation=None, seed=3)),
             torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))),
    lambda: (Layer(5, 3, activation=None, seed=4), torch.nn.Linear(5, 3)),
])
def test_models_move_both_ways(make):
    ours, theirs = make()
    theirs = theirs.double()
    x = np.random.default_rng(0).normal(size=(7, 5))
    to_torch(ours, theirs)
    _same_outputs(ours, theirs, x)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn_like(p))
    from_torch(theirs, ours)
    _same_outputs(ours, theirs, x)


def test_float32_weights_are_refused_by_a_float64_model_with_the_fix():
    net = MLP(12, [3, 2])
    torch_net = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2))  # float32
    with pytest.raises(ValueError, match=r"0.weight is float64 here but float32 in the state \(convert it"):
        from_torch(torch_net, net)
    net32 = MLP(12, [3, 2], dtype=np.float32)
    from_torch(torch_net, net32)
    np.testing.assert_array_equal(net32.layers[0].weight.data, torch_net[0].weight.detach().numpy())


def test_the_code_in_docs_saving_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_python_blocks(DOCS) >= 3
    assert (tmp_path / "model.npz").exists() and (tmp_path / "checkpoint.npz").exists()
