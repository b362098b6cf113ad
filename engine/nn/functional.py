"""``torch.nn.functional``'s names, built from the engine's ops; the modules of
:mod:`engine.nn` call these.

- layers: ``linear``, ``bilinear``, ``embedding``, ``dropout``, ``one_hot``;
- activations: ``relu``, ``relu6``, ``leaky_relu``, ``hardtanh``, ``elu``, ``selu``, ``celu``,
  ``sigmoid``, ``tanh``, ``silu``, ``hardsigmoid``, ``hardswish``, ``softsign``, ``gelu``,
  ``softplus``, ``logsigmoid``, ``mish``, ``tanhshrink``, ``threshold``, ``softshrink``,
  ``hardshrink``, ``prelu``, ``glu``, ``softmax``, ``log_softmax``, ``softmin``,
  ``gumbel_softmax``;
- ``normalize``.

Piecewise activations are written with ``where`` so that the gradient at a kink is the one
torch's backward formula gives (``leaky_relu``'s slope at 0, ``hardtanh``'s zero at its
bounds).  ``softmax`` and ``log_softmax`` are the fused, stable ops of
:mod:`engine.ops.softmax`.  ``gumbel_softmax`` draws a differentiable sample from a categorical
distribution: Gumbel noise ``-log(-log(U))`` added to the logits, then a softmax at temperature
``tau``.  With ``hard=True`` the forward value is the one-hot of the sample while the gradient
is the soft sample's (the straight-through trick: ``y_hard - y_soft.detach() + y_soft``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine import dtypes, layout
from engine.autograd import no_grad
from engine.ops.creation import tensor as as_tensor
from engine.ops.elementwise import erf, exp, expm1, log1p, minimum, sigmoid, tanh, where
from engine.ops.elementwise import relu as relu_op
from engine.ops.indexing import one_hot
from engine.ops.linalg import norm
from engine.ops.softmax import log_softmax, softmax
from engine.random import rand_like
from engine.tensor import Tensor

__all__ = [
    "bilinear",
    "celu",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "glu",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mish",
    "normalize",
    "one_hot",
    "prelu",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
]


def _activation(input: Tensor, inplace: bool, function: Callable[[Tensor], Tensor]) -> Tensor:
    """``function(input)``, or with ``inplace=True`` written into ``input`` (torch's ``relu_``).
    In place, the function runs on a clone: its backward may need the values it overwrites."""
    if not inplace:
        return function(input)
    return input.copy_(function(input.clone()))


# ------------------------------------------------------------------------------ layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``(*, in_features)`` -> ``(*, out_features)``."""
    output = input.matmul(weight.t())
    return output if bias is None else output + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., k] = input1 @ weight[k] @ input2 + bias[k]``; ``weight`` is
    ``(out_features, in1_features, in2_features)``."""
    out_features, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
            f"expected {in1}"
        )
    if input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
            f"expected {in2}"
        )
    # One matmul: input1 against every weight[k] at once gives (..., out, in2); then a dot
    # product with input2 over the last dim.
    left = input1.matmul(weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    left = left.reshape(*input1.shape[:-1], out_features, in2)
    output = (left * input2.unsqueeze(-2)).sum(-1)
    return output if bias is None else output + bias


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``: shape ``(*input.shape, dim)``.

    The rows picked at ``padding_idx`` get no gradient.  ``max_norm`` first rescales, in place,
    each picked row whose ``norm_type``-norm exceeds it (as torch does)."""
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got engine.{input.dtype.scalar_type_name}Tensor instead "
            "(while checking arguments for "
            "embedding)"
        )
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    count = weight.shape[0]
    if input.numel() and (input.min().item() < 0 or input.max().item() >= count):
        raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += count
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    output = weight[input]
    if padding_idx is None:
        return output
    # Same values, but the padding rows' gradient is cut: torch's embedding_backward skips them.
    padding = (input == padding_idx).unsqueeze(-1)
    return where(padding, output.detach(), output)


def _renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale, in place and outside autograd, the rows of ``weight`` that ``input`` picks and
    whose norm exceeds ``max_norm`` down to norm ``max_norm`` (torch's ``embedding_renorm_``)."""
    rows = as_tensor(sorted(set(input.reshape(-1).tolist())), dtype=dtypes.int64)
    with no_grad():
        picked = weight[rows]
        norms = (picked.abs() ** norm_type).sum(-1, keepdim=True) ** (1.0 / norm_type)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = picked * scale


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)`` (so the expected value is unchanged); the identity otherwise."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    keep = rand_like(input) >= p  # uniform in [0, 1): kept with probability 1 - p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = keep.to(input.dtype) * scale
    return input.mul_(mask) if inplace else input * mask


# ------------------------------------------------------------------------------ activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return _activation(input, inplace, relu_op)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``; the gradient is zero at the bounds too."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _activation(
        input, inplace, lambda x: where(x <= min_val, min_val, where(x >= max_val, max_val, x))
    )


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return _activation(input, inplace, lambda x: where(x > 0, x, x * negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    # expm1 of min(x, 0): exact near 0, and no inf (whose gradient would be nan) for large x.
    return _activation(input, inplace, lambda x: where(x > 0, x, expm1(x.clamp(max=0)) * alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalizing constants of Klambauer et al."""
    return _activation(input, inplace, lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _activation(
        input, inplace, lambda x: where(x > 0, x, expm1(x.clamp(max=0) / alpha) * alpha)
    )


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return _activation(input, inplace, lambda x: x * sigmoid(x))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``0`` below -3, ``1`` above 3, ``x / 6 + 1 / 2`` between (zero gradient at +-3)."""
    return _activation(
        input, inplace, lambda x: where(x <= -3, 0.0, where(x >= 3, 1.0, x / 6 + 0.5))
    )


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)``: ``0`` below -3, ``x`` above 3, ``x (x + 3) / 6`` between."""
    return _activation(
        input, inplace, lambda x: where(x <= -3, 0.0, where(x < 3, x * (x + 3) / 6, x))
    )


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, Phi the standard normal CDF: ``0.5 x (1 + erf(x / sqrt(2)))``;
    ``approximate="tanh"`` is ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``."""
    if approximate == "tanh":
        inner = (input + input**3 * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * (tanh(inner) + 1) * 0.5
    if approximate == "none":
        return input * (erf(input * (1 / math.sqrt(2.0))) + 1) * 0.5
    raise RuntimeError("approximate argument must be either none or tanh.")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, a smooth ReLU; ``x`` itself where ``beta x >
    threshold`` (where the two agree to float precision)."""
    scaled = input * beta
    # exp of the clamped value: the branch where() drops must not overflow (inf * 0 = nan).
    smooth = log1p(exp(scaled.clamp(max=threshold))) / beta
    return where(scaled > threshold, input, smooth)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))``, stable for large ``|x|``."""
    return minimum(input, input.new_zeros(())) - log1p(exp(-input.abs()))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra, 2019)."""
    return _activation(input, inplace, lambda x: x * tanh(softplus(x)))


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    return _activation(input, inplace, lambda x: where(x > threshold, x, value))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return where(input > lambd, input, where(input < -lambd, input, 0.0))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` for positive ``x``, else ``weight * x``, with one slope per channel (dim 1) or
    one shared slope."""
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim > 1 else 1
        if weight.numel() != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {weight.numel()} and channel size = {channels}."
            )
        if input.ndim > 1:
            weight = weight.reshape(channels, *([1] * (input.ndim - 2)))
    return where(input > 0, input, input * weight)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = layout.wrap_dim(dim, input.ndim)
    size = input.shape[axis]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {size}")
    half = size // 2
    return input.narrow(axis, 0, half) * sigmoid(input.narrow(axis, half, half))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``: unit vectors (zero vectors stay zero)."""
    return input / norm(input, p, dim, keepdim=True).clamp(min=eps)


def softmin(input: Tensor, dim: int, dtype: dtypes.DType | None = None) -> Tensor:
    """``softmax(-x, dim)``."""
    return softmax(-input, dim, dtype)


def gumbel_softmax(
    logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution over ``dim``: shape of
    ``logits``.  ``hard=True`` returns one-hot vectors whose gradient is the soft sample's.
    ``eps`` is accepted for torch's signature and unused, as in torch."""
    uniform = rand_like(logits.detach())
    # -log(-log(U)) is Gumbel(0, 1); U = 0 or 1 would give inf, which rand never returns.
    gumbels = -(-uniform.log()).log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    axis = layout.wrap_dim(dim, soft.ndim)
    index = soft.detach().argmax(axis)
    chosen = one_hot(index, soft.shape[axis]).to(soft.dtype)
    order = [*range(axis), soft.ndim - 1, *range(axis, soft.ndim - 1)]
    hard_sample = chosen.permute(order) if soft.ndim > 1 else chosen
    return hard_sample - soft.detach() + soft
