"""Mixed precision: ``engine.autocast`` (torch's ``torch.autocast``) and
``engine.amp.GradScaler`` (``torch.amp.GradScaler``), rebuilt on the engine.

**autocast.** Inside ``with engine.autocast("cpu"):`` each op on torch's autocast lists casts its
floating-point inputs first (matmul-like ops to the region's 16-bit dtype, range-hungry ops to
float32; :mod:`engine.ops.autocast` holds the policy and the casting), and runs its own inner
ops without autocast. The casts are ordinary ops (``ToCopyBackward0`` nodes), so backward
gives each float32 leaf a float32 gradient. The regions nest, ``enabled=False`` switches
autocast off inside one, and leaving a region restores the previous state even when its body
raised.

**GradScaler.** Small float16 gradients underflow to 0. The scaler multiplies the loss by a
large factor before ``backward`` (so the gradients are large enough to be represented), divides
the gradients by it again before the optimizer step, and skips the step when a gradient came
out inf or NaN (the factor was too large). ``update()`` then halves the factor after a skipped
step and doubles it after ``growth_interval`` steps in a row without one. The scale is a
float32 number, as torch's is, and every product with it is rounded to float32 the same way.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np

from engine import dtypes
from engine.autograd.grad_mode import no_grad
from engine.dtypes import DType
from engine.ops.autocast import AUTOCAST, AUTOCAST_POLICY, check_device_type, policy_of
from engine.tensor import Tensor

__all__ = [
    "AUTOCAST_POLICY",
    "GradScaler",
    "autocast",
    "get_autocast_dtype",
    "is_autocast_enabled",
    "policy_of",
]


class autocast:  # noqa: N801  (torch's name)
    """Run the ops of a region under torch's autocast policy for ``device_type``, as
    ``torch.autocast``: a context manager, or a decorator for a whole function.

    ``dtype`` is the 16-bit type of the matmul-like ops (default: bfloat16 for ``"cpu"``,
    float16 for ``"cuda"``, torch's defaults). The engine computes on the CPU; a ``"cuda"``
    region applies torch's CUDA policy to its tensors (see :mod:`engine.ops.autocast`).
    ``cache_enabled``: cast each float32 weight once per region (default: the current
    setting, initially True).
    """

    def __init__(
        self,
        device_type: str,
        dtype: DType | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = check_device_type(device_type)
        self.fast_dtype = AUTOCAST.dtype[device_type] if dtype is None else dtype
        self._cache_enabled = AUTOCAST.cache_enabled if cache_enabled is None else cache_enabled
        if enabled and self.fast_dtype not in (dtypes.bfloat16, dtypes.float16):
            name = device_type.upper()
            warnings.warn(
                f"In {name} autocast, but the target dtype is not supported. Disabling "
                f"autocast.\n{name} Autocast only supports dtypes of engine.bfloat16, "
                "engine.float16 currently.",
                stacklevel=2,
            )
            enabled = False
        self._enabled = enabled

    def __enter__(self) -> autocast:
        state = AUTOCAST
        self._previous = (
            state.enabled[self.device],
            state.dtype[self.device],
            state.cache_enabled,
        )
        state.enabled[self.device] = self._enabled
        if self._enabled:
            state.dtype[self.device] = self.fast_dtype
        state.cache_enabled = self._cache_enabled
        state.regions.append(self.device)
        state.refresh()
        return self

    def __exit__(self, *exc_info) -> bool:
        state = AUTOCAST
        state.regions.pop()
        if not state.regions:
            state.cache.clear()  # cast weights live no longer than the outermost region
        state.enabled[self.device], state.dtype[self.device], state.cache_enabled = self._previous
        state.refresh()
        return False

    def __call__(self, function: Callable) -> Callable:
        if not callable(function):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(function).__name__}. "
                "Did you mean to use autocast as a context manager?"
            )

        @functools.wraps(function)
        def autocast_function(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return function(*args, **kwargs)

        return autocast_function


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether ``device_type``'s autocast is on (torch's legacy default device is CUDA)."""
    return AUTOCAST.enabled[check_device_type(device_type)]


def get_autocast_dtype(device_type: str) -> DType:
    """The 16-bit dtype that ``device_type``'s autocast uses now."""
    return AUTOCAST.dtype[check_device_type(device_type)]


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Loss scaling with torch's defaults and rules (``device`` is accepted for torch's
    signature; the engine computes on the CPU)."""

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self.device = device
        self._enabled = enabled
        self._scale = np.float32(init_scale)
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict] = {}

    def is_enabled(self) -> bool:
        """Whether the scaler scales (a disabled one passes everything through)."""
        return self._enabled

    def get_scale(self) -> float:
        """The current scale factor (1.0 when disabled)."""
        return float(self._scale) if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` (a tensor or nested lists/tuples of them) times the scale factor."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * float(self._scale)
        if isinstance(outputs, list | tuple):
            return type(outputs)(self.scale(output) for output in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place, and note whether any is
        inf or NaN. At most once per optimizer between two ``update()`` calls."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        state["found_inf"] = self._unscale_grads(optimizer, allow_fp16=False)
        state["stage"] = _UNSCALED

    def _unscale_grads(self, optimizer, allow_fp16: bool) -> bool | None:
        inv_scale = np.float32(1.0 / np.float64(self._scale))  # torch: double reciprocal
        found, seen = False, False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and grad.dtype.name == "float16":
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    seen = True
                    values = grad.numpy()
                    if not np.isfinite(values).all():
                        found = True
                    grad.mul_(float(inv_scale))
        return found if seen else None

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless ``unscale_`` was called) and run ``optimizer.step`` unless a
        gradient was inf or NaN; returns what ``optimizer.step`` returned, or None."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            state["found_inf"] = self._unscale_grads(optimizer, allow_fp16=False)
            state["stage"] = _UNSCALED
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back off after a skipped step, grow after ``growth_interval`` good steps (or set
        ``new_scale``), and start the next iteration."""
        if not self._enabled:
            return
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else new_scale
            self._scale = np.float32(value)
        else:
            found = [
                s["found_inf"] for s in self._per_optimizer.values() if s["found_inf"] is not None
            ]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    with np.errstate(over="ignore"):  # an overflow to inf is refused below
                        grown = np.float32(self._scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer = {}

    def state_dict(self) -> dict:
        """torch's five entries (empty when disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` returned."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved "
                "from a disabled instance of GradScaler."
            )
        self._scale = np.float32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = state_dict["_growth_tracker"]
