"""Helpers to compare the engine with PyTorch, used by the tests and the chapters.

``torch`` is imported lazily: the engine itself never needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.tensor import Tensor

if TYPE_CHECKING:
    import torch
    from numpy.typing import ArrayLike

    from engine.dtypes import DType

# Default tolerances by dtype name, the same values torch.testing.assert_close uses.
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def _is_torch_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def dtype_name(value: Tensor | torch.Tensor | DType | torch.dtype | ArrayLike) -> str:
    """``'float32'`` for an engine or torch tensor (or dtype) of that type."""
    dtype = getattr(value, "dtype", value)
    return str(dtype).split(".")[-1]


def to_numpy(value: Tensor | torch.Tensor | ArrayLike) -> np.ndarray:
    """A NumPy copy-free view (engine) or copy (torch, any device) of a tensor's values.

    bfloat16 comes back as float32, which holds every bfloat16 value exactly.
    """
    if isinstance(value, Tensor):
        array = value._array()
        return array.astype(np.float32) if value.dtype.name == "bfloat16" else array
    if _is_torch_tensor(value):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.resolve_conj().resolve_neg().numpy()
    return np.asarray(value)


def same_storage(first: Tensor, second: Tensor) -> bool:
    """Whether two engine tensors are views of one storage buffer (a write through one can be
    seen through the other)."""
    return first._storage is second._storage or np.shares_memory(first._storage, second._storage)


def assert_close(
    actual: Tensor | torch.Tensor | ArrayLike,
    expected: Tensor | torch.Tensor | ArrayLike,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
    check_stride: bool = False,
    equal_nan: bool = True,
) -> None:
    """Assert an engine tensor matches a torch tensor (or another engine tensor / array).

    Compares shape, dtype by name (``check_dtype``), values within ``rtol``/``atol`` (defaults by
    dtype like ``torch.testing.assert_close``; exact for integers and bools) and, with
    ``check_stride``, strides.  Raises AssertionError saying what differs.
    """
    actual_shape = tuple(getattr(actual, "shape", np.shape(actual)))
    expected_shape = tuple(getattr(expected, "shape", np.shape(expected)))
    if actual_shape != expected_shape:
        raise AssertionError(f"shape mismatch: got {actual_shape}, expected {expected_shape}")
    actual_dtype, expected_dtype = dtype_name(actual), dtype_name(expected)
    if check_dtype and actual_dtype != expected_dtype:
        raise AssertionError(f"dtype mismatch: got {actual_dtype}, expected {expected_dtype}")
    if check_stride:
        actual_strides = tuple(actual.stride())
        expected_strides = tuple(expected.stride())
        if actual_strides != expected_strides:
            raise AssertionError(
                f"stride mismatch: got {actual_strides}, expected {expected_strides}"
            )
    default_rtol, default_atol = _TOLERANCES.get(actual_dtype, (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    got = to_numpy(actual)
    want = to_numpy(expected)
    if got.dtype.kind in "biu" and want.dtype.kind in "biu":
        close = got == want
    else:
        got64, want64 = got.astype(np.float64), want.astype(np.float64)
        close = np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=equal_nan)
        # isclose treats inf == inf only when signs match, which is what we want.
    if not np.all(close):
        mismatched = np.argwhere(~np.asarray(close))
        first = tuple(int(index) for index in mismatched[0]) if mismatched.size else ()
        raise AssertionError(
            f"values differ at {len(mismatched)} of {got.size} positions "
            f"(rtol={rtol}, atol={atol}); first at index {first}: "
            f"got {got[first] if got.ndim else got.item()!r}, "
            f"expected {want[first] if want.ndim else want.item()!r}"
        )
