"""The character models of issue 19 run on a few steps, their losses fall, and they print ten sampled names:
microgpt_scalar.py (scalar Values), char_gpt.py (the same model on tensors: the same losses to 1e-12 from the same
start), char_rnn.py (an LSTM and a GRU with truncated back-propagation through time)."""

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def _sampled(out):
    line = next(line for line in out.splitlines() if line.startswith("sampled names: "))
    names = line[len("sampled names: "):].split(", ")
    assert len(names) == 10 and all(re.fullmatch("[a-z]*", n) for n in names)
    return names


def test_microgpt_scalar_learns_and_samples(capsys):
    losses = _example("microgpt_scalar").main(["--steps", "8", "--every", "1"])
    out = capsys.readouterr().out
    assert len(losses) == 8 and abs(losses[0] - np.log(27)) < 0.15  # it starts near the uniform guess
    assert np.mean(losses[-4:]) < losses[0] - 0.2
    assert out.count(" | loss ") == 8
    _sampled(out)


def test_char_gpt_is_microgpt_on_tensors_to_1e_12():
    scalar, _, _, _ = _example("microgpt_scalar").train(4, seed=7, every=0)
    tensor, _, _, _ = _example("char_gpt").train(4, seed=7, every=0)
    np.testing.assert_allclose(tensor, scalar, rtol=0, atol=1e-12)


def test_char_gpt_loads_microgpt_parameters_and_computes_the_same_loss():
    mg, cg = _example("microgpt_scalar"), _example("char_gpt")
    import random

    names = ["emma", "olivia", "liam"]
    tok_s, tok_t = mg.Tokenizer(names), cg.Tokenizer(names)
    sd = mg.init_params(tok_s.vocab_size, random.Random(0))
    model = cg.CharGPT(tok_t.vocab_size)
    model.load_microgpt(sd)
    for name in names:
        x, y, mask = tok_t.batch([name])
        assert abs(cg.batch_loss(model, x, y, mask).item() - mg.document_loss(sd, tok_s.encode(name)).data) < 1e-12


def test_char_gpt_learns_with_batches_and_samples(capsys):
    losses = _example("char_gpt").main(["--steps", "60", "--batch-size", "8", "--every", "20"])
    out = capsys.readouterr().out
    assert np.mean(losses[-10:]) < np.mean(losses[:5]) - 0.4
    assert "ms per step (batch of 8" in out
    _sampled(out)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_rnn_learns_with_truncated_bptt(capsys, cell):
    losses = _example("char_rnn").main(["--steps", "30", "--cell", cell, "--bptt", "8", "--batch", "8",
                                        "--every", "10"])
    out = capsys.readouterr().out
    assert abs(losses[0] - np.log(28)) < 0.2  # 26 letters, "\n": near the uniform guess at first
    assert np.mean(losses[-5:]) < losses[0] - 0.4
    _sampled(out)


def test_truncated_bptt_cuts_the_graph_but_keeps_the_state():
    ex = _example("char_rnn")
    model = ex.CharRNN(5, hidden=4, embed=3, seed=0)
    ids = np.array([[0, 1], [2, 3], [4, 0]])
    _, state = model(ids)
    kept = ex.detach(state)
    assert all(s.is_leaf and not s.requires_grad for s in kept)
    np.testing.assert_array_equal(kept[0].data, state[0].data)
    logits, _ = model(ids, kept)
    fresh, _ = model(ids)
    assert not np.allclose(logits.data, fresh.data)  # the carried state changes what comes next


def test_char_gpt_exports_to_onnx_and_runs_the_same(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from tinygrad_nn.onnx import export

    cg = _example("char_gpt")
    model = cg.CharGPT(27, seed=1)
    ids = np.array([[26, 3, 4, 5, 1], [26, 0, 0, 7, 26]])
    export(model, ids, tmp_path / "gpt.onnx")
    sess = ort.InferenceSession(str(tmp_path / "gpt.onnx"))
    out = sess.run(None, {sess.get_inputs()[0].name: ids})[0]
    np.testing.assert_allclose(out, model(ids).data, rtol=0, atol=1e-10)
