"""Saving and loading: `save(obj, path)` and `load(path)`, as PyTorch's torch.save and torch.load.

The file is a numpy .npz archive (a zip of .npy arrays) read with pickling switched off, so loading a file can
never run code hidden in it; it is written to a temporary file beside the target and renamed over it, so a
crash or a full disk never leaves a half-written model where a good one was. A name ending in `.safetensors`
picks that format instead, with the same promises (safetensors_file.py).

A model's state_dict (names to arrays) is stored as it is: `np.load(path)` shows the same names. Anything
else made of dicts, lists and tuples of arrays, numbers, strings and None (an optimizer's state_dict, or
{"model": ..., "optimizer": ..., "step": 5}) is stored as its arrays plus a JSON description of the
structure, and comes back the same. Arrays come back bit for bit, in their own dtype.

>>> import os, tempfile
>>> from tinygrad_nn import load, save
>>> from tinygrad_nn.nn import MLP
>>> net = MLP(12, [3, 2], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> save(net.state_dict(), path)
>>> twin = MLP(12, [3, 2], seed=1)
>>> twin.load_state_dict(load(path))
IncompatibleKeys(missing_keys=[], unexpected_keys=[])
>>> all((p.data == q.data).all() for p, q in zip(net.parameters(), twin.parameters()))
True
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib

import numpy as np

from ._files import fsync_folder, temp_file_beside
from .safetensors_file import SUFFIX as SAFETENSORS
from .safetensors_file import load_safetensors, save_safetensors

# The member that describes a structured object (absent for a plain name -> array dict).
STRUCTURE = "__tinygrad_nn_structure__"
# Array dtypes that .npy stores without pickling: booleans, integers, floats, complex, fixed-width strings.
_PLAIN_KINDS = "biufcSU"


def _array(x, where):
    from .engine import Value

    if isinstance(x, Value):
        x = x.data
    arr = np.asarray(x)
    if arr.dtype.kind not in _PLAIN_KINDS:
        raise TypeError(f"save: {where} is an array of dtype {arr.dtype}; only arrays of numbers (or strings) are "
                        f"saved, since anything else would need pickle, and loading a pickle can run code")
    return arr


def _is_state_dict(obj) -> bool:
    from .engine import Value

    return (isinstance(obj, dict) and
            all(isinstance(k, str) and isinstance(v, (np.ndarray, np.generic, Value)) for k, v in obj.items()))


def _encode(obj, where, arrays):
    """The JSON description of obj; its arrays go into `arrays` under names made from their place in obj."""
    from .engine import Value

    if isinstance(obj, Value):
        obj = obj.data
    if obj is None or isinstance(obj, (bool, str)):
        return {"value": obj}
    if isinstance(obj, int) and not isinstance(obj, bool):
        return {"value": int(obj)}
    if isinstance(obj, float):  # JSON writes a float's repr, which reads back bit for bit (NaN and inf too)
        return {"value": obj}
    if isinstance(obj, (np.ndarray, np.generic)):
        name = where or "array"
        while name in arrays or name == STRUCTURE:
            name += "'"
        arrays[name] = _array(obj, where or "the object")
        return {"array": name}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"save: the dict at {where or 'the top'} has a key {k!r} of type {type(k).__name__}; "
                                f"keys must be strings or integers")
            k = k if isinstance(k, str) else int(k)
            items.append([k, _encode(v, f"{where}/{k}" if where else str(k), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, f"{where}/{i}" if where else str(i), arrays) for i, v in enumerate(obj)]}
    raise TypeError(f"save: cannot store {type(obj).__name__} at {where or 'the top'}; save stores arrays, numbers, "
                    f"strings, None, and dicts, lists and tuples of them (a model's state_dict(), not the model)")


def _decode(node, arrays):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"unexpected entry {node!r} in the structure")
    (kind, body), = node.items()
    if kind == "value":
        return body
    if kind == "array":
        return arrays.pop(body)
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in body}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays) for v in body]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown kind {kind!r} in the structure")


def save(obj, path) -> None:
    """Write `obj` (a state_dict, or dicts, lists and tuples of arrays and plain values) to `path` as .npz,
    or, for a name ending in .safetensors, a state_dict in the safetensors format (safetensors_file.py).

    Atomic: the data goes to a temporary file in the same folder, which replaces `path` only once it is
    complete and flushed to disk."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path} is a folder; give a file name, e.g. {os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder} does not exist; create it first")
    if path.endswith(SAFETENSORS):
        return save_safetensors(obj, path)
    # Everything is converted and checked before the first byte is written.
    if _is_state_dict(obj):
        if STRUCTURE in obj:
            raise ValueError(f"save: the name {STRUCTURE!r} is reserved; rename that entry")
        arrays = {k: _array(v, repr(k)) for k, v in obj.items()}
    else:
        arrays = {}
        structure = json.dumps(_encode(obj, "", arrays)).encode()
        arrays[STRUCTURE] = np.frombuffer(structure, dtype=np.uint8)
    tmp = temp_file_beside(path)
    try:
        with open(tmp, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, arr in arrays.items():
                    with zf.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_folder(folder)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def _corrupt(path, detail):
    return ValueError(f"load: {path} is not a complete file written by tinygrad_nn.save (truncated or corrupt?): "
                      f"{detail}")


def load(path):
    """Read what `save` wrote: a dict of arrays for a state_dict, else the saved structure.

    Pickled content is never loaded (an object array is refused: unpickling can run code). A file that is
    not a .npz archive, or is truncated or corrupt, gets a ValueError that says so."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: {path} is a folder; give the file that tinygrad_nn.save wrote")
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise ValueError(f"load: {path} is not a regular file")
    if path.endswith(SAFETENSORS):
        return load_safetensors(path)
    with open(path, "rb") as f:  # a PermissionError here says what it should
        head = f.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ValueError(f"load: {path} is not a .npz archive (it starts with {head!r}); tinygrad_nn.load reads "
                         f"only files written by tinygrad_nn.save or numpy.savez")
    arrays = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise _corrupt(path, f"unexpected member {info.filename!r}")
                with zf.open(info) as member:
                    try:
                        arr = np.lib.format.read_array(member, allow_pickle=False)
                    except ValueError as e:
                        if "allow_pickle" in str(e) or "Object arrays" in str(e):
                            raise ValueError(f"load: {path} holds an object array ({info.filename[:-4]!r}); it is "
                                             f"refused, since reading it would unpickle, and unpickling can run "
                                             f"code. Save arrays of numbers instead") from None
                        raise
                arrays[info.filename[:-4]] = arr
    except ValueError as e:
        if str(e).startswith("load: "):
            raise
        raise _corrupt(path, e) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as e:
        raise _corrupt(path, e) from None
    if STRUCTURE not in arrays:
        return arrays
    raw = arrays.pop(STRUCTURE)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"its description has dtype {raw.dtype} and shape {raw.shape}")
        obj = _decode(json.loads(raw.tobytes().decode()), arrays)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise _corrupt(path, f"bad structure description: {e}") from None
    if arrays:
        raise _corrupt(path, f"arrays {sorted(arrays)} are not in its structure")
    return obj
