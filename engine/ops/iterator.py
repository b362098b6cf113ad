"""The operand iterator: what every op family does before and after its NumPy call.

PyTorch routes elementwise ops and reductions through ``TensorIterator``, which (1) picks the
common dtype of the operands, (2) broadcasts their shapes, (3) reads each operand converted to
the dtype the kernel computes in, and (4) allocates the result with strides that follow the
memory order of the inputs.  This module is the engine's version of those four steps, shared
by every op family (elementwise, reductions, matmul, joins, creation):

* :func:`compute_numpy_dtype` and :func:`cast_array`: the dtype NumPy computes in ("opmath":
  float32 for float16 and bfloat16, as torch's CPU kernels do) and an exact conversion;
* :func:`operand_values`: one operand (tensor or Python number) as a NumPy array in that dtype;
* :func:`output_strides`: the result's strides, a port of TensorIterator's layout rules
  (:func:`engine.layout.iterator_output_strides`);
* :func:`compute`: steps 1--4 for an elementwise kernel; :func:`wrap` and
  :func:`empty_strided_copy` turn computed values into a new tensor.

Nothing here records autograd history: the derivative table (:mod:`engine.ops.table`) wraps
these kernels into differentiable ops.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence

import numpy as np

from engine import dtypes, layout
from engine.dtypes import DType
from engine.tensor import Tensor

Operand = Tensor | int | float | bool
"""What an elementwise op accepts: a tensor or a Python number (a 0-d operand)."""

_LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)


def compute_numpy_dtype(dtype: DType) -> np.dtype:
    """The NumPy dtype a kernel computes in: float32 for the 16-bit floats (torch's opmath)."""
    return np.dtype(np.float32) if dtype in _LOW_PRECISION else dtype.numpy_dtype


def cast_array(array: np.ndarray, numpy_dtype: np.dtype) -> np.ndarray:
    """``array.astype(numpy_dtype)`` rounded as torch rounds; ``array`` itself when it already
    has that dtype.

    A 16-bit float result is made from float32, as torch makes it (``c10::Half`` and
    ``c10::BFloat16`` are built from a ``float``): a float64 value is rounded to float32
    first, then to 16 bits.  Rounding twice differs from NumPy's direct float64 -> float16
    rounding for values just above a halfway point (``1 + 2**-11 + 2**-40`` gives 1.0 in
    torch, 1.0009765625 directly).  bfloat16 values are widened through float32 too (ml_dtypes
    converts to and from float32 exactly, rounding to nearest even)."""
    if array.dtype == numpy_dtype:
        return array
    bfloat16 = dtypes.bfloat16.numpy_dtype
    with np.errstate(all="ignore"):
        if array.dtype == bfloat16 and numpy_dtype != np.float32:
            array = array.astype(np.float32)
        if numpy_dtype in (bfloat16, np.float16) and array.dtype not in (np.float32, np.float16):
            array = array.astype(np.float32)
        return array.astype(numpy_dtype)


def shape_of(operand: Operand) -> tuple[int, ...]:
    """The shape of a tensor, ``()`` for a Python number."""
    return tuple(operand.shape) if isinstance(operand, Tensor) else ()


def operand_values(operand: Operand, dtype: DType) -> np.ndarray:
    """The operand's values cast to ``dtype`` (so a Python float meeting a float16 tensor is
    rounded to float16 first, as in torch), then widened to the compute dtype."""
    if isinstance(operand, Tensor):
        array = operand._array()
    elif isinstance(operand, builtins.bool | builtins.int | builtins.float | np.number | np.bool_):
        array = np.asarray(operand)
    else:
        raise TypeError(f"unsupported operand type for a tensor op: {type(operand).__name__}")
    array = cast_array(array, dtype.numpy_dtype)
    return cast_array(array, compute_numpy_dtype(dtype))


def empty_strided_copy(values: np.ndarray, shape: Sequence[int], strides: Sequence[int]) -> Tensor:
    """A fresh tensor with the given dense ``strides`` holding ``values`` (broadcast to shape)."""
    extent = 1 + builtins.sum(
        (size - 1) * stride for size, stride in zip(shape, strides, strict=True)
    )
    extent = extent if layout.numel(shape) > 0 else 0
    storage = np.empty(extent, dtype=values.dtype)
    result = Tensor(storage, shape, strides)
    result._array()[...] = values
    return result


def empty_like_layout(tensor: Tensor) -> Tensor:
    """An uninitialized tensor with ``tensor``'s shape, dtype and (dense) memory order."""
    strides = layout.dense_strides_like(tensor.shape, tensor.stride())
    return empty_strided_copy(np.empty((), dtype=tensor._storage.dtype), tensor.shape, strides)


def wrap(
    values: np.ndarray, dtype: DType, strides: layout.Strides | None = None, *, fresh: bool = False
) -> Tensor:
    """A new tensor of ``dtype`` holding ``values``: contiguous, or laid out with ``strides``.

    ``fresh=True`` says NumPy has just computed ``values`` and nothing else holds them.  Then,
    if they already have the dtype and the (row-major) layout asked for, they become the
    storage as they are (no copy, torch's kernels write straight into the output); otherwise
    they are copied like any other values.
    """
    values = np.asarray(values)
    if (
        fresh
        and values.dtype == dtype.numpy_dtype
        and values.flags.owndata
        and values.flags.c_contiguous
        and (strides is None or tuple(strides) == layout.contiguous_strides(values.shape))
    ):
        return wrap_fresh(values)
    values = cast_array(values, dtype.numpy_dtype)
    if strides is None:
        return Tensor._from_array(values)
    return empty_strided_copy(values, values.shape, strides)


def geometry(operand: Operand, dtype: DType | None) -> layout.Geometry:
    """``(shape, strides)`` of an operand as torch's TensorIterator sees it: a Python number is
    a 0-d tensor, and a tensor whose dtype is not the op's common ``dtype`` has been replaced by
    its ``.to(dtype)`` copy (dense, same order of dims), which is what the CPU iterator does."""
    if not isinstance(operand, Tensor):
        return (), ()
    if dtype is not None and operand.dtype is not dtype:
        return tuple(operand.shape), layout.dense_strides_like(operand.shape, operand.stride())
    return tuple(operand.shape), operand.stride()


def output_strides(dtype: DType | None, *operands: Operand) -> layout.Strides:
    """Strides torch gives the result of an elementwise op over ``operands`` (in torch's
    argument order) whose inputs are promoted to ``dtype`` (None: read as they are)."""
    return layout.iterator_output_strides([geometry(operand, dtype) for operand in operands])


def wrap_fresh(values: np.ndarray) -> Tensor:
    """A contiguous tensor whose storage IS ``values``, an array NumPy has just computed and
    that nothing else references (no copy).  Only for fresh arrays: wrapping an array that
    someone else holds would make the tensor share its memory."""
    return Tensor(values.reshape(-1), values.shape, layout.contiguous_strides(values.shape))


def _fast_operands(operands: tuple, dtype: DType) -> list[np.ndarray] | None:
    """The operands' arrays when TensorIterator's ``fast_set_up`` applies: tensors of one shape,
    contiguous, already of the op's dtype (and Python numbers next to a floating tensor), so
    there is nothing to broadcast, convert or lay out.  None otherwise."""
    if dtype in _LOW_PRECISION or not dtype.is_floating_point:
        return None
    shape = None
    arrays = []
    for operand in operands:
        if isinstance(operand, Tensor):
            if operand.dtype is not dtype or (shape is not None and operand._shape != shape):
                return None
            shape = operand._shape
            strides = operand._strides
            # Contiguous, or expanded from one element (all strides 0, as the gradient of a
            # sum is): either way the result is laid out contiguously, as torch's is.
            if strides != layout.contiguous_strides(shape) and any(strides):
                return None
            arrays.append(operand._array())
        elif isinstance(operand, builtins.int | builtins.float) and not isinstance(
            operand, builtins.bool
        ):
            arrays.append(dtype.numpy_dtype.type(operand))
        else:
            return None
    if shape is None or 0 in shape:
        return None
    return arrays


def compute(
    numpy_function: Callable[..., np.ndarray],
    operands: tuple[Operand, ...],
    dtype: DType,
    strides: layout.Strides | None = None,
    result_dtype: DType | None = None,
) -> Tensor:
    """``numpy_function(*operands)`` computed in ``dtype`` (its opmath dtype): broadcast the
    shapes (torch's error if they cannot), convert each operand, call NumPy with its warnings
    off (torch raises none), and wrap the result as ``result_dtype`` (default ``dtype``) laid
    out like torch's iterator over ``operands`` unless the caller knows other ``strides``."""
    result_dtype = dtype if result_dtype is None else result_dtype
    if strides is None:
        # Fast path (TensorIterator's fast_set_up): same-shape contiguous operands of the op's
        # dtype; the fresh result becomes the storage as it is.  Deleting this block changes
        # no result, only the time.
        arrays = _fast_operands(operands, dtype)
        if arrays is not None:
            with np.errstate(all="ignore"):  # torch raises no floating-point warnings
                values = numpy_function(*arrays)
            return wrap(values, result_dtype, fresh=True)
    layout.broadcast_shapes(*(shape_of(operand) for operand in operands))
    with np.errstate(all="ignore"):  # torch raises no floating-point warnings
        values = numpy_function(*(operand_values(operand, dtype) for operand in operands))
    if strides is None:
        strides = output_strides(dtype, *operands)
    return wrap(values, result_dtype, strides, fresh=True)
