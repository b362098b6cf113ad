"""``engine.save`` / ``engine.load``: checkpoints in a format that cannot run code.

``torch.save`` pickles, and unpickling a file can run any code in it (which is why
``torch.load`` now defaults to ``weights_only=True``).  Here a checkpoint is a NumPy ``.npz``
archive (a zip file) holding

- ``structure``: a JSON document (stored as bytes) describing the saved object: nested dicts
  (``OrderedDict`` too), lists and tuples, numbers, strings, booleans, None, dtypes, and
  tensors by reference;
- ``tensor_0``, ``tensor_1``, ...: each tensor's values, read back with
  ``allow_pickle=False``.  bfloat16, which ``.npy`` files cannot name, is stored as its raw
  ``uint16`` bits and the JSON records the dtype.

Loading only parses JSON and reads plain arrays.  Each tensor is saved as a contiguous copy:
two saved views of one storage load as two separate tensors.
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
from engine.ops.creation import from_numpy
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
    arrays: dict[str, np.ndarray] = {}
    structure = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays)}
    document = json.dumps(structure).encode("utf-8")
    arrays["structure"] = np.frombuffer(document, dtype=np.uint8)
    if isinstance(f, str | os.PathLike):
        # np.savez would append ".npz" to a path; writing to an open file keeps the name.
        with open(f, "wb") as file:
            np.savez(file, **arrays)
    else:
        np.savez(f, **arrays)


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The JSON node for ``value``; tensors' values go into ``arrays``."""
    if isinstance(value, Tensor):
        name = f"tensor_{len(arrays)}"
        values = value.detach().contiguous().numpy()
        stored_as = _STORED_AS.get(value.dtype.name)
        arrays[name] = values.view(stored_as) if stored_as else values
        return {
            "tensor": name,
            "dtype": value.dtype.name,
            "shape": list(value.shape),
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
        items = [[key, _encode(item, arrays)] for key, item in value.items()]
        return {"dict": items, "ordered": isinstance(value, OrderedDict)}
    if isinstance(value, list | tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(item, arrays) for item in value]}
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
            return _decode(structure.get("root"), archive)
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


def _decode(node: Any, archive: np.lib.npyio.NpzFile) -> Any:
    """The value a JSON node of :func:`_encode` describes."""
    if not isinstance(node, dict) or len(node) == 0:
        raise _CorruptFile(f"malformed node {node!r}")
    if "tensor" in node:
        return _decode_tensor(node, archive)
    if "value" in node:
        value = node["value"]
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise _CorruptFile(f"malformed value {value!r}")
        return value
    if "dtype" in node:
        return _DTYPES[node["dtype"]]
    if "dict" in node:
        items = [(key, _decode(item, archive)) for key, item in node["dict"]]
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if "list" in node:
        return [_decode(item, archive) for item in node["list"]]
    if "tuple" in node:
        return tuple(_decode(item, archive) for item in node["tuple"])
    raise _CorruptFile(f"malformed node {node!r}")


def _decode_tensor(node: dict, archive: np.lib.npyio.NpzFile) -> Tensor:
    dtype = _DTYPES.get(node.get("dtype"))
    if dtype is None:
        raise _CorruptFile(f"unknown dtype {node.get('dtype')!r}")
    array = archive[node["tensor"]]
    stored_as = np.dtype(_STORED_AS.get(dtype.name, dtype.numpy_dtype))
    shape = tuple(node["shape"])
    if array.dtype != stored_as or array.shape != shape:
        raise _CorruptFile(
            f"{node['tensor']} holds {array.dtype} {array.shape}, expected {dtype.name} {shape}"
        )
    tensor = from_numpy(array.view(dtype.numpy_dtype))
    if node.get("requires_grad"):
        tensor.requires_grad_(True)
    return tensor
