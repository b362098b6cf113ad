"""``torch.nn.functional``'s names, built from the engine's ops; the modules of
:mod:`engine.nn` call these.

- layers: ``linear``, ``bilinear``, ``embedding``, ``embedding_bag``, ``dropout``, ``one_hot``;
- activations: ``relu``, ``relu6``, ``leaky_relu``, ``hardtanh``, ``elu``, ``selu``, ``celu``,
  ``sigmoid``, ``tanh``, ``silu``, ``hardsigmoid``, ``hardswish``, ``softsign``, ``gelu``,
  ``softplus``, ``logsigmoid``, ``mish``, ``tanhshrink``, ``threshold``, ``softshrink``,
  ``hardshrink``, ``prelu``, ``glu``, ``softmax``, ``log_softmax``, ``softmin``,
  ``gumbel_softmax``;
- ``normalize``, ``pad`` (constant, reflect, replicate, circular);
- convolution and pooling on ``as_strided`` windows: ``conv1d``/``2d``/``3d``,
  ``max_pool1d``/``2d``/``3d``, ``avg_pool1d``/``2d``/``3d``; ``adaptive_avg_pool2d``,
  ``adaptive_max_pool2d`` and their 1-d forms (the 2-d ones on a height-1 image);
  ``unfold``/``fold``; ``conv_transpose1d``/``2d``/``3d``
  (a convolution of the spread-out input), ``max_unpool2d``, ``pixel_shuffle``/``unshuffle``,
  ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, area);
- normalization: ``batch_norm``, ``instance_norm``, ``layer_norm``, ``group_norm``;
- attention: ``scaled_dot_product_attention`` (causal mask), ``multi_head_attention_forward``.
- losses: ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``, ``huber_loss``, ``cross_entropy``,
  ``nll_loss``, ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``, ``kl_div``,
  ``cosine_embedding_loss``, ``margin_ranking_loss``, ``triplet_margin_loss``,
  ``soft_margin_loss``, ``hinge_embedding_loss``, ``poisson_nll_loss``, ``gaussian_nll_loss``,
  ``multilabel_soft_margin_loss``, ``multi_margin_loss``, with
  ``cosine_similarity`` and ``pairwise_distance`` (torch's reductions, options and errors;
  cross-entropy through the stable ``log_softmax``, BCE-with-logits through ``logsigmoid``).

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
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from engine import dtypes, layout
from engine.autograd import no_grad
from engine.ops.autocast import autocast_op
from engine.ops.creation import arange, full
from engine.ops.creation import ones as creation_ones
from engine.ops.creation import tensor as as_tensor
from engine.ops.elementwise import erf, exp, expm1, log1p, minimum, sigmoid, tanh, where
from engine.ops.elementwise import relu as relu_op
from engine.ops.indexing import one_hot
from engine.ops.join import cat, stack
from engine.ops.linalg import addmm, norm
from engine.ops.softmax import log_softmax, softmax
from engine.random import rand_like
from engine.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "batch_norm",
    "bilinear",
    "celu",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "dropout",
    "elu",
    "embedding",
    "embedding_bag",
    "fold",
    "gelu",
    "glu",
    "group_norm",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "instance_norm",
    "interpolate",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "max_unpool2d",
    "mish",
    "multi_head_attention_forward",
    "normalize",
    "one_hot",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "prelu",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
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
    "unfold",
]


def _activation(input: Tensor, inplace: bool, function: Callable[[Tensor], Tensor]) -> Tensor:
    """``function(input)``, or with ``inplace=True`` written into ``input`` (torch's ``relu_``).
    In place, the function runs on a clone: its backward may need the values it overwrites."""
    if not inplace:
        return function(input)
    return input.copy_(function(input.clone()))


# ------------------------------------------------------------------------------ layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``(*, in_features)`` -> ``(*, out_features)``.

    With a bias, torch runs one ``addmm`` kernel (product and bias summed in float32, rounded
    once in 16 bits) for a 2-D input, and for a contiguous input of more dimensions flattened
    to 2-D; so does this function.  Otherwise: ``matmul``, then the bias added."""
    if bias is not None and bias.ndim <= 1 and input.ndim >= 2:
        if input.ndim == 2:
            return addmm(bias, input, weight.t())
        if input.is_contiguous():
            flat = addmm(bias, input.reshape(-1, input.shape[-1]), weight.t())
            return flat.view(*input.shape[:-1], flat.shape[-1])
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
            "(while checking arguments for embedding)"
        )
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported")
    count = weight.shape[0]
    if input.numel() and (input.min().item() < 0 or input.max().item() >= count):
        raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += count
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    output = weight[input]
    if scale_grad_by_freq:
        # Divide each row's gradient by how often its index occurs in ``input``: the value
        # ``o.detach() + (o - o.detach()) * s`` is exactly ``o``, its gradient ``s``.
        counts = np.bincount(input.reshape(-1).numpy(), minlength=count)
        scale = as_tensor(1.0 / np.maximum(counts, 1), dtype=weight.dtype)[input].unsqueeze(-1)
        output = output.detach() + (output - output.detach()) * scale
    if padding_idx is None:
        return output
    # Same values, but the padding rows' gradient is cut: torch's embedding_backward skips them.
    padding = (input == padding_idx).unsqueeze(-1)
    return where(padding, output.detach(), output)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of the embeddings of each *bag* of indices: the rows of a 2-D
    ``input``, or the slices of a 1-D ``input`` that start at ``offsets``.  ``padding_idx``
    entries are left out (an empty bag gives zeros); ``per_sample_weights`` scale each
    embedding (mode ``"sum"`` only)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub."
        )
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if input.ndim == 2:
        if offsets is not None:
            kind = f"<class 'engine.{type(offsets).__name__}'>"
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                f"mini-batch of fixed length sequences. However, found offsets of type {kind}"
            )
        starts = [row * input.shape[1] for row in range(input.shape[0])]
        ends = [start + input.shape[1] for start in starts]
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        bounds = offsets.tolist()
        if include_last_offset:
            starts, ends = bounds[:-1], bounds[1:]
        else:
            starts, ends = bounds, [*bounds[1:], input.numel()]
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}"
        )
    flat = input.reshape(-1)
    count = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += count
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    indices = flat.tolist()
    bags = []
    for start, end in zip(starts, ends, strict=True):
        kept = [i for i in range(start, end) if indices[i] != padding_idx]
        if not kept:
            bags.append(weight.new_zeros(weight.shape[1]))
            continue
        picked = rows[as_tensor(kept)]
        if mode == "sum":
            bags.append(picked.sum(0))
        elif mode == "mean":
            bags.append(picked.mean(0))
        else:
            bags.append(picked.max(0)[0])
    if not bags:
        return weight.new_zeros(0, weight.shape[1])
    return stack(bags)


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


# -------------------------------------------------------------------------------- padding
def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad`` lists (before, after) for the last dim
    first, ``(left, right, top, bottom)`` for an image.  ``mode``: ``"constant"`` (``value``;
    negative amounts crop), ``"reflect"`` (mirror without repeating the edge),
    ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap around)."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant" and not len(pad) // 2 + 1 <= input.ndim <= len(pad) // 2 + 2:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    result = input
    for index in range(len(pad) // 2):
        dim = input.ndim - 1 - index
        before, after = pad[2 * index], pad[2 * index + 1]
        if mode == "constant":
            result = _pad_dim(result, dim, before, after, value or 0.0)
        else:
            positions = _pad_positions(input, dim, before, after, mode)
            result = result[(slice(None),) * dim + (as_tensor(positions),)]
    return result


def _pad_positions(input: Tensor, dim: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded ``dim``, the input position it copies."""
    length = input.shape[dim]
    positions = np.arange(-before, length + after)
    if mode == "reflect":
        if before >= length or after >= length:
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension {dim} of input "
                f"{list(input.shape)}"
            )
        period = max(2 * (length - 1), 1)
        positions = positions % period
        return np.where(positions >= length, period - positions, positions)
    if mode == "replicate":
        return np.clip(positions, 0, length - 1)
    if before > length or after > length:
        raise RuntimeError("Padding value causes wrapping around more than once.")
    return positions % length


def _pad_dim(input: Tensor, dim: int, before: int, after: int, value: float) -> Tensor:
    """``input`` with ``before``/``after`` slices of ``value`` added along ``dim`` (a ``cat``,
    so the gradient flows back to ``input``); negative amounts narrow instead."""
    if before < 0 or after < 0:
        start, stop = max(-before, 0), input.shape[dim] - max(-after, 0)
        if stop - start < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        input = input.narrow(dim, start, stop - start)
        before, after = max(before, 0), max(after, 0)
    if before == after == 0:
        return input
    parts = []
    for amount in (before, after):
        shape = list(input.shape)
        shape[dim] = amount
        parts.append(full(shape, value, dtype=input.dtype))
    return cat([parts[0], input, parts[1]], dim)


# ---------------------------------------------------------------------- convolution, pooling
def _ntuple(value: float | Sequence[float], n: int) -> tuple:
    """``value`` as ``n`` numbers: ``kernel_size=3`` is ``(3, 3)`` in 2-d."""
    if isinstance(value, int | float):
        return (value,) * n
    value = tuple(value)
    return value * n if len(value) == 1 else value


def _windows(
    input: Tensor, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Tensor:
    """Every window a ``kernel`` sliding over the last ``len(kernel)`` dims of ``input``
    ``(N, C, *spatial)`` sees: a view ``(N, C, *out, *kernel)``, nothing copied.  Stepping to
    the next window moves ``stride`` elements, to the next element of a window ``dilation``
    elements: both are just strides over the same storage (chapter 2's ``as_strided``)."""
    input = input.contiguous()
    spatial, steps = input.shape[2:], input.stride()[2:]
    out = [
        (size - d * (k - 1) - 1) // s + 1
        for size, k, s, d in zip(spatial, kernel, stride, dilation, strict=True)
    ]
    return input.as_strided(
        (*input.shape[:2], *out, *kernel),
        (
            *input.stride()[:2],
            *(step * s for step, s in zip(steps, stride, strict=True)),
            *(step * d for step, d in zip(steps, dilation, strict=True)),
        ),
    )


def _conv(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | Sequence[int],
    padding: str | int | Sequence[int],
    dilation: int | Sequence[int],
    groups: int,
    dims: int,
) -> Tensor:
    """N-d convolution (cross-correlation, as torch's): the windows of the padded input,
    flattened to rows of ``C/groups * prod(kernel)`` values, times the flattened filters --
    one matmul per group (batched)."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to conv{dims}d, "
            f"but got input of size: {list(input.shape)}"
        )
    unbatched = input.ndim == dims + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride, dilation = _ntuple(stride, dims), _ntuple(dilation, dims)
    if any(step <= 0 for step in stride):
        raise RuntimeError("non-positive stride is not supported")
    out_channels, group_channels, *kernel = weight.shape
    if out_channels % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{list(weight.shape)}] instead"
        )
    if input.shape[1] != group_channels * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {group_channels * groups} channels, but got "
            f"{input.shape[1]} channels instead"
        )
    if padding == "valid":
        pads = [(0, 0)] * dims
    elif padding == "same":
        if any(step != 1 for step in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        pads = [(total // 2, total - total // 2) for total in totals]
    elif isinstance(padding, str):
        raise RuntimeError(f"Invalid padding string: {padding!r}")
    else:
        pads = [(amount, amount) for amount in _ntuple(padding, dims)]
    padded = pad(input, [amount for pair in reversed(pads) for amount in pair])
    effective = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    if any(e > size for e, size in zip(effective, padded.shape[2:], strict=True)):
        raise RuntimeError(
            "Calculated padded input size per channel: "
            f"({' x '.join(map(str, padded.shape[2:]))}). Kernel size: "
            f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual "
            "input size"
        )
    windows = _windows(padded, kernel, stride, dilation)  # (N, C, *out, *kernel)
    batch, out = windows.shape[0], windows.shape[2 : 2 + dims]
    # One row per (sample, output position) and group, holding the window's C/G * K values:
    # (N, G, C/G, *out, *kernel) -> (G, N, *out, C/G, *kernel) -> (G, N * L, C/G * K).
    windows = windows.reshape(batch, groups, group_channels, *out, *kernel)
    order = [1, 0, *range(3, 3 + dims), 2, *range(3 + dims, 3 + 2 * dims)]
    rows = windows.permute(order).reshape(groups, batch * math.prod(out), -1)
    filters = weight.reshape(groups, out_channels // groups, -1).transpose(1, 2)
    result = rows.matmul(filters)  # (G, N * L, out_channels / G): one matrix product per group
    result = result.reshape(groups, batch, *out, out_channels // groups)
    order = [1, 0, 2 + dims, *range(2, 2 + dims)]  # -> (N, G, out_channels / G, *out)
    result = result.permute(order).reshape(batch, out_channels, *out)
    if bias is not None:
        result = result + bias.reshape(out_channels, *([1] * dims))
    return result.squeeze(0) if unbatched else result


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution: ``(N, C_in, L)`` with ``weight`` ``(C_out, C_in / groups, k)`` gives
    ``(N, C_out, L_out)``; ``padding`` may be ``"same"`` or ``"valid"``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution: ``(N, C_in, H, W)`` with ``weight`` ``(C_out, C_in / groups, kH, kW)``
    gives ``(N, C_out, H_out, W_out)``, ``H_out = (H + 2 pad - dil (kH - 1) - 1) // stride + 1``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def _pool_geometry(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
    dims: int,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], list[int]]:
    """Kernel, stride, dilation and the ``pad`` list of a pooling over the last ``dims`` dims.
    With ``ceil_mode`` the last window may hang over the end (it must start inside the input
    or the left padding): the list then pads the end further."""
    kernel = _ntuple(kernel_size, dims)
    stride = kernel if stride is None or stride == [] else _ntuple(stride, dims)
    padding, dilation = _ntuple(padding, dims), _ntuple(dilation, dims)
    amounts, out = [], []
    spatial = input.shape[input.ndim - dims :]
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                "pad should be at most half of effective kernel size, but got "
                f"pad={p}, kernel_size={k} and dilation={d}"
            )
        span = size + 2 * p - d * (k - 1) - 1
        count = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (count - 1) * s >= size + p:
            count -= 1
        out.append(count)
        extra = max(0, (count - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
        amounts.append((p, p + extra))
    if any(count <= 0 for count in out):
        channels = input.shape[-dims - 1] if input.ndim > dims else 1
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (channels, *spatial)))}). Calculated output "
            f"size: ({'x'.join(map(str, (channels, *out)))}). Output size is too small"
        )
    return kernel, stride, dilation, [amount for pair in reversed(amounts) for amount in pair]


def _max_pool(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
    return_indices: bool,
    dims: int,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling over the last ``dims`` dims of ``(N, C, *spatial)`` (or ``(C, *spatial)``):
    the largest value of each window of the ``-inf``-padded input."""
    kernel, stride, dilation, amounts = _pool_geometry(
        input, kernel_size, stride, padding, dilation, ceil_mode, dims
    )
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    windows = _windows(pad(x, amounts, value=-math.inf), kernel, stride, dilation)
    flat = windows.reshape(*windows.shape[: 2 + dims], -1)  # (N, C, *out, window)
    values, picks = flat.max(-1)
    if return_indices:
        # Each window's elements' flat positions in the input plane; pick the maximum's.
        spatial = input.shape[input.ndim - dims :]
        positions = arange(math.prod(spatial), dtype=dtypes.int64).reshape(1, 1, *spatial)
        position_windows = _windows(pad(positions, amounts, value=-1), kernel, stride, dilation)
        position_windows = position_windows.reshape(*position_windows.shape[: 2 + dims], -1)
        indices = (one_hot(picks, flat.shape[-1]) * position_windows).sum(-1)
        if unbatched:
            return values.squeeze(0), indices.squeeze(0)
        return values, indices
    return values.squeeze(0) if unbatched else values


def _avg_pool(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
    dims: int,
) -> Tensor:
    """Average pooling over the last ``dims`` dims: each window's sum over the count of its
    elements that count (the zero padding too with ``count_include_pad``, never the positions
    ``ceil_mode`` adds), or over ``divisor_override``."""
    kernel, stride, dilation, amounts = _pool_geometry(
        input, kernel_size, stride, padding, 1, ceil_mode, dims
    )
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    window_dims = tuple(range(-dims, 0))
    sums = _windows(pad(x, amounts), kernel, stride, dilation).sum(window_dims)
    if divisor_override:
        divisor = divisor_override
    else:
        # How many elements of each window count: pool a mask of ones over the counted area.
        mask = creation_ones(1, 1, *input.shape[input.ndim - dims :], dtype=input.dtype)
        if count_include_pad:
            before = amounts[0::2]
            mask = pad(mask, [amount for b in before for amount in (b, b)], value=1.0)
            mask = pad(mask, [amount for b, a in zip(before, amounts[1::2], strict=True)
                              for amount in (0, a - b)])  # fmt: skip
        else:
            mask = pad(mask, amounts)
        divisor = _windows(mask, kernel, stride, dilation).sum(window_dims)
    result = sums / divisor
    return result.squeeze(0) if unbatched else result


def max_pool1d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling over the last dim of ``(N, C, L)``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value of each window of ``(N, C, H, W)`` (padding counts as ``-inf``).
    The gradient goes to the first largest element of each window, as torch's.
    ``return_indices=True`` also gives each maximum's flat position in its ``H * W`` plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling over the last three dims of ``(N, C, D, H, W)``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def avg_pool1d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Average pooling over the last dim of ``(N, C, L)``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window of ``(N, C, H, W)``.  The divisor counts the zero padding too
    unless ``count_include_pad=False``; positions past the padding (``ceil_mode``) never
    count; ``divisor_override`` replaces it."""
    return _avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2
    )


def avg_pool3d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average pooling over the last three dims of ``(N, C, D, H, W)``."""
    return _avg_pool(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3
    )


def _adaptive_cells(
    input: Tensor, output_size: int | Sequence[int | None], name: str
) -> list[list[tuple[Tensor, int, int]]]:
    """The cells of adaptive pooling, row by row: output cell ``i`` of a dim of size ``n``
    covers inputs ``floor(i n / out)`` to ``ceil((i + 1) n / out)`` (cells may overlap).  Each
    cell is ``(view, top, left)``."""
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2:
        raise RuntimeError(f"{name}: output_size must be 2")
    height, width = input.shape[-2:]
    out_h = height if sizes[0] is None else sizes[0]
    out_w = width if sizes[1] is None else sizes[1]
    rows = []
    for i in range(out_h):
        top, bottom = (i * height) // out_h, -(-(i + 1) * height // out_h)
        strip = input.narrow(-2, top, bottom - top)
        row = []
        for j in range(out_w):
            left, right = (j * width) // out_w, -(-(j + 1) * width // out_w)
            row.append((strip.narrow(-1, left, right - left), top, left))
        rows.append(row)
    return rows


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:
    """Average pooling to a fixed ``output_size`` whatever the input's (None keeps a dim)."""
    rows = _adaptive_cells(input, output_size, "adaptive_avg_pool2d")
    return stack([stack([cell.mean((-2, -1)) for cell, _, _ in row], -1) for row in rows], -2)


def adaptive_max_pool2d(
    input: Tensor, output_size: int | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a fixed ``output_size``; ``return_indices`` also gives each maximum's
    flat position in its ``H * W`` plane."""
    rows = _adaptive_cells(input, output_size, "adaptive_max_pool2d")
    width = input.shape[-1]
    values, indices = [], []
    for row in rows:
        row_values, row_indices = [], []
        for cell, top, left in row:
            value, pick = cell.flatten(-2).max(-1)
            cell_width = cell.shape[-1]
            row_values.append(value)
            row_indices.append((pick // cell_width + top) * width + pick % cell_width + left)
        values.append(stack(row_values, -1))
        indices.append(stack(row_indices, -1))
    result = stack(values, -2)
    return (result, stack(indices, -2)) if return_indices else result


def _as_2d(input: Tensor) -> Tensor:
    """``(*, L)`` as ``(*, 1, L)``: 1-d adaptive pooling is 2-d on a height-1 image."""
    return input.unsqueeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: int | Sequence[int]) -> Tensor:
    """:func:`adaptive_avg_pool2d` over the last dim only."""
    return adaptive_avg_pool2d(_as_2d(input), (1, _ntuple(output_size, 1)[0])).squeeze(-2)


def adaptive_max_pool1d(
    input: Tensor, output_size: int | Sequence[int], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool2d` over the last dim only."""
    result = adaptive_max_pool2d(_as_2d(input), (1, _ntuple(output_size, 1)[0]), return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


# --------------------------------------------------------------------------- normalization
def _with_statistics(input: Tensor, mean: Tensor, var: Tensor, eps: float) -> Tensor:
    """``(x - mean) / sqrt(var + eps)``."""
    return (input - mean) / (var + eps).sqrt()


def _standardize(input: Tensor, dims: Sequence[int], eps: float) -> Tensor:
    """:func:`_with_statistics` with the mean and the biased variance over ``dims``."""
    mean = input.mean(dims, keepdim=True)
    return _with_statistics(input, mean, input.var(dims, keepdim=True, correction=0), eps)


def _affine(
    input: Tensor, weight: Tensor | None, bias: Tensor | None, shape: Sequence[int]
) -> Tensor:
    """``input * weight + bias`` with both reshaped to ``shape`` (either may be None)."""
    if weight is not None:
        input = input * weight.reshape(shape)
    if bias is not None:
        input = input + bias.reshape(shape)
    return input


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims.  In training, with the
    batch's mean and biased variance, and the running statistics (if given) move towards the
    batch's: ``running = (1 - momentum) * running + momentum * batch`` with the *unbiased*
    variance; otherwise with the running statistics."""
    channels = input.shape[1]
    dims = [0, *range(2, input.ndim)]
    shape = [channels] + [1] * (input.ndim - 2)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(input.mean(dims) * momentum)
                if running_var is not None:
                    unbiased = input.var(dims, correction=1)
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
        normalized = _standardize(input, dims, eps)
    else:
        normalized = _with_statistics(
            input, running_mean.reshape(shape), running_var.reshape(shape), eps
        )
    return _affine(normalized, weight, bias, shape)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each sample's channels over their spatial positions.  With
    ``use_input_stats`` the running statistics (if given) move towards the batch average of
    the per-instance means and *unbiased* variances; otherwise they are used instead."""
    channels = input.shape[1]
    dims = tuple(range(2, input.ndim))
    shape = [channels] + [1] * (input.ndim - 2)
    if not use_input_stats:
        normalized = _with_statistics(
            input, running_mean.reshape(shape), running_var.reshape(shape), eps
        )
        return _affine(normalized, weight, bias, shape)
    if math.prod(input.shape[2:]) <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}"
        )
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(input.mean(dims).mean(0) * momentum)
        if running_var is not None:
            unbiased = input.var(dims, correction=1).mean(0)
            running_var.mul_(1 - momentum).add_(unbiased * momentum)
    return _affine(_standardize(input, dims, eps), weight, bias, shape)


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims of each sample (mean and biased
    variance of those), then scale and shift elementwise."""
    shape = tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape) :]) != shape or len(shape) > input.ndim:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    normalized = _standardize(input, tuple(range(-len(shape), 0)), eps)
    return _affine(normalized, weight, bias, shape)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the channels into ``num_groups`` groups and normalize each group of each sample
    (over its channels and spatial positions), then scale and shift per channel."""
    batch, channels = input.shape[:2]
    if channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}"
        )
    grouped = input.reshape(batch, num_groups, -1)
    normalized = _standardize(grouped, (-1,), eps).reshape(input.shape)
    return _affine(normalized, weight, bias, [channels] + [1] * (input.ndim - 2))


# ------------------------------------------------------------------------------- attention
def _attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None,
    dropout_p: float,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """``softmax(q k^T * scale + mask) v`` and the (dropped-out) attention weights; ``mask``
    is additive (``-inf`` where attention is not allowed) or None."""
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query.matmul(key.transpose(-2, -1)) * scale
    if mask is not None:
        scores = scores + mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights.matmul(value), weights


def _additive_mask(mask: Tensor, allowed: bool) -> Tensor:
    """A boolean mask as ``0`` / ``-inf`` (``allowed`` says what True means); a float mask is
    already additive."""
    if mask.dtype is not dtypes.bool:
        return mask
    return where(mask, 0.0, -math.inf) if allowed else where(mask, -math.inf, 0.0)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(Q K^T / sqrt(d) + mask) V`` over the last two dims (``(..., L, d)`` queries,
    ``(..., S, d)`` keys).  A boolean ``attn_mask`` is True where attention is *allowed*; a
    float one is added to the scores; ``is_causal`` lets query ``i`` see keys ``j <= i``."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        length, source = query.shape[-2], key.shape[-2]
        attn_mask = arange(length).unsqueeze(-1) >= arange(source)
    mask = None if attn_mask is None else _additive_mask(attn_mask, allowed=True)
    return _attention(query, key, value, mask, dropout_p, scale)[0]


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on ``(L, N, E)`` queries and ``(S, N, E)`` keys/values: project
    with the three blocks of ``in_proj_weight``, split ``E`` into ``num_heads`` heads of
    ``E / num_heads``, attend in each head, concatenate, project with ``out_proj``.  Boolean
    masks are True where attention is *not* allowed (``key_padding_mask`` ``(N, S)`` marks
    padding keys).  Returns the output and the attention weights (averaged over heads unless
    ``average_attn_weights=False``; None unless ``need_weights``)."""
    if bias_k is not None or bias_v is not None or add_zero_attn:
        raise NotImplementedError("multi_head_attention_forward: bias_k/bias_v/add_zero_attn")
    length, batch, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    head_dim = embed_dim // num_heads
    biases = [None] * 3 if in_proj_bias is None else in_proj_bias.reshape(3, embed_dim)
    heads = []
    for index, source in enumerate((query, key, value)):
        projected = linear(source, in_proj_weight.narrow(0, index * embed_dim, embed_dim),
                           biases[index])  # fmt: skip
        # (L, N, E) -> (N, heads, L, head_dim)
        heads.append(projected.reshape(source.shape[0], batch, num_heads, head_dim)
                     .permute(1, 2, 0, 3))  # fmt: skip
    mask = None
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, allowed=False)
        if mask.ndim == 3:  # (N * heads, L, S)
            mask = mask.reshape(batch, num_heads, *mask.shape[1:])
    if key_padding_mask is not None:
        padding = _additive_mask(key_padding_mask, allowed=False).reshape(batch, 1, 1, -1)
        mask = padding if mask is None else mask + padding
    output, weights = _attention(*heads, mask, dropout_p if training else 0.0)
    output = output.permute(2, 0, 1, 3).reshape(length, batch, embed_dim)
    output = linear(output, out_proj_weight, out_proj_bias)
    if not need_weights:
        return output, None
    return output, weights.mean(1) if average_attn_weights else weights


# ----------------------------------------------------------- transposed convolution, resampling
def _dilate(input: Tensor, dim: int, step: int) -> Tensor:
    """``step - 1`` zeros between consecutive elements along ``dim`` (a stack and a reshape,
    so the gradient flows back): ``[a, b]`` with step 3 is ``[a, 0, 0, b]``."""
    length = input.shape[dim]
    if step == 1 or length == 0:
        return input
    zeros = input.detach() * 0
    interleaved = stack([input] + [zeros] * (step - 1), dim + 1).flatten(dim, dim + 1)
    return interleaved.narrow(dim, 0, (length - 1) * step + 1)


def _conv_transpose(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    output_padding: int | Sequence[int],
    groups: int,
    dilation: int | Sequence[int],
    dims: int,
) -> Tensor:
    """The transpose of :func:`_conv` (the gradient of a convolution with respect to its
    input): spread the input ``stride`` apart, pad by ``dilation (k - 1) - padding`` (plus
    ``output_padding`` at the end) and convolve with the flipped kernel, its in/out channels
    swapped."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
            f"conv_transpose{dims}d, but got input of size: {list(input.shape)}"
        )
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    stride, dilation = _ntuple(stride, dims), _ntuple(dilation, dims)
    padding, output_padding = _ntuple(padding, dims), _ntuple(output_padding, dims)
    in_channels, group_out, *kernel = weight.shape
    if x.shape[1] != in_channels:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(x.shape)} to have {in_channels} channels, but got {x.shape[1]} channels "
            "instead"
        )
    for extra, s, d in zip(output_padding, stride, dilation, strict=True):
        if extra >= s and extra >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation")
    for index in range(dims):
        x = _dilate(x, 2 + index, stride[index])
    amounts = []
    for k, p, extra, d in zip(kernel, padding, output_padding, dilation, strict=True):
        amounts.append((d * (k - 1) - p, d * (k - 1) - p + extra))
    x = pad(x, [amount for pair in reversed(amounts) for amount in pair])
    # (in, out/G, *k) -> (G, in/G, out/G, *k) -> (G, out/G, in/G, *k) -> (out, in/G, *k)
    flipped = weight.reshape(groups, in_channels // groups, group_out, *kernel).transpose(1, 2)
    flipped = flipped.reshape(groups * group_out, in_channels // groups, *kernel)
    flipped = flipped.flip(list(range(2, 2 + dims)))
    result = _conv(x, flipped, bias, 1, 0, dilation, groups, dims)
    return result.squeeze(0) if unbatched else result


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """3-d convolution over ``(N, C_in, D, H, W)``: the same windows-and-matmul as
    :func:`conv2d`, one more spatial dim."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """3-d transposed convolution; ``weight`` is ``(C_in, C_out / groups, kD, kH, kW)``."""
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 3
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """1-d transposed convolution; ``weight`` is ``(C_in, C_out / groups, k)``."""
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """2-d transposed convolution ("deconvolution"), the upsampling layer of decoders;
    ``H_out = (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1``."""
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def unfold(
    input: Tensor,
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """im2col: every ``kernel_size`` window of ``(N, C, H, W)`` as a column,
    ``(N, C * kH * kW, L)`` with ``L`` windows (what :func:`conv2d` multiplies)."""
    if input.ndim not in (3, 4):
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    kernel, dilation = _ntuple(kernel_size, 2), _ntuple(dilation, 2)
    padding, stride = _ntuple(padding, 2), _ntuple(stride, 2)
    batched = input.unsqueeze(0) if input.ndim == 3 else input
    x = pad(batched, [padding[1], padding[1], padding[0], padding[0]])
    windows = _windows(x, kernel, stride, dilation)  # (N, C, oh, ow, kh, kw)
    batch, channels, out_h, out_w = windows.shape[:4]
    columns = windows.permute(0, 1, 4, 5, 2, 3).reshape(
        batch, channels * math.prod(kernel), out_h * out_w
    )
    return columns.squeeze(0) if input.ndim == 3 else columns


def fold(
    input: Tensor,
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """col2im, the adjoint of :func:`unfold`: put each column back at its window and add up
    where windows overlap; ``(N, C * kH * kW, L)`` -> ``(N, C, *output_size)``."""
    size, kernel = _ntuple(output_size, 2), _ntuple(kernel_size, 2)
    dilation, padding, stride = _ntuple(dilation, 2), _ntuple(padding, 2), _ntuple(stride, 2)
    x = input.unsqueeze(0) if input.ndim == 2 else input
    counts = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, p, d, s in zip(size, kernel, padding, dilation, stride, strict=True)
    ]
    if x.shape[2] != counts[0] * counts[1] or x.shape[1] % math.prod(kernel):
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {counts[0]} * {counts[1]} = "
            f"{counts[0] * counts[1]}, but got input.size(2)={x.shape[2]}."
        )
    batch, channels = x.shape[0], x.shape[1] // math.prod(kernel)
    blocks = x.reshape(batch, channels, *kernel, *counts)
    height, width = size[0] + 2 * padding[0], size[1] + 2 * padding[1]
    result = None
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            # Kernel element (i, j) of every window, spread ``stride`` apart and shifted to
            # where that element sits in the image.
            patch = _dilate(_dilate(blocks[:, :, i, j], 2, stride[0]), 3, stride[1])
            top, left = i * dilation[0], j * dilation[1]
            placed = pad(
                patch,
                [left, width - left - patch.shape[3], top, height - top - patch.shape[2]],
            )
            result = placed if result is None else result + placed
    result = result.narrow(2, padding[0], size[0]).narrow(3, padding[1], size[1])
    return result.squeeze(0) if input.ndim == 2 else result


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C r^2, H, W)`` -> ``(*, C, H r, W r)``: channels become sub-pixel positions."""
    r = upscale_factor
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    n = len(batch)
    x = input.reshape(*batch, channels // (r * r), r, r, height, width)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """``(*, C, H r, W r)`` -> ``(*, C r^2, H, W)``, the inverse of :func:`pixel_shuffle`."""
    r = downscale_factor
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise RuntimeError(
            "pixel_unshuffle expects height to be divisible by downscale_factor, but "
            f"input.size(-2)={height} is not divisible by {r}"
            if height % r
            else "pixel_unshuffle expects width to be divisible by downscale_factor, but "
            f"input.size(-1)={width} is not divisible by {r}"
        )
    n = len(batch)
    x = input.reshape(*batch, channels, height // r, r, width // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*batch, channels * r * r, height // r, width // r)


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """The inverse of ``max_pool2d(..., return_indices=True)``: each value back at its index
    in the ``H * W`` plane, zeros elsewhere."""
    kernel = _ntuple(kernel_size, 2)
    stride = kernel if stride is None else _ntuple(stride, 2)
    padding = _ntuple(padding, 2)
    if output_size is None:
        size = [
            (n - 1) * s - 2 * p + k
            for n, s, p, k in zip(input.shape[-2:], stride, padding, kernel, strict=True)
        ]
    else:
        size = list(output_size)[-2:]
    planes = input.reshape(-1, input.shape[-2] * input.shape[-1])
    rows = arange(planes.shape[0]).unsqueeze(1)
    flat = planes.new_zeros(planes.shape[0], size[0] * size[1])
    flat[rows, indices.reshape(planes.shape)] = planes
    return flat.reshape(*input.shape[:-2], *size)


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of ``(N, C, *spatial)`` to ``size`` (or ``scale_factor`` times
    them).  ``"nearest"`` copies input element ``floor(i * scale)``; ``"linear"`` (3-D) and
    ``"bilinear"`` (4-D) mix the two nearest elements of each dim, with pixel centres at
    ``i + 0.5`` unless ``align_corners=True`` (then the corner pixels align)."""
    dims = input.ndim - 2
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "area"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    needed = {"linear": 1, "bilinear": 2, "bicubic": 2}.get(mode)
    if needed is not None and dims != needed:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {needed + 2}D input"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias is not implemented")
    spatial = input.shape[2:]
    if size is not None:
        sizes = _ntuple(size, dims)
        scales = [n / out for n, out in zip(spatial, sizes, strict=True)]
    else:
        factors = [float(f) for f in _ntuple(scale_factor, dims)]
        sizes = [math.floor(n * f) for n, f in zip(spatial, factors, strict=True)]
        # torch uses the given factor, not in / out, unless asked to recompute it.
        scales = [
            n / out if recompute_scale_factor else 1.0 / f
            for n, out, f in zip(spatial, sizes, factors, strict=True)
        ]
    if mode == "area":  # the mean over each cell: adaptive average pooling
        if dims == 1:
            return adaptive_avg_pool1d(input, sizes)
        return adaptive_avg_pool2d(input, sizes)
    result = input
    for index in range(dims):
        dim = 2 + index
        if mode in ("nearest", "nearest-exact"):
            exact = mode == "nearest-exact"
            result = _nearest(result, dim, sizes[index], scales[index], exact)
        elif mode == "bicubic":
            result = _cubic(result, dim, sizes[index], scales[index], bool(align_corners))
        else:
            result = _linear(result, dim, sizes[index], scales[index], bool(align_corners))
    return result


def _nearest(input: Tensor, dim: int, size: int, scale: float, exact: bool = False) -> Tensor:
    """Output ``i`` copies input ``floor(i * scale)`` along ``dim`` (in float32, as torch);
    ``exact`` (torch's ``"nearest-exact"``) takes pixel centres: ``floor((i + 0.5) * scale)``."""
    outputs = np.arange(size, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    positions = np.floor(outputs * np.float32(scale)).astype(np.int64)
    positions = np.minimum(positions, input.shape[dim] - 1)
    return input[(slice(None),) * dim + (as_tensor(positions),)]


def _linear(input: Tensor, dim: int, size: int, scale: float, align_corners: bool) -> Tensor:
    """Linear interpolation along ``dim``: each output mixes two neighbouring inputs."""
    length = input.shape[dim]
    outputs = np.arange(size, dtype=np.float64)
    if align_corners:
        source = outputs * ((length - 1) / (size - 1) if size > 1 else 0.0)
    else:
        source = np.maximum((outputs + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), length - 1)
    high = np.minimum(low + 1, length - 1)
    weight = as_tensor(source - low, dtype=input.dtype).reshape(
        size, *([1] * (input.ndim - dim - 1))
    )
    before = (slice(None),) * dim
    return (
        input[before + (as_tensor(low),)] * (1 - weight)
        + input[before + (as_tensor(high),)] * weight
    )


def _cubic(input: Tensor, dim: int, size: int, scale: float, align_corners: bool) -> Tensor:
    """Cubic convolution along ``dim`` (Keys, ``A = -0.75``, as torch): each output mixes
    the four inputs around its source position, indices clamped at the edges."""
    length = input.shape[dim]
    outputs = np.arange(size, dtype=np.float64)
    if align_corners:
        source = outputs * ((length - 1) / (size - 1) if size > 1 else 0.0)
    else:
        source = (outputs + 0.5) * scale - 0.5  # not clamped at 0 for cubic, as torch
    first = np.floor(source).astype(np.int64)
    t = source - first
    a = -0.75

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    coefficients = (far(t + 1), near(t), near(1 - t), far(2 - t))
    before = (slice(None),) * dim
    result = None
    for offset, coefficient in enumerate(coefficients):
        positions = np.clip(first - 1 + offset, 0, length - 1)
        weight = as_tensor(coefficient, dtype=input.dtype).reshape(
            size, *([1] * (input.ndim - dim - 1))
        )
        term = input[before + (as_tensor(positions),)] * weight
        result = term if result is None else result + term
    return result


# ------------------------------------------------------------------------------- losses
# torch's reductions: "none" keeps the per-element loss, "mean" averages it, "sum" adds it up;
# the legacy size_average/reduce arguments map onto them with torch's deprecation warning.
def _reduction_from_legacy(size_average: bool | None, reduce: bool | None) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{reduction}' instead.",
        stacklevel=3,
    )
    return reduction


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_target_size(input: Tensor, target: Tensor) -> None:
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _broadcast_pair(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    shape = layout.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    return input.expand(shape), target.expand(shape)


def _weighted_regression(
    errors: Tensor, input: Tensor, weight: Tensor | None, reduction: str, mean_by_weight: bool
) -> Tensor:
    if weight is None:
        return _reduce(errors, reduction)
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    weighted = errors * weight
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'."
        )
    if reduction == "mean" and mean_by_weight:
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error ``(input - target) ** 2``, reduced (``weight``: elementwise weights;
    the mean is then divided by their sum, as torch)."""
    _warn_target_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    input_, target_ = _broadcast_pair(input, target)
    return _weighted_regression((input_ - target_) ** 2, input, weight, reduction, True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Absolute error ``|input - target|``, reduced (``weight`` as in :func:`mse_loss`)."""
    _warn_target_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    input_, target_ = _broadcast_pair(input, target)
    return _weighted_regression((input_ - target_).abs(), input, weight, reduction, True)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """``0.5 * z**2 / beta`` where ``z = |input - target| < beta``, else ``z - 0.5 * beta``
    (the L1 loss for ``beta=0``)."""
    _warn_target_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input_, target_ = _broadcast_pair(input, target)
    difference = input_ - target_
    z = difference.abs()
    if beta == 0.0:
        return _reduce(z, reduction)
    loss = where(z < beta, 0.5 * difference * difference / beta, z - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """``0.5 * z**2`` where ``z = |input - target| < delta``, else ``delta * (z - 0.5 *
    delta)``: ``delta`` times the smooth L1 loss with ``beta=delta``."""
    _warn_target_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input_, target_ = _broadcast_pair(input, target)
    difference = input_ - target_
    z = difference.abs()
    loss = where(z < delta, 0.5 * difference * difference, delta * (z - 0.5 * delta))
    return _weighted_regression(loss, input, weight, reduction, False)


def _class_weight(weight: Tensor | None, classes: int, prefix: str = "") -> None:
    if weight is not None and (weight.dim() != 1 or weight.numel() != classes):
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {classes} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )


def _check_nll_shapes(input: Tensor, target: Tensor) -> None:
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() != 1 and input.size(0) != target.size(0):
        raise ValueError(
            f"Expected input batch_size ({input.size(0)}) to match target batch_size "
            f"({target.size(0)})."
        )
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_type_name}"
        )
    if input.dim() <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif tuple(target.shape) != (input.size(0), *input.shape[2:]):
        if input.dim() == 4:
            raise RuntimeError(
                f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}"
            )
        raise RuntimeError(
            f"Expected target size {[input.size(0), *input.shape[2:]]}, got {list(target.shape)}"
        )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices: ``-weight[t] * input[n, t]`` for
    log-probabilities ``input`` of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``; targets
    equal to ``ignore_index`` count zero, and the mean divides by the summed weights of the
    other targets (NaN when every target is ignored, as in torch)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    _check_nll_shapes(input, target)
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.size(class_dim)
    _class_weight(weight, classes)
    target = target.long()
    ignored = target == ignore_index
    values = target.numpy()[~ignored.numpy()]
    bad = values[(values < 0) | (values >= classes)]
    if bad.size:
        raise IndexError(f"Target {int(bad[0])} is out of bounds.")
    safe = target.masked_fill(ignored, 0)
    picked = input.gather(class_dim, safe.unsqueeze(class_dim)).squeeze(class_dim)
    keep = ignored.logical_not().to(input.dtype)
    if weight is None:
        weights = keep
    else:
        weights = weight.to(input.dtype)[safe] * keep
    loss = -picked * weights
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    total = weights.sum()
    if total.item() == 0:  # every target ignored: NaN, as torch, with a zero gradient
        return loss.sum() + math.nan
    return loss.sum() / total


def _class_shape(input: Tensor, class_dim: int, weight: Tensor) -> Tensor:
    shape = [1] * input.dim()
    shape[class_dim] = weight.numel()
    return weight.to(input.dtype).view(shape)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits ``input`` (``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``) with
    class indices, or with class probabilities (a float ``target`` of ``input``'s shape), as
    torch: ``log_softmax`` (a stable logsumexp, finite for any finite logits) then
    :func:`nll_loss`; ``label_smoothing`` mixes in the uniform distribution (with indices:
    ``(1 - eps) * nll + eps / C * sum_c -weight[c] * logp[c]``)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    class_dim = 0 if input.dim() == 1 else 1
    if input.dim() >= 1 and tuple(input.shape) == tuple(target.shape):
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{target.dtype.scalar_type_name}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        classes = input.size(class_dim)
        _class_weight(weight, classes, "cross_entropy: ")
        if label_smoothing > 0.0:
            if label_smoothing > 1.0:
                raise RuntimeError(
                    f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
                )
            target = target * (1 - label_smoothing) + (label_smoothing / classes)
        logp = log_softmax(input, class_dim)
        terms = logp * target
        if weight is not None:
            terms = terms * _class_shape(input, class_dim, weight)
        if reduction == "none":
            return -terms.sum(class_dim)
        if reduction == "sum":
            return -terms.sum()
        if input.numel() == 0:
            return -terms.sum() * math.nan
        return -terms.sum() / (input.numel() // classes)
    if label_smoothing > 0.0 and label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.dim() < 1:
        _check_nll_shapes(input, target)
    logp = log_softmax(input, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0.0:
        return nll
    classes = input.size(class_dim)
    if weight is not None:
        smooth = -(logp * _class_shape(input, class_dim, weight)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target.numpy()[~ignored.numpy()]
            smooth = smooth.sum() / weight.to(input.dtype)[as_tensor(kept)].sum()
        else:
            smooth = smooth.sum() / ignored.logical_not().sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def _log_clamped(x: Tensor) -> Tensor:
    """``max(log(x), -100)`` (torch's BCE clamp), without a 0/0 gradient at ``x = 0``."""
    positive = x > 0
    return where(positive, where(positive, x, 1.0).log(), -100.0).clamp(min=-100.0)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``-weight * (t * log(p) + (1 - t) * log(1 - p))`` for probabilities ``p`` in
    ``[0, 1]``, each log clamped at -100 as in torch."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size."
        )
    values = input.detach().numpy()
    if ((values < 0) | (values > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = -(target * _log_clamped(input) + (1 - target) * _log_clamped(1 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of ``sigmoid(input)`` computed from the logits as torch does:
    ``(1 - t) * x - log_weight * logsigmoid(x)`` with ``log_weight = 1 + (pos_weight - 1) *
    t``; ``logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))`` stays exact for any logit, where
    ``log(sigmoid(x))`` overflows."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    if target.size() != input.size():
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()})"
        )
    log_sigmoid = logsigmoid(input)
    if pos_weight is not None:
        log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sigmoid
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise KL divergence ``target * (log(target) - input)`` for log-probabilities
    ``input`` (``0 * log 0 = 0``); ``log_target``: the target is given as log-probabilities;
    ``"batchmean"`` divides the sum by the batch size (the mathematical KL), ``"mean"`` by the
    number of elements (torch warns)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the "
                "support size.'batchmean' divides only by the batch size, and aligns with the "
                "KL div math definition.'mean' will be changed to behave the same as "
                "'batchmean' in the next major release.",
                stacklevel=2,
            )
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        reduced = loss.sum()
        return reduced / input.size(0) if input.dim() != 0 else reduced
    return _reduce(loss, reduction)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps))`` along ``dim``, broadcasting; as
    torch, each vector is divided by its (clamped) norm first, and the clamp is invisible to
    the gradient (torch clamps in place under no_grad)."""
    x1, x2 = _broadcast_pair(x1, x2)

    def unit(x: Tensor) -> Tensor:
        length = norm(x, 2, dim, keepdim=True)
        return x / (length + (length.clamp(min=eps) - length).detach())

    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dimension, broadcasting."""
    last = max(x1.dim(), x2.dim()) - 1
    return norm(x1 - x2 + eps, p, last if last >= 0 else None, keepdim)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1`` (torch's cosine with ``1e-12`` added to each squared norm)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    target_dim = target.dim()
    if target_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target_dim == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(
            "1D target tensor expects 2D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    if target_dim == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(
            "0D target tensor expects 1D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    product = (input1 * input2).sum(target_dim)
    square1 = (input1 * input1).sum(target_dim) + 1e-12
    square2 = (input2 * input2).sum(target_dim) + 1e-12
    cos = product / (square1 * square2).sqrt()
    zeros = cos.new_zeros(())
    positive = where(target == 1, 1 - cos, zeros)
    negative = where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(positive + negative, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``, target in {1, -1}."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with :func:`pairwise_distance`; ``swap`` uses
    ``min(d(a, n), d(p, n))`` as the negative distance."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs"
        )
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = minimum(
            distance_negative, pairwise_distance(positive, negative, p, eps)
        )
    return _reduce((margin + distance_positive - distance_negative).clamp(min=0), reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))``, target in {1, -1}."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    return _reduce(log1p(exp(-input * target)), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``
    (torch adds both terms, each masked where the target is not the other value)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    zeros = input.new_zeros(())
    margin_term = where(target != 1, (margin - input).clamp(min=0), zeros)
    input_term = where(target != -1, input, zeros)
    return _reduce(margin_term + input_term, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood: ``exp(input) - target * input`` for a log-rate
    ``input``, or ``input - target * log(input + eps)``; ``full`` adds Stirling's term
    ``t log t - t + log(2 pi t) / 2`` where ``target > 1``."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        large = target > 1
        safe = where(large, target, 2.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(large, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log-likelihood ``(log(var) + (input - target)**2 / var) / 2`` with
    ``var`` clamped at ``eps`` (as torch, the clamp is invisible to the gradient); ``var``
    may have one dimension of size 1 or lack the last one; ``full`` adds ``log(2 pi) / 2``."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(tuple(input.shape))
    elif (var < 0).any().item():
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and (
            sum(y for x, y in zip(input.size(), var.size(), strict=True) if x != y) == 1
        ):
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """One binary cross-entropy of logits per class, averaged over the classes (the last
    dimension): ``-(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))``."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: ``sum_{i != y} max(0, margin - x[y] + x[i]) ** p / C`` per
    sample (times ``weight[y]``), ``p`` 1 or 2."""
    if size_average is not None or reduce is not None:
        reduction = _reduction_from_legacy(size_average, reduce)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    batched = input.dim() == 2
    rows = input if batched else input.unsqueeze(0)
    labels = target.reshape(-1)
    if labels.numel() != rows.size(0) or (batched and target.dim() != 1):
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{rows.size(0)}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}."
        )
    classes = rows.size(1)
    values = labels.numpy()
    if ((values < 0) | (values >= classes)).any():
        raise RuntimeError("target out of range")
    picked = rows.gather(1, labels.unsqueeze(1))
    z = margin - picked + rows
    hinge = where(z > 0, z, 0.0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.to(input.dtype)[labels].unsqueeze(1)
    others = 1 - one_hot(labels, classes).to(input.dtype)
    loss = (hinge * others).sum(1) / classes
    if not batched:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


__all__ += [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "multi_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "cosine_similarity",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "nll_loss",
    "pairwise_distance",
    "smooth_l1_loss",
    "triplet_margin_loss",
]


# -------------------------------------------------------------------------------- autocast
# Each function above is one op of torch's (a native function), so autocast treats it as one:
# inside engine.autocast() its arguments are cast by torch's policy and its body runs without
# autocast.  The functions torch itself writes in Python from other ops stay transparent:
# their inner ops are autocast one by one, as in torch.
_COMPOSITE_IN_TORCH = {
    "gaussian_nll_loss",
    "gumbel_softmax",
    "multi_head_attention_forward",
    "multilabel_soft_margin_loss",
    "normalize",
    "pairwise_distance",
    "softmin",
    "softsign",
    "tanhshrink",
}


def _pad_op_name(input: Tensor, pad: Sequence[int], mode: str = "constant", value=None) -> str:
    """torch's op for ``pad``: reflection_pad / replication_pad, or constant/circular padding."""
    return {"reflect": "reflection_pad", "replicate": "replication_pad"}.get(mode, "pad")


for _name in __all__:
    _function = globals()[_name]
    if getattr(_function, "__module__", None) == __name__ and _name not in _COMPOSITE_IN_TORCH:
        globals()[_name] = autocast_op(_pad_op_name if _name == "pad" else _name)(_function)
del _name, _function
