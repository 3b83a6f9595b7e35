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
import struct
import zipfile
import zlib

import numpy as np

from ._files import replacing, write_target
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
    complete and flushed to disk. When `path` is a symbolic link, the file it leads to is the one replaced
    (the link stays), as with np.save and torch.save.

    >>> import os, tempfile
    >>> from tinygrad_nn import load, save
    >>> from tinygrad_nn.nn import Layer
    >>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
    >>> save(Layer(3, 2, seed=0).state_dict(), path)
    >>> sorted(load(path))
    ['bias', 'weight']
    """
    name = os.fspath(path)  # the format goes by the name given, a link's target wherever it leads
    path = write_target(name)
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path} is a folder; give a file name, e.g. {os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder} does not exist; create it first")
    if name.endswith(SAFETENSORS):
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
    with replacing(path) as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def _corrupt(path, detail):
    return ValueError(f"load: {path} is not a complete file written by tinygrad_nn.save (truncated or corrupt?): "
                      f"{detail}")


# The largest ratio of a member's size to its compressed size that deflate can reach (about 1032:1), with room
# for a small member's headers: a member claiming more is a crafted file, refused before it is inflated.
_MAX_DEFLATE_RATIO = 1100


def load(path):
    """Read what `save` wrote: a dict of arrays for a state_dict, else the saved structure.

    Pickled content is never loaded (an object array is refused: unpickling can run code). Every file that
    is not one `save` (or numpy.savez) could have written gets a ValueError that says what is wrong with it: not a
    .npz archive, truncated, corrupt (a flipped bit is caught by the zip's checksums, the count of its
    members, or the sizes its headers declare), encrypted, or crafted to claim more than it holds. Nothing a
    header claims is allocated before it is checked against the bytes that are there.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "bad.npz")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"PK\\x03\\x04 not really a zip")
    >>> load(path)                                           # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: load: ... is not a complete file written by tinygrad_nn.save (truncated or corrupt?): ...

    >>> path = os.path.join(tempfile.mkdtemp(), "checkpoint.npz")
    >>> save({"step": 200, "lr": 0.2, "weights": [1.0, 2.0]}, path)
    >>> load(path)["step"]
    200
    """
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
        with open(path, "rb") as f, zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            _check_directory(f, infos)
            for info in infos:
                name = info.filename[:-4] if info.filename.endswith(".npy") else None
                if name is None:
                    raise ValueError(f"unexpected member {info.filename!r}")
                if name in arrays:
                    raise ValueError(f"the member {info.filename!r} appears twice")
                arrays[name] = _read_member(zf, info, path)
    except ValueError as e:
        if str(e).startswith("load: "):
            raise
        raise _corrupt(path, e) from None
    # What zipfile and numpy raise on damaged bytes, each of them: an encrypted flag (RuntimeError), an
    # unknown version or compression (NotImplementedError), a bad header field (struct.error)...
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, RuntimeError, NotImplementedError,
            struct.error, UnicodeDecodeError, OverflowError, MemoryError, TypeError, IndexError) as e:
        raise _corrupt(path, f"{type(e).__name__}: {e}") from None
    if STRUCTURE not in arrays:
        return arrays
    raw = arrays.pop(STRUCTURE)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"its description has dtype {raw.dtype} and shape {raw.shape}")
        obj = _decode(json.loads(raw.tobytes().decode()), arrays)
    except RecursionError:
        raise _corrupt(path, "bad structure description: nested too deeply to read") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise _corrupt(path, f"bad structure description: {e}") from None
    if arrays:
        raise _corrupt(path, f"arrays {sorted(arrays)} are not in its structure")
    return obj


def _check_directory(f, infos):
    """The zip's central directory read whole: as many members as its end record counts (a flipped length
    field would otherwise swallow members into a comment, and a file would load as a smaller dict), and
    every member's bytes inside the file."""
    declared = _declared_members(f)
    if declared != len(infos):
        raise ValueError(f"its end record counts {declared} members, its directory lists {len(infos)}")
    size = f.seek(0, os.SEEK_END)
    for info in infos:
        if info.header_offset + info.compress_size > size:
            raise ValueError(f"the member {info.filename!r} claims {info.compress_size} bytes at offset "
                             f"{info.header_offset}, past the end of the {size}-byte file")
        if info.flag_bits & 0x1:
            raise ValueError(f"the member {info.filename!r} is marked encrypted; save never encrypts")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise ValueError(f"the stored member {info.filename!r} declares {info.file_size} bytes but "
                                 f"occupies {info.compress_size}")
        elif info.compress_type == zipfile.ZIP_DEFLATED:  # numpy.savez_compressed
            if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
                raise ValueError(f"the member {info.filename!r} claims to inflate {info.compress_size} bytes "
                                 f"into {info.file_size}, more than deflate can")
        else:
            raise ValueError(f"the member {info.filename!r} uses compression method {info.compress_type}; "
                             f"only stored and deflated members are read")


def _declared_members(f) -> int:
    """The member count in the zip's end-of-central-directory record (its zip64 record when it has one)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - (22 + 65535)))
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ValueError("no end-of-central-directory record")
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if count == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":  # the zip64 locator
        (offset,) = struct.unpack("<Q", tail[at - 12:at - 4])
        f.seek(offset)
        record = f.read(56)
        if len(record) != 56 or record[:4] != b"PK\x06\x06":
            raise ValueError("the zip64 end record is missing")
        (count,) = struct.unpack("<Q", record[32:40])
    return count


def _read_member(zf, info, path):
    """One .npy member as an array. Its header is read and checked against the member's size before the
    array is made, so a header that declares 10**12 elements is refused, not allocated."""
    name = info.filename[:-4]
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"the member {info.filename!r} is a .npy file of version {version}, not 1.0 or 2.0")
        if dtype.hasobject:
            raise ValueError(f"load: {path} holds an object array ({name!r}); it is refused, since reading it would "
                             f"unpickle, and unpickling can run code. Save arrays of numbers instead")
        if dtype.kind not in _PLAIN_KINDS or dtype.itemsize == 0:
            raise ValueError(f"the member {info.filename!r} has dtype {dtype}, not an array of numbers or strings")
        count = 1
        for n in shape:
            count *= n
        nbytes, header = count * dtype.itemsize, member.tell()
        if header + nbytes != info.file_size:
            raise ValueError(f"the member {info.filename!r} declares shape {shape} of dtype {dtype} ({nbytes} "
                             f"bytes) but holds {info.file_size - header}")
        buffer = bytearray(nbytes)
        view, filled = memoryview(buffer), 0
        while filled < nbytes:
            got = member.readinto(view[filled:])
            if not got:
                raise EOFError(f"the member {info.filename!r} ends after {filled} of its {nbytes} bytes")
            filled += got
        if member.read(1):  # (reading to the end also checks the member's CRC)
            raise ValueError(f"the member {info.filename!r} holds more than its header declares")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order="F" if fortran else "C")
