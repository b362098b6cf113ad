"""Reductions: ``sum``, ``mean``, ``var``, ``std``, ``prod``, ``max``, ``min``, ``argmax``,
``argmin``.

``dim`` may be an int, a tuple of ints (sum/mean/var/std/prod) or None for all dims; negative
dims count from the end and ``keepdim=True`` keeps reduced dims with size 1.  Integer and bool
tensors sum to int64, as in torch.  Float16 and bfloat16 accumulate in float32 (PyTorch does the
same), and float32 sums use NumPy's pairwise summation, so rounding error grows like
``O(log n)`` rather than ``O(n)``.

Results are contiguous whatever the input's layout, as in torch: its reductions allocate the
output with the reduced shape and no strides (ATen's ``resize_reduction``), and the way
TensorIterator handles the reduced dims (zero strides in the output, moved first in the
iteration order) only changes the order of the loops, not the layout of the result.

The differentiable reductions are entries of the derivative table (:mod:`engine.ops.table`):
a NumPy kernel and one VJP formula for ``input``, which spreads the output gradient back over
the reduced dims -- re-insert them (``unsqueeze`` unless ``keepdim``, :func:`restore_dims`) and
broadcast or ``expand`` (:func:`_expand_back`):

* ``sum``: ``grad`` expanded; ``mean``: divided by the group size;
* ``var``: ``grad * 2 (x - mean) / (N - correction)``; ``std``: var's with ``grad / (2 std)``;
* ``prod``: ``grad * result / x`` without zeros, else the product of the other elements
  computed without dividing (:func:`_product_of_others`);
* ``max()``/``min()`` over all elements: ``grad`` split evenly among the elements equal to the
  result (torch's rule for ties).

torch names the node of ``sum``/``prod``/``mean`` over all elements ``<Op>Backward0`` and over
``dim`` ``<Op>Backward1`` (:func:`_all_or_dim`); ``max()`` is ``MaxBackward1``.  ``max(dim)`` and
``min(dim)`` return ``(values, indices)`` -- two outputs, which no single formula fits -- so they
stay hand-written Functions (``MaxBackward0``, registered in the table under ``max``) that route
the gradient to the returned index.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple
from collections.abc import Sequence

import numpy as np

from engine import dtypes, layout
from engine.autograd.function import Function
from engine.dtypes import DType
from engine.ops import creation, elementwise, table
from engine.ops.indexing import Gather, ScatterAdd
from engine.ops.iterator import cast_array, compute_numpy_dtype, wrap
from engine.ops.table import accepts_axis, op
from engine.tensor import Tensor


def _values(tensor: Tensor, dtype: DType) -> np.ndarray:
    """The tensor's values converted to the dtype NumPy should accumulate in."""
    return cast_array(tensor._array(), compute_numpy_dtype(dtype))


def _sum_dtype(tensor: Tensor, dtype: DType | None) -> DType:
    if dtype is not None:
        return dtype
    return tensor.dtype if tensor.dtype.is_floating_point else dtypes.int64


def _all_or_dim(name: str):
    """The node name of a reduction: ``<name>Backward0`` over all elements (``dim`` None),
    ``<name>Backward1`` over ``dim``, as torch records them."""
    return lambda input, dim, keepdim, dtype=None: f"{name}Backward{0 if dim is None else 1}"


def _count(input_shape, dim) -> int:
    """How many elements each output element reduces."""
    return layout.numel([input_shape[axis] for axis in layout.wrap_dims(dim, len(input_shape))])


# ------------------------------------------------------------------ formula helpers
def restore_dims(
    tensor: Tensor, input_shape: Sequence[int], dim: int | Sequence[int] | None, keepdim: bool
) -> Tensor:
    """A reduction's output (or its gradient) with the reduced dims back as size 1, so that it
    broadcasts against the input (``dim`` None: all of them)."""
    if not keepdim:
        for axis in sorted(layout.wrap_dims(dim, len(input_shape))):
            tensor = tensor.unsqueeze(axis)
    return tensor


def _expand_back(grad: Tensor, input_shape, dim, keepdim: bool) -> Tensor:
    """A reduction's output gradient expanded to the input's shape (a view): every element of a
    group gets the gradient of the group's result."""
    return restore_dims(grad, input_shape, dim, keepdim).expand(tuple(input_shape))


def _var_backward(grad: Tensor, input: Tensor, dim, keepdim: bool, correction) -> Tensor:
    """d var / dx = ``2 (x - mean) / (N - correction)`` (the mean's own dependence on x cancels
    out).  ``N == correction`` makes the factor inf; over all elements torch then gives inf,
    or nan where x is the mean, whatever the sign (and so for ``N < correction`` too)."""
    grad = restore_dims(grad, input.shape, dim, keepdim)
    centered = input - mean(input, layout.wrap_dims(dim, input.ndim), keepdim=True)
    degrees_of_freedom = _count(input.shape, dim) - correction
    if degrees_of_freedom <= 0 and (dim is None or input.ndim == 0):
        return grad * elementwise.where(centered == 0, math.nan, math.inf)
    scale = 2.0 / degrees_of_freedom if degrees_of_freedom else math.inf
    return scale * grad * centered


def _std_to_var_grad(grad: Tensor, result: Tensor) -> Tensor:
    """d std = d var / (2 std); 0 where std is 0, as in torch."""
    return elementwise.where(result == 0, 0.0, grad / (result * 2))


def _prod_backward(grad: Tensor, input: Tensor, result: Tensor, dim, keepdim: bool) -> Tensor:
    """d prod / dx_i is the product of the other elements of x_i's group: ``result / x_i``
    when no element is zero (torch's formula), else computed without dividing."""
    grad = restore_dims(grad, input.shape, dim, keepdim)
    if (input != 0).all():
        return grad * (restore_dims(result, input.shape, dim, keepdim) / input)
    return grad * _product_of_others(input, layout.wrap_dims(dim, input.ndim))


def _product_of_others(input: Tensor, axes: tuple[int, ...]) -> Tensor:
    """For each element, the product of the other elements of its group (same index outside
    ``axes``): the product of those before it times the product of those after it, in the
    group's row-major order (torch's ``prod_safe_zeros_backward``).  Only multiplications, so
    it is right with zeros and can be differentiated again."""
    if len(axes) == 1:
        return _exclusive_cumprod(input, axes[0], False) * _exclusive_cumprod(input, axes[0], True)
    # Several dims (all of them for a full product): flatten each group into one last dim.
    kept = [axis for axis in range(input.ndim) if axis not in axes]
    order = (*kept, *axes)
    moved = input.permute(order)
    groups = moved.reshape(*moved.shape[: len(kept)], -1)
    others = _product_of_others(groups, (len(kept),)).reshape(moved.shape)
    return others.permute(sorted(range(len(order)), key=order.__getitem__)).contiguous()


def _exclusive_cumprod(input: Tensor, dim: int, reverse: bool) -> Tensor:
    """Along ``dim``, the product of the elements before each one (after it if ``reverse``):
    a scan in log2(n) steps, each multiplying by a shifted copy (Hillis-Steele)."""
    scan = _shifted(input, dim, 1, reverse)
    shift = 1
    while shift < input.shape[dim]:
        scan = scan * _shifted(scan, dim, shift, reverse)
        shift *= 2
    return scan


def _shifted(input: Tensor, dim: int, shift: int, reverse: bool) -> Tensor:
    """``input`` moved ``shift`` places along ``dim`` (toward its end, or its start if
    ``reverse``), ones moving in: each position reads the element ``shift`` places before it
    (after it if ``reverse``)."""
    size = input.shape[dim]
    positions = creation.arange(size)
    if reverse:
        sources, inside = (positions + shift).clamp(max=size - 1), positions < size - shift
    else:
        sources, inside = (positions - shift).clamp(min=0), positions >= shift
    read = input[(slice(None),) * dim + (sources,)]
    return elementwise.where(inside.reshape(size, *(1,) * (input.ndim - dim - 1)), read, 1.0)


def _evenly_distributed_tangent(input: Tensor, result: Tensor, input_t: Tensor) -> Tensor:
    """max()/min(): the mean of the tangents of the elements equal to the result."""
    chosen = elementwise.eq(input, result)
    return sum(elementwise.where(chosen, input_t, 0.0)) / sum(chosen)


def _var_tangent(input: Tensor, input_t: Tensor, dim, keepdim: bool, correction: float) -> Tensor:
    """d var = 2 / (N - correction) * sum((x - mean) * x_t) over the reduced dims."""
    centered = input - mean(input, dim, True)
    scale = 2.0 / (_count(input.shape, dim) - correction)
    return sum(centered * input_t, dim, keepdim) * scale


def _evenly_distribute(grad: Tensor, input: Tensor, result: Tensor) -> Tensor:
    """max()/min(): the gradient split evenly among the elements equal to the result."""
    chosen = elementwise.eq(input, result)
    return elementwise.where(chosen, grad / sum(chosen), 0.0)


# ----------------------------------------------------------------------- the entries
@op(
    input=lambda grad, input_shape, dim, keepdim: _expand_back(grad, input_shape, dim, keepdim),
    jvp=lambda input_t, dim, keepdim, dtype: sum(input_t, dim, keepdim, dtype=dtype),
    node_name=_all_or_dim("Sum"),
)
def sum(  # noqa: A001 - torch's name
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: DType | None = None,
) -> Tensor:
    """Sum over ``dim`` (all dims when None): ``(*shape)`` -> shape without the reduced dims.
    Every element gets the gradient of its sum; saves the input's shape only."""
    result_dtype = _sum_dtype(input, dtype)
    axes = layout.wrap_dims(dim, input.ndim)
    values = np.sum(_values(input, result_dtype), axis=axes, keepdims=keepdim)
    return wrap(values, result_dtype, fresh=True)


@op(
    input=lambda grad, input, result, dim, keepdim: _prod_backward(
        grad, input, result, dim, keepdim
    ),
    # d prod = sum over the group of x_i's tangent times the product of the other elements.
    jvp=lambda input, result, input_t, dim, keepdim: sum(
        input_t * _prod_backward(result.new_ones(result.shape), input, result, dim, keepdim),
        dim,
        keepdim,
    ),
    node_name=_all_or_dim("Prod"),
)
def prod(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: DType | None = None,
) -> Tensor:
    """Product over ``dim`` (all dims when None); integers and bools give int64.  d/dx_i is the
    product of the other elements of x_i's group; saves the input and the result."""
    result_dtype = _sum_dtype(input, dtype)
    axes = layout.wrap_dims(dim, input.ndim)
    values = np.prod(_values(input, result_dtype), axis=axes, keepdims=keepdim)
    return wrap(values, result_dtype, fresh=True)


@op(
    input=lambda grad, input_shape, dim, keepdim: (
        _expand_back(grad, input_shape, dim, keepdim) / _count(input_shape, dim)
    ),
    jvp=lambda input_t, dim, keepdim, dtype: mean(input_t, dim, keepdim, dtype=dtype),
    node_name=_all_or_dim("Mean"),
)
def mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: DType | None = None,
) -> Tensor:
    """Mean over ``dim`` (all dims when None); needs a floating dtype (or ``dtype=``).  Each
    element gets ``grad / count``; saves the input's shape only."""
    result_dtype = dtype if dtype is not None else input.dtype
    if not result_dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.scalar_type_name}"
        )
    axes = layout.wrap_dims(dim, input.ndim)
    with np.errstate(all="ignore"):
        total = np.sum(_values(input, result_dtype), axis=axes, keepdims=keepdim)
        values = total / _count(input.shape, dim)
    return wrap(values, result_dtype, fresh=True)


def _correction(unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError("var()/std(): pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


@accepts_axis
def var(
    input: Tensor,
    dim: int | Sequence[int] | bool | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Variance ``sum((x - mean)**2) / (N - correction)`` over ``dim``; ``correction=1`` (the
    default, Bessel's correction, ``unbiased=True``) gives the sample variance.  Saves the
    input.

    ``var(x, False)`` (a bool in place of ``dim``) means ``unbiased=False``, as in torch.
    """
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return _var(input, dim, keepdim, _correction(unbiased, correction))


@op(
    input=lambda grad, input, dim, keepdim, correction: _var_backward(
        grad, input, dim, keepdim, correction
    ),
    jvp=lambda input, input_t, dim, keepdim, correction: _var_tangent(
        input, input_t, dim, keepdim, correction
    ),
)
def _var(input: Tensor, dim, keepdim: bool, correction: float) -> Tensor:
    """The variance over ``dim`` with ``correction`` subtracted from the count."""
    return _variance(input, dim, keepdim, correction)


def _variance(input: Tensor, dim, keepdim: bool, correction: float) -> Tensor:
    axes = layout.wrap_dims(dim, input.ndim)
    values = _values(input, input.dtype)
    with np.errstate(all="ignore"):
        deviations = values - np.mean(values, axis=axes, keepdims=True)
        squares = np.sum(deviations * deviations, axis=axes, keepdims=keepdim)
        result = squares / builtins.max(_count(input.shape, dim) - correction, 0)
    return wrap(result, input.dtype, fresh=True)


@accepts_axis
def std(
    input: Tensor,
    dim: int | Sequence[int] | bool | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same arguments).  Saves the input
    and the result."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return _std(input, dim, keepdim, _correction(unbiased, correction))


@op(
    input=lambda grad, input, result, dim, keepdim, correction: _var_backward(
        _std_to_var_grad(grad, result), input, dim, keepdim, correction
    ),
    # d std = d var / (2 std), 0 where std is 0 (as torch's backward).
    jvp=lambda input, result, input_t, dim, keepdim, correction: _std_to_var_grad(
        _var_tangent(input, input_t, dim, keepdim, correction), result
    ),
)
def _std(input: Tensor, dim, keepdim: bool, correction: float) -> Tensor:
    """``sqrt(var)``, from the variance rounded to the input's dtype."""
    variance = _variance(input, dim, keepdim, correction)
    with np.errstate(all="ignore"):
        return wrap(np.sqrt(_values(variance, variance.dtype)), variance.dtype)


# ------------------------------------------------------------------------ log-sum-exp
def _logsumexp_values(values: np.ndarray, axes, keepdim: bool, dtype: DType) -> np.ndarray:
    """``log(sum(exp(x)))`` with the maximum subtracted first (no overflow); a group whose
    maximum is +-inf is not shifted, so all ``-inf`` gives ``-inf`` and an ``inf`` gives ``inf``.
    Each step is rounded to ``dtype``, as torch's composition of ops does for float16."""

    def rounded(array: np.ndarray) -> np.ndarray:
        return cast_array(cast_array(array, dtype.numpy_dtype), values.dtype)

    if values.size == 0:
        return np.log(np.sum(np.exp(values), axis=axes, keepdims=keepdim))
    peak = np.max(values, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    total = rounded(np.sum(rounded(np.exp(rounded(values - peak))), axis=axes, keepdims=True))
    result = rounded(np.log(total)) + peak
    return result if keepdim else np.squeeze(result, axis=axes)


@op(
    input=lambda grad, input, result, dim, keepdim: (
        restore_dims(grad, input.shape, dim, keepdim)
        * elementwise.exp(input - restore_dims(result, input.shape, dim, keepdim))
    ),
    jvp=lambda input, result, input_t, dim, keepdim: sum(
        input_t * elementwise.exp(input - restore_dims(result, input.shape, dim, keepdim)),
        dim,
        keepdim,
    ),
)
def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably; integers give float32.  d/dx is
    ``exp(x - result)`` (the softmax of the group); saves the input and the result."""
    dtype = input.dtype if input.dtype.is_floating_point else dtypes.get_default_dtype()
    axes = layout.wrap_dims(dim, input.ndim)
    with np.errstate(all="ignore"):
        values = _logsumexp_values(_values(input, dtype), axes, keepdim, dtype)
    return wrap(values, dtype, fresh=True)


# ------------------------------------------------------------------------- max and min
def return_type(name: str) -> type:
    """A ``(values, indices)`` namedtuple printed like ``torch.return_types.max``."""

    def __repr__(self) -> str:
        return f"engine.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    base = namedtuple(name, ["values", "indices"])
    doc = f"``(values, indices)``: what :func:`{name}` returns along a dim."
    return type(name, (base,), {"__repr__": __repr__, "__slots__": (), "__doc__": doc})


max_result = return_type("max")
min_result = return_type("min")


@accepts_axis
def max(  # noqa: A001 - torch's name
    input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Largest element (0-d) when ``dim`` is None; with ``dim``, a namedtuple
    ``(values, indices)`` of the largest elements along ``dim`` and where they are; with a
    tensor in place of ``dim``, the elementwise :func:`maximum`.  NaN counts as largest.
    Over all elements saves the input and the result, along ``dim`` the indices."""
    if isinstance(dim, Tensor):
        return elementwise.maximum(input, dim)
    if dim is None:
        return _max(input)
    return max_result(*MaxDim.apply(input, dim, keepdim, "max", np.argmax))


@accepts_axis
def min(  # noqa: A001 - torch's name
    input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Smallest element, or ``(values, indices)`` along ``dim`` (see :func:`max`)."""
    if isinstance(dim, Tensor):
        return elementwise.minimum(input, dim)
    if dim is None:
        return _min(input)
    return min_result(*MinDim.apply(input, dim, keepdim, "min", np.argmin))


def _extreme_all(name: str, numpy_reduce, input: Tensor) -> Tensor:
    if input.numel() == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    return wrap(numpy_reduce(_values(input, input.dtype)), input.dtype)


@op(
    input=lambda grad, input, result: _evenly_distribute(grad, input, result),
    jvp=lambda input, result, input_t: _evenly_distributed_tangent(input, result, input_t),
    node_name="MaxBackward1",
)
def _max(input: Tensor) -> Tensor:
    """The largest element (0-d)."""
    return _extreme_all("max", np.max, input)


@op(
    input=lambda grad, input, result: _evenly_distribute(grad, input, result),
    jvp=lambda input, result, input_t: _evenly_distributed_tangent(input, result, input_t),
    node_name="MinBackward1",
)
def _min(input: Tensor) -> Tensor:
    """The smallest element (0-d)."""
    return _extreme_all("min", np.min, input)


class ExtremeDim(Function):
    """max(dim)/min(dim): ``(values, indices)``; the gradient goes to the element at the
    returned index only (even when others tie).  Saves the indices.  Hand-written: a table
    formula gets one gradient, and this op has two outputs."""

    @staticmethod
    def forward(ctx, input: Tensor, dim, keepdim: bool, name: str, numpy_arg):
        axis = layout.wrap_dim(dim, input.ndim)
        ctx.input_shape, ctx.keepdim, ctx.axis = input.shape, keepdim, axis
        if input.ndim == 0:
            ctx.indices = None
            return wrap(input._array(), input.dtype), wrap(np.int64(0), dtypes.int64)
        if input.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
        indices = numpy_arg(_values(input, input.dtype), axis=axis, keepdims=True)
        selected = np.take_along_axis(input._array(), indices, axis=axis)
        if not keepdim:
            indices, selected = np.squeeze(indices, axis), np.squeeze(selected, axis)
        ctx.indices = indices
        return wrap(selected, input.dtype), wrap(indices, dtypes.int64)

    @staticmethod
    def backward(ctx, grad_values: Tensor, grad_indices):
        if len(ctx.input_shape) == 0:
            return grad_values, None, None, None, None
        indices, grad = ctx.indices, grad_values
        if not ctx.keepdim:
            indices = np.expand_dims(indices, ctx.axis)
            grad = grad.unsqueeze(ctx.axis)
        positions = np.arange(layout.numel(ctx.input_shape)).reshape(ctx.input_shape)
        chosen = np.take_along_axis(positions, indices, axis=ctx.axis)
        grad_input = ScatterAdd.apply(grad, chosen, tuple(ctx.input_shape), True)
        return grad_input, None, None, None, None

    @staticmethod
    def jvp(ctx, input_t: Tensor, *no_tangents) -> tuple:
        """The values' tangent is the input's tangent at the returned indices; the indices
        have none."""
        if len(ctx.input_shape) == 0:
            return input_t, None
        indices = ctx.indices if ctx.keepdim else np.expand_dims(ctx.indices, ctx.axis)
        positions = np.arange(layout.numel(ctx.input_shape)).reshape(ctx.input_shape)
        chosen = np.take_along_axis(positions, indices, axis=ctx.axis)
        if not ctx.keepdim:
            chosen = np.squeeze(chosen, ctx.axis)
        return Gather.apply(input_t, chosen), None


class MaxDim(ExtremeDim):
    """max(dim) (see :class:`ExtremeDim`)."""

    node_name = "MaxBackward0"


class MinDim(ExtremeDim):
    """min(dim) (see :class:`ExtremeDim`)."""

    node_name = "MinBackward0"


table.register("max", MaxDim)
table.register("min", MinDim)


def _arg_extreme(name: str, numpy_arg, input: Tensor, dim, keepdim: bool) -> Tensor:
    if input.dtype is dtypes.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    values = _values(input, input.dtype)
    if dim is None:
        if input.numel() == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        index = numpy_arg(values.reshape(-1))
        shape = (1,) * input.ndim if keepdim else ()
        return wrap(np.reshape(index, shape), dtypes.int64)
    axis = layout.wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return wrap(np.int64(0), dtypes.int64)
    if input.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    return wrap(numpy_arg(values, axis=axis, keepdims=keepdim), dtypes.int64)


@accepts_axis
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the largest element, in the flattened tensor when ``dim`` is None."""
    return _arg_extreme("argmax", np.argmax, input, dim, keepdim)


@accepts_axis
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the smallest element, in the flattened tensor when ``dim`` is None."""
    return _arg_extreme("argmin", np.argmin, input, dim, keepdim)


def _logical_reduction(numpy_function, input: Tensor, dim, keepdim: bool) -> Tensor:
    # torch keeps uint8 for uint8 inputs (a legacy of masks stored as bytes); otherwise bool.
    result_dtype = dtypes.uint8 if input.dtype is dtypes.uint8 else dtypes.bool
    # Unlike sum, all/any read an empty tuple of dims as "reduce nothing".
    axes = () if dim == () else layout.wrap_dims(dim, input.ndim)
    values = numpy_function(input._array() != 0, axis=axes, keepdims=keepdim)
    return wrap(values, result_dtype, fresh=True)


@accepts_axis
def all(  # noqa: A001 - torch's name
    input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False
) -> Tensor:
    """Whether every element (along ``dim``) is nonzero, as a bool tensor."""
    return _logical_reduction(np.all, input, dim, keepdim)


@accepts_axis
def any(  # noqa: A001 - torch's name
    input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False
) -> Tensor:
    """Whether some element (along ``dim``) is nonzero, as a bool tensor."""
    return _logical_reduction(np.any, input, dim, keepdim)


def sum_to_shape(tensor: Tensor, shape: Sequence[int]) -> Tensor:
    """Undo broadcasting: sum ``tensor`` over the dims that broadcasting added or stretched so
    that the result has ``shape`` (torch's ``sum_to``; ``Tensor.sum_to_size``).  The backward
    engine applies it to every gradient whose input was broadcast."""
    shape = tuple(shape)
    if tuple(tensor.shape) == shape:
        return tensor
    if layout.broadcast_shapes(shape, tensor.shape) != tuple(tensor.shape):
        raise RuntimeError(f"size {list(shape)} is not expandable to size {list(tensor.shape)}.")
    leading = tensor.ndim - len(shape)
    stretched = tuple(
        leading + dim
        for dim, size in enumerate(shape)
        if size == 1 and tensor.shape[leading + dim] != 1
    )
    dims = tuple(range(leading)) + stretched
    summed = sum(tensor, dims, keepdim=True) if dims else tensor
    return summed.reshape(shape) if tuple(summed.shape) != shape else summed


@accepts_axis
def var_mean(
    input: Tensor,
    dim: int | Sequence[int] | bool | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``(var(...), mean(...))`` over the same dims, in one call (arguments as :func:`var`)."""
    variance = var(input, dim, unbiased, keepdim, correction=correction)
    return variance, mean(input, None if isinstance(dim, builtins.bool) else dim, keepdim)


@accepts_axis
def std_mean(
    input: Tensor,
    dim: int | Sequence[int] | bool | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``(std(...), mean(...))`` over the same dims, in one call (arguments as :func:`std`)."""
    deviation = std(input, dim, unbiased, keepdim, correction=correction)
    return deviation, mean(input, None if isinstance(dim, builtins.bool) else dim, keepdim)
