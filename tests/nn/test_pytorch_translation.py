"""PyTorch code translated as a user would write it: the arguments PyTorch names, its defaults, its shapes
(unbatched, (N, C, d1, ...)), and clear errors naming the module where it would fail on a shape. Each is checked
against torch in float64 where torch is installed."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Value
from tinygrad_nn.gradcheck import gradcheck
from tinygrad_nn.nn import CrossEntropyLoss, cross_entropy

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _close(ours, theirs, tol=1e-12):
    np.testing.assert_allclose(np.asarray(ours.data if isinstance(ours, Value) else ours),
                               theirs.detach().numpy(), rtol=tol, atol=tol)


CE_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(ignore_index=1),
    dict(ignore_index=-100, label_smoothing=0.2),
    dict(weight=np.array([0.5, 2.0, 1.0, 3.0])),
    dict(weight=np.array([0.5, 2.0, 1.0, 3.0]), ignore_index=2, label_smoothing=0.1),
    dict(weight=np.array([0.5, 2.0, 1.0, 3.0]), ignore_index=2, label_smoothing=0.1, reduction="none"),
    dict(weight=np.array([0.5, 2.0, 1.0, 3.0]), reduction="sum", label_smoothing=0.3),
]


@pytest.mark.parametrize("shape", [(5, 4), (4,), (3, 4, 6), (2, 4, 3, 2)], ids=["NC", "C", "NCT", "NCHW"])
@pytest.mark.parametrize("kwargs", CE_CASES, ids=[str(sorted(k)) + str(k.get("reduction", "")) for k in CE_CASES])
def test_cross_entropy_matches_torch_with_its_arguments_and_shapes(shape, kwargs):
    rng = np.random.default_rng(len(shape))
    logits = rng.normal(size=shape)
    sample = shape[:1] + shape[2:] if len(shape) > 1 else ()
    labels = rng.integers(0, 4, size=sample)
    if sample:
        labels.reshape(-1)[0] = kwargs.get("ignore_index", -100)  # one ignored label
        labels.reshape(-1)[-1] = 1 if kwargs.get("ignore_index") != 1 else 3
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    z, tz = Value(logits), torch.tensor(logits, requires_grad=True)
    ours, theirs = cross_entropy(z, labels, **kwargs), F.cross_entropy(tz, torch.tensor(labels), **t_kwargs)
    _close(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    _close(z.grad, tz.grad)
    module = CrossEntropyLoss(**kwargs)(Value(logits), labels)
    _close(module, theirs)


@pytest.mark.parametrize("kwargs", [dict(), dict(label_smoothing=0.25), dict(weight=np.array([1.0, 2.0, 0.5])),
                                    dict(reduction="none", label_smoothing=0.1)])
def test_cross_entropy_with_probability_targets_matches_torch(kwargs):
    rng = np.random.default_rng(3)
    logits, probs = rng.normal(size=(4, 3, 5)), rng.dirichlet(np.ones(3), size=(4, 5)).transpose(0, 2, 1)
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    _close(cross_entropy(Value(logits), probs, **kwargs),
           F.cross_entropy(torch.tensor(logits), torch.tensor(probs), **t_kwargs))


def test_cross_entropy_gradient_with_smoothing_weights_and_ignored_labels():
    labels = np.array([[2, 0], [-100, 1]])
    assert gradcheck(lambda z: cross_entropy(z, labels, weight=np.array([1.0, 2.0, 3.0]), label_smoothing=0.1),
                     np.random.default_rng(1).normal(size=(2, 3, 2)))


def test_cross_entropy_arguments_are_checked_by_name():
    z = Value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be 'mean', 'sum' or 'none'"):
        cross_entropy(z, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have one entry per class, shape \(3,\)"):
        cross_entropy(z, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be a number in \[0, 1\]"):
        cross_entropy(z, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\) \(or be ignore_index=-100\)"):
        cross_entropy(z, np.array([0, -1]))
    with pytest.raises(ValueError, match=r"integers of shape \(2, 4\) \(class indices\)"):
        cross_entropy(Value(np.zeros((2, 3, 4))), np.zeros((2, 3), int))


def test_embedding_refuses_negative_ids_as_pytorch_does():
    """numpy would read -1 as the last row: a padding marker silently turned into a real token."""
    from tinygrad_nn.nn import Embedding

    emb = Embedding(5, 2, seed=0)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 5\) for 5 embeddings, got values "
                                         r"from -1 to 3"):
        emb(np.array([3, -1]))
    with pytest.raises(IndexError):
        torch.nn.Embedding(5, 2)(torch.tensor([3, -1]))


def test_multihead_attention_names_itself_and_the_shapes_on_mismatched_inputs():
    from tinygrad_nn.nn import MultiheadAttention

    mha = MultiheadAttention(8, 2, seed=0)
    q = np.ones((5, 3, 8))
    with pytest.raises(ValueError, match=r"MultiheadAttention: key and value must be \(S, N, E\) with the query's "
                                         r"batch.*got query \(5, 3, 8\), key \(4, 2, 8\), value \(4, 2, 8\)"):
        mha(q, np.ones((4, 2, 8)), np.ones((4, 2, 8)))
    with pytest.raises(ValueError, match=r"key \(4, 3, 8\), value \(6, 3, 8\)"):
        mha(q, np.ones((4, 3, 8)), np.ones((6, 3, 8)))
    with pytest.raises(ValueError, match=r"MultiheadAttention: attn_mask must have shape \(5, 5\) or \(6, 5, 5\)"):
        mha(q, q, q, attn_mask=np.ones((4, 4), bool))
    out, w = mha(q, q, q, attn_mask=np.zeros((6, 5, 5)))  # the (N * heads, L, S) form is taken
    assert out.shape == (5, 3, 8) and w.shape == (3, 5, 5)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_check_the_state_they_are_given(name):
    import tinygrad_nn.nn as nn

    cell = getattr(nn, name)(3, 4, seed=0)
    wrong = np.ones((2, 5))
    state = (wrong, np.ones((2, 4))) if name == "LSTMCell" else wrong
    with pytest.raises(ValueError, match=rf"{name}: h must have shape \(2, 4\) \(the input's batch, hidden_size 4\) "
                                         rf"for an input of shape \(2, 3\), got \(2, 5\)"):
        cell(np.ones((2, 3)), state)
    if name == "LSTMCell":
        with pytest.raises(ValueError, match=r"LSTMCell: c must have shape \(2, 4\)"):
            cell(np.ones((2, 3)), (np.ones((2, 4)), np.ones((3, 4))))
        with pytest.raises(TypeError, match="LSTMCell: the state must be a pair"):
            cell(np.ones((2, 3)), np.ones((2, 4)))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_refuse_an_empty_sequence_by_name_and_take_an_empty_batch(name):
    import tinygrad_nn.nn as nn

    layer = getattr(nn, name)(3, 4, seed=0, batch_first=True)
    with pytest.raises(ValueError, match=rf"{name}: the sequence is empty \(input shape \(2, 0, 3\)\)"):
        layer(np.ones((2, 0, 3)))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        getattr(torch.nn, name)(3, 4, batch_first=True)(torch.ones(2, 0, 3))
    assert layer(np.ones((0, 5, 3)))[0].shape == (0, 5, 4)  # as torch: an empty batch is fine


def test_constructors_take_pytorchs_keywords_and_dtypes():
    import tinygrad_nn as tn

    for make in (tn.zeros, tn.ones, tn.rand, tn.randn):
        assert make(size=(2, 3)).shape == tuple(getattr(torch, make.__name__)(size=(2, 3)).shape)
        assert make(2, dtype=torch.float32).dtype == np.float32
    with pytest.raises(TypeError, match="zeros: give the sizes as arguments or as size=, not both"):
        tn.zeros(2, size=(2,))
    assert tn.arange(end=4).data.tolist() == torch.arange(end=4).tolist()
    assert tn.arange(start=1, end=4).data.tolist() == [1.0, 2.0, 3.0]
    assert tn.full((2,), 1.5, dtype=torch.float32).dtype == np.float32
    assert tn.eye(2, 3, dtype=torch.float64).shape == (2, 3)
    with pytest.raises(TypeError, match=r"zeros: dtype must be a float type .*got 'not a dtype'"):
        tn.zeros(2, dtype="not a dtype")


def test_modules_take_torch_dtypes_and_refuse_integer_ones():
    import tinygrad_nn.nn as nn

    for module in (nn.Linear(2, 3, dtype=torch.float32), nn.LayerNorm(3, dtype=torch.float32),
                   nn.RMSNorm(3, dtype=torch.float32), nn.LSTM(2, 3, dtype=torch.float32)):
        assert {p.dtype for p in module.parameters()} == {np.dtype(np.float32)}
    for norm in (nn.LayerNorm, nn.RMSNorm):  # integer parameters would round every update away
        with pytest.raises(TypeError, match="dtype must be a float type"):
            norm(3, dtype=np.int64)


def test_constructor_mistakes_are_named():
    import tinygrad_nn as tn

    with pytest.raises(ValueError, match="arange: step must not be zero"):
        tn.arange(0, 5, 0)
    with pytest.raises(TypeError, match=r"arange: end must be a finite number, got inf"):
        tn.arange(0, float("inf"))
    with pytest.raises(TypeError, match=r"eye: n must be a whole number >= 0 \(eye\(3\) or eye\(2, 3\)\), got -1"):
        tn.eye(-1)
    with pytest.raises(TypeError, match=r"eye: m must be a whole number >= 0 .*got 2.0"):
        tn.eye(2, 2.0)
    with pytest.raises(TypeError, match=r"tensor: got a list holding Values.*use stack\(\[...\]\)"):
        tn.tensor([Value(1.0), Value(2.0)])


def test_inplace_and_num_workers_as_pytorch_code_passes_them():
    """Translated code passes these everywhere; they change nothing here (the results are PyTorch's)."""
    from tinygrad_nn.data import DataLoader, TensorDataset
    from tinygrad_nn.nn import Dropout, ReLU, Sequential

    net = Sequential(ReLU(inplace=True), Dropout(p=0.5, inplace=True, seed=0))
    x = np.array([-1.0, 2.0, 3.0, -4.0])
    assert net.eval()(x).data.tolist() == torch.nn.ReLU(inplace=True)(torch.tensor(x)).tolist()
    assert net.state_dict() == {}
    ds = TensorDataset(np.arange(6.0), np.arange(6))
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(6.0), torch.arange(6)),
                                         batch_size=4, num_workers=0, pin_memory=False)
    ours = DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)
    assert [x.tolist() for x, _ in ours] == [x.tolist() for x, _ in theirs]
    with pytest.raises(ValueError, match="DataLoader: num_workers must be a whole number >= 0, got -1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="Dropout: inplace must be True or False, got 7 .*give the seed as seed="):
        Dropout(0.5, 7)


def test_module_to_float_double_and_apply_as_translated_code_calls_them():
    from tinygrad_nn.nn import LSTM, Linear, Neuron, Sequential
    from tinygrad_nn.optim import Adam

    net = Sequential(Linear(3, 4, seed=0), Neuron(4, seed=1)).to("cpu").to(torch.float32)
    assert {p.dtype.name for p in net.parameters()} == {"float32"}
    out = net(np.ones((2, 3), np.float32))
    assert out.dtype == np.float32
    out.sum().backward()
    Adam(net.parameters()).step()
    assert {p.dtype.name for p in net.parameters()} == {"float32"}
    assert net.to(torch.device("cpu"), torch.float64) is net and net[0].weight.dtype == np.float64
    assert net.float()[1].bias.dtype == np.float32 and net.double()[1].bias.dtype == np.float64
    with pytest.raises(ValueError, match="to: tinygrad_nn runs on the CPU only .*got device 'cuda:0'"):
        net.to("cuda:0")
    with pytest.raises(TypeError, match="to: parameters hold floats"):
        net.to(np.int32)
    # apply: children first, then the module itself, as PyTorch visits them
    lstm = LSTM(2, 3)
    seen = []
    Sequential(lstm, Linear(3, 1)).apply(lambda m: seen.append(type(m).__name__))
    order = []
    torch.nn.Sequential(torch.nn.LSTM(2, 3), torch.nn.Linear(3, 1)).apply(lambda m: order.append(type(m).__name__))
    assert seen == order


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
def test_softmax_without_dim_follows_pytorch_or_asks_for_dim(name):
    """PyTorch's implicit dim is the last axis for 1-D and 2-D inputs only; elsewhere it is 0 or 1, and taking
    the last axis silently would give other numbers than the translated program's."""
    import tinygrad_nn.nn as nn

    x = np.random.default_rng(0).normal(size=(3, 4))
    for data in (x, x[0]):
        with pytest.warns(UserWarning):
            theirs = getattr(torch.nn, name)()(torch.tensor(data))
        _close(getattr(nn, name)()(Value(data)), theirs)
    with pytest.raises(ValueError, match=rf"{name}: dim=None is ambiguous for a 3-D input \(PyTorch would take "
                                         rf"axis 0, not the last\); give dim="):
        getattr(nn, name)()(Value(np.ones((2, 3, 4))))
    assert getattr(nn, name)(dim=0)(Value(np.ones((2, 3, 4)))).shape == (2, 3, 4)


def test_tensor_dataset_keeps_the_graph_of_a_value_that_requires_a_gradient():
    """Reading a parameter's numbers into the data set would cut its graph without a word (no gradient, no
    error); torch's TensorDataset keeps the tensor too."""
    from tinygrad_nn.data import DataLoader, TensorDataset

    w = Value(np.arange(6.0).reshape(3, 2))
    total = None
    for x, _ in DataLoader(TensorDataset(w, np.arange(3)), batch_size=2):
        assert isinstance(x, Value)
        s = (x * x).sum()
        total = s if total is None else total + s
    total.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data)


@pytest.mark.parametrize("make", ["Linear(2, 3, dtype={})", "Embedding(4, 2, dtype={})", "LSTM(2, 3, dtype={})",
                                  "MultiheadAttention(4, 2, dtype={})", "Conv2d(1, 2, 3, dtype={})",
                                  "LayerNorm(3, dtype={})", "Neuron(2, dtype={})"])
def test_a_module_given_a_non_float_dtype_names_itself(make):
    import tinygrad_nn.nn as nn

    who = make.split("(")[0]
    for bad, shown in ((np.int64, "int64"), ("nonsense", "'nonsense'")):
        with pytest.raises(TypeError, match=rf"^{who}: dtype must be a float type \(float64 or float32\), got "
                                            rf"{shown}"):
            eval(make.format(repr(bad) if isinstance(bad, str) else "np.int64"), {"np": np, **vars(nn)})


def test_a_float32_pytorch_state_loads_after_model_float_and_the_error_says_so(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.torch import save_file

    import tinygrad_nn as tn
    from tinygrad_nn.nn import Linear

    theirs = torch.nn.Linear(3, 2).float()  # PyTorch's default dtype
    path = tmp_path / "linear.safetensors"
    save_file(dict(theirs.state_dict()), str(path))
    ours = Linear(3, 2)
    with pytest.raises(ValueError, match=r"model.float\(\) or model.double\(\) converts a whole model"):
        ours.load_state_dict(tn.load(path))
    ours.float().load_state_dict(tn.load(path))
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    out = ours(x).data
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
