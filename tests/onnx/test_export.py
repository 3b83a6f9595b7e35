"""tinygrad_nn.onnx.export: the exported model, run by onnxruntime (or onnx's reference evaluator where
onnxruntime lacks a kernel), computes what the model here computes: float32 to 1e-5, float64 to 1e-10."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_nn as tn
from tinygrad_nn import special as sp
from tinygrad_nn.data import load_digits_4x3, load_digits_6x6
from tinygrad_nn.nn import MLP, Conv2d, Flatten, Layer, MaxPool2d, Module, Sequential, Sigmoid

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install '.[onnx]')")
from tinygrad_nn.onnx import SUPPORTED, UnsupportedOpError, export  # noqa: E402

TOL = {np.float32: 1e-5, np.float64: 1e-10}


# ONNX's Erf has no float64 kernel in onnxruntime, and onnx's reference evaluator computes it in float32: the
# ops written with it are exact to float32's precision only, and checked so.
FLOAT32_KERNELS = {"erf", "erfc", "ndtr"}


def run(model, *inputs, reference=False):
    """The exported model's outputs: onnxruntime where it has the kernels, else onnx's reference evaluator."""
    feeds = {i.name: x for i, x in zip(model.graph.input, inputs)}
    try:
        if reference:
            raise ImportError
        import onnxruntime as ort

        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, feeds)
    except ImportError:
        pass
    except Exception as e:  # a kernel missing for this dtype (onnxruntime's NOT_IMPLEMENTED)
        if "NOT_IMPLEMENTED" not in str(e) and "Could not find an implementation" not in str(e):
            raise
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model).run(None, feeds)


def check(fn, *inputs, dtype=np.float64, path=None, reference=False, tol=None):
    model = export(fn, inputs, path)
    used = {name for node in model.graph.node for name in node.input}
    assert {t.name for t in model.graph.initializer} <= used, "an initializer no node reads"
    ours = fn(*[tn.Value(x) if np.asarray(x).dtype.kind == "f" else x for x in inputs])
    ours = ours if isinstance(ours, (tuple, list)) else (ours,)
    theirs = run(model, *inputs, reference=reference)
    for a, b in zip(ours, theirs):
        assert b.dtype == a.dtype and b.shape == a.shape
        np.testing.assert_allclose(b, a.data, rtol=tol or TOL[dtype], atol=tol or TOL[dtype])
    return model


def book_cnn(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(Conv2d(1, 3, 3, seed=rng, dtype=dtype), Sigmoid(), MaxPool2d(2), Flatten(),
                      Layer(12, 3, activation="sigmoid", seed=rng, dtype=dtype))


class TinyTransformerBlock(Module):
    """Embedding, layer norm, one causal self-attention head, an MLP: written with the package's ops."""

    def __init__(self, vocab=11, d=8, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        w = lambda *shape: tn.Value((rng.standard_normal(shape) * 0.3).astype(dtype))  # noqa: E731
        self.embed, self.pos = w(vocab, d), w(16, d)
        self.gain, self.shift = tn.Value(np.ones(d, dtype)), tn.Value(np.zeros(d, dtype))
        self.q, self.k, self.v, self.o = w(d, d), w(d, d), w(d, d), w(d, d)
        self.up, self.down, self.head = w(d, 4 * d), w(4 * d, d), w(d, vocab)

    def norm(self, x):
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / (var + 1e-5) ** 0.5 * self.gain + self.shift

    def forward(self, tokens):
        T = tokens.shape[-1]
        x = self.embed[tokens] + self.pos[:T]
        h = self.norm(x)
        q, k, v = h @ self.q, h @ self.k, h @ self.v
        scores = q @ k.transpose((0, 2, 1)) / np.sqrt(q.shape[-1])
        causal = np.tril(np.ones((T, T), dtype=bool))
        scores = tn.where(causal, scores, -1e9)
        x = x + (scores.log_softmax(axis=-1).exp() @ v) @ self.o
        x = x + (self.norm(x) @ self.up).relu() @ self.down
        return self.norm(x) @ self.head


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_book_network(tmp_path, dtype):
    net = MLP(12, [3, 2], seed=0, dtype=dtype)
    images = load_digits_4x3().inputs.astype(dtype)
    path = tmp_path / "book.onnx"
    model = check(net, images, dtype=dtype, path=path)
    assert onnx.load(os.fspath(path)) == model
    onnx.checker.check_model(onnx.load(os.fspath(path)), full_check=True)
    assert {i.name for i in model.graph.initializer} == set(net.state_dict())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chapter5_cnn(dtype):
    net = book_cnn(dtype)
    images = load_digits_6x6().inputs.reshape(-1, 1, 6, 6).astype(dtype)
    check(net, images, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp(dtype):
    net = MLP(20, [32, 16, 5], activation="tanh", output_activation="relu", seed=3, dtype=dtype)
    x = np.random.default_rng(0).standard_normal((7, 20)).astype(dtype)
    check(net, x, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transformer_block_with_token_ids_as_input(dtype):
    block = TinyTransformerBlock(dtype=dtype)
    tokens = np.random.default_rng(1).integers(0, 11, size=(2, 6))
    model = check(block, tokens, dtype=dtype)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    other = np.random.default_rng(2).integers(0, 11, size=(2, 6))  # the ids are an input, not baked in
    expected = block(other).data
    np.testing.assert_allclose(run(model, other)[0], expected, rtol=TOL[dtype], atol=TOL[dtype])


def test_a_function_with_several_inputs_and_outputs():
    def f(x, y):
        z = tn.concatenate([x, y], axis=1)
        return z.sum(axis=0), z[:, 1:3].max(axis=1, keepdims=True), (x * 2.0 - 1.0).reshape((3, 2)).T

    rng = np.random.default_rng(0)
    check(f, rng.standard_normal((2, 3)), rng.standard_normal((2, 4)))


# Every op in the exporter's table, exported alone and run (float64), against the op here.
def _sample(name, rng):
    x = rng.uniform(0.2, 0.8, (2, 3, 4))
    y = rng.uniform(0.2, 0.8, (2, 3, 4))
    unary = lambda f: (f, (x,))  # noqa: E731
    table = {
        "add": (lambda a, b: a + b, (x, y[0])), "sub": (lambda a, b: a - b, (x, y)),
        "mul": (lambda a, b: a * b, (x, y)), "div": (lambda a, b: a / b, (x, y)),
        "pow": (lambda a, b: a ** b, (x, y)), "maximum": (tn.maximum, (x, y)), "minimum": (tn.minimum, (x, y)),
        "add_n": (lambda a, b: tn.add_n(a, b, a), (x, y)),
        "matmul": (lambda a, b: a @ b, (x, rng.standard_normal((4, 5)))),
        "linear": (lambda a, w, b: tn.linear(a, w, b), (x, rng.standard_normal((5, 4)), rng.standard_normal(5))),
        "einsum": (lambda a, b: tn.einsum("ijk,kl->ijl", a, b), (x, rng.standard_normal((4, 2)))),
        "sum": unary(lambda a: a.sum(axis=(0, 2))), "max": unary(lambda a: a.max(axis=1, keepdims=True)),
        "logsumexp": unary(lambda a: tn.logsumexp(a, axis=-1)),
        "log_softmax": unary(lambda a: a.log_softmax(axis=1)),
        "reshape": unary(lambda a: a.reshape((4, 6))), "transpose": unary(lambda a: a.transpose((2, 0, 1))),
        "broadcast_to": (lambda a: tn.broadcast_to(a, shape=(5, 3, 4)), (x[0],)),
        "sum_to": unary(lambda a: tn.sum_to(a, shape=(3, 1))),
        "concatenate": (lambda a, b: tn.concatenate([a, b], axis=-1), (x, y)),
        "getitem": unary(lambda a: a[1, ::-2, None, 1:]),
        "astype": unary(lambda a: tn.astype(a, np.float32) * 2.0),
        "clip": unary(lambda a: a.clip(0.3, 0.6)), "where": (lambda a, b: tn.where(a > 0.5, a, b), (x, y)),
        "conv2d": (lambda a, w: tn.conv2d(a, w, stride=1, padding=1),
                   (rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)))),
        "max_pool2d": (lambda a: tn.max_pool2d(a, 2), (rng.standard_normal((2, 3, 4, 6)),)),
        "step": unary(lambda a: (a - 0.5).step()), "round": unary(lambda a: (a * 10).round()),
        "identity": unary(tn.identity), "arccosh": (tn.arccosh, (x + 1.0,)),
        "prod": unary(lambda a: a.prod(axis=1)), "cumsum": unary(lambda a: a.cumsum(axis=-1)),
        "norm_root": unary(lambda a: a.std(axis=0) + tn.norm(a, ord=3, axis=-1).sum()),
        "logaddexp": (tn.logaddexp, (x * 900, y)), "logaddexp2": (tn.logaddexp2, (x, y * 900)),
        "hypot": (tn.hypot, (x, y)), "remainder": (lambda a, b: (a * 7 - 3) % b, (x, y)),
        "fmax": (tn.fmax, (x, y)), "fmin": (tn.fmin, (x, y)),
        "erf": unary(lambda a: sp.erf(a * 4 - 2)), "erfc": unary(lambda a: sp.erfc(a * 4 - 2)),
        "ndtr": unary(lambda a: sp.ndtr(a * 4 - 2)),
    }
    if name in table:
        return table[name]
    return unary(getattr(tn, name))


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_every_op_in_the_table(name):
    fn, inputs = _sample(name, np.random.default_rng(0))
    check(fn, *inputs, reference=name in FLOAT32_KERNELS, tol=1e-6 if name in FLOAT32_KERNELS else None)
    out, ops, stack = fn(*[tn.Value(x) for x in inputs]), set(), []
    stack.append(out)
    while stack:  # the sample really runs the op it stands for
        v = stack.pop()
        ops.add(v.op)
        stack.extend(v._prev)
    assert name in ops


def test_an_op_without_an_onnx_form_is_named():
    with pytest.raises(UnsupportedOpError, match=r"the op 'cumprod'.*has no ONNX counterpart"):
        export(lambda x: tn.cumprod(x, axis=0), (np.ones((3, 2)),))


def test_an_integer_input_that_is_not_an_index_is_refused():
    with pytest.raises(ValueError, match="not used as an index"):
        export(lambda ids, x: x * 2.0, (np.arange(3), np.ones(3)))


def test_the_write_is_atomic_and_checked(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"the old model")
    with pytest.raises(UnsupportedOpError):
        export(lambda x: tn.cumprod(x, axis=0), (np.ones((3, 2)),), path)
    assert path.read_bytes() == b"the old model"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export(lambda x: x * 2.0, (np.ones(3),), tmp_path / "missing" / "m.onnx")


def test_a_module_in_training_is_exported_in_eval_mode_and_left_in_its_modes():
    """torch.onnx.export's default: traced in training, a Dropout would bake its one random mask into the model
    (every later run multiplied by the same zeros and twos)."""
    from tinygrad_nn.nn import Dropout, Linear

    net = Sequential(Linear(4, 8, seed=0), Dropout(0.5, seed=0), Linear(8, 2, seed=1))
    x = np.random.default_rng(0).normal(size=(3, 4))
    model = export(net, x)
    assert net.training and all(m.training for m in net.modules())  # put back as they were
    expect = net.eval()(x).data
    np.testing.assert_allclose(run(model, x)[0], expect, rtol=1e-12, atol=1e-12)


def test_nested_outputs_are_flattened_in_order():
    from tinygrad_nn.nn import LSTM

    lstm = LSTM(3, 4, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 2, 3))
    model = export(lstm, x)
    out, (h, c) = lstm(x)
    assert [o.name for o in model.graph.output] == ["output_0", "output_1", "output_2"]
    for got, want in zip(run(model, x), (out, h, c)):
        np.testing.assert_allclose(got, want.data, rtol=1e-12, atol=1e-12)


def test_a_model_that_cannot_be_called_is_named():
    with pytest.raises(TypeError, match=r"onnx.export: the model must be a Module or a function of Values, got int"):
        export(3, np.zeros(2))
