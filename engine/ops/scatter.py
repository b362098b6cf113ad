"""Gather and scatter: ``gather``, ``take``, ``take_along_dim``, ``index_select``,
``masked_select`` read elements by index; ``scatter``, ``scatter_add``, ``scatter_reduce``,
``index_add``, ``index_copy``, ``index_fill``, ``index_put``, ``masked_fill``,
``masked_scatter`` write them (out of place, and in place with a trailing ``_``).

Every op here turns its indices into *flat positions* (the row-major index of each element it
reads or writes, computed with NumPy) and then uses indexing's three primitives
(:mod:`engine.ops.indexing`): :class:`Gather` (read at positions; backward scatter-adds),
:class:`ScatterAdd` (add at positions; backward gathers) and :class:`IndexPut` (overwrite at
positions; the overwritten elements get no gradient, the written values get it gathered).
The public ops are thin subclasses that carry torch's node names (``TakeBackward0`` ...), so
gradients and double backward come from the primitives.

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine import dtypes, layout
from engine.autograd import grad_mode
from engine.autograd.function import Function
from engine.ops import elementwise, table
from engine.ops.autocast import autocast_op
from engine.ops.indexing import Gather, IndexPut, ScatterAdd, getitem, setitem
from engine.ops.iterator import Operand, empty_strided_copy, wrap
from engine.ops.table import accepts_axis, zero_tangent
from engine.tensor import Tensor


# ------------------------------------------------------------------ positions from indices
def _positions(shape: Sequence[int]) -> np.ndarray:
    return np.arange(layout.numel(shape), dtype=np.int64).reshape(tuple(shape))


def _index_values(index: Tensor, name: str, int64_only: bool = False) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    allowed = (dtypes.int64,) if int64_only else (dtypes.int64, dtypes.int32)
    if index.dtype not in allowed:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return index._array().astype(np.int64)


def _along_dim(shape: tuple, dim: int, index: Tensor, name: str, int64_only: bool) -> np.ndarray:
    """Flat positions for gather/scatter: element ``p`` of ``index`` names the element of a
    tensor of ``shape`` at ``p`` with coordinate ``dim`` replaced by ``index[p]``."""
    values = _index_values(index, name, int64_only)
    ndim = max(len(shape), 1)
    if max(index.ndim, 1) != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    shape1, values1 = tuple(shape) or (1,), values.reshape(values.shape or (1,))
    for axis in range(ndim):
        if axis != dim and values1.shape[axis] > shape1[axis]:
            raise RuntimeError(
                f"Size does not match at dimension {axis} expected index {list(index.shape)} to "
                f"be no larger than self {list(shape)} apart from dimension {dim}"
            )
    bad = (values1 < 0) | (values1 >= shape1[dim])
    if bad.any():
        raise RuntimeError(
            f"index {int(values1[bad][0])} is out of bounds for dimension {dim} with size "
            f"{shape1[dim]}"
        )
    window = tuple(
        slice(None) if axis == dim else slice(0, values1.shape[axis]) for axis in range(ndim)
    )
    positions = np.take_along_axis(_positions(shape1)[window], values1, axis=dim)
    return positions.reshape(values.shape)


def _select_positions(shape: tuple, dim: int, index: Tensor, name: str) -> np.ndarray:
    """Flat positions of the slices ``index`` picks along ``dim`` (index_select, index_add,
    index_copy, index_fill).  Only index_fill accepts negative indices, as in torch."""
    values = _index_values(index, name)
    if values.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    size = shape[dim] if shape else 1
    values = values.reshape(-1)
    low = -size if name == "index_fill" else 0
    bad = (values < low) | (values >= size)
    if bad.any():
        if name in ("index_select", "index_add"):
            raise IndexError("index out of range in self")
        prefix = "index_copy_(): " if name == "index_copy" else ""
        raise IndexError(
            f"{prefix}index {int(values[bad][0])} is out of bounds for dimension {dim} with "
            f"size {size}"
        )
    return np.take(_positions(tuple(shape) or (1,)), values % max(size, 1), axis=dim)


def _like(input: Tensor, result: Tensor) -> Tensor:
    """``result`` (contiguous) laid out in ``input``'s memory order, as torch's clone is."""
    strides = layout.dense_strides_like(input.shape, input.stride())
    if strides == tuple(result.stride()):
        return result
    return empty_strided_copy(result._array(), result.shape, strides)


# ------------------------------------------------------------------------------ reading
class GatherDim(Gather):
    """``gather``/``take_along_dim`` (torch records both as GatherBackward0)."""

    node_name = "GatherBackward0"


class Take(Gather):
    """``take``: elements of the flattened input."""

    node_name = "TakeBackward0"


class MaskedSelect(Gather):
    """``masked_select``: the elements where a mask is True."""

    node_name = "MaskedSelectBackward0"


class IndexSelect(Gather):
    """``index_select``: whole slices along a dim."""

    node_name = "IndexSelectBackward0"


@accepts_axis
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``result[p] = input[p with coordinate dim replaced by index[p]]``: shape of ``index``,
    which must have ``input``'s number of dims and be no larger outside ``dim``."""
    dim = layout.wrap_dim(dim, input.ndim)
    positions = _along_dim(tuple(input.shape), dim, index, "gather", False)
    return GatherDim.apply(input, positions)


@accepts_axis
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """:func:`gather` after broadcasting ``input`` and ``indices`` outside ``dim``; with
    ``dim`` None, of the flattened tensors."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    dim = layout.wrap_dim(dim, input.ndim)
    if input.ndim != indices.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            "dimensions for indices"
        )
    outer = layout.broadcast_shapes(
        tuple(size for axis, size in enumerate(input.shape) if axis != dim),
        tuple(size for axis, size in enumerate(indices.shape) if axis != dim),
    )

    def sized(tensor: Tensor) -> Tensor:
        shape = list(outer)
        shape.insert(dim, tensor.shape[dim])
        return tensor.expand(shape)

    return gather(sized(input), dim, sized(indices))


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of ``input`` read as a 1-D tensor, at ``index`` (negative counts from the end);
    the result has ``index``'s shape."""
    values = _index_values(index, "take")
    count = input.numel()
    bad = (values < -count) | (values >= count)
    if bad.any():
        raise IndexError(
            f"out of range: tried to access index {int(values[bad][0])} on a tensor of {count} "
            "elements."
        )
    return Take.apply(input, values % max(count, 1))


@accepts_axis
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    dim = layout.wrap_dim(dim, input.ndim)
    if input.numel() == 0 or dim == 1:
        _check_empty_select(input, dim, index)
    positions = _select_positions(tuple(input.shape), dim, index, "index_select")
    return IndexSelect.apply(input, positions.reshape(_selected_shape(input, dim, index)))


def _check_empty_select(input: Tensor, dim: int, index: Tensor) -> None:
    """torch's checks of index_select on an empty tensor or along dim 1 (another kernel,
    with other errors)."""
    values = _index_values(index, "index_select").reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    if size == 0 and values.size:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    bad = (values < 0) | (values >= size)
    if bad.any():
        raise RuntimeError(
            f"INDICES element is out of DATA bounds, id={int(values[bad][0])} axis_dim={size}"
        )


def _selected_shape(input: Tensor, dim: int, index: Tensor) -> tuple:
    shape = list(input.shape)
    if shape:
        shape[dim] = index.numel()
    return tuple(shape)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (bool, broadcast with ``input``) is True, as a 1-D tensor."""
    _check_mask(mask, "masked_select")
    shape = layout.broadcast_shapes(input.shape, mask.shape)
    chosen = np.broadcast_to(mask._array(), shape)
    return MaskedSelect.apply(input.expand(shape), _positions(shape)[chosen])


# ------------------------------------------------------------------------------ writing
class _Overwrite(IndexPut):
    """An IndexPut whose result is laid out like its base (torch's ``clone`` keeping the
    memory format, then the write): index_fill and index_put.  The others (scatter,
    index_copy, masked_fill, masked_scatter) clone contiguously, as IndexPut does."""

    @staticmethod
    def forward(ctx, base: Tensor, value: Tensor, positions: np.ndarray) -> Tensor:
        return _like(base, IndexPut.forward(ctx, base, value, positions))


class Scatter(IndexPut):
    """``scatter`` with a source tensor."""

    node_name = "ScatterBackward0"


class ScatterValue(IndexPut):
    """``scatter`` with a number."""

    node_name = "ScatterBackward1"


class IndexCopy(IndexPut):
    """``index_copy``."""

    node_name = "IndexCopyBackward0"


class IndexFill(_Overwrite):
    """``index_fill``."""

    node_name = "IndexFillBackward0"


class MaskedFill(IndexPut):
    """``masked_fill``."""

    node_name = "MaskedFillBackward0"


class MaskedScatter(IndexPut):
    """``masked_scatter``."""

    node_name = "MaskedScatterBackward0"


class IndexPutOp(_Overwrite):
    """``index_put`` (without accumulate)."""

    node_name = "IndexPutBackward0"


class AddAt(Function):
    """``input`` with ``values`` added at flat ``positions`` (repeats add up): the gradient
    of ``input`` passes unchanged, ``values`` gets it gathered from the positions."""

    @staticmethod
    def forward(ctx, input: Tensor, values: Tensor, positions: np.ndarray) -> Tensor:
        ctx.positions = positions
        if grad_mode.FORWARD_AD.active:  # zero tangents need the shapes
            ctx.primals = (input, values)
        return input + ScatterAdd.apply(values, positions, tuple(input.shape), False)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad, Gather.apply(grad, ctx.positions), None

    @staticmethod
    def jvp(ctx, input_t: Tensor | None, values_t: Tensor | None, *no_tangents) -> Tensor:
        input, values = ctx.primals
        input_t = zero_tangent(input) if input_t is None else input_t
        values_t = zero_tangent(values) if values_t is None else values_t
        return AddAt.apply(input_t, values_t, ctx.positions)


class ScatterAddInto(AddAt):
    """``scatter_add``."""

    node_name = "ScatterAddBackward0"


class IndexAdd(AddAt):
    """``index_add``."""

    node_name = "IndexAddBackward0"


class IndexPutAccumulate(AddAt):
    """``index_put(accumulate=True)``."""

    node_name = "IndexPutBackward0"


def _value_tensor(value: Operand, dtype, name: str) -> Tensor:
    """A number as a 0-d tensor of ``dtype``; a tensor value (0-d) converted to ``dtype``."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        return elementwise.to_dtype(value, dtype)
    return wrap(np.asarray(value), dtype)


def _source_part(src: Tensor, index_shape: tuple, name: str) -> Tensor:
    """The part of ``src`` that scatter reads: its leading ``index.shape`` block."""
    if src.ndim != len(index_shape) and not (src.ndim <= 1 and len(index_shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for axis, size in enumerate(index_shape):
        if size > (src.shape[axis] if src.ndim else 1):
            raise RuntimeError(
                f"Size does not match at dimension {axis} expected index {list(index_shape)} to "
                f"be no larger than src {list(src.shape)}"
            )
    if src.ndim == 0:
        return src.reshape(index_shape)
    return getitem(src, tuple(slice(0, size) for size in index_shape))


def _check_same_dtype(input: Tensor, src: Tensor, name: str) -> None:
    if src.dtype is not input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


@accepts_axis
def scatter(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor | None = None,
    *,
    value: Operand | None = None,
) -> Tensor:
    """A copy of ``input`` with ``src[p]`` (or ``value``) written at ``p`` with coordinate
    ``dim`` replaced by ``index[p]``.  With repeated indices, which write wins is unspecified
    (as in torch)."""
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    dim = layout.wrap_dim(dim, input.ndim)
    positions = _along_dim(tuple(input.shape), dim, index, "scatter", True)
    if not isinstance(src, Tensor):
        value = src if value is None else value
        return ScatterValue.apply(input, _value_tensor(value, input.dtype, "scatter"), positions)
    _check_same_dtype(input, src, "scatter")
    return Scatter.apply(input, _source_part(src, tuple(index.shape), "scatter"), positions)


@autocast_op("scatter_add")
@accepts_axis
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with every ``src[p]`` added at ``p`` with coordinate ``dim``
    replaced by ``index[p]`` (repeated indices add up)."""
    dim = layout.wrap_dim(dim, input.ndim)
    positions = _along_dim(tuple(input.shape), dim, index, "scatter", True)
    _check_same_dtype(input, src, "scatter")
    part = _source_part(src, tuple(index.shape), "scatter_add")
    return ScatterAddInto.apply(input, part, positions)


@accepts_axis
def index_add(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Operand = 1
) -> Tensor:
    """A copy of ``input`` with ``alpha * source``'s slice ``i`` added to slice ``index[i]``
    along ``dim`` (repeated indices add up)."""
    dim = layout.wrap_dim(dim, input.ndim)
    if input.numel() == 0:  # torch checks no index then
        return input.clone()
    positions = _select_positions(tuple(input.shape), dim, index, "index_add")
    _check_source_shape(input, dim, index, source, "index_add_()")
    scaled = source if alpha == 1 else source * alpha
    return IndexAdd.apply(input, scaled.reshape(positions.shape), positions)


def _check_source_shape(input: Tensor, dim: int, index: Tensor, source: Tensor, name: str):
    count = index.numel()
    size = source.shape[dim] if source.ndim else 1
    if count != size:
        raise RuntimeError(
            f"{name}: Number of indices ({count}) should be equal to source.size(dim): "
            f"({size}), for dim: {dim}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"{name}: self ({input.dtype.scalar_type_name}) and source "
            f"({source.dtype.scalar_type_name}) must have the same scalar type"
        )


@autocast_op("index_copy")
@accepts_axis
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` whose slices ``index[i]`` along ``dim`` are ``source``'s slice
    ``i``."""
    dim = layout.wrap_dim(dim, input.ndim)
    positions = _select_positions(tuple(input.shape), dim, index, "index_copy")
    _check_source_shape(input, dim, index, source, "index_copy_()")
    return IndexCopy.apply(input, source.reshape(positions.shape), positions)


@accepts_axis
def index_fill(input: Tensor, dim: int, index: Tensor, value: Operand) -> Tensor:
    """A copy of ``input`` whose slices ``index`` along ``dim`` are filled with ``value``."""
    dim = layout.wrap_dim(dim, input.ndim)
    if input.numel() == 0:  # torch checks no index then
        positions = np.zeros((0,), dtype=np.int64)
    else:
        positions = _select_positions(tuple(input.shape), dim, index, "index_fill")
    return IndexFill.apply(input, _value_tensor(value, input.dtype, "index_fill_"), positions)


def _check_mask(mask: Tensor, name: str) -> None:
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(
            f"{name} only supports boolean masks, but got mask with dtype "
            f"{mask.dtype.name.replace('int32', 'int').replace('int64', 'long')}"
        )


def _mask_positions(input: Tensor, mask: Tensor, name: str) -> np.ndarray:
    _check_mask(mask, name)
    shape = layout.broadcast_shapes(input.shape, mask.shape)
    if shape != tuple(input.shape):
        raise RuntimeError(
            f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(shape)}"
        )
    chosen = np.broadcast_to(mask._array(), shape)
    return _positions(shape)[chosen]


def masked_fill(input: Tensor, mask: Tensor, value: Operand) -> Tensor:
    """A copy of ``input`` with ``value`` where ``mask`` (bool, broadcast to ``input``) is
    True; the result keeps ``input``'s dtype."""
    positions = _mask_positions(input, mask, "masked_fill_")
    return MaskedFill.apply(input, _value_tensor(value, input.dtype, "masked_fill_"), positions)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with ``source``'s first elements (row-major) written where ``mask``
    is True, in order."""
    positions = _mask_positions(input, mask, "masked_scatter_")
    if source.numel() < positions.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter_: expected self and source to have same dtypes but got "
            f"{input.dtype.scalar_type_name} and {source.dtype.scalar_type_name}"
        )
    values = source.reshape(-1)[: positions.size]
    return MaskedScatter.apply(input, values, positions)


@autocast_op("index_put")
def index_put(
    input: Tensor, indices: Sequence[Tensor | None], values: Tensor, accumulate: bool = False
) -> Tensor:
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (advanced indexing),
    or added there with ``accumulate`` (repeated positions add up)."""
    index = tuple(slice(None) if item is None else item for item in indices)
    positions = getitem(Tensor._from_array(_positions(input.shape)), index)._array()
    if values.dtype is not input.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{input.dtype.scalar_type_name} for the destination and "
            f"{values.dtype.scalar_type_name} for the source."
        )
    if layout.broadcast_shapes(values.shape, positions.shape) != positions.shape:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast "
            f"to indexing result of shape {list(positions.shape)}"
        )
    if accumulate:
        spread = values.expand(positions.shape)
        return IndexPutAccumulate.apply(input, spread, positions)
    return IndexPutOp.apply(input, values, positions)


# ------------------------------------------------------------------------------ in place
def _write_back(tensor: Tensor, result: Tensor) -> Tensor:
    return elementwise.copy_(tensor, result)


def scatter_(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor | None = None,
    *,
    value: Operand | None = None,
) -> Tensor:
    """In-place :func:`scatter`."""
    return _write_back(input, scatter(input, dim, index, src, value=value))


def scatter_add_(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place :func:`scatter_add`."""
    return _write_back(input, scatter_add(input, dim, index, src))


def index_add_(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Operand = 1
) -> Tensor:
    """In-place :func:`index_add`."""
    return _write_back(input, index_add(input, dim, index, source, alpha=alpha))


def index_copy_(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`index_copy`."""
    return _write_back(input, index_copy(input, dim, index, source))


def index_fill_(input: Tensor, dim: int, index: Tensor, value: Operand) -> Tensor:
    """In-place :func:`index_fill`."""
    return _write_back(input, index_fill(input, dim, index, value))


def masked_fill_(input: Tensor, mask: Tensor, value: Operand) -> Tensor:
    """In-place :func:`masked_fill`."""
    return _write_back(input, masked_fill(input, mask, value))


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`masked_scatter`."""
    return _write_back(input, masked_scatter(input, mask, source))


def index_put_(
    input: Tensor, indices: Sequence[Tensor | None], values: Tensor, accumulate: bool = False
) -> Tensor:
    """In-place :func:`index_put` (``tensor[indices] = values`` without ``accumulate``)."""
    if not accumulate:
        setitem(input, tuple(slice(None) if item is None else item for item in indices), values)
        return input
    return _write_back(input, index_put(input, indices, values, True))


for _name, _function in (
    ("take", Take),
    ("index_select", IndexSelect),
    ("masked_select", MaskedSelect),
    ("scatter", Scatter),
    ("scatter_value", ScatterValue),
    ("index_copy", IndexCopy),
    ("index_fill", IndexFill),
    ("masked_fill", MaskedFill),
    ("masked_scatter", MaskedScatter),
):
    table.register(_name, _function)
table.register("scatter_add", ScatterAddInto)
table.register("index_add", IndexAdd)
table.register("index_put", IndexPutAccumulate)
table.register("gather", GatherDim)
table.register("index_put", IndexPutOp)


# ------------------------------------------------------------------------ scatter_reduce
_REDUCTIONS = {
    "sum": (np.add, 0),
    "prod": (np.multiply, 1),
    "mean": (np.add, 0),
    "amax": (np.maximum, -np.inf),
    "amin": (np.minimum, np.inf),
}


def _identity(reduce: str, dtype) -> object:
    start = _REDUCTIONS[reduce][1]
    if np.isinf(start) and not dtype.is_floating_point:
        info = dtypes.iinfo(dtype)
        return info.min if start < 0 else info.max
    return start


class ScatterReduce(Function):
    """``scatter_reduce``: each ``src[p]`` combined (sum, prod, mean, amax, amin) into the
    element of ``input`` that ``index`` names, ``input``'s own value included unless
    ``include_self`` is False.  Saves the inputs and the result for the backward, which is
    torch's ``scatter_reduce_backward`` (prod assumes no zeros)."""

    node_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, input, src, positions, reduce: str, include_self: bool):
        ufunc, _ = _REDUCTIONS[reduce]
        flat = input._array().reshape(-1).copy()
        touched = np.zeros(flat.shape, dtype=bool)
        touched[positions.reshape(-1)] = True
        if not include_self:
            flat[touched] = _identity(reduce, input.dtype)
        values = np.broadcast_to(src._array(), positions.shape).reshape(-1)
        ufunc.at(flat, positions.reshape(-1), values.astype(flat.dtype))
        counts = np.zeros(flat.shape, dtype=np.int64)
        np.add.at(counts, positions.reshape(-1), 1)
        counts += 1 if include_self else 0
        if reduce == "mean":
            divisor = np.maximum(counts, 1)
            if input.dtype.is_floating_point:
                flat = flat / divisor
            else:
                flat = np.floor_divide(flat, divisor)
        ctx.positions, ctx.reduce, ctx.include_self = positions, reduce, include_self
        ctx.touched = touched.reshape(input.shape)
        ctx.counts = counts.reshape(input.shape)
        result = wrap(flat.reshape(input.shape).astype(input._storage.dtype), input.dtype)
        ctx.save_for_backward(input, src, result)
        if grad_mode.FORWARD_AD.active:  # what the JVP reads
            ctx.primals = (input, src, result)
        return result

    @staticmethod
    def backward(ctx, grad: Tensor):
        input, src, result = ctx.saved_tensors
        return (*_scatter_reduce_grads(ctx, grad, input, src, result), None, None, None)

    @staticmethod
    def jvp(ctx, input_t, src_t, *no_tangents) -> Tensor:
        input, src, result = ctx.primals
        input_t = input * 0 if input_t is None else input_t
        src_t = src * 0 if src_t is None else src_t
        grad_input, grad_src = _scatter_reduce_grads(ctx, None, input, src, result)
        own = input_t * grad_input
        others = ScatterAdd.apply(src_t * grad_src, ctx.positions, tuple(input.shape), False)
        return own + others


def _scatter_reduce_grads(
    ctx, grad: Tensor | None, input: Tensor, src: Tensor, result: Tensor
) -> tuple:
    """The gradients of ``(input, src)`` for ``grad`` (None: the local derivatives, for the
    JVP, which multiplies them by the tangents)."""
    reduce, positions = ctx.reduce, ctx.positions
    kept = Tensor._from_array(~ctx.touched) if not ctx.include_self else None
    counts = Tensor._from_array(ctx.counts.astype(np.float64)).to(input.dtype)
    ones = input.new_ones(input.shape)
    grad = ones if grad is None else grad
    if reduce == "sum":
        grad_input, grad_src = grad, Gather.apply(grad, positions)
    elif reduce == "mean":
        share = grad / elementwise.maximum(counts, ones)
        grad_input, grad_src = share, Gather.apply(share, positions)
    elif reduce == "prod":
        scaled = grad * result
        grad_input = scaled / input
        grad_src = Gather.apply(scaled, positions) / src
    else:
        value = Gather.apply(result, positions)
        self_wins = elementwise.eq(input, result)
        if kept is not None:
            self_wins = elementwise.logical_and(self_wins, kept)
        src_wins = elementwise.eq(src, value)
        winners = self_wins.to(input.dtype) + ScatterAdd.apply(
            src_wins.to(input.dtype), positions, tuple(input.shape), False
        )
        share = grad / winners
        grad_input = elementwise.where(self_wins, share, 0.0)
        grad_src = elementwise.where(src_wins, Gather.apply(share, positions), 0.0)
    if kept is not None and reduce != "amax" and reduce != "amin":
        grad_input = elementwise.where(kept, grad_input, 0.0)
    return grad_input, grad_src


@accepts_axis
def scatter_reduce(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """A copy of ``input`` with each ``src[p]`` combined into the element ``p`` names along
    ``dim`` by ``reduce`` (``"sum"``, ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``), the
    element's own value included unless ``include_self`` is False."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    dim = layout.wrap_dim(dim, input.ndim)
    positions = _along_dim(tuple(input.shape), dim, index, "scatter", True)
    _check_same_dtype(input, src, "scatter_reduce")
    part = _source_part(src, tuple(index.shape), "scatter_reduce")
    return ScatterReduce.apply(input, part, positions, reduce, include_self)


table.register("scatter_reduce", ScatterReduce)
