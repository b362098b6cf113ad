"""Elementwise ops: arithmetic, comparisons, unary math, ``where``, ``clamp``, dtype casts.

Every binary op follows the same three steps, which is what PyTorch's TensorIterator does too:

1. the result dtype comes from :func:`engine.dtypes.result_type` (Python scalars and 0-d
   tensors do not upcast a tensor of the same category);
2. the shapes broadcast (:func:`engine.ops.layout.broadcast_shapes`, RuntimeError otherwise);
3. the operands are converted to a *compute* dtype -- float32 for float16 and bfloat16, which is
   what PyTorch's CPU kernels do ("opmath") -- and NumPy computes the values.

Results are new contiguous tensors.
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from engine import dtypes
from engine.dtypes import DType
from engine.ops import layout
from engine.ops.indexing import check_no_internal_overlap
from engine.tensor import Tensor

Operand = Tensor | int | float | bool

_LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)


# --------------------------------------------------------------------------- conversions
def _compute_numpy_dtype(dtype: DType) -> np.dtype:
    """The NumPy dtype NumPy computes in: float32 for the 16-bit floats (PyTorch's opmath)."""
    return np.dtype(np.float32) if dtype in _LOW_PRECISION else dtype.numpy_dtype


def _cast_array(array: np.ndarray, numpy_dtype: np.dtype) -> np.ndarray:
    """``array.astype`` that goes through float32 when bfloat16 is on either side (ml_dtypes
    converts to and from float32 exactly and with round-to-nearest-even)."""
    if array.dtype == numpy_dtype:
        return array
    bfloat16 = dtypes.bfloat16.numpy_dtype
    with np.errstate(all="ignore"):
        if array.dtype == bfloat16 and numpy_dtype != np.float32:
            array = array.astype(np.float32)
        if numpy_dtype == bfloat16 and array.dtype != np.float32:
            array = array.astype(np.float32)
        return array.astype(numpy_dtype)


def _operand_array(operand: Operand, dtype: DType) -> np.ndarray:
    """The operand's values cast to ``dtype`` (so a Python float meeting a float16 tensor is
    rounded to float16 first, as in torch), then widened to the compute dtype."""
    if isinstance(operand, Tensor):
        array = operand._array()
    elif isinstance(operand, builtins.bool | builtins.int | builtins.float | np.number | np.bool_):
        array = np.asarray(operand)
    else:
        raise TypeError(f"unsupported operand type for a tensor op: {type(operand).__name__}")
    array = _cast_array(array, dtype.numpy_dtype)
    return _cast_array(array, _compute_numpy_dtype(dtype))


def _shape_of(operand: Operand) -> tuple[int, ...]:
    return tuple(operand.shape) if isinstance(operand, Tensor) else ()


def _wrap(values: np.ndarray, dtype: DType) -> Tensor:
    """A new tensor of ``dtype`` holding ``values``."""
    return Tensor._from_array(_cast_array(np.asarray(values), dtype.numpy_dtype))


def _binary(numpy_function, input: Operand, other: Operand, dtype: DType) -> Tensor:
    layout.broadcast_shapes(_shape_of(input), _shape_of(other))
    with np.errstate(all="ignore"):
        values = numpy_function(_operand_array(input, dtype), _operand_array(other, dtype))
    return _wrap(values, dtype)


def to_dtype(tensor: Tensor, dtype: DType, *, copy: bool = False) -> Tensor:
    """``tensor`` converted to ``dtype`` (floats to ints truncate toward zero, nonzero to bool
    is True); ``tensor`` itself if it already has that dtype and ``copy`` is False."""
    if dtype is tensor.dtype and not copy:
        return tensor
    return Tensor._from_array(_cast_array(tensor._array(), dtype.numpy_dtype))


# ------------------------------------------------------------------------------ arithmetic
def add(input: Operand, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """``input + alpha * other``, broadcasting; dtype by type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(np.add, input, other, dtypes.result_type(input, other))


def _is_bool(operand: Operand) -> bool:
    if isinstance(operand, Tensor):
        return operand.dtype is dtypes.bool
    return isinstance(operand, builtins.bool | np.bool_)


def sub(input: Operand, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """``input - alpha * other``, broadcasting; bool - bool is an error as in torch."""
    dtype = dtypes.result_type(input, other)
    if dtype is dtypes.bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if any(_is_bool(operand) for operand in (input, other)):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(np.subtract, input, other, dtype)


def mul(input: Operand, other: Operand) -> Tensor:
    """Elementwise product, broadcasting."""
    return _binary(np.multiply, input, other, dtypes.result_type(input, other))


def div(input: Operand, other: Operand) -> Tensor:
    """True division: integer and bool inputs give the default float dtype (float32)."""
    dtype = dtypes.result_type(input, other)
    if not dtype.is_floating_point:
        dtype = dtypes.get_default_dtype()
    return _binary(np.true_divide, input, other, dtype)


true_divide = div


def _not_for_bool_result(dtype: DType, kernel_name: str) -> None:
    if dtype is dtypes.bool:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for 'Bool'")


def _check_integer_divisor(other: Operand, dtype: DType) -> None:
    # NumPy returns 0 for integer division by zero; PyTorch raises.
    if dtype.is_floating_point:
        return
    divisor = other._array() if isinstance(other, Tensor) else np.asarray(other)
    if divisor.size and not np.all(divisor):
        raise RuntimeError("ZeroDivisionError")


def floor_divide(input: Operand, other: Operand) -> Tensor:
    """Division rounded toward minus infinity (Python's ``//``)."""
    dtype = dtypes.result_type(input, other)
    _not_for_bool_result(dtype, "div_floor_cpu")
    _check_integer_divisor(other, dtype)
    return _binary(np.floor_divide, input, other, dtype)


def remainder(input: Operand, other: Operand) -> Tensor:
    """Python's ``%``: the result has the sign of the divisor."""
    dtype = dtypes.result_type(input, other)
    _not_for_bool_result(dtype, "remainder_cpu")
    _check_integer_divisor(other, dtype)
    return _binary(np.remainder, input, other, dtype)


def _integer_power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    # NumPy refuses negative integer exponents; torch gives 1 for base 1, +-1 for base -1 and
    # 0 otherwise (the truncated value of base ** exponent).
    base, exponent = np.broadcast_arrays(base, exponent)
    positive = np.power(base, np.maximum(exponent, 0))
    odd = (exponent % 2) != 0
    negative_result = np.where(base == 1, 1, np.where(base == -1, np.where(odd, -1, 1), 0))
    return np.where(exponent < 0, negative_result.astype(base.dtype), positive)


def pow(input: Operand, exponent: Operand) -> Tensor:  # noqa: A001 - torch's name
    """``input ** exponent``; an integer tensor to a negative Python integer is an error."""
    dtype = dtypes.result_type(input, exponent)
    if dtype is dtypes.bool and isinstance(exponent, Tensor):
        # torch has a bool kernel only for tensor ** Python scalar.
        _not_for_bool_result(dtype, "pow")
    if dtype.is_floating_point or dtype is dtypes.bool:
        return _binary(np.power, input, exponent, dtype)
    if isinstance(exponent, builtins.int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _binary(_integer_power, input, exponent, dtype)


def neg(input: Tensor) -> Tensor:
    """``-input``; not defined for bool (use ``~``)."""
    if input.dtype is dtypes.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _unary(np.negative, input, input.dtype)


# ----------------------------------------------------------------------------- comparisons
def _comparison(numpy_function, input: Operand, other: Operand) -> Tensor:
    common = dtypes.result_type(input, other)
    layout.broadcast_shapes(_shape_of(input), _shape_of(other))
    values = numpy_function(_operand_array(input, common), _operand_array(other, common))
    return _wrap(values, dtypes.bool)


def eq(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``==`` as a bool tensor."""
    return _comparison(np.equal, input, other)


def ne(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``!=`` as a bool tensor."""
    return _comparison(np.not_equal, input, other)


def lt(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``<`` as a bool tensor."""
    return _comparison(np.less, input, other)


def le(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``<=`` as a bool tensor."""
    return _comparison(np.less_equal, input, other)


def gt(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``>`` as a bool tensor."""
    return _comparison(np.greater, input, other)


def ge(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``>=`` as a bool tensor."""
    return _comparison(np.greater_equal, input, other)


def logical_not(input: Tensor) -> Tensor:
    """Elementwise ``not`` (``~`` on a bool tensor); the result is bool."""
    return _wrap(np.logical_not(input._array()), dtypes.bool)


# ------------------------------------------------------------------------------ unary math
def _unary(numpy_function, input: Tensor, dtype: DType) -> Tensor:
    with np.errstate(all="ignore"):
        values = numpy_function(_operand_array(input, dtype))
    return _wrap(values, dtype)


def _floating_result(input: Tensor) -> DType:
    # exp(int tensor) is float32 in torch: integers and bools go to the default dtype.
    return input.dtype if input.dtype.is_floating_point else dtypes.get_default_dtype()


def _not_for_bool(input: Tensor, kernel_name: str) -> None:
    if input.dtype is dtypes.bool:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for 'Bool'")


def abs(input: Tensor) -> Tensor:  # noqa: A001 - torch's name
    """Elementwise absolute value (same dtype)."""
    _not_for_bool(input, "abs_cpu")
    return _unary(np.abs, input, input.dtype)


def exp(input: Tensor) -> Tensor:
    """Elementwise ``e ** x``; integer inputs give float32."""
    return _unary(np.exp, input, _floating_result(input))


def log(input: Tensor) -> Tensor:
    """Elementwise natural log (``-inf`` at 0, ``nan`` below); integer inputs give float32."""
    return _unary(np.log, input, _floating_result(input))


def sqrt(input: Tensor) -> Tensor:
    """Elementwise square root (``nan`` below 0); integer inputs give float32."""
    return _unary(np.sqrt, input, _floating_result(input))


def sin(input: Tensor) -> Tensor:
    """Elementwise sine; integer inputs give float32."""
    return _unary(np.sin, input, _floating_result(input))


def cos(input: Tensor) -> Tensor:
    """Elementwise cosine; integer inputs give float32."""
    return _unary(np.cos, input, _floating_result(input))


def tanh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent; integer inputs give float32."""
    return _unary(np.tanh, input, _floating_result(input))


def _sigmoid_values(values: np.ndarray) -> np.ndarray:
    # exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) is the correct limit 0.
    return 1.0 / (1.0 + np.exp(-values))


def sigmoid(input: Tensor) -> Tensor:
    """Elementwise ``1 / (1 + exp(-x))``; integer inputs give float32."""
    return _unary(_sigmoid_values, input, _floating_result(input))


def relu(input: Tensor) -> Tensor:
    """Elementwise ``max(x, 0)`` (same dtype; nan stays nan)."""
    if input.dtype is dtypes.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary(lambda values: np.maximum(values, 0), input, input.dtype)


def _sign_values(values: np.ndarray) -> np.ndarray:
    # torch.sign(nan) is 0; NumPy's is nan.
    return (
        np.where(np.isnan(values), 0, np.sign(values))
        if values.dtype.kind == "f"
        else (np.sign(values))
    )


def sign(input: Tensor) -> Tensor:
    """Elementwise -1, 0 or 1 (0 for nan, as in torch); bool stays bool."""
    if input.dtype is dtypes.bool:
        return to_dtype(input, dtypes.bool, copy=True)
    return _unary(_sign_values, input, input.dtype)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - torch's name
    """Round half to even (``round(2.5) == 2``), optionally to ``decimals`` places."""
    _not_for_bool(input, "round_vml_cpu")
    if not input.dtype.is_floating_point:
        return to_dtype(input, input.dtype, copy=True)
    return _unary(lambda values: np.round(values, decimals), input, input.dtype)


# ----------------------------------------------------------------- selection and clamping
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise larger of two tensors (nan wins), broadcasting."""
    _require_tensors("maximum", input, other)
    return _binary(np.maximum, input, other, dtypes.result_type(input, other))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise smaller of two tensors (nan wins), broadcasting."""
    _require_tensors("minimum", input, other)
    return _binary(np.minimum, input, other, dtypes.result_type(input, other))


def _require_tensors(name: str, *operands) -> None:
    for operand in operands:
        if not isinstance(operand, Tensor):
            raise TypeError(
                f"{name}(): argument 'other' must be Tensor, not {type(operand).__name__}"
            )


def clamp(input: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``min(max(x, min), max)``; when ``min > max`` every element becomes ``max``."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    bounds = [bound for bound in (min, max) if bound is not None]
    dtype = dtypes.result_type(input, *bounds)
    layout.broadcast_shapes(*(_shape_of(operand) for operand in (input, *bounds)))
    with np.errstate(all="ignore"):
        values = _operand_array(input, dtype)
        if min is not None:
            values = np.maximum(values, _operand_array(min, dtype))
        if max is not None:
            values = np.minimum(values, _operand_array(max, dtype))
    return _wrap(values, dtype)


clip = clamp


def where(condition: Tensor, input: Operand, other: Operand) -> Tensor:
    """``input`` where ``condition`` is True, else ``other``; all three broadcast together."""
    if isinstance(condition, Tensor) and condition.dtype is dtypes.uint8:
        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated; use a "
            "boolean condition instead.",
            UserWarning,
            stacklevel=2,
        )
        condition = to_dtype(condition, dtypes.bool)
    if not isinstance(condition, Tensor) or condition.dtype is not dtypes.bool:
        name = condition.dtype.scalar_type_name if isinstance(condition, Tensor) else "scalar"
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {name}"
        )
    dtype = dtypes.result_type(input, other)
    layout.broadcast_shapes(condition.shape, _shape_of(input), _shape_of(other))
    values = np.where(
        condition._array(), _operand_array(input, dtype), _operand_array(other, dtype)
    )
    return _wrap(values, dtype)


# ------------------------------------------------------------------------------- in place
def copy_(tensor: Tensor, source: Operand) -> Tensor:
    """Write ``source`` (broadcast to ``tensor.shape``, cast to its dtype) into ``tensor``'s
    storage; views of the same storage see the change."""
    check_no_internal_overlap(tensor)
    source_shape = _shape_of(source)
    if layout.broadcast_shapes(source_shape, tensor.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"output with shape {list(tensor.shape)} doesn't match the broadcast shape "
            f"{list(layout.broadcast_shapes(source_shape, tensor.shape))}"
        )
    values = source._array() if isinstance(source, Tensor) else np.asarray(source)
    tensor._array()[...] = _cast_array(values, tensor.dtype.numpy_dtype)
    tensor._version_counter.bump()
    return tensor


def _in_place(function, tensor: Tensor, other: Operand, **kwargs) -> Tensor:
    result = function(tensor, other, **kwargs)
    if not dtypes.can_cast(result.dtype, tensor.dtype):
        raise RuntimeError(
            f"result type {result.dtype.scalar_type_name} can't be cast to the desired output "
            f"type {tensor.dtype.scalar_type_name}"
        )
    return copy_(tensor, result)


def add_(tensor: Tensor, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """In-place ``tensor += alpha * other``."""
    return _in_place(add, tensor, other, alpha=alpha)


def sub_(tensor: Tensor, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """In-place ``tensor -= alpha * other``."""
    return _in_place(sub, tensor, other, alpha=alpha)


def mul_(tensor: Tensor, other: Operand) -> Tensor:
    """In-place ``tensor *= other``."""
    return _in_place(mul, tensor, other)


def div_(tensor: Tensor, other: Operand) -> Tensor:
    """In-place ``tensor /= other`` (an integer tensor cannot hold the float result)."""
    return _in_place(div, tensor, other)
