"""tinygrad_nn.save / load (issue 11): .npz without pickle, atomic, bit-exact, clear errors."""

import os
import pickle
import stat
import zipfile

import numpy as np
import pytest

import tinygrad_nn
from tinygrad_nn import Value, load, save, serialization
from tinygrad_nn.nn import MLP, Neuron


def _special(dtype):
    info = np.finfo(dtype)
    return np.array([0.0, -0.0, 1.0 / 3.0, np.nan, np.inf, -np.inf, info.tiny, info.tiny / 4, info.max, info.eps],
                    dtype=dtype)


def _same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_round_trip_is_bit_exact(tmp_path, dtype):
    net = MLP(12, [3, 2], seed=0, dtype=dtype)
    state = net.state_dict()
    state["0.bias"][:] = _special(dtype)[:3]
    state["extra"] = _special(dtype)  # NaN, -0.0, subnormals, inf come back as they were
    state["scalar"] = np.array(1.0 / 7.0, dtype=dtype)  # 0-d
    state["empty"] = np.zeros((0, 3), dtype=dtype)
    path = tmp_path / "model.npz"
    assert save(state, path) is None
    back = load(path)
    assert list(back) == list(state)
    for k in state:
        assert _same_bits(back[k], state[k]), k
    with np.load(path, allow_pickle=False) as plain:  # a plain .npz: numpy sees the same names
        assert sorted(plain.files) == sorted(state)


def test_a_model_saved_and_loaded_gives_the_same_outputs(tmp_path):
    net, twin = MLP(12, [3, 2], seed=0), MLP(12, [3, 2], seed=1)
    save(net.state_dict(), tmp_path / "m.npz")
    result = twin.load_state_dict(load(str(tmp_path / "m.npz")))
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).random((5, 12))
    np.testing.assert_array_equal(net(x).data, twin(x).data)
    n = Neuron(3, seed=0)  # a Python-float parameter: saved as a 0-d array, loaded back as a float
    save(n.state_dict(), tmp_path / "n.npz")
    m = Neuron(3, seed=1)
    m.load_state_dict(load(tmp_path / "n.npz"))
    assert isinstance(m.bias.data, float) and m.bias.data == n.bias.data


def test_nested_structures_round_trip(tmp_path):
    obj = {
        "model": {"0.weight": np.arange(6.0).reshape(2, 3), "0.bias": np.float32(0.5)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones(2, np.float32)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1]}]},
        "epoch": 5, "note": "resumable", "nothing": None, "loss": float("nan"), "tiny": 5e-324,
        "history": [1.5, 2.5, [np.zeros(1)]], "big": 2 ** 70,
    }
    path = tmp_path / "ckpt.npz"
    save(obj, path)
    back = load(path)
    assert back.keys() == obj.keys()
    assert _same_bits(back["model"]["0.weight"], obj["model"]["0.weight"])
    assert back["model"]["0.bias"].dtype == np.float32 and back["model"]["0.bias"] == np.float32(0.5)
    st = back["optimizer"]["state"]
    assert list(st) == [0] and st[0]["step"] == 3 and _same_bits(st[0]["exp_avg"], np.ones(2, np.float32))
    group = back["optimizer"]["param_groups"][0]
    assert group == {"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1]}
    assert isinstance(group["betas"], tuple) and isinstance(group["params"], list)
    assert back["epoch"] == 5 and back["note"] == "resumable" and back["nothing"] is None
    assert np.isnan(back["loss"]) and back["tiny"] == 5e-324 and back["big"] == 2 ** 70
    assert back["history"][:2] == [1.5, 2.5] and _same_bits(back["history"][2][0], np.zeros(1))


def test_values_are_saved_as_their_payload(tmp_path):
    save({"w": Value(np.ones(3)), "b": Value(2.0)}, tmp_path / "v.npz")
    back = load(tmp_path / "v.npz")
    assert _same_bits(back["w"], np.ones(3)) and back["b"] == 2.0


@pytest.mark.parametrize("obj, message", [
    ({"w": np.array([object(), 1], dtype=object)}, "dtype object; only arrays of numbers"),
    ({"w": [np.array([None])]}, "dtype object"),
    ({"net": MLP(2, [1])}, "cannot store MLP at net; .*a model's state_dict"),
    ({1.5: np.ones(1)}, "has a key 1.5 of type float"),
    ({"f": lambda: 0}, "cannot store function"),
    ({serialization.STRUCTURE: np.ones(1)}, "is reserved"),
])
def test_save_refuses_what_would_need_pickle(tmp_path, obj, message):
    with pytest.raises((TypeError, ValueError), match=message):
        save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []  # checked before anything is written


def test_save_to_a_folder_or_a_missing_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        save({"w": np.ones(1)}, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        save({"w": np.ones(1)}, tmp_path / "no" / "m.npz")


def test_save_is_atomic_a_failure_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save({"w": np.ones(3)}, path)
    good = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def fail_second(*args, **kwargs):  # as a full disk would, part-way through
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_second)
    with pytest.raises(OSError, match="No space left"):
        save({"w": np.zeros(3), "b": np.zeros(2)}, path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["m.npz"]  # no temporary file left either


def test_saved_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        save({"w": np.ones(1)}, tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == 0o640


def test_load_refuses_object_arrays_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo unpickled > " + str(tmp_path / "ran"),))

    np.savez(path, w=np.ones(2), payload=np.array([Boom()], dtype=object))  # numpy pickles object arrays
    with pytest.raises(ValueError, match="holds an object array \\('payload'\\); it is refused"):
        load(path)
    assert not (tmp_path / "ran").exists()


def test_load_refuses_a_pickle_and_other_formats(tmp_path):
    (tmp_path / "p.pt").write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(ValueError, match="is not a .npz archive"):
        load(tmp_path / "p.pt")
    np.save(tmp_path / "a.npy", np.ones(2))
    with pytest.raises(ValueError, match="is not a .npz archive"):
        load(tmp_path / "a.npy")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match="is not a .npz archive"):
        load(tmp_path / "empty")
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="unexpected member 'readme.txt'"):
        load(tmp_path / "z.zip")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_load_refuses_a_truncated_file(tmp_path, keep):
    path = tmp_path / "m.npz"
    save({"w": np.arange(1000.0), "b": np.ones(10)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load(path)


def test_load_refuses_a_corrupt_file(tmp_path):
    path = tmp_path / "m.npz"
    save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the array: the zip's CRC catches it
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load(path)
    save({"w": np.ones(1), "n": 3}, path)  # a structured file whose description is damaged
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            if n.startswith(serialization.STRUCTURE):
                b = b.replace(b'"value"', b'"valeu"')
            zf.writestr(n, b)
    with pytest.raises(ValueError, match="bad structure description"):
        load(path)


def test_load_refuses_paths_that_are_not_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(ValueError, match="is not a regular file"):
            load(tmp_path / "fifo")  # would block forever if opened


def test_save_and_load_are_exported():
    assert tinygrad_nn.save is save and tinygrad_nn.load is load


@pytest.mark.parametrize("length", [200, 241, 242, 250, 255])
def test_save_takes_every_valid_file_name_length(tmp_path, length):
    name = "m" * (length - 4) + ".npz"
    save({"w": np.arange(3.0)}, tmp_path / name)
    assert os.listdir(tmp_path) == [name]  # no temporary file left
    assert _same_bits(load(tmp_path / name)["w"], np.arange(3.0))
    wide = "é" * ((length - 4) // 2) + ".npz"  # two bytes a character: the limit is in bytes
    save({"w": np.ones(2)}, tmp_path / wide)
    assert sorted(os.listdir(tmp_path)) == sorted([name, wide])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_save_writes_through_a_symbolic_link_as_np_save_does(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.npz"
    save({"w": np.zeros(2)}, target)
    link = tmp_path / "latest.npz"
    os.symlink(os.path.join("real", "model.npz"), link)
    save({"w": np.ones(2)}, link)
    assert os.path.islink(link) and os.readlink(link) == os.path.join("real", "model.npz")
    assert _same_bits(load(target)["w"], np.ones(2))
    assert os.listdir(tmp_path / "real") == ["model.npz"] and sorted(os.listdir(tmp_path)) == ["latest.npz", "real"]
    np.save(tmp_path / "plain.npy", np.ones(1))  # what numpy does with a link: the same
    os.symlink("plain.npy", tmp_path / "plain_link.npy")
    np.save(tmp_path / "plain_link.npy", np.zeros(1))
    assert os.path.islink(tmp_path / "plain_link.npy") and np.load(tmp_path / "plain.npy")[0] == 0.0
    dangling = tmp_path / "dangling.npz"  # a link to a file not yet there: the file is made
    os.symlink("made.npz", dangling)
    save({"w": np.ones(1)}, dangling)
    assert os.path.islink(dangling) and _same_bits(load(tmp_path / "made.npz")["w"], np.ones(1))
    os.symlink("loop_b", tmp_path / "loop_a")
    os.symlink("loop_a", tmp_path / "loop_b")
    with pytest.raises(OSError, match="symbolic links"):
        save({"w": np.ones(1)}, tmp_path / "loop_a")
