"""One module per workload. Each has ``build(impl, cfg) -> Case`` (run inside a worker process) and the
names of the implementations it knows (``IMPLS``); workloads whose data the runner makes also have
``prepare(cfg) -> dict`` (run in the runner, passed to the worker as JSON)."""


def init_params(sizes, seed, dtype="float64"):
    """Weights for fully connected layers, the same in every implementation: for each layer a
    (W of shape (nout, nin), b of shape (nout,)) pair, uniform in +-1/sqrt(nin) (PyTorch's default)."""
    import numpy as np  # lazily: the micrograd worker must not import numpy

    rng = np.random.default_rng(seed)
    out = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(nin)
        W = rng.uniform(-bound, bound, size=(nout, nin)).astype(dtype)
        b = rng.uniform(-bound, bound, size=(nout,)).astype(dtype)
        out.append((W, b))
    return out


def load_tinygrad_mlp(net, params):
    """Copy `init_params` weights into a tinygrad_nn MLP (in place, keeping its dtype)."""
    for layer, (W, b) in zip(net.layers, params):
        layer.weight.data[...] = W
        layer.bias.data[...] = b


def load_torch_mlp(linears, params):
    import torch

    with torch.no_grad():
        for lin, (W, b) in zip(linears, params):
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
