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

Backward of a reduction spreads the output gradient back over the reduced dims: re-insert them
(``unsqueeze`` unless ``keepdim``) and ``expand`` (:func:`_expand_back`), then scale (mean),
weight by deviations (var/std), by the product of the other elements (prod), or route it to the
selected element (max/min: along ``dim`` to the returned index; over all elements split evenly
among ties, as torch does).
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from engine import dtypes, layout
from engine.autograd.function import Function
from engine.dtypes import DType
from engine.ops import elementwise
from engine.ops.indexing import ScatterAdd
from engine.ops.iterator import cast_array, compute_numpy_dtype, wrap
from engine.tensor import Tensor


def _values(tensor: Tensor, dtype: DType) -> np.ndarray:
    """The tensor's values converted to the dtype NumPy should accumulate in."""
    return cast_array(tensor._array(), compute_numpy_dtype(dtype))


def _sum_dtype(tensor: Tensor, dtype: DType | None) -> DType:
    if dtype is not None:
        return dtype
    return tensor.dtype if tensor.dtype.is_floating_point else dtypes.int64


def sum(  # noqa: A001 - torch's name
    input: Tensor, dim=None, keepdim: bool = False, *, dtype: DType | None = None
) -> Tensor:
    """Sum over ``dim`` (all dims when None): ``(*shape)`` -> shape without the reduced dims."""
    return (Sum if dim is None else SumDim).apply(input, dim, keepdim, dtype)


def _expand_back(grad: Tensor, shape, axes: tuple[int, ...], keepdim: bool) -> Tensor:
    """A reduction's output gradient broadcast back to the input ``shape`` (a view)."""
    if not keepdim:
        for axis in sorted(axes):
            grad = grad.unsqueeze(axis)
    return grad.expand(tuple(shape))


class Sum(Function):
    """Sum over dims; every input element gets the gradient of its sum.  Saves shapes only."""

    node_name = "SumBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, dim, keepdim: bool, dtype: DType | None) -> Tensor:
        result_dtype = _sum_dtype(input, dtype)
        axes = layout.wrap_dims(dim, input.ndim)
        ctx.reduced = (input.shape, axes, keepdim)
        values = np.sum(_values(input, result_dtype), axis=axes, keepdims=keepdim)
        return wrap(values, result_dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return _expand_back(grad_output, *ctx.reduced), None, None, None


class SumDim(Sum):
    node_name = "SumBackward1"


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype: DType | None = None) -> Tensor:
    """Product over ``dim`` (all dims when None); integers and bools give int64."""
    return (Prod if dim is None else ProdDim).apply(input, dim, keepdim, dtype)


class Prod(Function):
    """Product over dims; d/dx_i is the product of the other elements: ``result / x_i`` when
    no element is zero (as torch computes it), else computed without dividing.  Saves the input
    and the result."""

    node_name = "ProdBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, dim, keepdim: bool, dtype: DType | None) -> Tensor:
        result_dtype = _sum_dtype(input, dtype)
        axes = layout.wrap_dims(dim, input.ndim)
        ctx.reduced = (input.shape, axes, keepdim)
        values = np.prod(_values(input, result_dtype), axis=axes, keepdims=keepdim)
        result = wrap(values, result_dtype)
        ctx.save_for_backward(input, result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, result = ctx.saved_tensors
        grad = _expand_back(grad_output, *ctx.reduced)
        if np.all(input._array() != 0):
            return grad * (_expand_back(result, *ctx.reduced) / input), None, None, None
        # With zeros, result / x is 0/0: multiply the products before and after each element.
        # (This branch is not differentiable again; torch's is.)
        others = Tensor._from_array(_product_of_others(input._array(), ctx.reduced[1]))
        return grad * others, None, None, None


class ProdDim(Prod):
    node_name = "ProdBackward1"


def _product_of_others(values: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """For each element, the product of the other elements of its reduction group."""
    moved = np.moveaxis(values, axes, tuple(range(-len(axes), 0))) if axes else values[..., None]
    kept_shape = moved.shape[: moved.ndim - builtins.max(len(axes), 1)]
    flat = moved.reshape(*kept_shape, -1)
    ones = np.ones((*kept_shape, 1), dtype=flat.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (before * after).reshape(moved.shape)
    if not axes:
        return others[..., 0]
    return np.moveaxis(others, tuple(range(-len(axes), 0)), axes)


def _reduced_count(shape, axes) -> int:
    return layout.numel([shape[axis] for axis in axes])


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype: DType | None = None) -> Tensor:
    """Mean over ``dim`` (all dims when None); needs a floating dtype (or ``dtype=``)."""
    result_dtype = dtype if dtype is not None else input.dtype
    if not result_dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.scalar_type_name}"
        )
    return (Mean if dim is None else MeanDim).apply(input, dim, keepdim, result_dtype)


class Mean(Function):
    """Mean over dims; each input element gets ``grad / count``.  Saves shapes only."""

    node_name = "MeanBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, dim, keepdim: bool, result_dtype: DType) -> Tensor:
        axes = layout.wrap_dims(dim, input.ndim)
        ctx.reduced = (input.shape, axes, keepdim)
        ctx.count = _reduced_count(input.shape, axes)
        with np.errstate(all="ignore"):
            total = np.sum(_values(input, result_dtype), axis=axes, keepdims=keepdim)
            values = total / ctx.count
        return wrap(values, result_dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return _expand_back(grad_output, *ctx.reduced) / ctx.count, None, None, None


class MeanDim(Mean):
    node_name = "MeanBackward1"


def _correction(unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError("var()/std(): pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(
    input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Variance ``sum((x - mean)**2) / (N - correction)`` over ``dim``; ``correction=1`` (the
    default, Bessel's correction, ``unbiased=True``) gives the sample variance.

    ``var(x, False)`` (a bool in place of ``dim``) means ``unbiased=False``, as in torch.
    """
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, dim, keepdim, _correction(unbiased, correction))


class Var(Function):
    """``sum((x - mean)**2) / (N - correction)``; d/dx = ``2 (x - mean) / (N - correction)``
    (the mean's own dependence on x cancels out).  Saves the input."""

    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, dim, keepdim: bool, correction: float) -> Tensor:
        axes = layout.wrap_dims(dim, input.ndim)
        count = _reduced_count(input.shape, axes)
        ctx.reduced, ctx.count_minus_correction = (input.shape, axes, keepdim), count - correction
        ctx.save_for_backward(input)
        values = _values(input, input.dtype)
        with np.errstate(all="ignore"):
            deviations = values - np.mean(values, axis=axes, keepdims=True)
            squares = np.sum(deviations * deviations, axis=axes, keepdims=keepdim)
            degrees_of_freedom = builtins.max(count - correction, 0)
            result = squares / degrees_of_freedom
        return wrap(result, input.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        return _var_backward(ctx, grad_output, input), None, None, None


def _var_backward(ctx, grad_output: Tensor, input: Tensor) -> Tensor:
    _, axes, keepdim = ctx.reduced
    grad = grad_output
    if not keepdim:
        for axis in sorted(axes):
            grad = grad.unsqueeze(axis)
    centered = input - mean(input, axes, keepdim=True)
    return (2.0 / ctx.count_minus_correction) * grad * centered


def std(
    input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same arguments)."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Std.apply(input, dim, keepdim, _correction(unbiased, correction))


class Std(Function):
    """``sqrt(var)``; backward is var's with the gradient ``grad / (2 std)`` (0 where std is
    0, as in torch).  Saves the input and the result."""

    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, dim, keepdim: bool, correction: float) -> Tensor:
        variance = Var.forward(ctx, input, dim, keepdim, correction)
        with np.errstate(all="ignore"):
            result = wrap(np.sqrt(_values(variance, variance.dtype)), variance.dtype)
        ctx.save_for_backward(input, result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, result = ctx.saved_tensors
        grad_variance = elementwise.where(result == 0, 0.0, grad_output / (result * 2))
        return _var_backward(ctx, grad_variance, input), None, None, None


def _return_type(name: str) -> type:
    """A ``(values, indices)`` namedtuple printed like ``torch.return_types.max``."""

    def __repr__(self) -> str:
        return f"engine.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    base = namedtuple(name, ["values", "indices"])
    return type(name, (base,), {"__repr__": __repr__, "__slots__": ()})


max_result = _return_type("max")
min_result = _return_type("min")


def _extreme(name: str, numpy_reduce, numpy_arg, result_type, input, dim, keepdim):
    if isinstance(dim, Tensor):
        return (elementwise.maximum if name == "max" else elementwise.minimum)(input, dim)
    values = input._array()
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return wrap(numpy_reduce(_values(input, input.dtype)), input.dtype)
    axis = layout.wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return result_type(wrap(values, input.dtype), wrap(np.int64(0), dtypes.int64))
    if input.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    indices = numpy_arg(_values(input, input.dtype), axis=axis, keepdims=True)
    selected = np.take_along_axis(values, indices, axis=axis)
    if not keepdim:
        indices, selected = np.squeeze(indices, axis), np.squeeze(selected, axis)
    return result_type(wrap(selected, input.dtype), wrap(indices, dtypes.int64))


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001 - torch's name
    """Largest element (0-d) when ``dim`` is None; with ``dim``, a namedtuple
    ``(values, indices)`` of the largest elements along ``dim`` and where they are; with a
    tensor in place of ``dim``, the elementwise :func:`maximum`.  NaN counts as largest."""
    return _extreme_op("max", np.max, np.argmax, max_result, input, dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001 - torch's name
    """Smallest element, or ``(values, indices)`` along ``dim`` (see :func:`max`)."""
    return _extreme_op("min", np.min, np.argmin, min_result, input, dim, keepdim)


def _extreme_op(name, numpy_reduce, numpy_arg, result_type, input, dim, keepdim):
    if isinstance(dim, Tensor):  # max(input, other): the elementwise maximum
        return _extreme(name, numpy_reduce, numpy_arg, result_type, input, dim, keepdim)
    if dim is None:
        node = MaxAll if name == "max" else MinAll
        return node.apply(input, name, numpy_reduce, numpy_arg, result_type)
    node = MaxDim if name == "max" else MinDim
    values, indices = node.apply(input, name, numpy_reduce, numpy_arg, result_type, dim, keepdim)
    return result_type(values, indices)


class ExtremeAll(Function):
    """max()/min() over all elements; the gradient is split evenly among the elements equal to
    the result (torch's rule for ties).  Saves the input and the result."""

    @staticmethod
    def forward(ctx, input: Tensor, name, numpy_reduce, numpy_arg, result_type) -> Tensor:
        result = _extreme(name, numpy_reduce, numpy_arg, result_type, input, None, False)
        ctx.save_for_backward(input, result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, result = ctx.saved_tensors
        chosen = elementwise.eq(input, result)
        share = grad_output / sum(chosen)
        return elementwise.where(chosen, share, 0.0), None, None, None, None


class MaxAll(ExtremeAll):
    node_name = "MaxBackward1"


class MinAll(ExtremeAll):
    node_name = "MinBackward1"


class ExtremeDim(Function):
    """max(dim)/min(dim): ``(values, indices)``; the gradient goes to the element at the
    returned index only (even when others tie).  Saves the indices."""

    @staticmethod
    def forward(ctx, input: Tensor, name, numpy_reduce, numpy_arg, result_type, dim, keepdim):
        values, indices = _extreme(name, numpy_reduce, numpy_arg, result_type, input, dim, keepdim)
        ctx.input_shape, ctx.keepdim = input.shape, keepdim
        ctx.axis = layout.wrap_dim(dim, input.ndim) if input.ndim else 0
        ctx.indices = indices._array()
        return values, indices

    @staticmethod
    def backward(ctx, grad_values: Tensor, grad_indices):
        if len(ctx.input_shape) == 0:
            return grad_values, None, None, None, None, None, None
        indices, grad = ctx.indices, grad_values
        if not ctx.keepdim:
            indices = np.expand_dims(indices, ctx.axis)
            grad = grad.unsqueeze(ctx.axis)
        positions = np.arange(layout.numel(ctx.input_shape)).reshape(ctx.input_shape)
        chosen = np.take_along_axis(positions, indices, axis=ctx.axis)
        grad_input = ScatterAdd.apply(grad, chosen, tuple(ctx.input_shape), True)
        return grad_input, None, None, None, None, None, None


class MaxDim(ExtremeDim):
    node_name = "MaxBackward0"


class MinDim(ExtremeDim):
    node_name = "MinBackward0"


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


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the largest element, in the flattened tensor when ``dim`` is None."""
    return _arg_extreme("argmax", np.argmax, input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the smallest element, in the flattened tensor when ``dim`` is None."""
    return _arg_extreme("argmin", np.argmin, input, dim, keepdim)


def _logical_reduction(numpy_function, input: Tensor, dim, keepdim: bool) -> Tensor:
    # torch keeps uint8 for uint8 inputs (a legacy of masks stored as bytes); otherwise bool.
    result_dtype = dtypes.uint8 if input.dtype is dtypes.uint8 else dtypes.bool
    # Unlike sum, all/any read an empty tuple of dims as "reduce nothing".
    axes = () if dim == () else layout.wrap_dims(dim, input.ndim)
    values = numpy_function(input._array() != 0, axis=axes, keepdims=keepdim)
    return wrap(values, result_dtype)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    """Whether every element (along ``dim``) is nonzero, as a bool tensor."""
    return _logical_reduction(np.all, input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    """Whether some element (along ``dim``) is nonzero, as a bool tensor."""
    return _logical_reduction(np.any, input, dim, keepdim)


def sum_to_shape(tensor: Tensor, shape) -> Tensor:
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
