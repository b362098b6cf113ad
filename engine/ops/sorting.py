"""Sorting and selection: ``sort``, ``argsort``, ``topk``, ``kthvalue``, ``median``, ``mode``,
``unique``, ``nonzero``, ``searchsorted``.

NumPy finds the order (a stable ``argsort``; nan sorts as the largest value, as in torch); the
ops that return ``(values, indices)`` are one hand-written Function, :class:`Selection`, whose
backward sends each value's gradient to the element its index names (a scatter into zeros of
the input's shape) and whose JVP gathers the tangent at those elements -- the same pair as
``max(dim)``.  ``argsort``, ``unique``, ``nonzero`` and ``searchsorted`` return indices or
counts and record no graph, as in torch.

Ties: ``sort(stable=True)`` keeps equal elements in their original order, ascending or
descending (torch documents it); ``mode`` returns the smallest of the most frequent values
and the last index where it occurs, ``median`` the lower of the two middle values.
"""

from __future__ import annotations

import numpy as np

from engine import dtypes, layout
from engine.autograd.function import Function
from engine.ops import table
from engine.ops.indexing import Gather, ScatterAdd
from engine.ops.iterator import Operand, cast_array, compute_numpy_dtype, empty_strided_copy, wrap
from engine.ops.reduction import return_type
from engine.ops.table import accepts_axis
from engine.tensor import Tensor

sort_result = return_type("sort")
topk_result = return_type("topk")
kthvalue_result = return_type("kthvalue")
median_result = return_type("median")
mode_result = return_type("mode")


def _values(input: Tensor) -> np.ndarray:
    """The values in the dtype NumPy compares them in, at least 1-D."""
    array = cast_array(input._array(), compute_numpy_dtype(input.dtype))
    return array.reshape(array.shape or (1,))


def _stable_order(values: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort ``values`` along ``axis``, equal elements in their original order
    (nan last ascending, first descending)."""
    if not descending:
        return np.argsort(values, axis=axis, kind="stable")
    size = values.shape[axis]
    reversed_order = np.argsort(np.flip(values, axis), axis=axis, kind="stable")
    return np.flip(size - 1 - reversed_order, axis)


class Selection(Function):
    """``(values, indices)`` of elements picked along a dim by NumPy (sort, topk, kthvalue,
    median, mode).  The values' gradient goes to the picked elements; saves their flat
    positions only."""

    @staticmethod
    def forward(ctx, input: Tensor, indices: np.ndarray, axis: int, keepdim: bool, strides):
        """``indices`` has the input's number of dims (picks along ``axis``); without
        ``keepdim`` the size-1 ``axis`` is removed from both outputs."""
        shape = tuple(input.shape) or (1,)
        positions = np.take_along_axis(
            np.arange(layout.numel(shape), dtype=np.int64).reshape(shape), indices, axis=axis
        )
        values = np.take_along_axis(input._array().reshape(shape), indices, axis=axis)
        if not keepdim:
            positions, values = np.squeeze(positions, axis), np.squeeze(values, axis)
            indices = np.squeeze(indices, axis)
        if input.ndim == 0 and values.size == 1:  # a 0-d input gives 0-d results
            positions, values, indices = (
                array.reshape(()) for array in (positions, values, indices)
            )
        ctx.positions, ctx.input_shape = positions, tuple(input.shape)
        if strides is not None and values.size:
            return (
                empty_strided_copy(values, values.shape, strides),
                empty_strided_copy(indices.astype(np.int64), indices.shape, strides),
            )
        return wrap(values, input.dtype), wrap(indices.astype(np.int64), dtypes.int64)

    @staticmethod
    def backward(ctx, grad_values: Tensor, grad_indices):
        grad = ScatterAdd.apply(grad_values, ctx.positions, ctx.input_shape, True)
        return grad, None, None, None, None

    @staticmethod
    def jvp(ctx, input_t: Tensor, *no_tangents) -> tuple:
        return Gather.apply(input_t, ctx.positions), None


def _selection(name: str) -> type[Function]:
    node = "".join(part.capitalize() for part in name.split("_"))
    return type(node, (Selection,), {"node_name": f"{node}Backward0", "__doc__": f"``{name}``."})


Sort, Topk, Kthvalue, Median, Mode = (
    _selection(name) for name in ("sort", "topk", "kthvalue", "median", "mode")
)


class MedianDim(Selection):
    """``median(dim)``."""

    node_name = "MedianBackward1"


def _check_sortable(input: Tensor, name: str) -> None:
    if input.dtype is dtypes.bool and name in ("kthvalue", "median", "mode"):
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")


# ------------------------------------------------------------------------------- sort
@accepts_axis
def sort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool = False,
) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the elements sorted along ``dim`` (ascending unless
    ``descending``; nan counts as the largest).  The sort is always stable here, which
    ``stable=True`` guarantees in torch.  Results are laid out like the input."""
    axis = layout.wrap_dim(dim, input.ndim)
    order = _stable_order(_values(input), axis, descending)
    strides = layout.dense_strides_like(input.shape, input.stride())
    return sort_result(*Sort.apply(input, order, axis, True, strides))


@accepts_axis
def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    """The indices :func:`sort` returns (int64, no graph)."""
    axis = layout.wrap_dim(dim, input.ndim)
    order = _stable_order(_values(input), axis, descending).reshape(input.shape)
    strides = layout.dense_strides_like(input.shape, input.stride())
    return empty_strided_copy(order.astype(np.int64), tuple(input.shape), strides)


def msort(input: Tensor) -> Tensor:
    """The values of :func:`sort` along dim 0."""
    return sort(input, 0).values


@accepts_axis
def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the ``k`` largest (smallest unless ``largest``) elements along
    ``dim``, in sorted order."""
    axis = layout.wrap_dim(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    order = _stable_order(_values(input), axis, largest)
    picked = np.take(order, np.arange(k if input.ndim else 1), axis=axis)  # 0-d: itself
    return topk_result(*Topk.apply(input, picked, axis, True, None))


@accepts_axis
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the ``k``-th smallest element (1-based) along ``dim``."""
    _check_sortable(input, "kthvalue")
    axis = layout.wrap_dim(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if size == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {axis} to have non-zero size.")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    order = _stable_order(_values(input), axis, False)
    picked = np.take(order, [k - 1], axis=axis)
    return kthvalue_result(*Kthvalue.apply(input, picked, axis, keepdim, None))


@accepts_axis
def median(
    input: Tensor, dim: int | None = None, keepdim: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """The lower median: of all elements (0-d) when ``dim`` is None, else ``(values, indices)``
    along ``dim``; nan if there is a nan."""
    _check_sortable(input, "median")
    if dim is None:
        if input.numel() == 0:
            # torch's "no value": nan, or the smallest integer
            empty = np.nan if input.dtype.is_floating_point else dtypes.iinfo(input.dtype).min
            return wrap(np.asarray(empty), input.dtype)
        flat = input.reshape(-1)
        picked = _median_index(_values(flat), 0)
        return Median.apply(flat, picked, 0, False, None)[0]
    axis = layout.wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    picked = _median_index(_values(input), axis)
    return median_result(*MedianDim.apply(input, picked, axis, keepdim, None))


def _median_index(values: np.ndarray, axis: int) -> np.ndarray:
    """The index of the lower median along ``axis`` (of the first nan where there is one)."""
    order = _stable_order(values, axis, False)
    size = values.shape[axis]
    picked = np.take(order, [(size - 1) // 2], axis=axis)
    if values.dtype.kind == "f":
        nans = np.isnan(values)
        has_nan = nans.any(axis=axis, keepdims=True)
        first_nan = np.argmax(nans, axis=axis, keepdims=True)
        picked = np.where(has_nan, first_nan, picked)
    return picked


@accepts_axis
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of equally
    frequent ones) and the last index where it occurs."""
    _check_sortable(input, "mode")
    axis = layout.wrap_dim(dim, input.ndim)
    values = np.moveaxis(_values(input), axis, -1)
    if values.shape[-1] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    picked = np.empty(values.shape[:-1] + (1,), dtype=np.int64)
    for where in np.ndindex(values.shape[:-1]):
        row = values[where]
        unique, counts = np.unique(row, return_counts=True)
        best = unique[np.argmax(counts)]
        picked[where] = np.flatnonzero(row == best)[-1]
    picked = np.moveaxis(picked, -1, axis)
    return mode_result(*Mode.apply(input, picked, axis, keepdim, None))


for _name, _function in (
    ("sort", Sort),
    ("topk", Topk),
    ("kthvalue", Kthvalue),
    ("median", Median),
    ("mode", Mode),
):
    table.register(_name, _function)
table.register("median", MedianDim)


# ------------------------------------------------------------------- indices and counts
def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """The distinct elements (or distinct slices along ``dim``) in ascending order, and, if
    asked, where each input element went (``inverse``) and how often each occurs."""
    values = input._array()
    axis = None if dim is None else layout.wrap_dim(dim, input.ndim)
    if axis is not None and input.numel() == 0:
        if sum(1 for size in input.shape if size == 0) > 1:
            raise RuntimeError(
                "Number of zero sized dimensions is more than one, so unique cannot be applied "
            )
        if input.shape[axis] != 0:
            raise RuntimeError(
                "There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                "applied"
            )
    if values.size == 0:
        found = values if axis is not None else values.reshape(-1)
        inverse, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    else:
        found, inverse, counts = np.unique(
            values, return_inverse=True, return_counts=True, axis=axis
        )
    result = [wrap(found, input.dtype)]
    if return_inverse:
        shape = tuple(input.shape) if dim is None else (input.shape[axis],)
        result.append(wrap(inverse.reshape(shape).astype(np.int64), dtypes.int64))
    if return_counts:
        result.append(wrap(counts.astype(np.int64), dtypes.int64))
    return result[0] if len(result) == 1 else tuple(result)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero elements: an ``(n, ndim)`` int64 tensor, or with
    ``as_tuple`` one 1-D tensor per dim (a 0-d input counts as 1-D there)."""
    values = input._array()
    if as_tuple:  # the columns of the (n, ndim) result, as views (a 0-d input counts as 1-D)
        matrix = nonzero(input.reshape(input.shape or (1,)))
        return tuple(matrix.select(1, dim) for dim in range(max(input.ndim, 1)))
    found = np.argwhere(values).astype(np.int64)
    # Column-major, as torch's: each dim's indices are contiguous.
    return empty_strided_copy(found, found.shape, (1, found.shape[0]))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``."""
    return nonzero(input)


def searchsorted(
    sorted_sequence: Tensor,
    input: Tensor | Operand,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each value, the index where it would be inserted into the (last dim of the)
    ascending ``sorted_sequence`` to keep it sorted: before equal elements, or after them
    with ``right=True`` / ``side="right"``."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
            )
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True"
            )
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    sequence = sorted_sequence._array()
    if sorter is not None:
        sequence = np.take_along_axis(sequence, sorter._array().astype(np.int64), axis=-1)
    values = np.asarray(input) if scalar else input._array()
    if sequence.ndim > 1 and (scalar or values.shape[:-1] != sequence.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(sorted_sequence.shape)} and input value tensor "
            f"{list(np.shape(values))}"
        )
    which = "right" if right else "left"
    if sequence.ndim <= 1:
        found = np.searchsorted(sequence.reshape(-1), values, side=which)
    else:
        count = layout.numel(sequence.shape[:-1])
        rows = sequence.reshape(count, sequence.shape[-1])
        targets = values.reshape(count, values.shape[-1])
        found = np.stack(
            [np.searchsorted(row, target, side=which) for row, target in zip(rows, targets)]
        ).reshape(values.shape)
    return wrap(np.asarray(found), dtypes.int32 if out_int32 else dtypes.int64)


def bucketize(
    input: Tensor | Operand,
    boundaries: Tensor,
    *,
    out_int32: bool = False,
    right: bool = False,
) -> Tensor:
    """The bucket of each value among the 1-D ascending ``boundaries`` (:func:`searchsorted`
    with the arguments swapped)."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
