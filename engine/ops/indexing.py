"""Indexing: ``tensor[index]`` and ``tensor[index] = value``, plus ``one_hot``.

Basic indices (ints, slices with positive steps, ``None``, ``...``) only change shape, strides
and offset, so they return views, applied left to right exactly as ATen's ``applySlicing`` does.
Advanced indices (integer tensors or lists, boolean masks) gather elements into a new tensor; we
let NumPy's fancy indexing do that, since its rules (index arrays broadcast together; their
result dims go first when they are separated by a slice) are the ones PyTorch follows.
"""

from __future__ import annotations

import numpy as np

from engine import dtypes
from engine.ops import shape as shape_ops
from engine.tensor import Tensor


def getitem(tensor: Tensor, index) -> Tensor:
    """``tensor[index]``: a view for basic indices, a new tensor for advanced ones."""
    items = index if isinstance(index, tuple) else (index,)
    if any(_is_advanced(item) for item in items):
        return Tensor._from_array(_numpy_getitem(tensor._array(), _numpy_index(items)))
    return _basic_index(tensor, items, single=not isinstance(index, tuple))


def setitem(tensor: Tensor, index, value) -> None:
    """``tensor[index] = value``: writes into the storage (views see it); ``value`` broadcasts to
    the indexed shape and is cast to ``tensor.dtype``."""
    items = index if isinstance(index, tuple) else (index,)
    source = _value_array(value, tensor.dtype)
    if any(_is_advanced(item) for item in items):
        target_array = tensor._array()
        numpy_index = _numpy_index(items)
        selected_shape = _numpy_getitem(target_array, numpy_index).shape
        _check_broadcastable(source.shape, selected_shape)
        target_array[numpy_index] = source
    else:
        target = _basic_index(tensor, items, single=not isinstance(index, tuple))
        check_no_internal_overlap(target)
        _check_broadcastable(source.shape, tuple(target.shape))
        target._array()[...] = source
    tensor._version_counter.bump()


def check_no_internal_overlap(tensor: Tensor) -> None:
    """In-place writes must not hit one memory location twice (an expanded dim, stride 0)."""
    for size, stride in zip(tensor.shape, tensor.stride(), strict=True):
        if size > 1 and stride == 0:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )


def _check_broadcastable(value_shape: tuple, target_shape: tuple) -> None:
    try:
        np.broadcast_shapes(value_shape, target_shape)
        compatible = np.broadcast_shapes(value_shape, target_shape) == tuple(target_shape)
    except ValueError:
        compatible = False
    if not compatible:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast to "
            f"indexing result of shape {list(target_shape)}"
        )


def _value_array(value, dtype) -> np.ndarray:
    if isinstance(value, Tensor):
        array = value._array()
        if value.dtype is dtypes.bfloat16 or dtype is dtypes.bfloat16:
            array = array.astype(np.float32)
        return array.astype(dtype.numpy_dtype)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"can't assign a {type(value).__name__} to a {dtype} tensor")
    return array.astype(dtype.numpy_dtype)


def _is_advanced(item) -> bool:
    if isinstance(item, Tensor | list | np.ndarray):
        return True
    return isinstance(item, bool | np.bool_)


def _basic_index(tensor: Tensor, items: tuple, single: bool = False) -> Tensor:
    """Apply ints, slices, None and Ellipsis left to right, as ATen's applySlicing does.

    ``single`` says the index was one item rather than a tuple, which only changes the error
    raised for a 0-d tensor (torch checks a tuple's length first).
    """
    if single and tensor.ndim == 0:
        _check_zero_dim_single(items[0])
    consuming = sum(1 for item in items if item is not None and item is not Ellipsis)
    if sum(1 for item in items if item is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consuming > tensor.ndim:
        raise IndexError(f"too many indices for tensor of dimension {tensor.ndim}")
    result = tensor._view(tensor.shape, tensor.stride(), tensor.storage_offset())
    dim = 0  # the dim of `result` the next item applies to
    position = 0  # the dim torch names in its error messages: it counts items, not dims
    for item in items:
        if item is None:
            result = shape_ops.unsqueeze(result, dim)
            dim += 1
        elif item is Ellipsis:
            dim += tensor.ndim - consuming
        elif isinstance(item, slice):
            result = _slice(result, dim, item)
            dim += 1
        elif isinstance(item, int | np.integer):
            result = _select(result, dim, int(item), position)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(item).__name__})"
            )
        position += 1
    return result


def _check_zero_dim_single(item) -> None:
    if isinstance(item, int | np.integer):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
            "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
        )
    if isinstance(item, slice):
        _check_step(item)
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")


def _select(tensor: Tensor, dim: int, index: int, position: int) -> Tensor:
    size = tensor.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"index {index} is out of bounds for dimension {position} with size {size}"
        )
    index %= size
    shape = tensor.shape[:dim] + tensor.shape[dim + 1 :]
    strides = tensor.stride()[:dim] + tensor.stride()[dim + 1 :]
    offset = tensor.storage_offset() + index * tensor.stride()[dim]
    return tensor._view(shape, strides, offset)


def _check_step(item: slice) -> int:
    step = 1 if item.step is None else int(item.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if step < 0:
        raise ValueError("step must be greater than zero")
    return step


def _slice(tensor: Tensor, dim: int, item: slice) -> Tensor:
    step = _check_step(item)
    size = tensor.shape[dim]
    start, stop, _ = slice(item.start, item.stop, step).indices(size)
    length = max(0, (stop - start + step - 1) // step)
    shape, strides = list(tensor.shape), list(tensor.stride())
    shape[dim] = length
    offset = tensor.storage_offset() + start * strides[dim]
    strides[dim] *= step
    return tensor._view(shape, strides, offset)


def _numpy_index(items: tuple) -> tuple:
    """Translate index items to what NumPy's fancy indexing expects."""
    converted = []
    for item in items:
        if isinstance(item, Tensor):
            if item.dtype is dtypes.bool or item.dtype is dtypes.uint8:
                converted.append(item._array().astype(np.bool_))
            elif item.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            else:
                converted.append(item._array().astype(np.int64))
        elif isinstance(item, list):
            array = np.asarray(item)
            if array.size == 0:
                array = array.astype(np.int64)  # torch reads [] as an empty int64 index
            if array.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            converted.append(array if array.dtype.kind == "b" else array.astype(np.int64))
        elif isinstance(item, slice) and item.step is not None and item.step < 0:
            raise ValueError("step must be greater than zero")
        elif isinstance(item, float):
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got float)"
            )
        else:
            converted.append(item)
    return tuple(converted)


def _numpy_getitem(array: np.ndarray, numpy_index: tuple) -> np.ndarray:
    try:
        return np.asarray(array[numpy_index])
    except IndexError as error:
        # NumPy says "axis"; PyTorch says "dimension".
        raise IndexError(str(error).replace("axis", "dimension")) from None


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``(*shape)`` int64 class indices -> ``(*shape, num_classes)`` int64 with a 1 at each index.

    ``num_classes=-1`` uses ``tensor.max() + 1``.
    """
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor._array()
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(values.max()) + 1
    if values.size > 0:
        if values.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if values.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    result = np.zeros((*values.shape, num_classes), dtype=np.int64)
    np.put_along_axis(result, values[..., None], 1, axis=-1)
    return Tensor._from_array(result)
