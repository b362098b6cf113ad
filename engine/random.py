"""Random numbers: a seeded :class:`Generator`, the default generator, and random factories.

Underneath is NumPy's PCG64 bit generator.  The numbers differ from PyTorch's (which uses a
Mersenne Twister and its own transforms) but the contract is the same: the same seed gives the
same numbers, and restoring a saved state (``get_rng_state`` / ``set_rng_state``) replays the
draws that followed it -- which is what gradient checkpointing needs to recompute dropout masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine import dtypes, layout
from engine.dtypes import DType
from engine.ops.elementwise import copy_
from engine.ops.iterator import cast_array
from engine.tensor import Device, Tensor

# A fixed seed at import makes every run of a notebook draw the same numbers even without an
# explicit manual_seed (torch's default CPU generator is also seeded with a constant).
DEFAULT_SEED = 67280421310721

_STATE_BYTES = 16 + 16 + 1 + 4  # PCG64: 128-bit state, 128-bit increment, a cached 32-bit draw

# Mantissa digits (+1 for the implicit bit) of each float dtype: uniform draws are
# k * 2**-digits for a random integer k, exactly representable and never equal to 1.
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


class Generator:
    """A source of random numbers with a seed and a saveable state, like ``torch.Generator``."""

    def __init__(self, device: str = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(f"engine generators live on the CPU only, got device {device!r}")
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the sequence from ``seed``; returns the generator (as torch does)."""
        self._initial_seed = int(seed) % 2**64
        self._numpy = np.random.Generator(np.random.PCG64(self._initial_seed))
        return self

    def initial_seed(self) -> int:
        """The seed the sequence started from (the last :meth:`manual_seed`)."""
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The full state as a uint8 tensor (like ``torch.Generator.get_state``)."""
        state = self._numpy.bit_generator.state
        encoded = (
            state["state"]["state"].to_bytes(16, "little")
            + state["state"]["inc"].to_bytes(16, "little")
            + int(state["has_uint32"]).to_bytes(1, "little")
            + int(state["uinteger"]).to_bytes(4, "little")
        )
        return Tensor._from_array(np.frombuffer(encoded, dtype=np.uint8))

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state from :meth:`get_state`; later draws repeat those that followed it."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not dtypes.uint8:
            raise TypeError("expected a uint8 Tensor from get_state()/get_rng_state()")
        if new_state.numel() != _STATE_BYTES:
            raise RuntimeError(
                f"RNG state is wrong size: expected {_STATE_BYTES} bytes, got {new_state.numel()}"
            )
        encoded = new_state._array().tobytes()
        self._numpy.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(encoded[0:16], "little"),
                "inc": int.from_bytes(encoded[16:32], "little"),
            },
            "has_uint32": encoded[32],
            "uinteger": int.from_bytes(encoded[33:37], "little"),
        }
        return self

    @property
    def numpy_generator(self) -> np.random.Generator:
        """The NumPy generator that draws the numbers."""
        return self._numpy


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (``engine.manual_seed(0)`` like ``torch.manual_seed(0)``)."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The default generator's seed (like ``torch.initial_seed``)."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state saved by :func:`get_rng_state`."""
    default_generator.set_state(new_state)


def _numpy_generator(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator).numpy_generator


def _float_dtype(dtype: DType | None, name: str) -> DType:
    dtype = dtype or dtypes.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"\"{name}\" not implemented for '{dtype.scalar_type_name}'")
    return dtype


def _finish(values: np.ndarray, dtype: DType, requires_grad: bool) -> Tensor:
    return Tensor._from_array(cast_array(values, dtype.numpy_dtype), requires_grad=requires_grad)


def _uniform_values(shape, dtype: DType, generator: Generator | None) -> np.ndarray:
    digits = _DIGITS[dtype.name]
    integers = _numpy_generator(generator).integers(0, 2**digits, size=shape, dtype=np.int64)
    return integers * (2.0**-digits)


def rand(
    *size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples from ``[0, 1)`` with shape ``size`` (float32 by default)."""
    dtype = _float_dtype(dtype, "check_uniform_bounds")
    values = _uniform_values(layout.shape_from_args(size), dtype, generator)
    return _finish(values, dtype, requires_grad)


def randn(
    *size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples (mean 0, variance 1) with shape ``size``."""
    dtype = _float_dtype(dtype, "normal_kernel_cpu")
    numpy_dtype = np.float64 if dtype is dtypes.float64 else np.float32
    values = _numpy_generator(generator).standard_normal(
        layout.shape_from_args(size), dtype=numpy_dtype
    )
    return _finish(values, dtype, requires_grad)


def randint(
    *args,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform integers in ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)``
    (int64 by default)."""
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    dtype = dtype or dtypes.int64
    values = _numpy_generator(generator).integers(
        low, high, size=layout.shape_from_args((size,)), dtype=np.int64
    )
    return _finish(values, dtype, requires_grad)


def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: str | Device | None = None,
) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 by default)."""
    values = _numpy_generator(generator).permutation(n)
    return _finish(values, dtype or dtypes.int64, False)


def rand_like(tensor: Tensor, *, dtype: DType | None = None, requires_grad: bool = False) -> Tensor:
    """:func:`rand` with ``tensor``'s shape and dtype."""
    return rand(tensor.shape, dtype=dtype or tensor.dtype, requires_grad=requires_grad)


def randn_like(
    tensor: Tensor, *, dtype: DType | None = None, requires_grad: bool = False
) -> Tensor:
    """:func:`randn` with ``tensor``'s shape and dtype."""
    return randn(tensor.shape, dtype=dtype or tensor.dtype, requires_grad=requires_grad)


def uniform_(
    tensor: Tensor, low: float = 0.0, high: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill ``tensor`` in place with samples from ``[low, high)``."""
    dtype = _float_dtype(tensor.dtype, "check_uniform_bounds")
    values = low + (high - low) * _uniform_values(tuple(tensor.shape), dtype, generator)
    return copy_(tensor, Tensor._from_array(cast_array(values, dtype.numpy_dtype)))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill ``tensor`` in place with samples from a normal distribution."""
    dtype = _float_dtype(tensor.dtype, "normal_kernel_cpu")
    values = mean + std * _numpy_generator(generator).standard_normal(tuple(tensor.shape))
    return copy_(tensor, Tensor._from_array(cast_array(values, dtype.numpy_dtype)))
