"""Elementwise ops: arithmetic, comparisons, unary math, ``where``, ``clamp``, dtype casts.

Every binary op follows the same three steps, which is what PyTorch's TensorIterator does too:

1. the result dtype comes from :func:`engine.dtypes.result_type` (Python scalars and 0-d
   tensors do not upcast a tensor of the same category);
2. the shapes broadcast (:func:`engine.ops.layout.broadcast_shapes`, RuntimeError otherwise);
3. the operands are converted to a *compute* dtype -- float32 for float16 and bfloat16, which is
   what PyTorch's CPU kernels do ("opmath") -- and NumPy computes the values.

Results are new tensors whose strides follow the memory order of the inputs, as TensorIterator
lays them out (:func:`engine.ops.layout.iterator_output_strides`): ``x.t() + 1`` is transposed
too.  :func:`_output_strides` says which operands torch's iterator sees for each op.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from engine import dtypes
from engine.autograd.function import Function
from engine.autograd.inplace import check_inplace, needs_history, old_value, rebase_history
from engine.dtypes import DType
from engine.ops import layout
from engine.ops import shape as shape_ops
from engine.ops.indexing import check_no_internal_overlap
from engine.ops.shape import empty_strided_copy
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


def _wrap(values: np.ndarray, dtype: DType, strides: layout.Strides | None = None) -> Tensor:
    """A new tensor of ``dtype`` holding ``values``: contiguous, or laid out with ``strides``."""
    values = _cast_array(np.asarray(values), dtype.numpy_dtype)
    if strides is None:
        return Tensor._from_array(values)
    return empty_strided_copy(values, values.shape, strides)


def _geometry(operand: Operand, dtype: DType | None) -> layout.Geometry:
    """``(shape, strides)`` of an operand as torch's TensorIterator sees it: a Python number is
    a 0-d tensor, and a tensor whose dtype is not the op's common ``dtype`` has been replaced by
    its ``.to(dtype)`` copy (dense, same order of dims), which is what the CPU iterator does."""
    if not isinstance(operand, Tensor):
        return (), ()
    if dtype is not None and operand.dtype is not dtype:
        return tuple(operand.shape), layout.dense_strides_like(operand.shape, operand.stride())
    return tuple(operand.shape), operand.stride()


def _output_strides(dtype: DType | None, *operands: Operand) -> layout.Strides:
    """Strides torch gives the result of an elementwise op over ``operands`` (in torch's argument
    order) whose inputs are promoted to ``dtype`` (None: inputs are read as they are)."""
    return layout.iterator_output_strides([_geometry(operand, dtype) for operand in operands])


def _binary(
    numpy_function,
    input: Operand,
    other: Operand,
    dtype: DType,
    strides: layout.Strides | None = None,
) -> Tensor:
    """``numpy_function(input, other)`` in ``dtype``; laid out like torch's iterator over
    ``(input, other)`` unless the caller knows other ``strides``."""
    layout.broadcast_shapes(_shape_of(input), _shape_of(other))
    with np.errstate(all="ignore"):
        values = numpy_function(_operand_array(input, dtype), _operand_array(other, dtype))
    if strides is None:
        strides = _output_strides(dtype, input, other)
    return _wrap(values, dtype, strides)


def to_dtype(tensor: Tensor, dtype: DType, *, copy: bool = False) -> Tensor:
    """``tensor`` converted to ``dtype`` (floats to ints truncate toward zero, nonzero to bool
    is True); ``tensor`` itself if it already has that dtype and ``copy`` is False.

    The copy keeps the memory order of the dims (torch's ``_to_copy`` with preserve_format):
    a dense tensor keeps its strides exactly, others get :func:`layout.dense_strides_like`.
    """
    if dtype is tensor.dtype and not copy:
        return tensor
    return ToCopy.apply(tensor, dtype)


class ToCopy(Function):
    """A converted copy; the gradient is converted back to the input's dtype."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, dtype: DType) -> Tensor:
        ctx.input_dtype = tensor.dtype
        return _to_copy_values(tensor, dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return to_dtype(grad_output, ctx.input_dtype), None


def _to_copy_values(tensor: Tensor, dtype: DType) -> Tensor:
    strides = layout.dense_strides_like(tensor.shape, tensor.stride())
    return _wrap(tensor._array(), dtype, strides)


# ------------------------------------------------------------------------ autograd helpers
def _unbroadcast(ctx, index: int, grad):
    """The gradient of operand ``index`` summed back to its shape (undoing broadcasting), or
    None when that operand needs no gradient.  ``grad`` may be a callable, so that an unneeded
    gradient is never computed."""
    if len(ctx.needs_input_grad) <= index or not ctx.needs_input_grad[index]:
        return None
    if callable(grad):
        grad = grad()
    return shape_ops.sum_to_shape(grad, ctx.shapes[index])


def _save_operands(ctx, input, other, *, keep_input: bool, keep_other: bool) -> None:
    """Save the tensor operands backward will read (numbers are kept as they are); an operand
    that no gradient formula reads is not saved, so modifying it in place later is allowed."""
    ctx.shapes = (_shape_of(input), _shape_of(other))
    ctx.numbers = tuple(None if isinstance(value, Tensor) else value for value in (input, other))
    ctx.save_for_backward(
        input if isinstance(input, Tensor) and keep_input else None,
        other if isinstance(other, Tensor) and keep_other else None,
    )


def _saved_operands(ctx) -> tuple:
    saved = ctx.saved_tensors
    return tuple(
        number if number is not None else tensor
        for number, tensor in zip(ctx.numbers, saved, strict=True)
    )


def _select_backward(ctx, grad_output: Tensor, loses):
    """maximum/minimum backward: operand ``i`` gets the gradient where it won, half on ties."""
    input, other = _saved_operands(ctx)
    shared = where(eq(input, other), grad_output / 2, grad_output)
    return (
        _unbroadcast(ctx, 0, lambda: where(loses(input, other), 0.0, shared)),
        _unbroadcast(ctx, 1, lambda: where(loses(other, input), 0.0, shared)),
    )


def _numbers_only(*bounds) -> bool:
    return not builtins.any(isinstance(bound, Tensor) for bound in bounds)


def zeros_like_grad(grad_output: Tensor) -> Tensor:
    """The zero gradient of a piecewise-constant op (round, sign), built from ``grad_output``
    so that it stays part of the graph under ``create_graph``."""
    return grad_output * 0.0


# ------------------------------------------------------------------------------ arithmetic
def add(input: Operand, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """``input + alpha * other``, broadcasting; dtype by type promotion."""
    return Add.apply(input, other, alpha=alpha)


class Add(Function):
    """``input + alpha * other``; backward sums the gradient back to each operand's shape."""

    node_name = "AddBackward0"
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, input: Operand, other: Operand, alpha: Operand = 1) -> Tensor:
        ctx.shapes, ctx.alpha = (_shape_of(input), _shape_of(other)), alpha
        if alpha == 1:
            return _binary(np.add, input, other, dtypes.result_type(input, other))
        scaled = mul(other, alpha)
        dtype = dtypes.result_type(input, scaled)
        # torch computes this in one pass over (input, other): the layout ignores the product.
        return _binary(np.add, input, scaled, dtype, _output_strides(dtype, input, other))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        scaled = grad_output if ctx.alpha == 1 else grad_output * ctx.alpha
        return _unbroadcast(ctx, 0, grad_output), _unbroadcast(ctx, 1, scaled)


def _is_bool(operand: Operand) -> bool:
    if isinstance(operand, Tensor):
        return operand.dtype is dtypes.bool
    return isinstance(operand, builtins.bool | np.bool_)


def sub(input: Operand, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """``input - alpha * other``, broadcasting; bool - bool is an error as in torch."""
    return Sub.apply(input, other, alpha=alpha)


class Sub(Function):
    """``input - alpha * other``; backward: ``grad`` and ``-alpha * grad``, unbroadcast."""

    node_name = "SubBackward0"
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, input: Operand, other: Operand, alpha: Operand = 1) -> Tensor:
        ctx.shapes, ctx.alpha = (_shape_of(input), _shape_of(other)), alpha
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
        if alpha == 1:
            return _binary(np.subtract, input, other, dtype)
        scaled = mul(other, alpha)
        return _binary(np.subtract, input, scaled, dtype, _output_strides(dtype, input, other))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        scaled = -grad_output if ctx.alpha == 1 else grad_output * -ctx.alpha
        return _unbroadcast(ctx, 0, grad_output), _unbroadcast(ctx, 1, scaled)


def mul(input: Operand, other: Operand) -> Tensor:
    """Elementwise product, broadcasting."""
    return Mul.apply(input, other)


class Mul(Function):
    """``input * other``; d/dinput = other, d/dother = input.  Saves the operands."""

    node_name = "MulBackward0"
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, input: Operand, other: Operand) -> Tensor:
        needs_input, needs_other = ctx.needs_input_grad
        _save_operands(ctx, input, other, keep_input=needs_other, keep_other=needs_input)
        return _binary(np.multiply, input, other, dtypes.result_type(input, other))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, other = _saved_operands(ctx)
        return _unbroadcast(ctx, 0, lambda: grad_output * other), _unbroadcast(
            ctx, 1, lambda: grad_output * input
        )


def div(input: Operand, other: Operand) -> Tensor:
    """True division: integer and bool inputs give the default float dtype (float32).

    A Python number divided by a tensor is laid out like torch's ``number / tensor``, which
    ``Tensor.__rtruediv__`` computes as ``tensor.reciprocal() * number`` (two passes).  So
    ``div(2, x)`` follows ``2 / x``, which can differ from ``torch.div(2, x)`` (one pass) in
    the strides of size-1 dims, e.g. for ``x`` of shape ``(3, 1)`` and strides ``(1, 7)``.
    """
    return Div.apply(input, other)


class Div(Function):
    """``input / other``; d/dinput = 1 / other, d/dother = -input / other**2 (computed as
    torch does, ``-grad * ((input / other) / other)``).  Saves the operands."""

    node_name = "DivBackward0"
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, input: Operand, other: Operand) -> Tensor:
        needs_input, needs_other = ctx.needs_input_grad
        _save_operands(ctx, input, other, keep_input=needs_other, keep_other=True)
        dtype = dtypes.result_type(input, other)
        if not dtype.is_floating_point:
            dtype = dtypes.get_default_dtype()
        strides = None
        if not isinstance(input, Tensor) and isinstance(other, Tensor):
            reciprocal = (tuple(other.shape), _output_strides(dtype, other))
            strides = layout.iterator_output_strides([reciprocal, ((), ())])
        return _binary(np.true_divide, input, other, dtype, strides)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, other = _saved_operands(ctx)
        return _unbroadcast(ctx, 0, lambda: grad_output / other), _unbroadcast(
            ctx, 1, lambda: -grad_output * ((input / other) / other)
        )


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
    return FloorDivide.apply(input, other)


class FloorDivide(Function):
    """Piecewise constant with jumps: torch records a node whose backward refuses to run."""

    node_name = "NotImplemented"
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, input: Operand, other: Operand) -> Tensor:
        dtype = dtypes.result_type(input, other)
        _not_for_bool_result(dtype, "div_floor_cpu")
        _check_integer_divisor(other, dtype)
        return _binary(np.floor_divide, input, other, dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


def remainder(input: Operand, other: Operand) -> Tensor:
    """Python's ``%``: the result has the sign of the divisor."""
    return Remainder.apply(input, other)


class Remainder(Function):
    """``input - other * floor(input / other)``: d/dinput = 1, d/dother = -floor(input /
    other).  Saves the operands."""

    node_name = "RemainderBackward0"
    numbers_are_inputs = True

    @staticmethod
    def forward(ctx, input: Operand, other: Operand) -> Tensor:
        needs_other = len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]
        _save_operands(ctx, input, other, keep_input=needs_other, keep_other=needs_other)
        dtype = dtypes.result_type(input, other)
        _not_for_bool_result(dtype, "remainder_cpu")
        _check_integer_divisor(other, dtype)
        return _binary(np.remainder, input, other, dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, other = _saved_operands(ctx)
        return _unbroadcast(ctx, 0, grad_output), _unbroadcast(
            ctx, 1, lambda: -grad_output * floor_divide(input, other)
        )


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
    if not isinstance(input, Tensor):
        return PowNumberBase.apply(input, exponent)
    if not isinstance(exponent, Tensor):
        return Pow.apply(input, exponent)
    return PowTensor.apply(input, exponent)


class Pow(Function):
    """``tensor ** number``; d/dx = ``exponent * x ** (exponent - 1)`` (0 for exponent 0).
    Saves the input."""

    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, exponent) -> Tensor:
        ctx.save_for_backward(input)
        ctx.exponent = exponent
        return _pow_values(input, exponent)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        if ctx.exponent == 0:
            return grad_output * 0.0, None
        return grad_output * (ctx.exponent * pow(input, ctx.exponent - 1)), None


class PowTensor(Function):
    """``tensor ** tensor``; d/dbase = ``e * b ** (e - 1)``, d/dexponent = ``b ** e * log(b)``
    (0 where the base is 0 and the exponent >= 0).  Saves both operands and the result."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, input: Tensor, exponent: Tensor) -> Tensor:
        ctx.shapes = (input.shape, exponent.shape)
        result = _pow_values(input, exponent)
        ctx.save_for_backward(input, exponent, result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, exponent, result = ctx.saved_tensors
        return _unbroadcast(
            ctx,
            0,
            lambda: where(
                eq(exponent, 0), 0.0, grad_output * (exponent * pow(input, exponent - 1))
            ),
        ), _unbroadcast(ctx, 1, lambda: grad_output * _exponent_factor(input, exponent, result))


def _exponent_factor(base, exponent, result):
    """d(base ** exponent)/d(exponent) = result * log(base), taken as 0 where base == 0 and
    exponent >= 0 (torch's convention: 0 ** e is flat in e there)."""
    flat = mul(eq(base, 0), ge(exponent, 0))
    return where(
        flat,
        0.0,
        result * log(base)
        if isinstance(base, Tensor)
        else result * math.log(base)
        if base > 0
        else result * math.nan,
    )


class PowNumberBase(Function):
    """``number ** tensor``; d/dexponent = ``result * log(number)``.  Saves the result."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx, base, exponent: Tensor) -> Tensor:
        ctx.base = base
        result = _pow_values(base, exponent)
        ctx.save_for_backward(exponent, result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        exponent, result = ctx.saved_tensors
        if ctx.base == 0:
            return None, where(ge(exponent, 0), 0.0, grad_output * (result * -math.inf))
        return None, grad_output * (result * math.log(ctx.base))


def _pow_values(input: Operand, exponent: Operand) -> Tensor:
    """The values of ``input ** exponent`` (torch's dtype rules and output layout)."""
    dtype = dtypes.result_type(input, exponent)
    if dtype is dtypes.bool and isinstance(exponent, Tensor):
        # torch has a bool kernel only for tensor ** Python scalar.
        _not_for_bool_result(dtype, "pow")
    if not isinstance(input, Tensor):
        # pow(number, tensor) allocates its result contiguous before it runs the iterator.
        strides = layout.contiguous_strides(exponent.shape)
    elif not isinstance(exponent, Tensor):
        # pow(tensor, number) is a unary op: the number is not an iterator operand.
        strides = _output_strides(dtype, input)
    else:
        strides = _output_strides(dtype, input, exponent)
    if dtype.is_floating_point or dtype is dtypes.bool:
        return _binary(np.power, input, exponent, dtype, strides)
    if isinstance(exponent, builtins.int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _binary(_integer_power, input, exponent, dtype, strides)


def neg(input: Tensor) -> Tensor:
    """``-input``; not defined for bool (use ``~``)."""
    return Neg.apply(input)


class Neg(Function):
    """``-input``; backward negates the gradient."""

    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        if input.dtype is dtypes.bool:
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                "to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return _unary(np.negative, input, input.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return -grad_output


# ----------------------------------------------------------------------------- comparisons
def _comparison(numpy_function, input: Operand, other: Operand) -> Tensor:
    common = dtypes.result_type(input, other)
    layout.broadcast_shapes(_shape_of(input), _shape_of(other))
    values = numpy_function(_operand_array(input, common), _operand_array(other, common))
    return _wrap(values, dtypes.bool, _output_strides(common, input, other))


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
    return _wrap(np.logical_not(input._array()), dtypes.bool, _output_strides(None, input))


# ------------------------------------------------------------------------------ unary math
def _unary(numpy_function, input: Tensor, dtype: DType) -> Tensor:
    with np.errstate(all="ignore"):
        values = numpy_function(_operand_array(input, dtype))
    return _wrap(values, dtype, _output_strides(dtype, input))


def _floating_result(input: Tensor) -> DType:
    # exp(int tensor) is float32 in torch: integers and bools go to the default dtype.
    return input.dtype if input.dtype.is_floating_point else dtypes.get_default_dtype()


def _not_for_bool(input: Tensor, kernel_name: str) -> None:
    if input.dtype is dtypes.bool:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for 'Bool'")


def abs(input: Tensor) -> Tensor:  # noqa: A001 - torch's name
    """Elementwise absolute value (same dtype)."""
    return Abs.apply(input)


class Abs(Function):
    """``|x|``; d/dx = sign(x) (0 at 0).  Saves the input."""

    node_name = "AbsBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        ctx.save_for_backward(input)
        _not_for_bool(input, "abs_cpu")
        return _unary(np.abs, input, input.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        return grad_output * sign(input)


def exp(input: Tensor) -> Tensor:
    """Elementwise ``e ** x``; integer inputs give float32."""
    return Exp.apply(input)


class Exp(Function):
    """``e ** x``; d/dx = the result itself (saved)."""

    node_name = "ExpBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        result = _unary(np.exp, input, _floating_result(input))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (result,) = ctx.saved_tensors
        return grad_output * result


def log(input: Tensor) -> Tensor:
    """Elementwise natural log (``-inf`` at 0, ``nan`` below); integer inputs give float32."""
    return Log.apply(input)


class Log(Function):
    """``log(x)``; d/dx = 1 / x (saves the input)."""

    node_name = "LogBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        ctx.save_for_backward(input)
        return _unary(np.log, input, _floating_result(input))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        return grad_output / input


def sqrt(input: Tensor) -> Tensor:
    """Elementwise square root (``nan`` below 0); integer inputs give float32."""
    return Sqrt.apply(input)


class Sqrt(Function):
    """``sqrt(x)``; d/dx = 1 / (2 sqrt(x)) (saves the result)."""

    node_name = "SqrtBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        result = _unary(np.sqrt, input, _floating_result(input))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (result,) = ctx.saved_tensors
        return grad_output / (2 * result)


def sin(input: Tensor) -> Tensor:
    """Elementwise sine; integer inputs give float32."""
    return Sin.apply(input)


class Sin(Function):
    """``sin(x)``; d/dx = cos(x) (saves the input)."""

    node_name = "SinBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        ctx.save_for_backward(input)
        return _unary(np.sin, input, _floating_result(input))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        return grad_output * cos(input)


def cos(input: Tensor) -> Tensor:
    """Elementwise cosine; integer inputs give float32."""
    return Cos.apply(input)


class Cos(Function):
    """``cos(x)``; d/dx = -sin(x) (saves the input)."""

    node_name = "CosBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        ctx.save_for_backward(input)
        return _unary(np.cos, input, _floating_result(input))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        return grad_output * -sin(input)


def tanh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent; integer inputs give float32."""
    return Tanh.apply(input)


class Tanh(Function):
    """``tanh(x)``; d/dx = 1 - tanh(x)**2 (saves the result)."""

    node_name = "TanhBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        result = _unary(np.tanh, input, _floating_result(input))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (result,) = ctx.saved_tensors
        return grad_output * (1 - result * result)


def _sigmoid_values(values: np.ndarray) -> np.ndarray:
    # exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) is the correct limit 0.
    return 1.0 / (1.0 + np.exp(-values))


def sigmoid(input: Tensor) -> Tensor:
    """Elementwise ``1 / (1 + exp(-x))``; integer inputs give float32."""
    return Sigmoid.apply(input)


class Sigmoid(Function):
    """``sigmoid(x)``; d/dx = s (1 - s) with s the saved result."""

    node_name = "SigmoidBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        result = _unary(_sigmoid_values, input, _floating_result(input))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (result,) = ctx.saved_tensors
        return grad_output * (1 - result) * result


def relu(input: Tensor) -> Tensor:
    """Elementwise ``max(x, 0)`` (same dtype; nan stays nan)."""
    return Relu.apply(input)


class Relu(Function):
    """``max(x, 0)``; the gradient passes where the (saved) result is positive (0 at x = 0)."""

    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        if input.dtype is dtypes.bool:
            raise RuntimeError("Boolean inputs not supported for relu")
        result = _unary(lambda values: np.maximum(values, 0), input, input.dtype)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (result,) = ctx.saved_tensors
        return where(result > 0, grad_output, 0.0)


def _sign_values(values: np.ndarray) -> np.ndarray:
    # torch.sign(nan) is 0; NumPy's is nan.
    return (
        np.where(np.isnan(values), 0, np.sign(values))
        if values.dtype.kind == "f"
        else (np.sign(values))
    )


def sign(input: Tensor) -> Tensor:
    """Elementwise -1, 0 or 1 (0 for nan, as in torch); bool stays bool."""
    return Sign.apply(input)


class Sign(Function):
    """-1, 0 or 1: piecewise constant, so the gradient is 0."""

    node_name = "SignBackward0"

    @staticmethod
    def forward(ctx, input: Tensor) -> Tensor:
        if input.dtype is dtypes.bool:
            return _unary(np.copy, input, dtypes.bool)
        return _unary(_sign_values, input, input.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return zeros_like_grad(grad_output)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - torch's name
    """Round half to even (``round(2.5) == 2``), optionally to ``decimals`` places."""
    return Round.apply(input, decimals)


class Round(Function):
    """Round half to even: piecewise constant, so the gradient is 0 (as in torch)."""

    node_name = "RoundBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, decimals: int = 0) -> Tensor:
        _not_for_bool(input, "round_vml_cpu")
        if not input.dtype.is_floating_point:
            return _unary(np.copy, input, input.dtype)
        return _unary(lambda values: np.round(values, decimals), input, input.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return zeros_like_grad(grad_output), None


# ----------------------------------------------------------------- selection and clamping
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise larger of two tensors (nan wins), broadcasting."""
    return Maximum.apply(input, other)


class Maximum(Function):
    """Elementwise max; the gradient goes to the larger operand, split in half on ties (as in
    torch).  Saves both operands."""

    node_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, other: Tensor) -> Tensor:
        _save_operands(ctx, input, other, keep_input=True, keep_other=True)
        _require_tensors("maximum", input, other)
        return _binary(np.maximum, input, other, dtypes.result_type(input, other))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return _select_backward(ctx, grad_output, lt)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise smaller of two tensors (nan wins), broadcasting."""
    return Minimum.apply(input, other)


class Minimum(Function):
    """Elementwise min; the gradient goes to the smaller operand, split in half on ties."""

    node_name = "MinimumBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, other: Tensor) -> Tensor:
        _save_operands(ctx, input, other, keep_input=True, keep_other=True)
        _require_tensors("minimum", input, other)
        return _binary(np.minimum, input, other, dtypes.result_type(input, other))

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        return _select_backward(ctx, grad_output, gt)


def _require_tensors(name: str, *operands) -> None:
    for operand in operands:
        if not isinstance(operand, Tensor):
            raise TypeError(
                f"{name}(): argument 'other' must be Tensor, not {type(operand).__name__}"
            )


def clamp(input: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``min(max(x, min), max)``; when ``min > max`` every element becomes ``max``.

    With tensor bounds the result is laid out over ``(input, min, max)``; with a Python number
    (torch then reads a 0-d tensor bound as a number too) clamp is a unary op on ``input``.
    """
    return (Clamp if _numbers_only(min, max) else ClampTensor).apply(input, min, max)


class Clamp(Function):
    """``min(max(x, min), max)``; the gradient passes where ``min <= x <= max`` (bounds
    included, as in torch) and goes to a tensor bound where it is the one selected.  Saves the
    input and tensor bounds."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, input: Tensor, min: Operand | None = None, max: Operand | None = None):  # noqa: A002
        ctx.shapes = (input.shape, _shape_of(min), _shape_of(max))
        ctx.bounds = (min, max)
        ctx.save_for_backward(input)
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        bounds = [bound for bound in (min, max) if bound is not None]
        dtype = dtypes.result_type(input, *bounds)
        layout.broadcast_shapes(*(_shape_of(operand) for operand in (input, *bounds)))
        scalar_overload = not builtins.all(isinstance(bound, Tensor) for bound in bounds)
        if scalar_overload and builtins.all(len(_shape_of(bound)) == 0 for bound in bounds):
            strides = _output_strides(dtype, input)
        else:
            strides = _output_strides(dtype, input, *bounds)
        with np.errstate(all="ignore"):
            values = _operand_array(input, dtype)
            if min is not None:
                values = np.maximum(values, _operand_array(min, dtype))
            if max is not None:
                values = np.minimum(values, _operand_array(max, dtype))
        return _wrap(values, dtype, strides)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = None
        if low is not None:
            inside = ge(input, low)
        if high is not None:
            below = le(input, high)
            inside = below if inside is None else mul(inside, below)
        grad_input = where(inside, grad_output, 0.0)
        grad_low = grad_high = None
        if ctx.needs_input_grad[1]:
            grad_low = _unbroadcast(ctx, 1, lambda: where(lt(input, low), grad_output, 0.0))
        if ctx.needs_input_grad[2]:
            grad_high = _unbroadcast(ctx, 2, lambda: where(gt(input, high), grad_output, 0.0))
        return grad_input, grad_low, grad_high


class ClampTensor(Clamp):
    node_name = "ClampBackward0"


clip = clamp


def where(condition: Tensor, input: Operand, other: Operand) -> Tensor:
    """``input`` where ``condition`` is True, else ``other``; all three broadcast together."""
    return Where.apply(condition, input, other)


class Where(Function):
    """Pick ``input`` where ``condition`` holds, else ``other``; each operand gets the gradient
    where it was picked (zeros elsewhere), summed back to its shape."""

    node_name = "WhereBackward0"
    numbers_are_inputs = True  # edges for input and other (a number's is empty), as in torch
    non_differentiable_arguments = (0,)

    @staticmethod
    def forward(ctx, condition: Tensor, input: Operand, other: Operand) -> Tensor:
        ctx.shapes = (None, _shape_of(input), _shape_of(other))
        ctx.save_for_backward(condition)
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
                "where expected condition to be a boolean tensor, but got a tensor with "
                f"dtype {name}"
            )
        dtype = dtypes.result_type(input, other)
        layout.broadcast_shapes(condition.shape, _shape_of(input), _shape_of(other))
        values = np.where(
            condition._array(), _operand_array(input, dtype), _operand_array(other, dtype)
        )
        strides = layout.iterator_output_strides(
            [_geometry(condition, None), _geometry(input, dtype), _geometry(other, dtype)]
        )
        return _wrap(values, dtype, strides)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (condition,) = ctx.saved_tensors
        if condition.dtype is not dtypes.bool:
            condition = to_dtype(condition, dtypes.bool)
        return (
            None,
            _unbroadcast(ctx, 1, lambda: where(condition, grad_output, 0.0)),
            _unbroadcast(ctx, 2, lambda: where(condition, 0.0, grad_output)),
        )


# ------------------------------------------------------------------------------- in place
def copy_(tensor: Tensor, source: Operand) -> Tensor:
    """Write ``source`` (broadcast to ``tensor.shape``, cast to its dtype) into ``tensor``'s
    storage; views of the same storage see the change."""
    check_inplace(tensor, "copy_")
    check_no_internal_overlap(tensor)
    _check_in_place_shape(tensor, _shape_of(source))
    if needs_history(tensor, source):
        rebase_history(tensor, Copy.apply(tensor, source))
        return tensor
    values = source._array() if isinstance(source, Tensor) else np.asarray(source)
    tensor._array()[...] = _cast_array(values, tensor.dtype.numpy_dtype)
    tensor._version_counter.bump()
    return tensor


def _check_in_place_shape(tensor: Tensor, source_shape) -> None:
    if layout.broadcast_shapes(source_shape, tensor.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"output with shape {list(tensor.shape)} doesn't match the broadcast shape "
            f"{list(layout.broadcast_shapes(source_shape, tensor.shape))}"
        )


class Copy(Function):
    """``tensor.copy_(source)`` recorded for autograd: the old values are gone (zero
    gradient); ``source`` gets the gradient, summed back to its shape."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, tensor: Tensor, source: Operand) -> Tensor:
        ctx.source_shape = _shape_of(source)
        values = source._array() if isinstance(source, Tensor) else np.asarray(source)
        result = Tensor._from_array(np.empty(tensor.shape, dtype=tensor._storage.dtype))
        result._array()[...] = _cast_array(values, tensor.dtype.numpy_dtype)
        return result

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        grad_source = None
        if ctx.needs_input_grad[1]:
            grad_source = shape_ops.sum_to_shape(grad_output, ctx.source_shape)
        return grad_output * 0.0, grad_source


def _in_place(function, tensor: Tensor, other: Operand, **kwargs) -> Tensor:
    """``tensor <- function(tensor, other)``.  When autograd must record it, the result is
    computed from a copy of the old values (backward may need them after the write) and
    ``tensor`` takes the result's place in the graph (its grad_fn becomes e.g. MulBackward0)."""
    check_inplace(tensor, f"{function.__name__}_")
    recording = needs_history(tensor, other)
    result = function(old_value(tensor) if recording else tensor, other, **kwargs)
    if not dtypes.can_cast(result.dtype, tensor.dtype):
        raise RuntimeError(
            f"result type {result.dtype.scalar_type_name} can't be cast to the desired output "
            f"type {tensor.dtype.scalar_type_name}"
        )
    if not recording:
        return copy_(tensor, result)
    check_no_internal_overlap(tensor)
    _check_in_place_shape(tensor, result.shape)
    rebase_history(tensor, to_dtype(result, tensor.dtype))
    return tensor


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
