"""save/load in the safetensors format: bit-exact, atomic, never runs code, one error type for bad files, and
a file written here loads straight into PyTorch (safetensors.torch.load_file + load_state_dict)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Value, load, save
from tinygrad_nn.nn import MLP

pytest.importorskip("safetensors", reason="the safetensors extra is not installed (pip install '.[safetensors]')")


def test_round_trip_is_bit_exact_in_every_dtype(tmp_path):
    rng = np.random.default_rng(0)
    state = {
        "f64": rng.standard_normal((3, 4)), "f32": rng.standard_normal(5).astype(np.float32),
        "f16": rng.standard_normal(2).astype(np.float16), "i64": np.arange(6).reshape(2, 3),
        "u8": np.arange(4, dtype=np.uint8), "flag": np.array([True, False]), "scalar": np.array(2.5),
        "strided": rng.standard_normal((4, 4))[:, ::2], "nan": np.array([np.nan, -0.0, np.inf]),
        "empty": np.zeros((0, 3)), "value": Value(np.ones(2)),
    }
    path = tmp_path / "m.safetensors"
    save(state, path)
    back = load(path)
    assert sorted(back) == sorted(state)
    for name, want in state.items():
        want = want.data if isinstance(want, Value) else want
        got = back[name]
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
        assert got.flags.writeable


def test_a_model_round_trips(tmp_path):
    net, twin = MLP(12, [3, 2], seed=0), MLP(12, [3, 2], seed=1)
    save(net.state_dict(), tmp_path / "book.safetensors")
    twin.load_state_dict(load(tmp_path / "book.safetensors"))
    x = np.random.default_rng(0).random((5, 12))
    assert np.array_equal(net(x).data, twin(x).data)


def test_pytorch_loads_it_and_computes_the_same(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from safetensors.torch import load_file

    net = MLP(12, [3, 2], seed=0)
    path = tmp_path / "book.safetensors"
    save(net.state_dict(), path)
    twin = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2),
                               torch.nn.Sigmoid()).double()
    twin.load_state_dict(load_file(str(path)))
    x = np.random.default_rng(1).random((64, 12))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, net(x).data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("obj, message", [
    ({"opt": {"lr": np.array(0.1)}}, "flat dict"),
    ([np.zeros(2)], "dict of names to arrays"),
    ({"z": np.array([1 + 2j])}, "cannot store"),
    ({"s": np.array(["a"])}, "cannot store"),
    ({"__metadata__": np.zeros(1)}, "reserved"),
    ({1: np.zeros(1)}, "names are strings"),
])
def test_what_the_format_cannot_hold_is_refused_before_writing(tmp_path, obj, message):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old")
    with pytest.raises((TypeError, ValueError), match=message):
        save(obj, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary file left behind


def test_corrupt_truncated_and_mistyped_files_raise_value_error(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"w": np.arange(10.0), "b": np.ones(3)}, path)
    good = path.read_bytes()
    bad = {
        "truncated": good[: len(good) - 5], "header only": good[:8], "empty": b"",
        "a .npz under this name": b"PK\x03\x04" + b"\0" * 60, "huge header length": (10 ** 12).to_bytes(8, "little"),
        "garbage header": len(b"{nope").to_bytes(8, "little") + b"{nope",
    }
    for i in range(len(good)):  # every flipped bit, in the header or the data, loads the same or says so
        bad[f"flip {i}"] = good[:i] + bytes([good[i] ^ (1 << (i % 8))]) + good[i + 1:]
    want = {"w": np.arange(10.0), "b": np.ones(3)}
    for what, content in bad.items():
        path.write_bytes(content)
        try:
            back = load(path)
        except ValueError as e:
            assert str(e).startswith("load: "), what
        else:
            assert what.startswith("flip"), what
            assert sorted(back) == sorted(want), what
            assert all(back[k].dtype == want[k].dtype and back[k].tobytes() == want[k].tobytes() for k in want), what


def test_pytorch_reads_the_checksummed_file_and_a_foreign_file_loads_without_one(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save({"w": np.arange(3.0)}, path)
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:  # the checksum is plain metadata to other readers
        assert list(f.keys()) == ["w"] and set(f.metadata()) == {"tinygrad_nn.crc32"}
    save_file({"w": np.arange(3.0)}, str(tmp_path / "foreign.safetensors"))
    assert load(tmp_path / "foreign.safetensors")["w"].tolist() == [0.0, 1.0, 2.0]
