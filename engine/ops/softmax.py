"""``softmax`` and ``log_softmax`` along a dim: fused entries of the derivative table.

Both could be composed from primitives (``exp(x) / exp(x).sum(dim)``), but the composition
overflows: ``exp(1000.0)`` is inf in float32 and the ratio is nan.  The fused kernels subtract
the maximum along ``dim`` first (``softmax(x) == softmax(x - max(x))`` exactly), so every
``exp`` is of a number <= 0, and ``log_softmax`` never takes the log of a rounded-to-zero
probability: ``x - max - log(sum(exp(x - max)))``.  Their derivatives use only the result:

* softmax ``s``: VJP ``s * (g - sum(g * s))``, JVP ``s * (t - sum(t * s))``;
* log_softmax ``l``: VJP ``g - exp(l) * sum(g)``, JVP ``t - sum(exp(l) * t)``,

with the sums over ``dim``, keeping it.
"""

from __future__ import annotations

import numpy as np

from engine import layout
from engine.dtypes import DType
from engine.ops import elementwise
from engine.ops.iterator import cast_array, compute_numpy_dtype, wrap
from engine.ops.table import op
from engine.tensor import Tensor


def _prepare(input: Tensor, dim: int, dtype: DType | None, kernel: str) -> tuple:
    """The values to compute in (cast to ``dtype`` first, as torch does) and the wrapped dim."""
    if dtype is not None:
        input = elementwise.to_dtype(input, dtype)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"{kernel}_lastdim_kernel_impl\" not implemented for '{input.dtype.scalar_type_name}'"
        )
    axis = layout.wrap_dim(dim, input.ndim) if input.ndim else 0
    values = cast_array(input._array(), compute_numpy_dtype(input.dtype))
    return values, axis, input.dtype


def _shifted(values: np.ndarray, axis: int) -> np.ndarray:
    """``x - max(x)`` along ``axis`` (0-d or empty: ``x - x``); a row whose maximum is not
    finite (all ``-inf``) is not shifted."""
    if values.ndim == 0 or values.size == 0:
        return values - values
    peak = np.max(values, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    return values - peak


@op(
    input=lambda grad, result, dim: result * (grad - (grad * result).sum(dim, keepdim=True)),
    jvp=lambda input_t, result, dim: result * (input_t - (input_t * result).sum(dim, True)),
)
def softmax(input: Tensor, dim: int, dtype: DType | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed from ``x - max(x)`` so that it cannot
    overflow.  Same shape as ``input``; saves the result."""
    values, axis, result_dtype = _prepare(input, dim, dtype, "softmax")
    with np.errstate(all="ignore"):
        exponentials = np.exp(_shifted(values, axis))
        result = exponentials / np.sum(
            exponentials, axis=axis if values.ndim else None, keepdims=True
        )
    return wrap(result, result_dtype, fresh=True)


@op(
    input=lambda grad, result, dim: grad - result.exp() * grad.sum(dim, keepdim=True),
    jvp=lambda input_t, result, dim: input_t - (result.exp() * input_t).sum(dim, True),
)
def log_softmax(input: Tensor, dim: int, dtype: DType | None = None) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``dim`` (log-sum-exp with the maximum subtracted first:
    no overflow, and no ``log(0)`` for a probability that rounds to zero).  Saves the
    result."""
    values, axis, result_dtype = _prepare(input, dim, dtype, "log_softmax")
    with np.errstate(all="ignore"):
        shifted = _shifted(values, axis)
        total = np.sum(np.exp(shifted), axis=axis if values.ndim else None, keepdims=True)
        result = shifted - np.log(total)
    return wrap(result, result_dtype, fresh=True)
