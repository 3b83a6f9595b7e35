"""The safetensors format for `save` and `load` (chosen by the `.safetensors` extension).

safetensors is what PyTorch and the Hugging Face tools load without running code: a JSON header of names,
dtypes, shapes and offsets, then the raw bytes. The `safetensors` package reads and writes it (an optional
extra: ``pip install "tinygrad_nn[safetensors]"``); this module adds what `save` promises for `.npz` too:
only arrays of numbers, an atomic write, and one error type (ValueError) for a corrupt or truncated file
(a checksum in the header's metadata catches a flipped bit the format itself would not).

The format holds one flat dict of named tensors, a model's `state_dict`; a nested checkpoint (an optimizer's
state, {"model": ..., "step": 5}) goes to `.npz`, which stores structure.

>>> import os, tempfile
>>> import numpy as np
>>> from tinygrad_nn import load, save
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> save({"weight": np.eye(2), "bias": np.zeros(2, np.float32)}, path)
>>> {name: (a.dtype.name, a.shape) for name, a in sorted(load(path).items())}
{'bias': ('float32', (2,)), 'weight': ('float64', (2, 2))}
"""

from __future__ import annotations

import json
import zlib

import numpy as np

from ._files import replacing
from .engine import Value

SUFFIX = ".safetensors"
# What the format stores: booleans, integers and floats (no complex numbers, no strings).
_KINDS = "biuf"


def _require():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError('saving and loading .safetensors files needs the safetensors package: '
                          'pip install "tinygrad_nn[safetensors]" (or save to .npz)') from None
    return safetensors.numpy


def _tensor(name, x):
    if isinstance(x, Value):
        x = x.data
    if not isinstance(x, (np.ndarray, np.generic, float, int)) or isinstance(x, bool):
        raise TypeError(f"save: {name!r} is a {type(x).__name__}; a .safetensors file holds a flat dict of "
                        f"names to arrays (a model's state_dict()); save nested objects (an optimizer's state, "
                        f"a checkpoint dict) to .npz")
    arr = np.asarray(x)
    if arr.dtype.kind not in _KINDS:
        raise TypeError(f"save: {name!r} has dtype {arr.dtype}, which the safetensors format cannot store "
                        f"(it stores booleans, integers and floats); save it to .npz instead")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)


def save_safetensors(obj, path: str) -> None:
    """Write the dict `obj` of names to arrays (or Values) to `path` in the safetensors format, atomically."""
    st = _require()
    if not isinstance(obj, dict):
        raise TypeError(f"save: a .safetensors file holds a dict of names to arrays (a model's state_dict()), not "
                        f"a {type(obj).__name__}; save other objects to .npz")
    for key in obj:
        if not isinstance(key, str):
            raise TypeError(f"save: the key {key!r} is a {type(key).__name__}; safetensors names are strings")
        if key == "__metadata__":
            raise ValueError("save: the name '__metadata__' is reserved by the safetensors format; rename it")
    tensors = {key: _tensor(key, value) for key, value in obj.items()}  # all checked before a byte is written
    data = st.save(tensors, metadata={CHECKSUM: _checksum(tensors)})
    with replacing(path) as f:
        f.write(data)


# The format has no checksum of its own, so a flipped bit in an array or a name would load as another number
# or name. Files written here carry one in the header's free-form metadata (other readers, PyTorch's
# included, ignore it): a CRC-32 over every name, dtype, shape and byte, checked when it is there.
CHECKSUM = "tinygrad_nn.crc32"


def _checksum(tensors) -> str:
    crc = 0
    for name in sorted(tensors):
        arr = tensors[name]
        crc = zlib.crc32(f"{name}\0{arr.dtype.str}\0{arr.shape}\0".encode(), crc)
        crc = zlib.crc32(np.ascontiguousarray(arr).view(np.uint8).reshape(-1), crc)
    return f"{crc:08x}"


def _metadata(data: bytes) -> dict:
    """The header's __metadata__ (the library has checked the header's form already)."""
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + n]).get("__metadata__") or {}


def load_safetensors(path: str) -> dict:
    """The dict of names to arrays in a .safetensors file; a ValueError for a file that is not a complete one."""
    st = _require()
    with open(path, "rb") as f:
        data = f.read()
    try:
        tensors = st.load(data)
        expected = _metadata(data).get(CHECKSUM)
    except Exception as e:  # safetensors raises its own SafetensorError (and, on some inputs, others)
        raise ValueError(f"load: {path} is not a complete safetensors file (truncated, corrupt, or another "
                         f"format under a .safetensors name?): {e}") from None
    tensors = {name: np.array(arr) for name, arr in tensors.items()}  # own copies, writeable, as .npz gives
    if expected is not None and expected != _checksum(tensors):
        raise ValueError(f"load: {path} is corrupt: its arrays and names do not match the checksum written with "
                         f"them (a damaged copy?)")
    return tensors
