"""Cumulative ops (scans) along one dim: ``cumsum``, ``cumprod``, ``logcumsumexp``, ``cummax``,
``cummin``.

Each result element ``k`` combines the elements ``0..k`` of its slice along ``dim``; the
result has the input's shape and is contiguous, as in torch.  The derivatives run the scan
the other way: an element contributes to every result at or after it, so its gradient is a
*reverse* cumulative sum (``flip(cumsum(flip(g)))``).

* ``cumsum``: VJP the reverse cumsum of ``grad``; JVP the cumsum of the tangent.
* ``cumprod``: ``reverse_cumsum(grad * result) / x`` when no element is zero; with zeros,
  each element's gradient is ``sum_{k >= i} grad_k * prod_{j <= k, j != i} x_j``, computed
  as the cumprod of copies of the input with ``x_i`` replaced by 1 (no division).
* ``logcumsumexp``: ``sum_{k >= i} grad_k * exp(x_i - result_k)``, in log space for the
  positive and the negative parts of ``grad`` (torch's formula, from TensorFlow's).
* ``cummax``/``cummin`` return ``(values, indices)``, two outputs, so they are a hand-written
  Function: the gradient goes to the element each index names (a scatter-add).
"""

from __future__ import annotations

import numpy as np

from engine import dtypes, layout
from engine.autograd.function import Function
from engine.dtypes import DType
from engine.ops import elementwise, reduction, table
from engine.ops.indexing import Gather, ScatterAdd
from engine.ops.iterator import cast_array, compute_numpy_dtype, wrap
from engine.ops.shape import flip
from engine.ops.table import accepts_axis, op
from engine.tensor import Tensor


def _axis(input: Tensor, dim: int) -> int:
    """``dim`` wrapped; a 0-d tensor scans its one element (dim 0 or -1)."""
    return layout.wrap_dim(dim, input.ndim)


def _prepare(input: Tensor, dim: int, dtype: DType | None) -> tuple[np.ndarray, int, DType]:
    """The values (in the result dtype: int64 for integers and bools unless ``dtype``), the
    wrapped axis and the result dtype."""
    if dtype is None:
        dtype = input.dtype if input.dtype.is_floating_point else dtypes.int64
    values = cast_array(input._array(), dtype.numpy_dtype)
    values = cast_array(values, compute_numpy_dtype(dtype))
    return values.reshape(values.shape or (1,)), _axis(input, dim), dtype


def _result(values: np.ndarray, input: Tensor, dtype: DType) -> Tensor:
    return wrap(values.reshape(input.shape), dtype, fresh=True)


def reverse_cumsum(tensor: Tensor, dim: int) -> Tensor:
    """Along ``dim``, the sum of each element and all those after it."""
    return flip(cumsum(flip(tensor, (dim,)), dim), (dim,))


def _scanned_dim(dim: int, ndim: int) -> int:
    return layout.wrap_dim(dim, ndim)


# ------------------------------------------------------------------------------ cumsum
@op(
    input=lambda grad, dim: reverse_cumsum(grad, _scanned_dim(dim, grad.ndim)),
    jvp=lambda input_t, dim: cumsum(input_t, dim),
)
def cumsum(input: Tensor, dim: int, *, dtype: DType | None = None) -> Tensor:
    """Running sums along ``dim``: ``result[k] = x[0] + ... + x[k]``.  Integers and bools give
    int64 (or ``dtype``).  Saves nothing but ``dim``."""
    values, axis, result_dtype = _prepare(input, dim, dtype)
    with np.errstate(all="ignore"):
        return _result(np.cumsum(values, axis=axis), input, result_dtype)


# ----------------------------------------------------------------------------- cumprod
def _cumprod_backward(grad: Tensor, input: Tensor, result: Tensor, dim: int) -> Tensor:
    dim = _scanned_dim(dim, input.ndim)
    if input.ndim == 0:
        return grad
    if (input != 0).all():
        return reverse_cumsum(grad * result, dim) / input
    return _cumprod_backward_with_zeros(grad, input, dim)


def _cumprod_backward_with_zeros(grad: Tensor, input: Tensor, dim: int) -> Tensor:
    """``sum_{k >= i} grad_k * prod_{j <= k, j != i} x_j`` without dividing: for each ``i`` a
    copy of the input with ``x_i`` set to 1 (a new dim ``dim`` of size n), scanned."""
    size = input.shape[dim]
    moved = input.movedim(dim, -1)  # (..., n)
    positions = Tensor._from_array(np.arange(size))
    # copies[..., i, k] = x_k, except 1 where k == i.
    own = elementwise.eq(positions.reshape(size, 1), positions)
    copies = elementwise.where(own, 1.0, moved.unsqueeze(-2))
    scans = cumprod(copies, -1)
    after = elementwise.ge(positions, positions.reshape(size, 1))  # [i, k]: k >= i
    weights = elementwise.where(after, grad.movedim(dim, -1).unsqueeze(-2), 0.0)
    return reduction.sum(scans * weights, -1).movedim(-1, dim)


@op(
    input=lambda grad, input, result, dim: _cumprod_backward(grad, input, result, dim),
    jvp=lambda input, input_t, dim: _cumprod_tangent(input, input_t, dim),
)
def cumprod(input: Tensor, dim: int, *, dtype: DType | None = None) -> Tensor:
    """Running products along ``dim``: ``result[k] = x[0] * ... * x[k]``; integers and bools
    give int64.  The gradient is right with zeros in the input (no division by them)."""
    values, axis, result_dtype = _prepare(input, dim, dtype)
    with np.errstate(all="ignore"):
        return _result(np.cumprod(values, axis=axis), input, result_dtype)


def _cumprod_tangent(input: Tensor, input_t: Tensor, dim: int) -> Tensor:
    """``d result_k = sum_{i <= k} t_i * prod_{j <= k, j != i} x_j``: for each ``i`` the
    cumprod of a copy of the input whose element ``i`` is its tangent, kept where k >= i."""
    if input.ndim == 0:
        return input_t
    dim = _scanned_dim(dim, input.ndim)
    size = input.shape[dim]
    positions = Tensor._from_array(np.arange(size))
    own = elementwise.eq(positions.reshape(size, 1), positions)  # [i, k]: k == i
    copies = elementwise.where(
        own, input_t.movedim(dim, -1).unsqueeze(-1), input.movedim(dim, -1).unsqueeze(-2)
    )
    reached = elementwise.ge(positions, positions.reshape(size, 1))  # [i, k]: k >= i
    terms = elementwise.where(reached, cumprod(copies, -1), 0.0)
    return reduction.sum(terms, -2).movedim(-1, dim)


# -------------------------------------------------------------------------- logcumsumexp
def _reverse_logcumsumexp(tensor: Tensor, dim: int) -> Tensor:
    return flip(logcumsumexp(flip(tensor, (dim,)), dim), (dim,))


def _logcumsumexp_backward(grad: Tensor, input: Tensor, result: Tensor, dim: int) -> Tensor:
    """``sum_{k >= i} grad_k exp(x_i - result_k)``, summed in log space separately for the
    positive and the negative parts of ``grad`` (torch's ``logcumsumexp_backward``)."""
    if input.ndim == 0:
        return grad
    dim = _scanned_dim(dim, input.ndim)
    lowest = float(dtypes.finfo(grad.dtype).min)
    log_abs = elementwise.log(elementwise.abs(grad))
    positive = elementwise.where(grad > 0, log_abs, lowest)
    negative = elementwise.where(grad < 0, log_abs, lowest)
    up = elementwise.exp(_reverse_logcumsumexp(positive - result, dim) + input)
    down = elementwise.exp(_reverse_logcumsumexp(negative - result, dim) + input)
    return up - down


def _logcumsumexp_tangent(input: Tensor, result: Tensor, input_t: Tensor, dim: int) -> Tensor:
    """``d result_k = sum_{j <= k} exp(x_j - result_k) t_j``, a softmax-weighted running sum,
    with each slice's last (largest) result factored out so that nothing overflows."""
    if input.numel() == 0 or input.ndim == 0:
        return input_t
    dim = _scanned_dim(dim, input.ndim)
    peak = result.narrow(dim, input.shape[dim] - 1, 1)
    return cumsum(elementwise.exp(input - peak) * input_t, dim) * elementwise.exp(peak - result)


@op(
    input=lambda grad, input, result, dim: _logcumsumexp_backward(grad, input, result, dim),
    jvp=lambda input, result, input_t, dim: _logcumsumexp_tangent(input, result, input_t, dim),
)
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """Running ``log(sum(exp(x)))`` along ``dim``, computed stably; floating dtypes only."""
    _axis(input, dim)  # the dim is checked first, as in torch
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{input.dtype.scalar_type_name}'"
        )
    values, axis, result_dtype = _prepare(input, dim, None)
    with np.errstate(all="ignore"):
        return _result(np.logaddexp.accumulate(values, axis=axis), input, result_dtype)


# ---------------------------------------------------------------------- cummax / cummin
def _running_extreme(values: np.ndarray, axis: int, larger: bool) -> tuple:
    """Running maximum (minimum) along ``axis`` and the index it came from: a new element
    takes over when it is at least as large (small) -- so ties go to the latest -- or nan;
    once the running value is nan it stays nan (a later nan takes the index)."""
    moved = np.moveaxis(values, axis, 0)
    best = np.empty_like(moved)
    where = np.zeros(moved.shape, dtype=np.int64)
    if moved.shape[0] == 0:
        return np.moveaxis(best, 0, axis), np.moveaxis(where, 0, axis)
    current, index = moved[0].copy(), np.zeros(moved.shape[1:], dtype=np.int64)
    best[0], where[0] = current, index
    for position in range(1, moved.shape[0]):
        new = moved[position]
        with np.errstate(invalid="ignore"):
            wins = (new >= current) if larger else (new <= current)
        take = wins | _isnan(new)  # a comparison with a nan running value is False
        current = np.where(take, new, current)
        index = np.where(take, position, index)
        best[position], where[position] = current, index
    return np.moveaxis(best, 0, axis), np.moveaxis(where, 0, axis)


def _isnan(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, dtype=bool)


class CumulativeExtreme(Function):
    """cummax/cummin: ``(values, indices)``; the gradient of each value goes to the element
    its index names (scatter-added, since one element can be the running extreme of many).
    Saves the indices."""

    @staticmethod
    def forward(ctx, input: Tensor, dim: int, larger: bool):
        axis = _axis(input, dim) if input.numel() else 0  # torch checks no dim when empty
        values = input._array().reshape(input.shape or (1,))
        best, where = _running_extreme(
            cast_array(values, compute_numpy_dtype(input.dtype)), axis, larger
        )
        ctx.input_shape, ctx.axis = tuple(input.shape), axis
        ctx.positions = _flat_positions(where, axis).reshape(input.shape)
        return wrap(best.reshape(input.shape), input.dtype), wrap(
            where.reshape(input.shape), dtypes.int64
        )

    @staticmethod
    def backward(ctx, grad_values: Tensor, grad_indices):
        return ScatterAdd.apply(grad_values, ctx.positions, ctx.input_shape, False), None, None

    @staticmethod
    def jvp(ctx, input_t: Tensor, *no_tangents) -> tuple:
        return Gather.apply(input_t, ctx.positions), None


def _flat_positions(indices: np.ndarray, axis: int) -> np.ndarray:
    """The flat (row-major) position of the element each index names along ``axis``."""
    positions = np.arange(indices.size, dtype=np.int64).reshape(indices.shape)
    return np.take_along_axis(positions, indices, axis=axis)


_cummax_result = reduction.return_type("cummax")
_cummin_result = reduction.return_type("cummin")


class CumMax(CumulativeExtreme):
    """cummax (see :class:`CumulativeExtreme`)."""

    node_name = "CummaxBackward0"


class CumMin(CumulativeExtreme):
    """cummin (see :class:`CumulativeExtreme`)."""

    node_name = "CumminBackward0"


@accepts_axis
def cummax(input: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """``(values, indices)``: the running maximum along ``dim`` and where it was found (the
    latest of equal values; nan, once seen, stays)."""
    return _cummax_result(*CumMax.apply(input, dim, True))


@accepts_axis
def cummin(input: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """``(values, indices)``: the running minimum along ``dim`` (see :func:`cummax`)."""
    return _cummin_result(*CumMin.apply(input, dim, False))


table.register("cummax", CumMax)
table.register("cummin", CumMin)
