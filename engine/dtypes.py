"""Data types and PyTorch's type-promotion rules.

A :class:`DType` pairs a PyTorch-style name (``float32``) with the NumPy dtype that stores its
elements.  ``bfloat16`` has no NumPy dtype of its own; the ``ml_dtypes`` package supplies one.

Promotion follows ``c10/core/ScalarType.h`` (the ``promote_types`` table) and
``ATen/native/TypeProperties.cpp`` (``result_type``): operands are split into three groups --
tensors with at least one dimension, zero-dimensional tensors, and Python scalars -- and a lower
group only changes the result when it belongs to a higher *category* (bool < integer < floating).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ml_dtypes
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

__all__ = [
    "DType",
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "half",
    "float",
    "double",
    "short",
    "int",
    "long",
    "all_dtypes",
    "get_default_dtype",
    "set_default_dtype",
    "promote_types",
    "result_type",
    "can_cast",
    "from_numpy_dtype",
    "finfo",
    "iinfo",
]

# Category ranks used by ``result_type``: a scalar only matters if its category is higher.
BOOL_CATEGORY, INTEGER_CATEGORY, FLOATING_CATEGORY = 0, 1, 2


@dataclass(frozen=True, eq=False)
class DType:
    """An element type, printed like ``torch.float32`` but as ``engine.float32``."""

    name: str
    numpy_dtype: np.dtype
    category: builtins.int
    is_signed: builtins.bool
    # ATen's ScalarType name, used in error messages exactly as PyTorch prints them ("Float").
    scalar_type_name: str
    # Whether this is a floating-point dtype: a field rather than a property, because every op
    # asks (a property is one more Python call each time).
    is_floating_point: builtins.bool = False

    @property
    def itemsize(self) -> builtins.int:
        """Bytes per element."""
        return self.numpy_dtype.itemsize

    def __repr__(self) -> str:
        return f"engine.{self.name}"

    __str__ = __repr__

    def __reduce__(self) -> str:
        # Pickle by name so that unpickling returns the same singleton object.
        return self.name


def _make(name: str, numpy_dtype, category: builtins.int, signed: builtins.bool, aten_name: str):
    floating = category == FLOATING_CATEGORY
    return DType(name, np.dtype(numpy_dtype), category, signed, aten_name, floating)


bool = _make("bool", np.bool_, BOOL_CATEGORY, False, "Bool")  # noqa: A001 - torch's name
uint8 = _make("uint8", np.uint8, INTEGER_CATEGORY, False, "Byte")
int8 = _make("int8", np.int8, INTEGER_CATEGORY, True, "Char")
int16 = _make("int16", np.int16, INTEGER_CATEGORY, True, "Short")
int32 = _make("int32", np.int32, INTEGER_CATEGORY, True, "Int")
int64 = _make("int64", np.int64, INTEGER_CATEGORY, True, "Long")
float16 = _make("float16", np.float16, FLOATING_CATEGORY, True, "Half")
bfloat16 = _make("bfloat16", ml_dtypes.bfloat16, FLOATING_CATEGORY, True, "BFloat16")
float32 = _make("float32", np.float32, FLOATING_CATEGORY, True, "Float")
float64 = _make("float64", np.float64, FLOATING_CATEGORY, True, "Double")

# PyTorch's aliases.
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

all_dtypes: tuple[DType, ...] = (
    bool,
    uint8,
    int8,
    int16,
    int32,
    int64,
    float16,
    bfloat16,
    float32,
    float64,
)

_BY_NUMPY = {dtype.numpy_dtype: dtype for dtype in all_dtypes}

_default_dtype = float32


def get_default_dtype() -> DType:
    """The dtype of Python floats turned into tensors (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: DType) -> None:
    """Like ``torch.set_default_dtype``: only float32 and float64 (and float16/bfloat16)."""
    global _default_dtype
    if not dtype.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype}")
    _default_dtype = dtype


def from_numpy_dtype(numpy_dtype: DTypeLike) -> DType:
    """The engine dtype that stores elements like ``numpy_dtype``; TypeError if there is none."""
    key = np.dtype(numpy_dtype)
    if key not in _BY_NUMPY:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{key}. The only supported types are: "
            "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool."
        )
    return _BY_NUMPY[key]


def promote_types(first: DType, second: DType) -> DType:
    """The smallest dtype both can be cast to, per PyTorch's ``promote_types`` table.

    Examples: (uint8, int8) -> int16; (int64, float16) -> float16; (float16, bfloat16) -> float32.
    """
    if first is second:
        return first
    if first is bool:
        return second
    if second is bool:
        return first
    if first.category != second.category:
        # Integer with floating: the floating type wins, whatever its size.
        return first if first.category > second.category else second
    if first.is_floating_point:
        if {first, second} == {float16, bfloat16}:
            return float32  # neither holds the other's range and precision
        return first if first.itemsize > second.itemsize else second
    # Two integer types.  uint8 fits only in a wider signed type.
    if first is uint8 or second is uint8:
        signed = second if first is uint8 else first
        return int16 if signed is int8 else signed
    return first if first.itemsize > second.itemsize else second


def _scalar_dtype(value) -> DType:
    """The dtype a Python scalar stands for in promotion (float -> the default dtype)."""
    if isinstance(value, builtins.bool | np.bool_):
        return bool
    if isinstance(value, builtins.int | np.integer):
        return int64
    if isinstance(value, builtins.float | np.floating):
        return _default_dtype
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def _combine_categories(higher: DType | None, lower: DType | None) -> DType | None:
    # Port of ATen's combine_categories: `lower` only matters when of a higher category.
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def _promote_optional(current: DType | None, new: DType) -> DType:
    return new if current is None else promote_types(current, new)


def result_type(*operands) -> DType:
    """The dtype of an elementwise op's result, like ``torch.result_type`` over many operands.

    Tensors with ``ndim > 0`` set the dtype; zero-dimensional tensors and then Python scalars only
    change it when they are of a higher category (bool < integer < floating), so
    ``float16_tensor * 2.0`` stays float16 while ``int64_tensor * 2.5`` becomes float32.
    """
    # Fast path: operands that are all tensors of one dtype (the common case) give that dtype.
    common = getattr(operands[0], "dtype", None) if operands else None
    if isinstance(common, DType):
        for operand in operands:
            if getattr(operand, "dtype", None) is not common:
                break
        else:
            return common
    dimensioned = zero_dimensional = scalars = None
    for operand in operands:
        dtype = getattr(operand, "dtype", None)
        if isinstance(dtype, DType):
            if operand.ndim > 0:
                dimensioned = _promote_optional(dimensioned, dtype)
            else:
                zero_dimensional = _promote_optional(zero_dimensional, dtype)
        else:
            scalars = _promote_optional(scalars, _scalar_dtype(operand))
    result = _combine_categories(dimensioned, _combine_categories(zero_dimensional, scalars))
    if result is None:
        raise TypeError("result_type needs at least one operand")
    return result


def can_cast(from_dtype: DType, to_dtype: DType) -> builtins.bool:
    """Whether an in-place op may write a ``from_dtype`` result into a ``to_dtype`` tensor.

    Like ``torch.can_cast``: casting must not go down a category (float -> int, int -> bool).
    """
    return from_dtype.category <= to_dtype.category


@dataclass(frozen=True)
class finfo:  # noqa: N801 - torch's name
    """Machine limits of a floating dtype, like ``torch.finfo``: ``bits``, ``eps``, ``max``,
    ``min``, ``tiny`` (smallest positive normal number) and ``resolution``."""

    bits: builtins.int
    eps: builtins.float
    max: builtins.float
    min: builtins.float
    tiny: builtins.float
    resolution: builtins.float
    dtype: DType

    def __init__(self, dtype: DType | None = None):
        dtype = _default_dtype if dtype is None else dtype
        if not dtype.is_floating_point:
            raise TypeError("finfo() requires a floating point input type.")
        info = ml_dtypes.finfo(dtype.numpy_dtype)
        for field, value in (
            ("bits", builtins.int(info.bits)),
            ("eps", builtins.float(info.eps)),
            ("max", builtins.float(info.max)),
            ("min", builtins.float(info.min)),
            ("tiny", builtins.float(info.smallest_normal)),
            ("resolution", 10.0 ** -builtins.int(info.precision)),
            ("dtype", dtype),
        ):
            object.__setattr__(self, field, value)

    @property
    def smallest_normal(self) -> builtins.float:
        return self.tiny


@dataclass(frozen=True)
class iinfo:  # noqa: N801 - torch's name
    """Limits of an integer dtype, like ``torch.iinfo``: ``bits``, ``min``, ``max``."""

    bits: builtins.int
    min: builtins.int
    max: builtins.int
    dtype: DType

    def __init__(self, dtype: DType):
        if dtype.is_floating_point:
            raise TypeError(
                f"iinfo() requires an integer input type. Use finfo to handle '{dtype.name}'"
            )
        info = np.iinfo(dtype.numpy_dtype) if dtype is not bool else None
        bits = dtype.itemsize * 8
        low, high = (0, 1) if info is None else (builtins.int(info.min), builtins.int(info.max))
        for field, value in (("bits", bits), ("min", low), ("max", high), ("dtype", dtype)):
            object.__setattr__(self, field, value)
