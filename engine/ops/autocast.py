"""Autocast: which precision each op runs in inside ``engine.autocast(...)``, torch's policy.

``torch.autocast`` is a dispatch key.  When a region is open, an op on the autocast list first
casts its floating-point tensor arguments, then runs *below* the key (its own inner ops are
not autocast again); every other op falls through and runs in the dtypes its inputs promote
to.  The lists are torch's (``aten/src/ATen/autocast_mode.cpp`` and ``autocast_mode.h``),
restricted to the ops the engine has, under torch's names; four policies:

* ``lower_precision_fp``: cast to the region's 16-bit dtype (matmul-like ops, which gain the
  most from 16-bit arithmetic and lose little precision: each output is a sum of products
  accumulated in float32 inside the kernel);
* ``fp32``: cast to float32 (ops whose range or accuracy suffers in 16 bits: ``exp``, ``log``,
  ``pow``, the losses ...);
* ``fp32_set_opt_dtype``: ops with a ``dtype=`` argument (``sum``, ``softmax``, ``cumsum``
  ...): run in float32 unless the caller passed a dtype;
* ``promote``: ops that need equal dtypes (``cat``, ``stack``, ``dot`` ...): cast every
  floating input to the widest one present (float32 if any is float32).

The two devices' lists differ a lot.  On CUDA, ``exp``, ``log``, ``pow``, ``softmax``, ``sum``,
``layer_norm`` and the norms run in float32; on the CPU (torch 2.13) they stay in the input's
16-bit dtype, and only the losses, ``prod``, 3-d pooling, reflection/replication padding and
some linear algebra are float32.  Only float16/bfloat16/float32 tensors are cast: float64 and
integer tensors are never touched.

The engine has one device, the CPU.  ``engine.autocast("cuda")`` applies torch's CUDA policy
to its tensors, so that the CUDA policy can be studied on any machine (torch's own ``"cuda"``
region ignores CPU tensors).  When regions of both device types are open, the innermost
enabled one decides.

The cast of a float32 leaf that requires grad to the 16-bit dtype is cached while a region is
open (torch's ``cache_enabled``): a weight used by several ops is cast once, and the cache is
emptied when the outermost region closes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from engine import dtypes
from engine.dtypes import DType
from engine.tensor import Tensor

LOWER, FP32, FP32_SET_OPT_DTYPE, PROMOTE = (
    "lower_precision_fp",
    "fp32",
    "fp32_set_opt_dtype",
    "promote",
)

_MATMUL_LIKE = ("matmul", "mm", "bmm", "addmm", "linear", "prelu", "scaled_dot_product_attention")
_CONVOLUTIONS = (
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
_LOSSES = (
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "nll_loss",
    "kl_div",
    "margin_ranking_loss",
    "soft_margin_loss",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "multi_margin_loss",
    "poisson_nll_loss",
    "binary_cross_entropy_with_logits",
)

AUTOCAST_POLICY: dict[str, dict[str, frozenset[str]]] = {
    "cpu": {
        LOWER: frozenset(_MATMUL_LIKE + _CONVOLUTIONS),
        FP32: frozenset(
            _LOSSES
            + ("cross_entropy", "binary_cross_entropy", "prod", "avg_pool3d", "max_pool3d")
            + ("reflection_pad", "replication_pad", "max_unpool2d")
        ),
        FP32_SET_OPT_DTYPE: frozenset(),
        PROMOTE: frozenset(("cat", "stack", "index_copy")),
    },
    "cuda": {
        LOWER: frozenset(_MATMUL_LIKE + _CONVOLUTIONS + ("mv",)),
        FP32: frozenset(
            _LOSSES
            + ("cross_entropy", "acos", "asin", "cosh", "sinh", "tan", "erfinv", "exp")
            + ("expm1", "log", "log1p", "pow", "reciprocal", "softplus", "layer_norm")
            + ("group_norm", "cosine_similarity", "logsumexp")
            + ("norm", "interpolate")
        ),
        FP32_SET_OPT_DTYPE: frozenset(
            ("sum", "prod", "cumsum", "cumprod", "softmax", "log_softmax", "vector_norm")
        ),
        PROMOTE: frozenset(("dot", "atan2", "bilinear", "index_put", "scatter_add")),
    },
}
"""torch's autocast lists for the ops the engine has: ``AUTOCAST_POLICY[device][policy]``.
``cross_entropy`` is one op on the CPU list; on CUDA torch runs it as ``log_softmax`` then
``nll_loss``, both float32, which gives the same dtypes."""

BANNED = {
    "cuda": {
        "binary_cross_entropy": (
            "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to "
            "autocast.\nMany models use a sigmoid layer right before the binary cross entropy "
            "layer.\nIn this case, combine the two layers using "
            "torch.nn.functional.binary_cross_entropy_with_logits\nor torch.nn.BCEWithLogitsLoss."
            "  binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast."
        )
    }
}
"""Ops torch refuses inside a CUDA region (a RuntimeError with this message)."""

# The engine's names for ops that torch lists under another name.
_TORCH_NAME = {
    "pow_tensor_scalar": "pow",
    "pow_tensor_tensor": "pow",
    "pow_scalar_tensor": "pow",
}

_DEFAULT_DTYPE = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
_ELIGIBLE = (dtypes.float16, dtypes.bfloat16, dtypes.float32)


class AutocastState:
    """The autocast switches (torch keeps them per thread): per device type, whether it is
    enabled and its 16-bit dtype; the stack of open regions (innermost last), which decides the
    device whose policy applies; the cast cache.  ``ACTIVE`` is the one flag that every op of
    the derivative table reads."""

    def __init__(self) -> None:
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = dict(_DEFAULT_DTYPE)
        self.regions: list[str] = []
        self.cache_enabled = True
        self.cache: dict[int, tuple[Tensor, Tensor]] = {}
        self.device: str | None = None  # the device whose policy applies, None when off

    def refresh(self) -> None:
        """Recompute :attr:`device` after a region opens or closes."""
        self.device = None
        for device_type in reversed(self.regions):
            if self.enabled[device_type]:
                self.device = device_type
                return


AUTOCAST = AutocastState()


def check_device_type(device_type: str) -> str:
    """``device_type`` if the engine knows its policy, else torch's RuntimeError."""
    if device_type not in AUTOCAST_POLICY:
        raise RuntimeError(
            "User specified an unsupported autocast device_type "
            f"'{device_type}'; the engine knows 'cpu' and 'cuda'"
        )
    return device_type


def policy_of(name: str, device_type: str) -> str | None:
    """The policy (:data:`LOWER`, :data:`FP32`, ...) under which op ``name`` runs on
    ``device_type``, or None when autocast leaves it alone."""
    name = _TORCH_NAME.get(name, name)
    for policy, names in AUTOCAST_POLICY[check_device_type(device_type)].items():
        if name in names:
            return policy
    return None


def _cast(value, dtype: DType, device_type: str):
    """``value`` cast to ``dtype`` if it is an eligible tensor (float16/bfloat16/float32);
    lists and tuples of tensors element by element; anything else as it is."""
    if isinstance(value, Tensor):
        if value.dtype not in _ELIGIBLE or value.dtype is dtype:
            return value
        cacheable = (
            AUTOCAST.cache_enabled
            and dtype is AUTOCAST.dtype[device_type]
            and value.dtype is dtypes.float32
            and value.requires_grad
            and value.is_leaf
            and value._base is None
        )
        if not cacheable:
            return value.to(dtype)
        hit = AUTOCAST.cache.get(id(value))
        if hit is None or hit[0] is not value:
            hit = AUTOCAST.cache[id(value)] = (value, value.to(dtype))
        return hit[1]
    if isinstance(value, list | tuple):
        return type(value)(_cast(item, dtype, device_type) for item in value)
    return value


def _widest(values) -> DType:
    """The dtype a ``promote`` op runs in: float32 if any eligible input is float32, else the
    16-bit dtype (torch's ``promote_type``; float64 inputs are ignored)."""
    for value in values:
        items = value if isinstance(value, list | tuple) else (value,)
        for item in items:
            if isinstance(item, Tensor) and item.dtype is dtypes.float32:
                return dtypes.float32
    return AUTOCAST.dtype[AUTOCAST.device]


def cast_arguments(name: str, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The arguments of op ``name`` as the open autocast region's policy casts them (called
    only while a region is enabled: ``AUTOCAST.device`` is not None)."""
    device_type = AUTOCAST.device
    banned = BANNED.get(device_type, {}).get(name)
    if banned is not None:
        raise RuntimeError(banned)
    policy = policy_of(name, device_type)
    if policy is None:
        return args, kwargs
    if policy == LOWER:
        dtype = AUTOCAST.dtype[device_type]
    elif policy == PROMOTE:
        dtype = _widest((*args, *kwargs.values()))
    elif policy == FP32_SET_OPT_DTYPE and kwargs.get("dtype") is not None:
        return args, kwargs  # the caller chose the result's dtype: respected
    else:
        dtype = dtypes.float32
    if policy == FP32_SET_OPT_DTYPE and not (
        args and isinstance(args[0], Tensor) and args[0].dtype in _ELIGIBLE
    ):
        return args, kwargs  # torch looks at the first argument only
    cast_args = tuple(_cast(value, dtype, device_type) for value in args)
    cast_kwargs = {key: _cast(value, dtype, device_type) for key, value in kwargs.items()}
    return cast_args, cast_kwargs


def autocast_op(name: str | Callable[..., str]) -> Callable[[Callable], Callable]:
    """Make ``function`` one op of the autocast policy under torch's name ``name`` (or
    ``name(*args, **kwargs)`` for a function that is several torch ops, like ``pad``): inside
    an enabled region its arguments are cast by :func:`cast_arguments`, and its body runs with
    autocast off, as torch's autocast kernels redispatch below the autocast key (so a float32
    op built from other ops is not cast again inside).  Outside a region it costs one flag
    test.  The derivative table's entries do the same inline (``engine/ops/table.py``)."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def autocast_function(*args, **kwargs):
            device_type = AUTOCAST.device
            if device_type is None:
                return function(*args, **kwargs)
            op_name = name if isinstance(name, str) else name(*args, **kwargs)
            args, kwargs = cast_arguments(op_name, args, kwargs)
            AUTOCAST.device = None
            try:
                return function(*args, **kwargs)
            finally:
                AUTOCAST.device = device_type

        return autocast_function

    return decorate
