"""The building blocks of issue 19 against torch.nn in float64 (outputs and every gradient to 1e-12), against
finite differences (gradcheck), and their own contracts (dropout's seeding, train/eval, errors)."""

import numpy as np
import pytest

from tinygrad_nn import Value, gradcheck
from tinygrad_nn.nn import (
    GELU,
    GRU,
    LSTM,
    RNN,
    Dropout,
    Embedding,
    GRUCell,
    LayerNorm,
    Linear,
    LSTMCell,
    MultiheadAttention,
    RMSNorm,
    RNNCell,
    Softmax,
)
from tinygrad_nn.nn import functional as F

torch = pytest.importorskip("torch")

TOL = dict(rtol=0, atol=1e-12)
RNG = np.random.default_rng(19)


def _to_torch(ours, theirs):
    """Copy our parameters into the torch module (same names and shapes), float64."""
    theirs.double()
    state = {k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()}
    assert set(state) == set(theirs.state_dict()), (sorted(state), sorted(theirs.state_dict()))
    theirs.load_state_dict(state)


def _close(ours, theirs):
    if theirs is None:  # torch's gradient of an input the output does not depend on
        assert not np.any(ours)
        return
    np.testing.assert_allclose(np.asarray(ours), theirs.detach().numpy(), **TOL)


def _compare(ours_module, torch_module, inputs, pick=lambda out: out):
    """Outputs, parameter gradients and input gradients of one weighted sum of the outputs, both ways."""
    _to_torch(ours_module, torch_module)
    torch_module.zero_grad()
    ours_module.zero_grad()
    xs = [Value(x) for x in inputs]
    txs = [torch.tensor(x, requires_grad=True) for x in inputs]
    out, tout = pick(ours_module(*xs)), pick(torch_module(*txs))
    _close(out.data, tout)
    weights = RNG.normal(size=out.shape)
    (out * weights).sum().backward()
    (tout * torch.from_numpy(weights)).sum().backward()
    for x, tx in zip(xs, txs):
        _close(x.grad, tx.grad)
    theirs = dict(torch_module.named_parameters())
    for name, p in ours_module.named_parameters():
        _close(p.grad, theirs[name].grad)


def test_linear_takes_any_leading_shape_and_matches_torch():
    fc = Linear(5, 3, seed=0)
    assert fc.activation is None and [n for n, _ in fc.named_parameters()] == ["weight", "bias"]
    _compare(fc, torch.nn.Linear(5, 3), [RNG.normal(size=(2, 4, 5))])
    _compare(Linear(5, 3, bias=False, seed=1), torch.nn.Linear(5, 3, bias=False), [RNG.normal(size=(5,))])
    with pytest.raises(ValueError, match=r"Linear: expected .*\(\.\.\., 5\).*got shape \(2, 4\)"):
        fc(np.ones((2, 4)))


def test_linear_initialisation_is_pytorchs_distribution():
    w = Linear(400, 300, seed=0).weight.data
    bound = 1 / np.sqrt(400)
    assert -bound <= w.min() < -0.99 * bound and 0.99 * bound < w.max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 1e-3  # uniform on (-b, b) has standard deviation b / sqrt(3)


def test_embedding_matches_torch_with_repeated_ids_and_padding():
    emb = Embedding(7, 4, padding_idx=2, seed=0)
    assert np.all(emb.weight.data[2] == 0)
    ids = np.array([[1, 2, 1, 6], [2, 0, 0, 5]])
    _to_torch(emb, t := torch.nn.Embedding(7, 4, padding_idx=2))
    out, tout = emb(ids), t(torch.from_numpy(ids))
    _close(out.data, tout)
    w = RNG.normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch.from_numpy(w)).sum().backward()
    _close(emb.weight.grad, t.weight.grad)
    assert np.all(emb.weight.grad[2] == 0)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 7\)"):
        emb(np.array([7]))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        emb(np.array([1.0]))


@pytest.mark.parametrize("shape", [(5,), (2, 5), (3, 2, 5)])
def test_layer_norm_and_rms_norm_match_torch(shape):
    for ours, theirs in ((LayerNorm(5), torch.nn.LayerNorm(5)), (RMSNorm(5), torch.nn.RMSNorm(5)),
                         (RMSNorm(5, eps=1e-5), torch.nn.RMSNorm(5, eps=1e-5))):
        for p in ours.parameters():  # not the ones and zeros they start at
            p.data[...] = RNG.normal(size=p.shape)
        _compare(ours, theirs, [RNG.normal(size=shape)])
    two = LayerNorm((2, 5))
    two.weight.data[...] = RNG.normal(size=(2, 5))
    _compare(two, torch.nn.LayerNorm((2, 5)), [RNG.normal(size=(3, 2, 5))])
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(4,\) must be the last axes"):
        LayerNorm(4)(np.ones((2, 5)))


def test_gelu_softmax_match_torch():
    x = RNG.normal(size=(4, 6)) * 3
    for approximate in ("none", "tanh"):
        _compare(GELU(approximate), torch.nn.GELU(approximate=approximate), [x])
    _compare(Softmax(dim=0), torch.nn.Softmax(dim=0), [x])


@pytest.mark.parametrize("causal", [False, True])
def test_scaled_dot_product_attention_matches_torch(causal):
    q, k, v = RNG.normal(size=(2, 3, 5, 4)), RNG.normal(size=(2, 3, 5, 4)), RNG.normal(size=(2, 3, 5, 6))
    ours = F.scaled_dot_product_attention(*(Value(a) for a in (q, k, v)), is_causal=causal)
    theirs = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                                              is_causal=causal)
    _close(ours.data, theirs)
    mask = RNG.random((5, 5)) > 0.3
    np.fill_diagonal(mask, True)
    ours = F.scaled_dot_product_attention(Value(q), Value(k), Value(v), attn_mask=mask)
    theirs = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)),
                                                              attn_mask=torch.from_numpy(mask))
    _close(ours.data, theirs)


def test_causal_attention_gradients_pass_finite_differences():
    q, k, v = (RNG.normal(size=(3, 4)) for _ in range(3))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), q, k, v)
    # the last position's output does not depend on the future: position 0 sees only itself
    out = F.scaled_dot_product_attention(Value(q), Value(k), Value(v), is_causal=True)
    np.testing.assert_array_equal(out.data[0], v[0])


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_torch(batch_first):
    mha, t = MultiheadAttention(8, 2, batch_first=batch_first, seed=0), torch.nn.MultiheadAttention(
        8, 2, batch_first=batch_first)
    x = RNG.normal(size=(3, 5, 8) if batch_first else (5, 3, 8))  # 3 sequences of 5 positions
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)  # torch's MHA: True = may not attend
    _compare(mha, t, [x, x, x], pick=lambda out: out[0])
    _compare(MultiheadAttention(8, 2, batch_first=batch_first, seed=1), t, [x, x, x], pick=lambda out: out[1])
    mine = MultiheadAttention(8, 2, batch_first=batch_first, seed=2)
    _to_torch(mine, t)
    for ours, theirs in ((mine(x, x, x, attn_mask=causal), t(*(torch.from_numpy(x),) * 3,
                                                                attn_mask=torch.from_numpy(causal))),
                         (mine(x, x, x, is_causal=True), t(*(torch.from_numpy(x),) * 3, is_causal=True,
                                                            attn_mask=torch.from_numpy(causal)))):
        _close(ours[0].data, theirs[0])
        _close(ours[1].data, theirs[1])
    pad = np.zeros((3, 5), dtype=bool)
    pad[:, -1] = True
    ours = mine(x, x, x, key_padding_mask=pad)  # (N, S) in both layouts
    theirs = t(*(torch.from_numpy(x),) * 3, key_padding_mask=torch.from_numpy(pad))
    _close(ours[0].data, theirs[0])


def test_multihead_attention_gradcheck():
    mha = MultiheadAttention(4, 2, seed=0)
    x = RNG.normal(size=(3, 2, 4))
    assert gradcheck(lambda a: mha(a, a, a, is_causal=True)[0], x)


@pytest.mark.parametrize("cls,tcls", [(RNNCell, torch.nn.RNNCell), (LSTMCell, torch.nn.LSTMCell),
                                      (GRUCell, torch.nn.GRUCell)])
def test_cells_match_torch(cls, tcls):
    cell = cls(3, 4, seed=0)
    x, h = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 4))
    if cls is LSTMCell:
        c = RNG.normal(size=(2, 4))
        _to_torch(cell, t := tcls(3, 4))
        hh, cc = cell(Value(x), (Value(h), Value(c)))
        th, tc = t(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
        _close(hh.data, th)
        _close(cc.data, tc)
    else:
        _compare(cell, tcls(3, 4), [x, h])


@pytest.mark.parametrize("cls,tcls", [(RNN, torch.nn.RNN), (LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layers_match_torch(cls, tcls, batch_first):
    ours, theirs = cls(3, 4, num_layers=2, batch_first=batch_first, seed=0), tcls(3, 4, num_layers=2,
                                                                                   batch_first=batch_first)
    x = RNG.normal(size=(2, 6, 3) if batch_first else (6, 2, 3))
    _compare(ours, theirs, [x], pick=lambda out: out[0])
    last = (lambda out: out[1][1]) if cls is LSTM else (lambda out: out[1])
    _compare(ours, theirs, [x], pick=last)
    one = x[0] if batch_first else x[:, 0]  # one sequence, unbatched (T, C): the batch's first row
    whole = ours(x)[0].data
    np.testing.assert_allclose(ours(one)[0].data, whole[0] if batch_first else whole[:, 0], **TOL)


def test_recurrent_gradcheck_through_time():
    gru = GRU(2, 3, seed=0)
    assert gradcheck(lambda x: gru(x)[0], RNG.normal(size=(4, 1, 2)))
    lstm = LSTM(2, 3, seed=0)
    assert gradcheck(lambda x: lstm(x)[1][1], RNG.normal(size=(4, 2)))


def test_dropout_is_seeded_active_in_train_and_identity_in_eval():
    x = np.ones((4, 50))
    a, b = Dropout(0.3, seed=5), Dropout(0.3, seed=5)
    first = [a(x).data for _ in range(3)]
    assert all(np.array_equal(m, b(x).data) for m in first)  # the same seed: the same masks, call after call
    assert not np.array_equal(first[0], first[1])
    kept = first[0] != 0
    np.testing.assert_allclose(first[0][kept], 1 / 0.7)
    assert 0.5 < kept.mean() < 0.9
    state = a.generator_state()
    again = a(x).data
    a.set_generator_state(state)
    assert np.array_equal(a(x).data, again)
    a.eval()
    np.testing.assert_array_equal(a(x).data, x)
    v = Value(RNG.normal(size=(3, 3)))
    Dropout(0.5, seed=0)(v).sum().backward()
    assert set(np.unique(v.grad)) <= {0.0, 2.0}
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\], got 1.5"):
        Dropout(1.5)


def test_the_code_in_docs_guides_building_blocks_runs(capsys):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "guides" / "building_blocks.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert len(blocks) >= 8
    namespace = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)  # noqa: S102 - our own documentation
    out = capsys.readouterr().out
    assert "(10, 4, 32) (2, 4, 32)" in out and "[0. 5. 0.]" in out and "4 (16, 12)" in out


def test_embedding_dropout_and_norm_gradients_pass_finite_differences():
    ids = np.array([[0, 2, 2], [1, 0, 3]])
    assert gradcheck(lambda w: F.embedding(ids, w), RNG.normal(size=(4, 3)))  # (padding_idx: no gradient by design)
    # a fresh generator of one seed inside f: the same mask at every evaluation gradcheck makes
    assert gradcheck(lambda x: F.dropout(x, 0.4, True, np.random.default_rng(0)), RNG.normal(size=(3, 4)))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), RNG.normal(size=(2, 2, 3)),
                     RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3)))
    assert gradcheck(lambda x: F.rms_norm(x, 3), RNG.normal(size=(2, 3)))


def test_relu_rnn_and_unbiased_cells_match_torch():
    x = RNG.normal(size=(5, 2, 3))
    _compare(RNN(3, 4, nonlinearity="relu", seed=0), torch.nn.RNN(3, 4, nonlinearity="relu"), [x],
             pick=lambda out: out[0])
    _compare(GRUCell(3, 4, bias=False, seed=0), torch.nn.GRUCell(3, 4, bias=False), [x[0]])
    with pytest.raises(ValueError, match="LSTM: bidirectional=True is not supported"):
        LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match=r"GRU: input must be \(T, N, C\) or \(T, C\) with C = 3"):
        GRU(3, 4)(np.ones((2, 5)))


def test_the_blocks_export_to_onnx_and_run_there(tmp_path):
    """A transformer-style stack (LayerNorm, Linear, GELU, causal MultiheadAttention), an LSTM and an embedding run
    in onnxruntime (or onnx's reference evaluator) as here, float64 to 1e-10. GELU's exact form is written with
    ONNX's Erf, which onnxruntime has for float32 only: checked in float32."""
    pytest.importorskip("onnx")
    from tinygrad_nn.onnx import export

    try:
        import onnxruntime as ort

        def run(path, inputs):
            sess = ort.InferenceSession(str(path))
            return sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), inputs)})[0]
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        def run(path, inputs):
            ev = ReferenceEvaluator(str(path))
            return ev.run(None, {name: x for name, x in zip(ev.input_names, inputs)})[0]

    mha = MultiheadAttention(8, 2, batch_first=True, seed=0)
    mlp = [LayerNorm(8), Linear(8, 16, seed=1), GELU(approximate="tanh"), Linear(16, 8, seed=2)]

    def block(x):
        x = x + mha(x, x, x, is_causal=True, need_weights=False)[0]
        h = x
        for m in mlp:
            h = m(h)
        return x + h

    lstm, emb = LSTM(8, 4, seed=0), Embedding(10, 8, seed=0)
    cases = [(block, [RNG.normal(size=(2, 5, 8))]), (lambda x: lstm(x)[0], [RNG.normal(size=(3, 2, 8))]),
             (lambda ids: RMSNorm(8)(emb(ids)), [np.array([[1, 2, 9], [0, 0, 3]])])]
    for i, (f, inputs) in enumerate(cases):
        path = tmp_path / f"m{i}.onnx"
        export(f, tuple(inputs), path)
        np.testing.assert_allclose(run(path, inputs), f(*inputs).data, rtol=0, atol=1e-10)

    x = RNG.normal(size=(3, 4)).astype(np.float32)  # the exact GELU too: ndtr is written with ONNX's Erf
    export(GELU(), x, tmp_path / "gelu.onnx")  # (which onnxruntime has for float32 only)
    np.testing.assert_allclose(run(tmp_path / "gelu.onnx", [x]), GELU()(x).data, rtol=0, atol=1e-6)


def test_attention_and_recurrent_dropout_act_in_training_only():
    x = RNG.normal(size=(4, 2, 8))
    mha = MultiheadAttention(8, 2, dropout=0.5, seed=0)
    plain = MultiheadAttention(8, 2, seed=0)
    assert not np.allclose(mha(x, x, x)[0].data, plain(x, x, x)[0].data)
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].data, plain(x, x, x)[0].data)
    gru, plain_gru = GRU(8, 3, num_layers=2, dropout=0.5, seed=0), GRU(8, 3, num_layers=2, seed=0)
    assert not np.allclose(gru(x)[0].data, plain_gru(x)[0].data)
    np.testing.assert_array_equal(gru.eval()(x)[0].data, plain_gru(x)[0].data)
