"""Elementwise ops: arithmetic, comparisons, unary math, ``where``, ``clamp``, dtype casts.

Every op here is an entry of the derivative table (:mod:`engine.ops.table`): a kernel that
computes the values, decorated with one VJP formula per differentiable argument.  The kernels
go through the operand iterator (:mod:`engine.ops.iterator`), which does what PyTorch's
TensorIterator does:

1. the result dtype comes from :func:`engine.dtypes.result_type` (Python scalars and 0-d
   tensors do not upcast a tensor of the same category);
2. the shapes broadcast (:func:`engine.layout.broadcast_shapes`, RuntimeError otherwise);
3. the operands are converted to a *compute* dtype -- float32 for float16 and bfloat16, which is
   what PyTorch's CPU kernels do ("opmath") -- and NumPy computes the values;
4. the result's strides follow the memory order of the inputs
   (:func:`engine.layout.iterator_output_strides`): ``x.t() + 1`` is transposed too.

A formula returns the gradient in the shape its math gives (``grad * other`` has the broadcast
shape); the backward engine sums it back to the argument's shape, as torch's does.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from engine import dtypes, layout
from engine.autograd.inplace import check_inplace, check_no_internal_overlap, needs_history
from engine.dtypes import DType
from engine.ops.indexing import has_tangent, old_value, rebase_history, rebase_tangent
from engine.ops.iterator import (
    Operand,
    cast_array,
    compute,
    geometry,
    output_strides,
    shape_of,
    wrap,
)
from engine.ops.table import op
from engine.tensor import Tensor


def _no_derivative(name: str):
    """The formula of an op torch records but cannot differentiate (floor division)."""

    def formula(grad):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")

    return formula


def _not_for_bool_result(dtype: DType, kernel_name: str) -> None:
    if dtype is dtypes.bool:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for 'Bool'")


def _not_for_bool(input: Tensor, kernel_name: str) -> None:
    _not_for_bool_result(input.dtype, kernel_name)


def _is_bool(operand: Operand) -> bool:
    if isinstance(operand, Tensor):
        return operand.dtype is dtypes.bool
    return isinstance(operand, builtins.bool | np.bool_)


def _floating(input: Tensor) -> DType:
    """exp(int tensor) is float32 in torch: integers and bools go to the default dtype."""
    return input.dtype if input.dtype.is_floating_point else dtypes.get_default_dtype()


def _unary(numpy_function, input: Tensor, dtype: DType) -> Tensor:
    return compute(numpy_function, (input,), dtype)


# ------------------------------------------------------------------------------ arithmetic
@op(
    input=lambda grad: grad,
    other=lambda grad, alpha: grad if alpha == 1 else grad * alpha,
    jvp=lambda input_t, other_t, alpha: input_t + (other_t if alpha == 1 else other_t * alpha),
    numbers_are_inputs=True,
)
def add(input: Operand, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """``input + alpha * other``, broadcasting; dtype by type promotion.  Saves nothing."""
    if alpha == 1:
        return compute(np.add, (input, other), dtypes.result_type(input, other))
    scaled = mul(other, alpha)
    dtype = dtypes.result_type(input, scaled)
    # torch computes this in one pass over (input, other): the layout ignores the product.
    return compute(np.add, (input, scaled), dtype, output_strides(dtype, input, other))


@op(
    input=lambda grad: grad,
    other=lambda grad, alpha: -grad if alpha == 1 else grad * -alpha,
    jvp=lambda input_t, other_t, alpha: input_t - (other_t if alpha == 1 else other_t * alpha),
    numbers_are_inputs=True,
)
def sub(input: Operand, other: Operand, *, alpha: Operand = 1) -> Tensor:
    """``input - alpha * other``, broadcasting; bool - bool is an error as in torch."""
    dtype = dtypes.result_type(input, other)
    if dtype is dtypes.bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha == 1:
        return compute(np.subtract, (input, other), dtype)
    scaled = mul(other, alpha)
    return compute(np.subtract, (input, scaled), dtype, output_strides(dtype, input, other))


@op(
    input=lambda grad, other: grad * other,
    other=lambda grad, input: grad * input,
    jvp=lambda input, other, input_t, other_t: input_t * other + other_t * input,
    numbers_are_inputs=True,
)
def mul(input: Operand, other: Operand) -> Tensor:
    """Elementwise product, broadcasting.  Saves ``other`` if ``input`` needs a gradient and
    ``input`` if ``other`` does."""
    return compute(np.multiply, (input, other), dtypes.result_type(input, other))


@op(
    input=lambda grad, other: grad / other,
    # torch's formula: -grad * ((input / other) / other), not -grad * input / other**2.
    other=lambda grad, input, other: -grad * ((input / other) / other),
    jvp=lambda other, input_t, other_t, result: (input_t - other_t * result) / other,
    numbers_are_inputs=True,
)
def _div(input: Operand, other: Operand) -> Tensor:
    """True division: integer and bool inputs give the default float dtype (float32).

    A Python number divided by a tensor is laid out like torch's ``number / tensor``, which
    ``Tensor.__rtruediv__`` computes as ``tensor.reciprocal() * number`` (two passes).  So
    ``div(2, x)`` follows ``2 / x``, which can differ from ``torch.div(2, x)`` (one pass) in
    the strides of size-1 dims, e.g. for ``x`` of shape ``(3, 1)`` and strides ``(1, 7)``.
    """
    dtype = dtypes.result_type(input, other)
    if not dtype.is_floating_point:
        dtype = dtypes.get_default_dtype()
    strides = None
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        reciprocal = (tuple(other.shape), output_strides(dtype, other))
        strides = layout.iterator_output_strides([reciprocal, ((), ())])
    return compute(np.true_divide, (input, other), dtype, strides)


def div(input: Operand, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
    """``input / other``: true division (``rounding_mode=None``; integers give float32), or
    the quotient rounded toward zero (``"trunc"``) or down (``"floor"``) in the promoted
    dtype.  Integer division by zero raises, as in torch."""
    if rounding_mode is None:
        return _div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    return _rounded_div(input, other, rounding_mode)


true_divide = _div
divide = div


def _check_integer_divisor(other: Operand, dtype: DType) -> None:
    # NumPy returns 0 for integer division by zero; PyTorch raises.
    if dtype.is_floating_point:
        return
    divisor = other._array() if isinstance(other, Tensor) else np.asarray(other)
    if divisor.size and not np.all(divisor):
        raise RuntimeError("ZeroDivisionError")


@op(
    input=_no_derivative("floor_divide"),
    other=_no_derivative("floor_divide"),
    jvp=lambda input_t: _no_derivative("floor_divide")(input_t),
    node_name="NotImplemented",
    numbers_are_inputs=True,
)
def floor_divide(input: Operand, other: Operand) -> Tensor:
    """Division rounded toward minus infinity (Python's ``//``).  Piecewise constant with
    jumps: torch records a node whose backward refuses to run, and so does the engine."""
    dtype = dtypes.result_type(input, other)
    _not_for_bool_result(dtype, "div_floor_cpu")
    _check_integer_divisor(other, dtype)
    return compute(np.floor_divide, (input, other), dtype)


@op(
    input=lambda grad: grad,
    # The quotient is piecewise constant: torch differentiates it as zero, so it is detached.
    other=lambda grad, input, other: -grad * floor_divide(_detached(input), _detached(other)),
    jvp=lambda input, other, input_t, other_t: (
        input_t - other_t * floor_divide(_detached(input), _detached(other))
    ),
    numbers_are_inputs=True,
)
def remainder(input: Operand, other: Operand) -> Tensor:
    """Python's ``%``: ``input - other * floor(input / other)``, with the sign of the
    divisor.  Saves the operands only if ``other`` needs a gradient."""
    dtype = dtypes.result_type(input, other)
    _not_for_bool_result(dtype, "remainder_cpu")
    _check_integer_divisor(other, dtype)
    return compute(np.remainder, (input, other), dtype)


def _detached(operand: Operand) -> Operand:
    return operand.detach() if isinstance(operand, Tensor) else operand


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
        return pow_scalar_tensor(input, exponent)
    if not isinstance(exponent, Tensor):
        return pow_tensor_scalar(input, exponent)
    return pow_tensor_tensor(input, exponent)


@op(
    input=lambda grad, input, exponent: (
        grad * 0.0 if exponent == 0 else grad * (exponent * pow(input, exponent - 1))
    ),
    jvp=lambda input, exponent, input_t: (
        input_t * 0.0 if exponent == 0 else input_t * (exponent * pow(input, exponent - 1))
    ),
    node_name="PowBackward0",
)
def pow_tensor_scalar(input: Tensor, exponent: int | float | bool) -> Tensor:
    """``tensor ** number``: d/dx = ``exponent * x ** (exponent - 1)`` (0 for exponent 0)."""
    return _pow_values(input, exponent)


@op(
    input=lambda grad, input, exponent: where(
        eq(exponent, 0), 0.0, grad * (exponent * pow(input, exponent - 1))
    ),
    exponent=lambda grad, input, exponent, result: grad * _exponent_factor(input, exponent, result),
    jvp=lambda input, exponent, result, input_t, exponent_t: (
        where(eq(exponent, 0), 0.0, input_t * (exponent * pow(input, exponent - 1)))
        + exponent_t * _exponent_factor(input, exponent, result)
    ),
    node_name="PowBackward1",
)
def pow_tensor_tensor(input: Tensor, exponent: Tensor) -> Tensor:
    """``tensor ** tensor``: d/dbase = ``e * b ** (e - 1)``, d/dexponent = ``b ** e * log(b)``
    (0 where the base is 0 and the exponent >= 0)."""
    return _pow_values(input, exponent)


@op(
    exponent=lambda grad, input, exponent, result: (
        where(ge(exponent, 0), 0.0, grad * (result * -math.inf))
        if input == 0
        else grad * (result * _log_number(input))
    ),
    jvp=lambda input, exponent, result, exponent_t: (
        where(ge(exponent, 0), 0.0, exponent_t * (result * -math.inf))
        if input == 0
        else exponent_t * (result * _log_number(input))
    ),
    node_name="PowBackward2",
)
def pow_scalar_tensor(input: int | float | bool, exponent: Tensor) -> Tensor:
    """``number ** tensor``: d/dexponent = ``result * log(number)``."""
    return _pow_values(input, exponent)


def _log_number(number: float) -> float:
    """``log(number)`` as torch's kernel takes it: nan for a negative base (not an error)."""
    return math.log(number) if number > 0 else math.nan


def _exponent_factor(base, exponent, result):
    """d(base ** exponent)/d(exponent) = result * log(base), taken as 0 where base == 0 and
    exponent >= 0 (torch's convention: 0 ** e is flat in e there)."""
    flat = mul(eq(base, 0), ge(exponent, 0))
    return where(flat, 0.0, result * log(base))


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
        strides = output_strides(dtype, input)
    else:
        strides = output_strides(dtype, input, exponent)
    if dtype.is_floating_point or dtype is dtypes.bool:
        return compute(np.power, (input, exponent), dtype, strides)
    if isinstance(exponent, builtins.int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return compute(_integer_power, (input, exponent), dtype, strides)


# ----------------------------------------------------------------------------- comparisons
# Comparisons return bool tensors: not differentiable, so they are plain kernels.
def _comparison(numpy_function, input: Operand, other: Operand) -> Tensor:
    common = dtypes.result_type(input, other)
    return compute(numpy_function, (input, other), common, result_dtype=dtypes.bool)


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
    return wrap(np.logical_not(input._array()), dtypes.bool, output_strides(None, input))


# ------------------------------------------------------------------------------ unary math
# One entry per op: the kernel (a NumPy function through the iterator) and its VJP.  A formula
# that reads ``result`` saves the output, one that reads ``input`` saves the input.
@op(input=lambda grad: -grad, jvp=lambda input_t: -input_t)
def neg(input: Tensor) -> Tensor:
    """``-input``; not defined for bool (use ``~``)."""
    if input.dtype is dtypes.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _unary(np.negative, input, input.dtype)


@op(
    input=lambda grad, input: grad * sign(input),
    jvp=lambda input, input_t: input_t * sign(input),
)
def abs(input: Tensor) -> Tensor:  # noqa: A001 - torch's name
    """Elementwise ``|x|`` (same dtype); d/dx = sign(x), 0 at 0."""
    _not_for_bool(input, "abs_cpu")
    return _unary(np.abs, input, input.dtype)


@op(input=lambda grad, result: grad * result, jvp=lambda input_t, result: input_t * result)
def exp(input: Tensor) -> Tensor:
    """Elementwise ``e ** x``; integer inputs give float32."""
    return _unary(np.exp, input, _floating(input))


@op(input=lambda grad, input: grad / input, jvp=lambda input, input_t: input_t / input)
def log(input: Tensor) -> Tensor:
    """Elementwise natural log (``-inf`` at 0, ``nan`` below); integer inputs give float32."""
    return _unary(np.log, input, _floating(input))


@op(
    input=lambda grad, result: grad / (2 * result),
    jvp=lambda input_t, result: input_t / (2 * result),
)
def sqrt(input: Tensor) -> Tensor:
    """Elementwise square root (``nan`` below 0); integer inputs give float32."""
    return _unary(np.sqrt, input, _floating(input))


@op(
    input=lambda grad, input: grad * cos(input),
    jvp=lambda input, input_t: input_t * cos(input),
)
def sin(input: Tensor) -> Tensor:
    """Elementwise sine; integer inputs give float32."""
    return _unary(np.sin, input, _floating(input))


@op(
    input=lambda grad, input: grad * -sin(input),
    jvp=lambda input, input_t: input_t * -sin(input),
)
def cos(input: Tensor) -> Tensor:
    """Elementwise cosine; integer inputs give float32."""
    return _unary(np.cos, input, _floating(input))


@op(
    input=lambda grad, result: grad * (1 - result * result),
    jvp=lambda input_t, result: input_t * (1 - result * result),
)
def tanh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent; integer inputs give float32."""
    return _unary(np.tanh, input, _floating(input))


def _sigmoid_values(values: np.ndarray) -> np.ndarray:
    # exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) is the correct limit 0.
    return 1.0 / (1.0 + np.exp(-values))


@op(
    input=lambda grad, result: grad * (1 - result) * result,
    jvp=lambda input_t, result: input_t * (1 - result) * result,
)
def sigmoid(input: Tensor) -> Tensor:
    """Elementwise ``1 / (1 + exp(-x))``; integer inputs give float32."""
    return _unary(_sigmoid_values, input, _floating(input))


@op(
    input=lambda grad, result: where(result > 0, grad, 0.0),
    jvp=lambda input_t, result: where(result > 0, input_t, 0.0),
)
def relu(input: Tensor) -> Tensor:
    """Elementwise ``max(x, 0)`` (same dtype; nan stays nan); the gradient passes where the
    result is positive, so it is 0 at x = 0."""
    if input.dtype is dtypes.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _unary(lambda values: np.maximum(values, 0), input, input.dtype)


def _sign_values(values: np.ndarray) -> np.ndarray:
    # torch.sign(nan) is 0; NumPy's is nan.
    if values.dtype.kind == "f":
        return np.where(np.isnan(values), 0, np.sign(values))
    return np.sign(values)


# Piecewise-constant ops have a zero gradient, built from ``grad`` so that it stays part of
# the graph under ``create_graph`` (torch's zeros_like(grad)).
@op(input=lambda grad: grad * 0.0, jvp=lambda input_t: input_t * 0.0)
def sign(input: Tensor) -> Tensor:
    """Elementwise -1, 0 or 1 (0 for nan, as in torch); bool stays bool."""
    if input.dtype is dtypes.bool:
        return _unary(np.copy, input, dtypes.bool)
    return _unary(_sign_values, input, input.dtype)


@op(input=lambda grad: grad * 0.0, jvp=lambda input_t: input_t * 0.0)
def round(input: Tensor, *, decimals: int | None = None) -> Tensor:  # noqa: A001 - torch's name
    """Round half to even (``round(2.5) == 2``), optionally to ``decimals`` places (floating
    dtypes only, as in torch: ``x * 10**d`` rounded, then divided back)."""
    _not_for_bool(input, "round_vml_cpu")
    if not input.dtype.is_floating_point:
        if decimals is not None:
            kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
            raise NotImplementedError(
                f"\"{kernel}\" not implemented for '{input.dtype.scalar_type_name}'"
            )
        return _unary(np.copy, input, input.dtype)
    return _unary(lambda values: _round_values(values, decimals or 0), input, input.dtype)


def _round_values(values: np.ndarray, decimals: int) -> np.ndarray:
    # torch's kernel: nearbyint(x * 10**d) / 10**d, or nearbyint(x / 10**-d) * 10**-d.
    if decimals == 0:
        return np.rint(values)
    scale = values.dtype.type(10.0 ** builtins.abs(decimals))
    if decimals > 0:
        return np.rint(values * scale) / scale
    return np.rint(values / scale) * scale


# --------------------------------------------------------------------- more unary math
# Functions NumPy has no ufunc for (erf, erfc) run Python's ``math`` version on each element.
def _each(function):
    """A NumPy-style kernel applying the scalar ``function`` elementwise (kept in the dtype of
    the values it is given, so the iterator's opmath rules still hold)."""
    vectorized = np.frompyfunc(function, 1, 1)
    return lambda values: np.asarray(vectorized(values), dtype=values.dtype)


_erf_values = _each(math.erf)
_erfc_values = _each(math.erfc)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfinv_values(values: np.ndarray) -> np.ndarray:
    """The inverse of erf: Giles' single-precision approximation refined by Newton steps on
    ``erf(x) - y`` (computed in float64); +-inf at +-1, nan outside [-1, 1]."""
    y = values.astype(np.float64)
    inside = np.abs(y) < 1
    clipped = np.where(inside, y, 0.0)
    w = -np.log((1.0 - clipped) * (1.0 + clipped))
    central = w < 5.0
    w = np.where(central, w - 2.5, np.sqrt(np.where(central, 5.0, w)) - 3.0)
    x = np.where(
        central,
        np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                    0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], w),
        np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                    0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], w),
    ) * clipped  # fmt: skip
    for _ in range(3):
        x = x - (_erf_values(x) - clipped) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    x = np.where(inside, x, np.where(np.abs(y) == 1, np.copysign(np.inf, y), np.nan))
    return x.astype(values.dtype)


@op(
    input=lambda grad, input: grad * (_TWO_OVER_SQRT_PI * exp(-(input * input))),
    jvp=lambda input, input_t: input_t * (_TWO_OVER_SQRT_PI * exp(-(input * input))),
)
def erf(input: Tensor) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``; integers give float32."""
    return _unary(_erf_values, input, _floating(input))


@op(
    input=lambda grad, input: grad * (-_TWO_OVER_SQRT_PI * exp(-(input * input))),
    jvp=lambda input, input_t: input_t * (-_TWO_OVER_SQRT_PI * exp(-(input * input))),
)
def erfc(input: Tensor) -> Tensor:
    """``1 - erf(x)``, accurate where erf is close to 1; integers give float32."""
    return _unary(_erfc_values, input, _floating(input))


@op(
    input=lambda grad, result: grad * (math.sqrt(math.pi) / 2 * exp(result * result)),
    jvp=lambda input_t, result: input_t * (math.sqrt(math.pi) / 2 * exp(result * result)),
)
def erfinv(input: Tensor) -> Tensor:
    """The inverse of :func:`erf` on ``[-1, 1]`` (+-inf at +-1, nan outside)."""
    return _unary(_erfinv_values, input, _floating(input))


@op(input=lambda grad, input: grad / (input + 1), jvp=lambda input, input_t: input_t / (input + 1))
def log1p(input: Tensor) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``; integers give float32."""
    return _unary(np.log1p, input, _floating(input))


@op(
    input=lambda grad, result: grad * (result + 1),
    jvp=lambda input_t, result: input_t * (result + 1),
)
def expm1(input: Tensor) -> Tensor:
    """``exp(x) - 1``, accurate for small ``x``; integers give float32."""
    return _unary(np.expm1, input, _floating(input))


@op(
    input=lambda grad, result: grad * (1 + result * result),
    jvp=lambda input_t, result: input_t * (1 + result * result),
)
def tan(input: Tensor) -> Tensor:
    """Elementwise tangent; integers give float32."""
    return _unary(np.tan, input, _floating(input))


@op(
    input=lambda grad, input: grad / sqrt(1 - input * input),
    jvp=lambda input, input_t: input_t / sqrt(1 - input * input),
)
def asin(input: Tensor) -> Tensor:
    """Elementwise arcsine (nan outside [-1, 1]); integers give float32."""
    return _unary(np.arcsin, input, _floating(input))


@op(
    input=lambda grad, input: -grad / sqrt(1 - input * input),
    jvp=lambda input, input_t: -input_t / sqrt(1 - input * input),
)
def acos(input: Tensor) -> Tensor:
    """Elementwise arccosine (nan outside [-1, 1]); integers give float32."""
    return _unary(np.arccos, input, _floating(input))


@op(
    input=lambda grad, input: grad / (input * input + 1),
    jvp=lambda input, input_t: input_t / (input * input + 1),
)
def atan(input: Tensor) -> Tensor:
    """Elementwise arctangent; integers give float32."""
    return _unary(np.arctan, input, _floating(input))


@op(input=lambda grad, input: grad * cosh(input), jvp=lambda input, input_t: input_t * cosh(input))
def sinh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic sine; integers give float32."""
    return _unary(np.sinh, input, _floating(input))


@op(input=lambda grad, input: grad * sinh(input), jvp=lambda input, input_t: input_t * sinh(input))
def cosh(input: Tensor) -> Tensor:
    """Elementwise hyperbolic cosine; integers give float32."""
    return _unary(np.cosh, input, _floating(input))


@op(
    input=lambda grad, input: grad / sqrt(input * input + 1),
    jvp=lambda input, input_t: input_t / sqrt(input * input + 1),
)
def asinh(input: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic sine; integers give float32."""
    return _unary(np.arcsinh, input, _floating(input))


@op(
    input=lambda grad, input: grad / sqrt(input * input - 1),
    jvp=lambda input, input_t: input_t / sqrt(input * input - 1),
)
def acosh(input: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic cosine (nan below 1); integers give float32."""
    return _unary(np.arccosh, input, _floating(input))


@op(
    input=lambda grad, input: grad / (1 - input * input),
    jvp=lambda input, input_t: input_t / (1 - input * input),
)
def atanh(input: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic tangent (+-inf at +-1); integers give float32."""
    return _unary(np.arctanh, input, _floating(input))


def _rounding(numpy_function, input: Tensor, kernel_name: str) -> Tensor:
    """floor/ceil/trunc: integers are already whole (a copy), bool has no kernel."""
    _not_for_bool(input, kernel_name)
    if not input.dtype.is_floating_point:
        return _unary(np.copy, input, input.dtype)
    return _unary(numpy_function, input, input.dtype)


@op(input=lambda grad: grad * 0.0, jvp=lambda input_t: input_t * 0.0)
def floor(input: Tensor) -> Tensor:
    """The largest whole number <= x (same dtype); zero gradient."""
    return _rounding(np.floor, input, "floor_vml_cpu")


@op(input=lambda grad: grad * 0.0, jvp=lambda input_t: input_t * 0.0)
def ceil(input: Tensor) -> Tensor:
    """The smallest whole number >= x (same dtype); zero gradient."""
    return _rounding(np.ceil, input, "ceil_vml_cpu")


@op(input=lambda grad: grad * 0.0, jvp=lambda input_t: input_t * 0.0)
def trunc(input: Tensor) -> Tensor:
    """``x`` rounded toward zero (same dtype); zero gradient."""
    return _rounding(np.trunc, input, "trunc_vml_cpu")


fix = trunc
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


@op(input=lambda grad: grad, jvp=lambda input_t: input_t)
def frac(input: Tensor) -> Tensor:
    """``x - trunc(x)`` (the sign of ``x``); floating dtypes only, as in torch."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"frac_cpu\" not implemented for '{input.dtype.scalar_type_name}'"
        )
    return _unary(lambda values: values - np.trunc(values), input, input.dtype)


def _all_finite(input: Tensor, value: bool) -> Tensor | None:
    """Integer and bool elements are all finite: torch answers ``full_like(input, value)``
    (laid out like ``input``) for them; None for a floating tensor."""
    if input.dtype.is_floating_point:
        return None
    strides = layout.dense_strides_like(input.shape, input.stride())
    return wrap(np.full(tuple(input.shape), value), dtypes.bool, strides)


def isnan(input: Tensor) -> Tensor:
    """Where ``x`` is nan (torch's ``x != x``), as a bool tensor."""
    return ne(input, input)


def isinf(input: Tensor) -> Tensor:
    """Where ``x`` is +-inf (torch's ``abs(x) == inf``), as a bool tensor."""
    constant = _all_finite(input, False)
    return constant if constant is not None else eq(abs(input.detach()), math.inf)


def isfinite(input: Tensor) -> Tensor:
    """Where ``x`` is neither nan nor +-inf (torch's ``(x == x) * (abs(x) != inf)``)."""
    constant = _all_finite(input, True)
    if constant is not None:
        return constant
    return mul(eq(input, input), ne(abs(input.detach()), math.inf))


def isposinf(input: Tensor) -> Tensor:
    """Where ``x`` is +inf, as a bool tensor."""
    return compute(np.isposinf, (input,), input.dtype, result_dtype=dtypes.bool)


def isneginf(input: Tensor) -> Tensor:
    """Where ``x`` is -inf, as a bool tensor."""
    return compute(np.isneginf, (input,), input.dtype, result_dtype=dtypes.bool)


@op(
    input=lambda grad, input: grad * isfinite(input),
    jvp=lambda input, input_t: input_t * isfinite(input),
)
def nan_to_num(
    input: Tensor,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """nan, +inf and -inf replaced by ``nan`` and by the dtype's largest and smallest finite
    values (or ``posinf``/``neginf``); integers are copied.  The gradient passes where ``x``
    is finite."""
    strides = layout.dense_strides_like(input.shape, input.stride())  # torch's empty_like
    if not input.dtype.is_floating_point:
        return wrap(input._array(), input.dtype, strides)
    info = dtypes.finfo(input.dtype)
    high = info.max if posinf is None else posinf
    low = info.min if neginf is None else neginf
    return compute(
        lambda values: np.nan_to_num(values, nan=nan, posinf=high, neginf=low),
        (input,),
        input.dtype,
        strides,
    )


# -------------------------------------------------------------------- binary math
def _float_result(input: Operand, other: Operand) -> DType:
    """The promoted dtype, integers and bools going to the default float (like ``div``)."""
    dtype = dtypes.result_type(input, other)
    return dtype if dtype.is_floating_point else dtypes.get_default_dtype()


def _floating_only(input: Operand, other: Operand, kernel_name: str) -> DType:
    """The promoted dtype, which must be floating: torch has no integer kernel."""
    dtype = dtypes.result_type(input, other)
    if not dtype.is_floating_point:
        raise NotImplementedError(
            f"\"{kernel_name}\" not implemented for '{dtype.scalar_type_name}'"
        )
    return dtype


def _sum_of_squares(input: Operand, other: Operand) -> Tensor:
    return input * input + other * other


@op(
    input=lambda grad, input, other: grad * (other / _sum_of_squares(input, other)),
    other=lambda grad, input, other: grad * (-input / _sum_of_squares(input, other)),
    jvp=lambda input, other, input_t, other_t: (
        (input_t * other - other_t * input) / _sum_of_squares(input, other)
    ),
)
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point ``(other, input)`` in ``(-pi, pi]``, elementwise, broadcasting;
    integers give float32."""
    _require_tensors("atan2", input, other)
    return compute(np.arctan2, (input, other), _float_result(input, other))


arctan2 = atan2


@op(
    input=lambda grad, input, other: grad / (1 + exp(other - input)),
    other=lambda grad, input, other: grad / (1 + exp(input - other)),
    jvp=lambda input, other, input_t, other_t: (
        input_t / (1 + exp(other - input)) + other_t / (1 + exp(input - other))
    ),
)
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``log(exp(x) + exp(y))`` without overflow, broadcasting; floating dtypes only."""
    _require_tensors("logaddexp", input, other)
    dtype = _floating_only(input, other, "logaddexp_cpu")
    return compute(np.logaddexp, (input, other), dtype)


@op(
    input=lambda grad, input, result: grad * (input / result),
    other=lambda grad, other, result: grad * (other / result),
    jvp=lambda input, other, input_t, other_t, result: (input_t * input + other_t * other) / result,
)
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(x**2 + y**2)`` without overflow, broadcasting; floating dtypes only."""
    _require_tensors("hypot", input, other)
    dtype = _floating_only(input, other, "hypot_cpu")
    return compute(np.hypot, (input, other), dtype)


def _xlogy_values(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # 0 where x == 0, unless y is nan (then nan), as in torch.
    return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y)).astype(x.dtype)


def _xlogy_node(input, other) -> str:
    """XlogyBackward0 for two tensors, 1 for a number ``input``, 2 for a number ``other``."""
    if not isinstance(input, Tensor):
        return "XlogyBackward1"
    return "XlogyBackward0" if isinstance(other, Tensor) else "XlogyBackward2"


def _log_where_nonzero(input: Tensor, other: Operand, like: Tensor) -> Tensor:
    """d xlogy / dx: ``log(other)`` where ``input != 0`` (in ``like``'s dtype), else 0."""
    return xlogy(to_dtype(ne(input, 0), like.dtype), other)


def _xlogy_tangent(input: Operand, other: Operand, input_t, other_t) -> Tensor:
    tangent = other_t * input / other
    if isinstance(input, Tensor):  # a number input has no tangent
        tangent = tangent + input_t * _log_where_nonzero(input, other, input_t)
    return tangent


@op(
    input=lambda grad, input, other: grad * _log_where_nonzero(input, other, grad),
    other=lambda grad, input, other: grad * input / other,
    jvp=lambda input, other, input_t, other_t: _xlogy_tangent(input, other, input_t, other_t),
    node_name=_xlogy_node,
)
def xlogy(input: Operand, other: Operand) -> Tensor:
    """``x * log(y)``, 0 where ``x == 0`` (unless ``y`` is nan), broadcasting; integers give
    float32."""
    return compute(_xlogy_values, (input, other), _float_result(input, other))


def _lerp_values(start: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
    # torch's two-sided formula: exact at weight 0 and at weight 1.
    difference = end - start
    return np.where(
        np.abs(weight) < 0.5, start + weight * difference, end - difference * (1 - weight)
    ).astype(start.dtype)


@op(
    input=lambda grad, weight: grad * (1 - weight),
    end=lambda grad, weight: grad * weight,
    weight=lambda grad, input, end: grad * (end - input),
    jvp=lambda input, end, weight, input_t, end_t, weight_t: (
        input_t * (1 - weight) + end_t * weight + weight_t * (end - input)
    ),
    node_name=lambda input, end, weight: (
        "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0"
    ),
)
def lerp(input: Tensor, end: Tensor, weight: Operand) -> Tensor:
    """``input + weight * (end - input)``, broadcasting; ``end`` (and a tensor ``weight``) must
    have ``input``'s dtype, which must be floating."""
    for name, operand in (("end", end), ("weight", weight)):
        if isinstance(operand, Tensor) and operand.dtype is not input.dtype:
            raise RuntimeError(
                f"expected dtype {input.dtype.name.replace('32', '').replace('64', 'double')}"
                f" for `{name}` but got dtype {operand.dtype.name.replace('float64', 'double')}"
            )
    if not input.dtype.is_floating_point:
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{input.dtype.scalar_type_name}'"
        )
    if isinstance(weight, Tensor):
        return compute(_lerp_values, (input, end, weight), input.dtype)
    # A number weight stays in the compute dtype (float32 for float16), as torch's opmath.
    return compute(
        lambda start, stop: _lerp_values(start, stop, builtins.float(weight)),
        (input, end),
        input.dtype,
    )


def _copysign_node(input, other) -> str:
    return "CopysignBackward0" if isinstance(other, Tensor) else "CopysignBackward1"


@op(
    input=lambda grad, input, result: where(eq(input, 0), 0.0, grad * (result / input)),
    other=lambda grad: grad * 0.0,
    jvp=lambda input, result, input_t: where(eq(input, 0), 0.0, input_t * (result / input)),
    node_name=_copysign_node,
)
def copysign(input: Tensor, other: Operand) -> Tensor:
    """``|input|`` with the sign of ``other`` (``-0.0`` counts as negative), broadcasting;
    integers give float32.  The gradient of ``input`` is ``sign(input) * sign(other)``."""
    return compute(np.copysign, (input, other), _float_result(input, other))


def _truncated_quotient(input: Operand, other: Operand) -> Operand:
    """``trunc(input / other)``, detached: the piecewise-constant part of fmod."""
    return div(_detached(input), _detached(other), rounding_mode="trunc")


@op(
    input=lambda grad: grad,
    other=lambda grad, input, other: -grad * _truncated_quotient(input, other),
    jvp=lambda input, other, input_t, other_t: (
        input_t - other_t * _truncated_quotient(input, other)
    ),
    node_name=lambda input, other: (
        "FmodBackward1" if isinstance(other, Tensor) else "FmodBackward0"
    ),
)
def fmod(input: Tensor, other: Operand) -> Tensor:
    """C's ``fmod``: ``input - other * trunc(input / other)``, with the sign of ``input``
    (``remainder`` has the sign of the divisor); integer division by zero raises."""
    dtype = dtypes.result_type(input, other)
    _not_for_bool_result(dtype, "fmod_cpu")
    _check_integer_divisor(other, dtype)
    return compute(np.fmod, (input, other), dtype)


def _trunc_divide(input: np.ndarray, other: np.ndarray) -> np.ndarray:
    if input.dtype.kind == "f":
        return np.trunc(np.true_divide(input, other))
    quotient = np.floor_divide(input, other)
    # Floor and trunc differ where the quotient is negative and not whole.
    inexact = (np.remainder(input, other) != 0) & ((input < 0) != (other < 0))
    return np.where(inexact, quotient + 1, quotient).astype(quotient.dtype)


@op(
    input=lambda grad: grad * 0.0,
    other=lambda grad: grad * 0.0,
    jvp=lambda input_t, other_t: input_t * 0.0 + other_t * 0.0,
    node_name="DivBackward2",
    numbers_are_inputs=True,
)
def _rounded_div(input: Operand, other: Operand, rounding_mode: str) -> Tensor:
    """``input / other`` rounded toward zero (``"trunc"``) or down (``"floor"``), in the
    promoted dtype; piecewise constant, so its gradient is zero (as in torch)."""
    dtype = dtypes.result_type(input, other)
    _not_for_bool_result(dtype, f"div_{rounding_mode}_cpu")
    _check_integer_divisor(other, dtype)
    kernel = _trunc_divide if rounding_mode == "trunc" else np.floor_divide
    return compute(kernel, (input, other), dtype)


# ----------------------------------------------------------------------------- closeness
def isclose(
    input: Tensor,
    other: Tensor,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """Where ``|input - other| <= atol + rtol * |other|`` (or the two are equal, infinities
    included; nan equals nan only with ``equal_nan``), as a bool tensor.  Both tensors must
    have the same dtype.  Computed with the same ops as torch's, so it rounds the same way."""
    if input.dtype is not other.dtype:
        raise RuntimeError(
            f"{input.dtype.scalar_type_name} did not match {other.dtype.scalar_type_name}"
        )
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value}")
    input, other = input.detach(), other.detach()
    close = eq(input, other)
    if equal_nan and input.dtype.is_floating_point:
        close = logical_or(close, mul(ne(input, input), ne(other, other)))
    if rtol == 0 and atol == 0:
        return close
    if not input.dtype.is_floating_point:  # integers compare as floats (no wraparound)
        default = dtypes.get_default_dtype()
        input, other = to_dtype(input, default), to_dtype(other, default)
    allowed = abs(mul(other, rtol)) + atol
    actual = abs(sub(input, other))
    return logical_or(close, mul(isfinite(actual), le(actual, allowed)))


def allclose(
    input: Tensor,
    other: Tensor,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether :func:`isclose` holds for every element (a Python bool)."""
    return builtins.bool(np.all(isclose(input, other, rtol, atol, equal_nan)._array()))


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise ``or`` of the truth of each element; the result is bool."""
    return compute(
        np.logical_or, (input, other), dtypes.result_type(input, other), result_dtype=dtypes.bool
    )


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise ``and`` of the truth of each element; the result is bool."""
    return compute(
        np.logical_and, (input, other), dtypes.result_type(input, other), result_dtype=dtypes.bool
    )


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise ``xor`` of the truth of each element; the result is bool."""
    return compute(
        np.logical_xor, (input, other), dtypes.result_type(input, other), result_dtype=dtypes.bool
    )


# ------------------------------------------------------------------ integer and bitwise
# Integer and bool ops: not differentiable, so plain kernels (no table entry, no grad_fn).
def _integer_kernel(numpy_function, input: Operand, other: Operand, kernel_name: str) -> Tensor:
    """``numpy_function`` over the promoted dtype, which must be integer (or bool, unless the
    kernel has no bool version): torch has no floating kernels for these."""
    dtype = dtypes.result_type(input, other)
    if dtype.is_floating_point or (dtype is dtypes.bool and kernel_name != "bitwise"):
        name = f"{kernel_name}_cpu" if kernel_name != "bitwise" else f"{numpy_function.__name__}"
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype.scalar_type_name}'")
    return compute(numpy_function, (input, other), dtype)


def _bitwise(kernel_name: str, numpy_function):
    def kernel(values: np.ndarray, others: np.ndarray) -> np.ndarray:
        return numpy_function(values, others)

    kernel.__name__ = kernel_name
    return kernel


_AND = _bitwise("bitwise_and_cpu", np.bitwise_and)
_OR = _bitwise("bitwise_or_cpu", np.bitwise_or)
_XOR = _bitwise("bitwise_xor_cpu", np.bitwise_xor)


def bitwise_and(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``&`` of integer or bool tensors (bool: logical and), broadcasting."""
    return _integer_kernel(_AND, input, other, "bitwise")


def bitwise_or(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``|`` of integer or bool tensors, broadcasting."""
    return _integer_kernel(_OR, input, other, "bitwise")


def bitwise_xor(input: Operand, other: Operand) -> Tensor:
    """Elementwise ``^`` of integer or bool tensors, broadcasting."""
    return _integer_kernel(_XOR, input, other, "bitwise")


def bitwise_not(input: Tensor) -> Tensor:
    """Elementwise ``~``: the bits flipped (integers), ``not`` (bool)."""
    if input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"bitwise_not_cpu\" not implemented for '{input.dtype.scalar_type_name}'"
        )
    return _unary(np.invert, input, input.dtype)


def invert(input: Tensor) -> Tensor:
    """The ``~`` operator: :func:`bitwise_not`, a TypeError for floating tensors (as torch)."""
    if input.dtype.is_floating_point:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return bitwise_not(input)


def _shift_width(values: np.ndarray) -> int:
    return values.dtype.itemsize * 8


def _left_shift_values(values: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    # Shifting by a negative amount or by the width or more gives 0 in torch (C++ would be UB).
    width = _shift_width(values)
    inside = (shifts >= 0) & (shifts < width)
    shifted = np.left_shift(values, np.clip(shifts, 0, width - 1).astype(values.dtype))
    return np.where(inside, shifted, 0).astype(values.dtype)


def _right_shift_values(values: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    # By a negative amount or by the width or more: the sign fills every bit (0 or -1).
    width = _shift_width(values)
    outside = (shifts < 0) | (shifts >= width)
    shifted = np.right_shift(values, np.where(outside, width - 1, shifts).astype(values.dtype))
    if values.dtype.kind == "u":
        shifted = np.where(outside, 0, shifted)
    return shifted.astype(values.dtype)


def bitwise_left_shift(input: Operand, other: Operand) -> Tensor:
    """``input << other`` (integers), wrapping around on overflow; shifts by a negative amount
    or by the bit width or more give 0."""
    return _integer_kernel(_left_shift_values, input, other, "lshift")


def bitwise_right_shift(input: Operand, other: Operand) -> Tensor:
    """``input >> other`` (integers, arithmetic: the sign is kept; shifts by a negative amount
    or by the bit width or more leave only the sign)."""
    return _integer_kernel(_right_shift_values, input, other, "rshift")


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise greatest common divisor of integers (non-negative; ``gcd(0, 0) = 0``)."""
    return _integer_kernel(np.gcd, input, other, "gcd")


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise least common multiple of integers (non-negative)."""
    return _integer_kernel(np.lcm, input, other, "lcm")


# ----------------------------------------------------------------- selection and clamping
def _winner_grad(grad: Tensor, mine: Tensor, theirs: Tensor, loses) -> Tensor:
    """maximum/minimum: an operand gets the gradient where it won, half of it on ties."""
    shared = where(eq(mine, theirs), grad / 2, grad)
    return where(loses(mine, theirs), 0.0, shared)


def _winner_tangent(input: Tensor, other: Tensor, input_t, other_t, wins) -> Tensor:
    """maximum/minimum JVP: the winner's tangent, the mean of both tangents on ties."""
    return where(
        eq(input, other), (input_t + other_t) / 2, where(wins(input, other), input_t, other_t)
    )


def _require_tensors(name: str, *operands) -> None:
    for operand in operands:
        if not isinstance(operand, Tensor):
            raise TypeError(
                f"{name}(): argument 'other' must be Tensor, not {type(operand).__name__}"
            )


@op(
    input=lambda grad, input, other: _winner_grad(grad, input, other, lt),
    other=lambda grad, input, other: _winner_grad(grad, other, input, lt),
    # The tangent of the larger operand; on ties the mean of both (as backward splits it).
    jvp=lambda input, other, input_t, other_t: _winner_tangent(input, other, input_t, other_t, gt),
)
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise larger of two tensors (nan wins), broadcasting; the gradient goes to the
    larger operand, split in half on ties (as in torch)."""
    _require_tensors("maximum", input, other)
    return compute(np.maximum, (input, other), dtypes.result_type(input, other))


@op(
    input=lambda grad, input, other: _winner_grad(grad, input, other, gt),
    other=lambda grad, input, other: _winner_grad(grad, other, input, gt),
    jvp=lambda input, other, input_t, other_t: _winner_tangent(input, other, input_t, other_t, lt),
)
def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise smaller of two tensors (nan wins), broadcasting."""
    _require_tensors("minimum", input, other)
    return compute(np.minimum, (input, other), dtypes.result_type(input, other))


def _numbers_only(*bounds) -> bool:
    return not builtins.any(isinstance(bound, Tensor) for bound in bounds)


def _inside(input: Tensor, low, high) -> Tensor:
    """Where ``low <= input <= high`` (bounds included, as in torch; None is no bound)."""
    inside = None if low is None else ge(input, low)
    if high is not None:
        below = le(input, high)
        inside = below if inside is None else mul(inside, below)
    return inside


def _clamp_tangent(input, low, high, input_t, low_t, high_t) -> Tensor:
    """The tangent of clamp: the input's where it is inside the bounds, else the bound's."""
    tangent = where(_inside(input, low, high), input_t, 0.0)
    if low is not None:
        tangent = where(lt(input, low), low_t, tangent)
    if high is not None:
        tangent = where(gt(input, high), high_t, tangent)
    return tangent


@op(
    input=lambda grad, input, min, max: where(_inside(input, min, max), grad, 0.0),
    min=lambda grad, input, min: where(lt(input, min), grad, 0.0),
    max=lambda grad, input, max: where(gt(input, max), grad, 0.0),
    jvp=lambda input, min, max, input_t, min_t, max_t: _clamp_tangent(
        input, min, max, input_t, min_t, max_t
    ),
    # torch records clamp with number bounds as ClampBackward1, with tensor bounds as ...0.
    node_name=lambda input, min, max: (
        "ClampBackward1" if _numbers_only(min, max) else "ClampBackward0"
    ),
)
def clamp(input: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:  # noqa: A002
    """Elementwise ``min(max(x, min), max)``; when ``min > max`` every element becomes ``max``.

    With tensor bounds the result is laid out over ``(input, min, max)``; with a Python number
    (torch then reads a 0-d tensor bound as a number too) clamp is a unary op on ``input``.
    The gradient passes where ``min <= x <= max`` and goes to a tensor bound where it is the
    one selected.
    """
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    bounds = [bound for bound in (min, max) if bound is not None]
    dtype = dtypes.result_type(input, *bounds)
    scalar_overload = not builtins.all(isinstance(bound, Tensor) for bound in bounds)
    if scalar_overload and builtins.all(len(shape_of(bound)) == 0 for bound in bounds):
        strides = output_strides(dtype, input)
    else:
        strides = output_strides(dtype, input, *bounds)

    def clamp_values(values, *bound_values):
        bound_values = list(bound_values)
        if min is not None:
            values = np.maximum(values, bound_values.pop(0))
        if max is not None:
            values = np.minimum(values, bound_values.pop(0))
        return values

    return compute(clamp_values, (input, *bounds), dtype, strides)


clip = clamp


def _bool_condition(condition: Tensor) -> Tensor:
    return condition if condition.dtype is dtypes.bool else to_dtype(condition, dtypes.bool)


@op(
    input=lambda grad, condition: where(_bool_condition(condition), grad, 0.0),
    other=lambda grad, condition: where(_bool_condition(condition), 0.0, grad),
    jvp=lambda condition, input_t, other_t: where(_bool_condition(condition), input_t, other_t),
    numbers_are_inputs=True,  # edges for input and other (a number's is empty), as in torch
    non_differentiable=("condition",),
)
def where(condition: Tensor, input: Operand, other: Operand) -> Tensor:
    """``input`` where ``condition`` is True, else ``other``; all three broadcast together.
    Each operand gets the gradient where it was picked (zeros elsewhere)."""
    if isinstance(condition, Tensor) and condition.dtype is dtypes.uint8:
        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated; use a "
            "boolean condition instead.",
            UserWarning,
            stacklevel=3,
        )
        condition = to_dtype(condition, dtypes.bool)
    if not isinstance(condition, Tensor) or condition.dtype is not dtypes.bool:
        name = condition.dtype.scalar_type_name if isinstance(condition, Tensor) else "scalar"
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {name}"
        )
    dtype = dtypes.result_type(input, other)
    layout.broadcast_shapes(condition.shape, shape_of(input), shape_of(other))
    # The condition is read as it is (bool); input and other are promoted to ``dtype``.
    strides = layout.iterator_output_strides(
        [
            (tuple(condition.shape), condition.stride()),
            *(geometry(operand, dtype) for operand in (input, other)),
        ]
    )
    return compute(
        lambda first, second: np.where(condition._array(), first, second),
        (input, other),
        dtype,
        strides,
    )


# ------------------------------------------------------------------------ dtype conversion
def to_dtype(tensor: Tensor, dtype: DType, *, copy: bool = False) -> Tensor:
    """``tensor`` converted to ``dtype`` (floats to ints truncate toward zero, nonzero to bool
    is True); ``tensor`` itself if it already has that dtype and ``copy`` is False.

    The copy keeps the memory order of the dims (torch's ``_to_copy`` with preserve_format):
    a dense tensor keeps its strides exactly, others get :func:`layout.dense_strides_like`.
    """
    if dtype is tensor.dtype and not copy:
        return tensor
    return to_copy(tensor, dtype)


@op(
    tensor=lambda grad, tensor_dtype: to_dtype(grad, tensor_dtype),
    jvp=lambda tensor_t, dtype: to_dtype(tensor_t, dtype, copy=True),
    node_name="ToCopyBackward0",
)
def to_copy(tensor: Tensor, dtype: DType) -> Tensor:
    """A converted copy; the gradient is converted back to the input's dtype."""
    strides = layout.dense_strides_like(tensor.shape, tensor.stride())
    return wrap(tensor._array(), dtype, strides)


# ------------------------------------------------------------------------------- in place
def copy_(tensor: Tensor, source: Operand) -> Tensor:
    """Write ``source`` (broadcast to ``tensor.shape``, cast to its dtype) into ``tensor``'s
    storage; views of the same storage see the change."""
    check_inplace(tensor, "copy_")
    check_no_internal_overlap(tensor)
    _check_in_place_shape(tensor, shape_of(source))
    if needs_history(tensor, source):
        rebase_history(tensor, copy(tensor, source))
        return tensor
    dual = has_tangent(tensor, source)
    values = source._array() if isinstance(source, Tensor) else np.asarray(source)
    tensor._array()[...] = cast_array(values, tensor.dtype.numpy_dtype)
    tensor._version_counter.bump()
    if dual:
        rebase_tangent(tensor, source._tangent if isinstance(source, Tensor) else None)
    return tensor


def _check_in_place_shape(tensor: Tensor, source_shape) -> None:
    if layout.broadcast_shapes(source_shape, tensor.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"output with shape {list(tensor.shape)} doesn't match the broadcast shape "
            f"{list(layout.broadcast_shapes(source_shape, tensor.shape))}"
        )


@op(
    tensor=lambda grad: grad * 0.0,
    source=lambda grad: grad,
    jvp=lambda source_t: source_t,
    node_name="CopyBackwards",
)
def copy(tensor: Tensor, source: Operand) -> Tensor:
    """The new value of ``tensor.copy_(source)``, as recorded for autograd: the old values are
    gone (zero gradient) and ``source`` gets the gradient."""
    values = source._array() if isinstance(source, Tensor) else np.asarray(source)
    result = Tensor._from_array(np.empty(tensor.shape, dtype=tensor._storage.dtype))
    result._array()[...] = cast_array(values, tensor.dtype.numpy_dtype)
    return result


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


def div_(tensor: Tensor, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
    """In-place ``tensor /= other`` (an integer tensor cannot hold the float result unless
    ``rounding_mode`` is ``"trunc"`` or ``"floor"``)."""
    return _in_place(div, tensor, other, rounding_mode=rounding_mode)
