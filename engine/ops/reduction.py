"""Reductions: ``sum``, ``mean``, ``var``, ``std``, ``prod``, ``max``, ``min``, ``argmax``,
``argmin``.

``dim`` may be an int, a tuple of ints (sum/mean/var/std/prod) or None for all dims; negative
dims count from the end and ``keepdim=True`` keeps reduced dims with size 1.  Integer and bool
tensors sum to int64, as in torch.  Float16 and bfloat16 accumulate in float32 (PyTorch does the
same), and float32 sums use NumPy's pairwise summation, so rounding error grows like
``O(log n)`` rather than ``O(n)``.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from engine import dtypes
from engine.dtypes import DType
from engine.ops import layout
from engine.ops.elementwise import _cast_array, _compute_numpy_dtype, _wrap
from engine.tensor import Tensor


def _values(tensor: Tensor, dtype: DType) -> np.ndarray:
    """The tensor's values converted to the dtype NumPy should accumulate in."""
    return _cast_array(tensor._array(), _compute_numpy_dtype(dtype))


def _sum_dtype(tensor: Tensor, dtype: DType | None) -> DType:
    if dtype is not None:
        return dtype
    return tensor.dtype if tensor.dtype.is_floating_point else dtypes.int64


def sum(  # noqa: A001 - torch's name
    input: Tensor, dim=None, keepdim: bool = False, *, dtype: DType | None = None
) -> Tensor:
    """Sum over ``dim`` (all dims when None): ``(*shape)`` -> shape without the reduced dims."""
    result_dtype = _sum_dtype(input, dtype)
    axes = layout.wrap_dims(dim, input.ndim)
    values = np.sum(_values(input, result_dtype), axis=axes, keepdims=keepdim)
    return _wrap(values, result_dtype)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype: DType | None = None) -> Tensor:
    """Product over ``dim`` (all dims when None); integers and bools give int64."""
    result_dtype = _sum_dtype(input, dtype)
    axes = layout.wrap_dims(dim, input.ndim)
    values = np.prod(_values(input, result_dtype), axis=axes, keepdims=keepdim)
    return _wrap(values, result_dtype)


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
    axes = layout.wrap_dims(dim, input.ndim)
    with np.errstate(all="ignore"):
        total = np.sum(_values(input, result_dtype), axis=axes, keepdims=keepdim)
        values = total / _reduced_count(input.shape, axes)
    return _wrap(values, result_dtype)


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
    axes = layout.wrap_dims(dim, input.ndim)
    values = _values(input, input.dtype)
    with np.errstate(all="ignore"):
        deviations = values - np.mean(values, axis=axes, keepdims=True)
        squares = np.sum(deviations * deviations, axis=axes, keepdims=keepdim)
        count = _reduced_count(input.shape, axes)
        degrees_of_freedom = builtins.max(count - _correction(unbiased, correction), 0)
        result = squares / degrees_of_freedom
    return _wrap(result, input.dtype)


def std(
    input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same arguments)."""
    variance = var(input, dim, unbiased, keepdim, correction=correction)
    with np.errstate(all="ignore"):
        return _wrap(np.sqrt(_values(variance, variance.dtype)), variance.dtype)


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
        from engine.ops import elementwise

        return (elementwise.maximum if name == "max" else elementwise.minimum)(input, dim)
    values = input._array()
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return _wrap(numpy_reduce(_values(input, input.dtype)), input.dtype)
    axis = layout.wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return result_type(_wrap(values, input.dtype), _wrap(np.int64(0), dtypes.int64))
    if input.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    indices = numpy_arg(_values(input, input.dtype), axis=axis, keepdims=True)
    selected = np.take_along_axis(values, indices, axis=axis)
    if not keepdim:
        indices, selected = np.squeeze(indices, axis), np.squeeze(selected, axis)
    return result_type(_wrap(selected, input.dtype), _wrap(indices, dtypes.int64))


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001 - torch's name
    """Largest element (0-d) when ``dim`` is None; with ``dim``, a namedtuple
    ``(values, indices)`` of the largest elements along ``dim`` and where they are; with a
    tensor in place of ``dim``, the elementwise :func:`maximum`.  NaN counts as largest."""
    return _extreme("max", np.max, np.argmax, max_result, input, dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001 - torch's name
    """Smallest element, or ``(values, indices)`` along ``dim`` (see :func:`max`)."""
    return _extreme("min", np.min, np.argmin, min_result, input, dim, keepdim)


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
        return _wrap(np.reshape(index, shape), dtypes.int64)
    axis = layout.wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return _wrap(np.int64(0), dtypes.int64)
    if input.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    return _wrap(numpy_arg(values, axis=axis, keepdims=keepdim), dtypes.int64)


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
    return _wrap(values, result_dtype)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    """Whether every element (along ``dim``) is nonzero, as a bool tensor."""
    return _logical_reduction(np.all, input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    """Whether some element (along ``dim``) is nonzero, as a bool tensor."""
    return _logical_reduction(np.any, input, dim, keepdim)
