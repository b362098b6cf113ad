"""Creating tensors: from Python data, from NumPy arrays, and filled with constants or ranges.

``tensor`` always copies; ``from_numpy`` never does (the tensor and the array share memory).
Dtypes are inferred like ``torch.tensor``: Python floats -> the default dtype (float32), ints ->
int64, bools -> bool; NumPy arrays keep their dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from engine import dtypes, layout
from engine.dtypes import DType
from engine.ops.iterator import cast_array, empty_strided_copy
from engine.tensor import Device, Tensor

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def _python_leaves(data):
    """Every scalar in nested lists/tuples (0-d tensors count as their value)."""
    if isinstance(data, Tensor):
        yield from _python_leaves(data.tolist())
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _python_leaves(item)
    else:
        yield data


def _to_python(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, list | tuple):
        return [_to_python(item) for item in data]
    return data


def _infer_dtype(data) -> DType:
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.ndarray | np.generic):
        return dtypes.from_numpy_dtype(data.dtype)
    leaves = list(_python_leaves(data))
    for leaf in leaves:
        if not isinstance(leaf, bool | int | float | np.generic):
            raise TypeError(f"Could not infer dtype of {type(leaf).__name__}")
    if any(isinstance(leaf, float | np.floating) for leaf in leaves) or not leaves:
        return dtypes.get_default_dtype()
    if any(not isinstance(leaf, bool | np.bool_) for leaf in leaves):
        return dtypes.int64
    return dtypes.bool


def tensor(
    data: Tensor | ArrayLike,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, a number, a NumPy array, a tensor).

    Ragged lists raise ValueError, as in torch.
    """
    _check_device(device)
    inferred = _infer_dtype(data)
    if isinstance(data, Tensor):
        array = data._array()
    elif isinstance(data, np.ndarray | np.generic):
        array = np.asarray(data)
    else:
        array = np.array(_to_python(data), dtype=np.float64 if inferred.is_floating_point else None)
        if array.dtype == object:
            raise ValueError(f"could not build a tensor from {type(data).__name__}")
    target = dtype if dtype is not None else inferred
    if array.dtype.kind == "f" and not target.is_floating_point and target is not dtypes.bool:
        array = np.trunc(array)
    return Tensor._from_array(cast_array(array, target.numpy_dtype), requires_grad=requires_grad)


def _check_device(device) -> None:
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"engine tensors live on the CPU only, got device {device!r}")


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with ``array``: writes through either are seen by the other.

    Strides are kept (in elements), so a non-contiguous array gives a non-contiguous tensor.
    Negative strides raise ValueError, as in torch; copy the array first.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtype = dtypes.from_numpy_dtype(array.dtype)
    itemsize = array.itemsize
    if any(stride < 0 for stride in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making "
            "a copy of your array  with array.copy().) "
        )
    if any(stride % itemsize for stride in array.strides):
        raise ValueError(
            "given numpy array strides not a multiple of the element byte size. "
            "Copy the numpy array to reallocate the memory."
        )
    strides = tuple(stride // itemsize for stride in array.strides)
    if array.size == 0:
        extent = 0
    else:
        extent = 1 + sum(
            (size - 1) * stride for size, stride in zip(array.shape, strides, strict=True)
        )
    # A flat view of the memory the array spans, starting at its first element.
    storage = np.lib.stride_tricks.as_strided(array, shape=(extent,), strides=(itemsize,))
    assert storage.dtype == dtype.numpy_dtype
    return Tensor(storage, array.shape, strides)


def _filled(shape, value, dtype: DType, requires_grad: bool) -> Tensor:
    storage = np.full(layout.numel(shape), value, dtype=dtype.numpy_dtype)
    return Tensor(storage, shape, layout.contiguous_strides(shape), requires_grad=requires_grad)


def zeros(
    *size: int | Sequence[int],
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A contiguous tensor of zeros, ``zeros(2, 3)`` or ``zeros((2, 3))``; float32 by default."""
    _check_device(device)
    return _filled(
        layout.shape_from_args(size), 0, dtype or dtypes.get_default_dtype(), requires_grad
    )


def ones(
    *size: int | Sequence[int],
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A contiguous tensor of ones; float32 by default."""
    _check_device(device)
    return _filled(
        layout.shape_from_args(size), 1, dtype or dtypes.get_default_dtype(), requires_grad
    )


def empty(
    *size: int | Sequence[int],
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A contiguous tensor whose values are whatever the memory held (here: zeros)."""
    _check_device(device)
    return _filled(
        layout.shape_from_args(size), 0, dtype or dtypes.get_default_dtype(), requires_grad
    )


def empty_strided(
    size: Sequence[int], stride: Sequence[int], *, dtype: DType | None = None
) -> Tensor:
    """An uninitialized tensor with the given shape and (dense, non-negative) strides."""
    dtype = dtype if dtype is not None else dtypes.get_default_dtype()
    values = np.empty((), dtype=dtype.numpy_dtype)
    return empty_strided_copy(values, tuple(int(one) for one in size), tuple(stride))


def _scalar_dtype(value) -> DType:
    if isinstance(value, bool | np.bool_):
        return dtypes.bool
    if isinstance(value, int | np.integer):
        return dtypes.int64
    return dtypes.get_default_dtype()


def full(
    size: Sequence[int],
    fill_value: int | float | bool,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; dtype inferred from it like torch
    (``full((2,), 3)`` is int64, ``3.0`` float32, ``True`` bool)."""
    _check_device(device)
    dtype = dtype or _scalar_dtype(fill_value)
    value = cast_array(np.asarray(fill_value), dtype.numpy_dtype)
    return _filled(layout.shape_from_args((size,)), value, dtype, requires_grad)


def _like(tensor: Tensor, value, dtype: DType | None, requires_grad: bool) -> Tensor:
    # preserve_format: a dense input keeps its strides, others keep the order of their dims.
    dtype = dtype or tensor.dtype
    strides = layout.dense_strides_like(tensor.shape, tensor.stride())
    values = cast_array(np.asarray(value), dtype.numpy_dtype)
    result = empty_strided_copy(values, tensor.shape, strides)
    result.requires_grad = requires_grad
    return result


def zeros_like(
    tensor: Tensor, *, dtype: DType | None = None, requires_grad: bool = False
) -> Tensor:
    """Zeros with ``tensor``'s shape and dtype (and, like torch, its memory order)."""
    return _like(tensor, 0, dtype, requires_grad)


def ones_like(tensor: Tensor, *, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``tensor``'s shape and dtype."""
    return _like(tensor, 1, dtype, requires_grad)


def empty_like(
    tensor: Tensor, *, dtype: DType | None = None, requires_grad: bool = False
) -> Tensor:
    """An uninitialised (here: zero) tensor with ``tensor``'s shape and dtype."""
    return _like(tensor, 0, dtype, requires_grad)


def full_like(
    tensor: Tensor,
    fill_value: int | float | bool,
    *,
    dtype: DType | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``fill_value`` everywhere, with ``tensor``'s shape and dtype."""
    return _like(tensor, fill_value, dtype, requires_grad)


def arange(
    start: int | float,
    end: int | float | None = None,
    step: int | float = 1,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``start, start + step, ...`` up to but excluding ``end`` (``arange(n)`` is 0..n-1).

    All-integer arguments give int64, any float gives the default dtype.  Values are computed as
    ``start + i * step`` in float64 and then cast.
    """
    _check_device(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        arguments = (start, end, step)
        any_float = any(isinstance(value, float | np.floating) for value in arguments)
        dtype = dtypes.get_default_dtype() if any_float else dtypes.int64
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = max(0, math.ceil((end - start) / step))
    if dtype.is_floating_point:
        values = start + np.arange(count, dtype=np.float64) * step
    else:
        values = start + np.arange(count, dtype=np.int64) * step
    tensor = Tensor._from_array(cast_array(values, dtype.numpy_dtype))
    tensor.requires_grad = requires_grad
    return tensor


def linspace(
    start: int | float,
    end: int | float,
    steps: int,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 default).

    Like torch, the first half counts up from ``start`` and the second half down from ``end``,
    so both ends are exact.
    """
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or dtypes.get_default_dtype()
    if dtype is dtypes.bool and steps > 1:  # torch fills 0 or 1 steps without the kernel
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    index = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    halfway = steps // 2
    values = np.where(index < halfway, start + step * index, end - step * (steps - 1 - index))
    if steps == 1:
        values = np.full(1, start, dtype=np.float64)  # one step is the start, as in torch
    if not dtype.is_floating_point:
        values = np.trunc(values)
    tensor = Tensor._from_array(cast_array(values, dtype.numpy_dtype))
    tensor.requires_grad = requires_grad
    return tensor


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The ``(n, m)`` identity matrix (``m = n`` by default); float32 by default."""
    _check_device(device)
    dtype = dtype or dtypes.get_default_dtype()
    values = np.eye(n, n if m is None else m)
    tensor = Tensor._from_array(cast_array(values, dtype.numpy_dtype))
    tensor.requires_grad = requires_grad
    return tensor
