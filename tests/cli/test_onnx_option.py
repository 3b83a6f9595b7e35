"""`book --onnx FILE` and `cnn --onnx FILE`: the trained network as an ONNX model that computes what the
saved model computes."""

import numpy as np
import pytest

import tinygrad_nn as tn
from tinygrad_nn import cli
from tinygrad_nn.data import load_digits_4x3
from tinygrad_nn.nn import MLP

pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install '.[onnx]')")


def test_book_writes_the_trained_network_as_onnx(capsys, tmp_path):
    from onnx.reference import ReferenceEvaluator

    model, onnx_file = tmp_path / "m.npz", tmp_path / "m.onnx"
    assert cli.main(["book", "--steps", "100", "--no-progress", "--save", str(model), "--onnx", str(onnx_file)]) == 0
    assert f"ONNX model (one image per call) to {onnx_file}" in capsys.readouterr().out
    net = MLP(12, [3, 2])
    net.load_state_dict(tn.load(model))
    evaluator = ReferenceEvaluator(str(onnx_file))
    for image in load_digits_4x3().inputs[:5]:
        (out,) = evaluator.run(None, {"input_0": image[None]})
        np.testing.assert_allclose(out, net(image[None]).data, rtol=1e-12, atol=1e-12)


def test_cnn_writes_onnx_and_a_bad_path_is_a_usage_error(capsys, tmp_path):
    assert cli.main(["cnn", "--steps", "3", "--no-progress", "--onnx", str(tmp_path / "c.onnx")]) == 0
    assert (tmp_path / "c.onnx").stat().st_size > 0
    with pytest.raises(SystemExit) as e:
        cli.main(["book", "--onnx", str(tmp_path / "missing" / "m.onnx")])
    assert e.value.code == 2
    assert "--onnx" in capsys.readouterr().err
