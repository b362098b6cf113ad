"""Indexing: ``tensor[index]`` and ``tensor[index] = value``, plus ``one_hot``.

Basic indices (ints, slices with positive steps, ``None``, ``...``) only change shape, strides
and offset, so they return views, applied left to right exactly as ATen's ``applySlicing`` does.
Advanced indices (integer tensors or lists, boolean masks) gather elements into a new tensor; we
let NumPy's fancy indexing do that, since its rules (index arrays broadcast together; their
result dims go first when they are separated by a slice) are the ones PyTorch follows.

Autograd: every way of reading elements is a *gather* (each result element reads one input
element), so every backward here is a *scatter-add* of the gradient into zeros shaped like the
input, at the same positions (:class:`ScatterAdd`); the two are each other's backward, which is
what makes double backward through indexing work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine import dtypes, layout
from engine.autograd import grad_mode
from engine.autograd.function import Function, set_tangent
from engine.autograd.inplace import check_inplace, check_no_internal_overlap, needs_history
from engine.ops import table
from engine.ops.iterator import empty_like_layout, empty_strided_copy
from engine.ops.table import zero_tangent
from engine.tensor import Tensor

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def getitem(tensor: Tensor, index: object) -> Tensor:
    """``tensor[index]``: a view for basic indices, a new tensor for advanced ones."""
    items = _index_items(index)
    if not any(_is_advanced(item) for item in items):
        return _basic_index(tensor, items, single=not isinstance(index, tuple))
    source = (tuple(tensor.shape), tuple(tensor.stride()), items)
    split = _integers_first(items)
    if split is not None:
        tensor = _basic_index(tensor, split[0])
        items = split[1]
    return Index.apply(tensor, _numpy_index(items), source)


def _index_items(index) -> tuple:
    """The index as a tuple, with 0-d integer tensors read as plain integers and a tuple inside
    it read as a list (``x[(0, 1), (1, 2)]`` picks two elements), as torch does."""
    items = index if isinstance(index, tuple) else (index,)
    return tuple(
        int(item) if _is_zero_dim_integer(item) else list(item) if isinstance(item, tuple) else item
        for item in items
    )


def _integers_first(items: tuple) -> tuple[tuple, tuple] | None:
    """PyTorch applies plain integers first, as selects, and only then the advanced indices,
    where NumPy would broadcast the integers with the arrays: ``x[0, :, [0, 1]]`` has shape
    ``(3, 2)`` in torch, ``(2, 3)`` in NumPy.  Returns the basic items to apply first and the
    advanced items to apply to that view, or None when the order makes no difference."""
    if not any(_is_integer(item) for item in items) or any(
        isinstance(item, bool | np.bool_) for item in items
    ):
        return None
    first = tuple(part for item in items for part in _first_pass(item))
    second = tuple(_second_pass(item) for item in items if not _is_integer(item))
    return first, second


def _is_integer(item) -> bool:
    return isinstance(item, int | np.integer) and not isinstance(item, bool | np.bool_)


_INTEGER_INDEX_DTYPES = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)


def _is_zero_dim_integer(item) -> bool:
    """A 0-d integer tensor index acts like a plain integer in PyTorch."""
    return isinstance(item, Tensor) and item.ndim == 0 and item.dtype in _INTEGER_INDEX_DTYPES


def _first_pass(item) -> tuple:
    """The basic part of an index item: integers and slices apply, advanced items keep their
    dims (a k-dimensional boolean mask keeps k dims)."""
    if _is_integer(item) or item is None or item is Ellipsis or isinstance(item, slice):
        return (item,)
    array = item._array() if isinstance(item, Tensor) else np.asarray(item)
    is_mask = array.dtype.kind == "b" or (isinstance(item, Tensor) and item.dtype is dtypes.uint8)
    return (slice(None),) * (array.ndim if is_mask else 1)


def _second_pass(item):
    """What is left of an index item once the basic part has been applied."""
    if item is None or isinstance(item, slice):
        return slice(None)
    return item


class Index(Function):
    """Advanced indexing (a gather into a new tensor); backward scatter-adds the gradient, so
    an element picked twice gets both gradients."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, numpy_index: tuple, source: tuple) -> Tensor:
        """``source`` is the original tensor's shape and strides and the index items: the
        result gets the strides torch's ``index`` would give it (see :func:`_torch_layout`)."""
        ctx.input_shape = tensor.shape
        ctx.numpy_index = numpy_index
        ctx.source = source
        values = _numpy_getitem(tensor._array(), numpy_index)
        shape, strides = _torch_layout(*source)
        if shape != values.shape or strides == layout.contiguous_strides(shape):
            return Tensor._from_array(values)
        return empty_strided_copy(values, shape, strides)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        positions = _positions(ctx.input_shape)[ctx.numpy_index]
        grad = ScatterAdd.apply(grad_output, positions, tuple(ctx.input_shape), False)
        return grad, None, None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        # A view or a gather is linear, so it is its own JVP: the same selection, of the
        # tangent (one tangent per forward argument; the others are not tensors).
        return Index.apply(tensor_t, ctx.numpy_index, ctx.source)


def _torch_layout(shape: tuple, strides: tuple, items: tuple) -> layout.Geometry:
    """Shape and strides of ``tensor[items]`` in torch (advanced indexing).

    Port of ``applySlicing`` on the geometry alone: every basic item is applied first, as a
    view, while the advanced ones are recorded per dim of that view (``recordTensorIndex``:
    a k-dim mask takes k dims but one slot; dims after the first index add empty slots).  Then
    ``expandTensors`` turns a mask into the columns of its ``nonzero()`` (each 1-D, stride 1:
    ``nonzero`` is column-major), and :func:`layout.advanced_index_strides` does the rest.
    """
    shape, strides = list(shape), list(strides)
    ndim = len(shape)
    specified = sum(_specified_dims(item) for item in items)
    indices: list = []  # outIndices: None, (shape, strides), or ("mask", count, ndim)
    dim = 0

    def record(index, width: int) -> None:
        nonlocal dim
        if not indices:
            indices.extend([None] * dim)
        indices.append(index)
        dim += width

    def unsqueeze() -> None:
        stride = 1 if dim >= len(shape) else shape[dim] * strides[dim]
        shape.insert(dim, 1)
        strides.insert(dim, stride)

    for item in items:
        if _is_integer(item):
            del shape[dim], strides[dim]
        elif isinstance(item, slice) or item is None or item is Ellipsis:
            width = ndim - specified if item is Ellipsis else 1
            if item is None:
                unsqueeze()
            elif isinstance(item, slice):
                start, stop, step = item.indices(shape[dim])
                shape[dim] = max(0, (stop - start + step - 1) // step)
                strides[dim] *= step
            dim += width
            if indices:
                indices.extend([None] * width)
        else:
            array, is_mask = _index_array(item)
            if array.ndim == 0:  # a bool: a new dim, indexed by [0] (True) or [] (False)
                unsqueeze()
                record(((1 if array else 0,), (1,)), 1)
            elif is_mask:
                record(("mask", int(np.count_nonzero(array)), array.ndim), array.ndim)
            elif isinstance(item, Tensor):
                record((tuple(item.shape), tuple(item.stride())), 1)
            else:  # a list becomes a new, contiguous tensor
                record((array.shape, layout.contiguous_strides(array.shape)), 1)
    expanded: list = []
    for index in indices:
        if index is not None and index[0] == "mask":
            expanded.extend([((index[1],), (1,))] * index[2])
        else:
            expanded.append(index)
    return layout.advanced_index_strides(shape, strides, expanded)


def _index_array(item) -> tuple[np.ndarray, bool]:
    """An advanced item's values and whether it is a mask (bool, or a uint8 tensor)."""
    if isinstance(item, Tensor):
        return item._array(), item.dtype is dtypes.bool or item.dtype is dtypes.uint8
    array = np.asarray(item)
    return array, array.dtype.kind == "b"


def _specified_dims(item) -> int:
    """The dims of the source an item consumes (``count_specified_dimensions``)."""
    if item is None or item is Ellipsis or isinstance(item, bool | np.bool_):
        return 0
    if isinstance(item, int | np.integer | slice):
        return 1
    array, is_mask = _index_array(item)
    return array.ndim if is_mask else 1


def _positions(shape) -> np.ndarray:
    """Each element's flat row-major index, shaped like the tensor."""
    return np.arange(layout.numel(shape), dtype=np.int64).reshape(shape)


class ScatterAdd(Function):
    """``(*positions.shape)`` values -> ``input_shape`` zeros with ``values[i]`` added at flat
    position ``positions[i]`` (negative positions are dropped).  The backward of every gather;
    its own backward is :class:`Gather`."""

    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, values: Tensor, positions: np.ndarray, input_shape: tuple, unique: bool):
        ctx.positions = positions
        ctx.input_shape_arg, ctx.unique = input_shape, unique
        flat = np.zeros(layout.numel(input_shape), dtype=values._storage.dtype)
        source = np.broadcast_to(values._array(), positions.shape)
        keep = positions >= 0
        if unique:
            flat[positions[keep]] = source[keep]
        else:
            np.add.at(flat, positions[keep], source[keep])
        return Tensor._from_array(flat.reshape(input_shape))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return Gather.apply(grad_output, ctx.positions), None, None, None

    @staticmethod
    def jvp(ctx, values_t: Tensor, *no_tangents) -> Tensor:
        return ScatterAdd.apply(values_t, ctx.positions, ctx.input_shape_arg, ctx.unique)


class Gather(Function):
    """``result[i] = input.flatten()[positions[i]]`` (0 where a position is negative); backward
    is :class:`ScatterAdd`."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, positions: np.ndarray) -> Tensor:
        ctx.positions = positions
        ctx.input_shape = tuple(tensor.shape)
        flat = np.ascontiguousarray(tensor._array()).reshape(-1)
        values = np.where(positions >= 0, flat[np.maximum(positions, 0)], 0)
        return Tensor._from_array(values.astype(flat.dtype))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return ScatterAdd.apply(grad_output, ctx.positions, ctx.input_shape, False), None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        return Gather.apply(tensor_t, ctx.positions)


class Alias(Function):
    """``t[...]`` / ``t[:]``: a new tensor object viewing the same elements."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        return tensor._view(tensor.shape, tensor.stride(), tensor.storage_offset())

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return grad_output

    @staticmethod
    def jvp(ctx, tensor_t: Tensor) -> Tensor:
        return Alias.apply(tensor_t)


class IndexPut(Function):
    """``tensor[index] = value`` recorded for autograd: ``base`` with ``value`` written at
    ``positions``.  The gradient of ``base`` is zero where it was overwritten; ``value`` gets the
    gradient gathered from those positions (summed over its broadcast dims)."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, base: Tensor, value: Tensor, positions: np.ndarray) -> Tensor:
        ctx.positions = positions
        if grad_mode.FORWARD_AD.active:  # what jvp needs for zero tangents
            ctx.base, ctx.value = base, value
        ctx.value_shape = value.shape
        result = Tensor._from_array(base._array())
        flat = result._array().reshape(-1)  # a fresh row-major tensor: reshape is a view
        flat[positions.reshape(-1)] = np.broadcast_to(value._array(), positions.shape).reshape(-1)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        keep = np.ones(grad_output.numel(), dtype=grad_output._storage.dtype)
        keep[ctx.positions.reshape(-1)] = 0
        mask = Tensor._from_array(keep.reshape(grad_output.shape))
        grad_base = grad_output * mask if ctx.needs_input_grad[0] else None
        grad_value = None
        if ctx.needs_input_grad[1]:
            gathered = Gather.apply(grad_output, ctx.positions)
            grad_value = gathered.sum_to_size(ctx.value_shape)
        return grad_base, grad_value, None

    @staticmethod
    def jvp(ctx, base_t: Tensor | None, value_t: Tensor | None, *no_tangents) -> Tensor:
        # Linear in (base, value): the same write, of the tangents.
        base_t = zero_tangent(ctx.base) if base_t is None else base_t
        value_t = zero_tangent(ctx.value) if value_t is None else value_t
        return IndexPut.apply(base_t, value_t, ctx.positions)


def select(tensor: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (that dim removed); a view."""
    if tensor.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = layout.wrap_dim(dim, tensor.ndim)
    return _select(tensor, dim, int(index), dim)


def setitem(tensor: Tensor, index: object, value: Tensor | ArrayLike) -> None:
    """``tensor[index] = value``: writes into the storage (views see it); ``value`` broadcasts to
    the indexed shape and is cast to ``tensor.dtype``."""
    items = _index_items(index)
    check_inplace(tensor, "setitem")
    if needs_history(tensor, value) or has_tangent(tensor, value):
        _setitem_with_history(tensor, items, value)  # an IndexPut node, and tangents
        return
    source = _value_array(value, tensor.dtype)
    with grad_mode.no_grad():
        _write(tensor, index, items, source)
    tensor._version_counter.bump()


def _setitem_with_history(tensor: Tensor, items: tuple, value) -> None:
    """``tensor[items] = value`` when the graph must record it: compute the new value with
    :class:`IndexPut` from a copy of the old one, then write it and rebase ``tensor``."""
    if not isinstance(value, Tensor):
        value = Tensor._from_array(_value_array(value, tensor.dtype))
    positions = _positions(tensor.shape)
    split = _integers_first(items)
    if split is not None:
        positions, items = positions[split[0]], split[1]
    positions = positions[_numpy_index(items)]
    _check_broadcastable(tuple(value.shape), positions.shape)
    if value.dtype is not tensor.dtype:
        value = value.to(tensor.dtype)
    result = IndexPut.apply(old_value(tensor), value, positions)
    rebase_history(tensor, result)


def _write(tensor: Tensor, index, items: tuple, source: np.ndarray) -> None:
    if any(_is_advanced(item) for item in items):
        split = _integers_first(items)
        if split is not None:
            tensor, items = _basic_index(tensor, split[0]), split[1]
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
    result = tensor
    dim = 0  # the dim of `result` the next item applies to
    position = 0  # the dim torch names in its error messages: it counts items, not dims
    for item in items:
        if item is None:
            result = result.unsqueeze(dim)
            dim += 1
        elif item is Ellipsis:
            dim += tensor.ndim - consuming
        elif isinstance(item, slice):
            # A full slice is skipped, as ATen does (no SliceBackward0 node for `t[:, 0]`).
            if not _is_full_slice(item, result.shape[dim]):
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
    return Alias.apply(result) if result is tensor else result


def _is_full_slice(item: slice, size: int) -> bool:
    return (
        item.start in (None, 0)
        and (item.stop is None or (isinstance(item.stop, int) and item.stop >= size))
        and item.step in (None, 1)
    )


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
    return Select.apply(tensor, dim, index % size)


class Select(Function):
    """``t[..., i, ...]``: one index along ``dim``, that dim removed (a view); backward
    scatters the gradient into zeros of the input's shape."""

    node_name = "SelectBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, dim: int, index: int) -> Tensor:
        if ctx is not None:  # None when backward reuses forward on a position tensor
            ctx.input_shape = tensor.shape
            ctx.arguments = (dim, index)
        shape = tensor.shape[:dim] + tensor.shape[dim + 1 :]
        strides = tensor.stride()[:dim] + tensor.stride()[dim + 1 :]
        offset = tensor.storage_offset() + index * tensor.stride()[dim]
        return tensor._view(shape, strides, offset)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        positions = Select.forward(None, _position_tensor(ctx.input_shape), *ctx.arguments)
        grad = ScatterAdd.apply(grad_output, positions._array(), tuple(ctx.input_shape), True)
        return grad, None, None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        return Select.apply(tensor_t, *ctx.arguments)


def _position_tensor(shape) -> Tensor:
    return Tensor._from_array(_positions(shape))


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
    return Slice.apply(tensor, dim, start, length, step)


class Slice(Function):
    """``t[..., start:stop:step, ...]`` along one dim (a view); backward scatters the gradient
    into zeros of the input's shape."""

    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, dim: int, start: int, length: int, step: int) -> Tensor:
        if ctx is not None:
            ctx.input_shape = tensor.shape
            ctx.arguments = (dim, start, length, step)
        shape, strides = list(tensor.shape), list(tensor.stride())
        shape[dim] = length
        offset = tensor.storage_offset() + start * strides[dim]
        strides[dim] *= step
        return tensor._view(shape, strides, offset)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        positions = Slice.forward(None, _position_tensor(ctx.input_shape), *ctx.arguments)
        grad = ScatterAdd.apply(grad_output, positions._array(), tuple(ctx.input_shape), True)
        return grad, None, None, None, None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        return Slice.apply(tensor_t, *ctx.arguments)


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


# ------------------------------------------------------- history of in-place writes (rebasing)
# A non-leaf modified in place gets a new grad_fn: the op that wrote it, computed from a copy of
# its old value.  When it is a view, the write changes its base too, so the base is rebased as
# well (torch's CopySlices): an index-put into the base, and the view a gather from it.  The
# checks that come first (a leaf that requires grad, overlapping memory) are in
# engine.autograd.inplace.
def old_value(tensor: Tensor) -> Tensor:
    """A copy of ``tensor``'s current values that sits where ``tensor`` sits in the graph (same
    grad_fn and output number): what an in-place op's backward may need after the write."""
    copy = empty_like_layout(tensor)
    copy._array()[...] = tensor._array()
    copy._grad_fn = tensor._grad_fn
    copy._output_nr = tensor._output_nr
    copy._requires_grad = tensor.requires_grad
    if tensor.requires_grad and tensor._grad_fn is None:
        copy._grad_accumulator = tensor._grad_accumulator
    copy._tangent = tensor._tangent  # forward mode: the old value's tangent too
    return copy


def rebase_history(tensor: Tensor, result: Tensor) -> None:
    """Make ``tensor`` hold ``result``'s values (written into its storage, version bumped) and
    take ``result``'s place in the graph.

    When ``tensor`` is a view, the write changes its base too, so the base is rebased as well
    (torch's CopySlices): the base's new value is "old base with the view's elements replaced
    by ``result``" (an :class:`~engine.ops.indexing.IndexPut` node), and the view becomes a
    gather from that new base.
    """
    base = tensor._base
    if base is None:
        tensor._array()[...] = result._array()
        tensor._version_counter.bump()
        tensor._grad_fn = result._grad_fn
        tensor._output_nr = result._output_nr
        tensor._requires_grad = result.requires_grad
        if result._tangent is not None:
            set_tangent(tensor, result._tangent)
        return
    positions = positions_in_base(tensor, base)
    new_base = IndexPut.apply(base, result, positions)
    tensor._array()[...] = result._array()
    tensor._version_counter.bump()
    for target, source in ((base, new_base), (tensor, Gather.apply(new_base, positions))):
        target._grad_fn = source._grad_fn
        target._output_nr = source._output_nr
        target._requires_grad = source.requires_grad
        if source._tangent is not None:
            set_tangent(target, source._tangent)
    tensor._view_version = tensor._version


def rebase_tangent(tensor: Tensor, tangent: Tensor | None) -> None:
    """Forward mode, for an in-place write that records no graph: ``tensor``'s new tangent is
    ``tangent`` (None: zero), and when ``tensor`` is a view, its base's tangent changes at the
    same elements, as its values did."""
    if tangent is None:
        tangent = zero_tangent(tensor)
    base = tensor._base
    if base is None:
        set_tangent(tensor, tangent)
        return
    positions = positions_in_base(tensor, base)
    base_tangent = zero_tangent(base) if base._tangent is None else base._tangent
    new_base_tangent = IndexPut.apply(base_tangent, tangent, positions)
    set_tangent(base, new_base_tangent)
    set_tangent(tensor, Gather.apply(new_base_tangent, positions))


def has_tangent(*values: object) -> bool:
    """Whether forward mode is on and some tensor among ``values`` (or a view's base) has a
    tangent, so that an in-place write must update tangents too."""
    if not grad_mode.FORWARD_AD.active:
        return False
    for value in values:
        if isinstance(value, Tensor) and (
            value._tangent is not None
            or (value._base is not None and value._base._tangent is not None)
        ):
            return True
    return False


def refresh_view_history(view: Tensor) -> None:
    """A view whose base was modified in place (through another view or itself) since its
    grad_fn was recorded reads the base's *current* graph: rebuild its history as a gather from
    the base (torch regenerates it the same way, as an as_strided of the base)."""
    base = view._base
    view._view_version = view._version
    if base is None or not base.requires_grad:
        return
    with grad_mode.enable_grad():
        source = Gather.apply(base, positions_in_base(view, base))
    view._grad_fn = source._grad_fn
    view._output_nr = source._output_nr
    view._requires_grad = True


def positions_in_base(view: Tensor, base: Tensor) -> np.ndarray:
    """For each element of ``view``, the flat (row-major) index of the ``base`` element that
    shares its memory; shaped like ``view``."""
    storage_size = base._storage.shape[0]
    owner = np.full(storage_size, -1, dtype=np.int64)
    owner_view = np.lib.stride_tricks.as_strided(
        owner[base.storage_offset() :],
        tuple(base.shape),
        tuple(stride * owner.itemsize for stride in base.stride()),
    )
    owner_view[...] = np.arange(base.numel()).reshape(tuple(base.shape))
    return np.lib.stride_tricks.as_strided(
        owner[view.storage_offset() :],
        tuple(view.shape),
        tuple(stride * owner.itemsize for stride in view.stride()),
    ).copy()


# The hand-written entries of the derivative table: indexing reads and writes elements by
# position, and each backward is the other member of the gather/scatter-add pair.
for _name, _function in (
    ("index", Index),
    ("select", Select),
    ("slice", Slice),
    ("alias", Alias),
    ("gather", Gather),
    ("scatter_add", ScatterAdd),
    ("index_put", IndexPut),
):
    table.register(_name, _function)
