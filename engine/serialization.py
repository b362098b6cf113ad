"""``engine.save`` / ``engine.load``: checkpoints in a format that cannot run code.

``torch.save`` pickles, and unpickling a file can run any code in it (which is why
``torch.load`` now defaults to ``weights_only=True``).  Here a checkpoint is a NumPy ``.npz``
archive (a zip file) holding

- ``structure``: a JSON document (stored as bytes) describing the saved object: nested dicts
  (``OrderedDict`` too), lists and tuples, numbers, strings, booleans, None, dtypes, and
  tensors as *storage + shape + strides + offset* (chapter 2's view of a tensor);
- ``storage_0``, ``storage_1``, ...: each storage's elements, read back with
  ``allow_pickle=False``.  bfloat16, which ``.npy`` files cannot name, is stored as its raw
  ``uint16`` bits and the JSON records the dtype.

As with ``torch.save``, tensors that share a storage (a tensor and its views) share it again
after loading, with their strides; and saving a small view writes its *whole* storage (save
``view.clone()`` to write only its elements).  Loading only parses JSON, reads plain arrays
and checks that every view stays inside its storage.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from engine import dtypes
from engine.dtypes import DType
from engine.tensor import Tensor

__all__ = ["load", "save"]

FORMAT = "engine.save"
VERSION = 1
_DTYPES = {dtype.name: dtype for dtype in dtypes.all_dtypes}
# Dtypes whose .npy form is not their own: stored as raw bits of a plain integer type.
_STORED_AS = {"bfloat16": np.uint16}


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, numbers, strings,
    booleans, None and dtypes) to the path or binary file ``f``."""
    storages: dict[int, tuple[str, np.ndarray]] = {}
    structure = {"format": FORMAT, "version": VERSION, "root": _encode(obj, storages)}
    arrays = dict(storages.values())
    arrays["structure"] = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    if isinstance(f, str | os.PathLike):
        # np.savez would append ".npz" to a path; writing to an open file keeps the name.
        with open(f, "wb") as file:
            np.savez(file, **arrays)
    else:
        np.savez(f, **arrays)


def _encode(value: Any, storages: dict[int, tuple[str, np.ndarray]]) -> Any:
    """The JSON node for ``value``; each tensor's storage goes into ``storages`` once."""
    if isinstance(value, Tensor):
        storage = value.untyped_storage()
        if id(storage) not in storages:
            stored_as = _STORED_AS.get(value.dtype.name)
            storages[id(storage)] = (
                f"storage_{len(storages)}",
                storage.view(stored_as) if stored_as else storage,
            )
        return {
            "tensor": storages[id(storage)][0],
            "dtype": value.dtype.name,
            "shape": list(value.shape),
            "stride": list(value.stride()),
            "offset": value.storage_offset(),
            "requires_grad": value.requires_grad,
        }
    if value is None or isinstance(value, bool | int | float | str):
        return {"value": value}
    if isinstance(value, DType):
        return {"dtype": value.name}
    if isinstance(value, dict):
        for key in value:
            if not (key is None or isinstance(key, bool | int | float | str)):
                raise TypeError(
                    f"engine.save: dict keys must be str, int, float, bool or None, got "
                    f"{type(key).__name__}"
                )
        items = [[key, _encode(item, storages)] for key, item in value.items()]
        return {"dict": items, "ordered": isinstance(value, OrderedDict)}
    if isinstance(value, list | tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(item, storages) for item in value]}
    raise TypeError(
        f"engine.save cannot store a {type(value).__name__}: only tensors, dicts, lists, "
        "tuples, numbers, strings, booleans, None and dtypes"
    )


class _CorruptFile(Exception):
    """The archive opened but its content is not what :func:`save` writes."""


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None) -> Any:
    """Read back what :func:`save` wrote to the path or binary file ``f``.  A file that is
    not such a checkpoint (truncated, corrupted, or another format) raises a RuntimeError
    that says so; nothing in the file is ever executed."""
    if map_location is not None and str(map_location) != "cpu":
        raise RuntimeError(f"engine tensors live on the CPU only, got {map_location!r}")
    name = os.fspath(f) if isinstance(f, str | os.PathLike) else getattr(f, "name", "<file>")
    try:
        with np.load(f, allow_pickle=False) as archive:
            if "structure" not in archive.files:
                raise _CorruptFile("no structure record")
            structure = json.loads(archive["structure"].tobytes().decode("utf-8"))
            if not isinstance(structure, dict) or structure.get("format") != FORMAT:
                raise _CorruptFile("not written by engine.save")
            if structure.get("version") != VERSION:
                raise _CorruptFile(f"unknown format version {structure.get('version')!r}")
            return _decode(structure.get("root"), archive, {})
    except FileNotFoundError:
        raise
    except (
        _CorruptFile,
        OSError,
        EOFError,
        ValueError,
        KeyError,
        TypeError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as error:
        raise RuntimeError(
            f"engine.load: {name} is not a valid engine checkpoint or is corrupted "
            f"({type(error).__name__}: {error})"
        ) from error


def _decode(node: Any, archive: np.lib.npyio.NpzFile, storages: dict) -> Any:
    """The value a JSON node of :func:`_encode` describes; ``storages`` caches the arrays
    read so far, so that views of one storage share it again."""
    if not isinstance(node, dict) or len(node) == 0:
        raise _CorruptFile(f"malformed node {node!r}")
    if "tensor" in node:
        return _decode_tensor(node, archive, storages)
    if "value" in node:
        value = node["value"]
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise _CorruptFile(f"malformed value {value!r}")
        return value
    if "dtype" in node:
        return _DTYPES[node["dtype"]]
    if "dict" in node:
        items = [(key, _decode(item, archive, storages)) for key, item in node["dict"]]
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if "list" in node:
        return [_decode(item, archive, storages) for item in node["list"]]
    if "tuple" in node:
        return tuple(_decode(item, archive, storages) for item in node["tuple"])
    raise _CorruptFile(f"malformed node {node!r}")


def _decode_tensor(node: dict, archive: np.lib.npyio.NpzFile, storages: dict) -> Tensor:
    dtype = _DTYPES.get(node.get("dtype"))
    if dtype is None:
        raise _CorruptFile(f"unknown dtype {node.get('dtype')!r}")
    name = node["tensor"]
    if name not in storages:
        array = archive[name]
        stored_as = np.dtype(_STORED_AS.get(dtype.name, dtype.numpy_dtype))
        if array.dtype != stored_as or array.ndim != 1:
            raise _CorruptFile(f"{name} holds {array.dtype} {array.shape}, expected 1-D {dtype}")
        storages[name] = array.view(dtype.numpy_dtype)
    storage = storages[name]
    if storage.dtype != dtype.numpy_dtype:
        raise _CorruptFile(f"{name} is read as two dtypes")
    shape, stride, offset = node["shape"], node["stride"], node["offset"]
    numbers = [*shape, *stride, offset]
    if len(shape) != len(stride) or not all(type(n) is int and n >= 0 for n in numbers):
        raise _CorruptFile(f"bad geometry {shape}, {stride}, {offset} for {name}")
    if 0 not in shape:
        last = offset + sum((size - 1) * step for size, step in zip(shape, stride, strict=True))
        if last >= storage.shape[0]:
            raise _CorruptFile(
                f"a view reads element {last} of {name}, which has {storage.shape[0]}"
            )
    # The Tensor constructor wraps the storage without copying: views share it again.
    tensor = Tensor(storage, shape, stride, offset)
    if node.get("requires_grad"):
        tensor.requires_grad_(True)
    return tensor
