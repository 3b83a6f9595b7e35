"""Bit flips over saved files, and crafted files: every flip loads the same thing or raises ValueError, the one
error `load` documents for a bad file; nothing a header claims is allocated before it is checked.

The flips are a deterministic sample (so CI stays at seconds): one bit of every byte of the zip's central
directory and end records, where a flip can change what the file means without any checksum seeing it, and
one bit of every few bytes elsewhere, where the members' CRCs see it. TINYGRAD_NN_EVERY_FLIP=1 flips every
bit of every file instead (minutes).
"""

from __future__ import annotations

import json
import os
import struct
import sys
import zipfile

import numpy as np
import pytest

from tinygrad_nn import load, save, serialization

EVERY_FLIP = os.environ.get("TINYGRAD_NN_EVERY_FLIP") == "1"


def _files():
    plain = {"0.weight": np.arange(6.0).reshape(2, 3), "0.bias": np.float32([0.5, 1.0]), "2.weight": np.ones((1, 2))}
    nested = {"model": {"0.weight": np.arange(6.0).reshape(2, 3), "0.bias": np.float32([0.5, 1.0])},
              "optimizer": {"state": {0: {"step": 3}}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
              "step": 3, "history": [1.5, None, (2, "x")]}
    return {"state_dict": (save, plain), "checkpoint": (save, nested),
            "numpy_savez": (lambda obj, path: np.savez(path, **obj), plain),
            "numpy_savez_compressed": (lambda obj, path: np.savez_compressed(path, **obj), plain)}


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return type(a) is type(b) and a == b


def _flips(data):
    """(byte, bit) pairs: one bit of each byte from the central directory on, one of every 7th byte before."""
    directory = data.find(b"PK\x01\x02")
    for byte in range(len(data)):
        if EVERY_FLIP:
            yield from ((byte, bit) for bit in range(8))
        elif byte >= directory or byte % 7 == 0:
            yield byte, (byte * 5) % 8


@pytest.mark.parametrize("name", list(_files()))
def test_every_bit_flip_loads_the_same_or_raises_value_error(tmp_path, name):
    write, obj = _files()[name]
    path = tmp_path / "m.npz"
    write(obj, path)
    data = path.read_bytes()
    reference = load(path)
    assert _same(reference, {k: np.asarray(v) for k, v in obj.items()} if name != "checkpoint" else reference)
    flipped, wrong = tmp_path / "flipped.npz", []
    for byte, bit in _flips(data):
        damaged = bytearray(data)
        damaged[byte] ^= 1 << bit
        flipped.write_bytes(bytes(damaged))
        try:
            back = load(flipped)
        except ValueError as e:
            assert str(e).startswith("load: "), e
            continue
        except Exception as e:  # any other type breaks the documented contract
            wrong.append((byte, bit, f"{type(e).__name__}: {e}"))
            continue
        if not _same(reference, back):
            wrong.append((byte, bit, f"loaded as {back!r}"))
    assert wrong == [], f"{len(wrong)} flips of {name}, e.g. {wrong[:5]}"


# -- crafted files --------------------------------------------------------------------------------------------

def _rewrite(path, change):
    """The members of the .npz at path, passed through change(name, bytes) -> (name, bytes), written again."""
    with zipfile.ZipFile(path) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(*change(name, data))


def _npy_header(shape, descr="<f8"):
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6), (3,), (1,)])
def test_a_header_claiming_more_than_the_member_holds_is_refused_before_allocating(tmp_path, shape):
    path = tmp_path / "m.npz"
    save({"w": np.arange(2.0)}, path)
    _rewrite(path, lambda name, data: (name, _npy_header(shape) + data[-16:]))
    with pytest.raises(ValueError, match=r"declares shape .* but holds 16"):
        load(path)


def test_an_encrypted_flag_is_a_value_error(tmp_path):
    path = tmp_path / "m.npz"
    save({"w": np.arange(2.0)}, path)
    data = bytearray(path.read_bytes())
    for sig, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header and directory entry
        at = data.find(sig)
        data[at + flags_at] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="marked encrypted"):
        load(path)


def test_an_unknown_compression_or_version_is_a_value_error(tmp_path):
    path = tmp_path / "m.npz"
    save({"w": np.arange(2.0)}, path)
    good = path.read_bytes()
    for field, value in ((10, 99), (6, 0xFF)):  # compression method; version needed to extract
        data = bytearray(good)
        at = data.find(b"PK\x01\x02")
        data[at + field:at + field + 2] = struct.pack("<H", value)
        path.write_bytes(bytes(data))
        with pytest.raises(ValueError, match="truncated or corrupt"):
            load(path)


def test_a_member_count_that_disagrees_with_the_end_record_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    save({"a": np.ones(2), "b": np.zeros(3)}, path)
    data = bytearray(path.read_bytes())
    # Make the first directory entry's comment swallow the second entry: zipfile alone then lists one member.
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    eocd = data.rfind(b"PK\x05\x06")
    entry_len = 46 + sum(struct.unpack("<3H", data[first + 28:first + 34]))
    data[first + 32:first + 34] = struct.pack("<H", (second - first - entry_len) + (eocd - second))
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="end record counts 2 members, its directory lists 1"):
        load(path)


def test_a_deeply_nested_structure_is_a_value_error(tmp_path):
    path = tmp_path / "m.npz"
    save({"w": np.ones(1), "n": 3}, path)
    depth = sys.getrecursionlimit() * 4
    deep = ('{"list": [' * depth + '{"value": 1}' + "]}" * depth).encode()
    _rewrite(path, lambda name, data: (name, data) if not name.startswith(serialization.STRUCTURE) else
             (name, _npy_header((len(deep),), "|u1") + deep))
    with pytest.raises(ValueError, match="nested too deeply"):
        load(path)
    shallow = json.dumps({"list": [{"value": 1}]}).encode()  # the same writer, a readable depth: it loads
    _rewrite(path, lambda name, data: (name, data) if not name.startswith(serialization.STRUCTURE) else
             (name, _npy_header((len(shallow),), "|u1") + shallow))
    with pytest.raises(ValueError, match=r"arrays \['w'\] are not in its structure"):
        load(path)
