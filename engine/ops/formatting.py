"""``repr(tensor)`` in PyTorch's format, ported from ``torch/_tensor_str.py``.

Floats print with 4 decimals, or as ``1.`` when every value is an integer, or in scientific
notation when the magnitudes span more than 1000x (or exceed 1e8, or go below 1e-4).  Tensors of
more than 1000 elements are summarized with ``...``.  The dtype is appended unless it is the
default float dtype, int64 or bool.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from engine import dtypes

if TYPE_CHECKING:
    from engine.tensor import Tensor

PRECISION = 4
THRESHOLD = 1000
EDGE_ITEMS = 3
LINE_WIDTH = 80


class _Formatter:
    """Chooses one width and notation for every element, so columns line up."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(str(value)))
            return
        flat = flat.astype(np.float64)
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        for value in finite.tolist():
            if self.sci_mode:
                text = f"{value:.{PRECISION}e}"
            elif self.int_mode:
                text = f"{value:.0f}" + " "  # room for the trailing "."
            else:
                text = f"{value:.{PRECISION}f}"
            self.max_width = max(self.max_width, len(text))

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{PRECISION}f}"
        else:
            text = str(value)
        return (self.max_width - len(text)) * " " + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """Only the edge items of every dim, which is all the formatter needs to see."""
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * EDGE_ITEMS:
            head = np.take(values, range(EDGE_ITEMS), axis=axis)
            tail = np.take(
                values, range(values.shape[axis] - EDGE_ITEMS, values.shape[axis]), axis=axis
            )
            values = np.concatenate([head, tail], axis=axis)
    return values


def _vector_text(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    element_length = formatter.max_width + 2
    per_line = max(1, math.floor((LINE_WIDTH - indent) / element_length))
    items = values.tolist()
    if summarize and len(items) > 2 * EDGE_ITEMS:
        data = (
            [formatter.format(item) for item in items[:EDGE_ITEMS]]
            + [" ..."]
            + [formatter.format(item) for item in items[-EDGE_ITEMS:]]
        )
    else:
        data = [formatter.format(item) for item in items]
    lines = [", ".join(data[start : start + per_line]) for start in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_text(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_text(values, indent, summarize, formatter)
    if summarize and values.shape[0] > 2 * EDGE_ITEMS:
        rows = (
            [_nested_text(values[i], indent + 1, summarize, formatter) for i in range(EDGE_ITEMS)]
            + ["..."]
            + [
                _nested_text(values[i], indent + 1, summarize, formatter)
                for i in range(values.shape[0] - EDGE_ITEMS, values.shape[0])
            ]
        )
    else:
        rows = [_nested_text(row, indent + 1, summarize, formatter) for row in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_length + len(suffix) + 2 > LINE_WIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(tensor: Tensor) -> str:
    """``tensor([[1., 2.],\\n        [3., 4.]], dtype=engine.float64)`` and the like."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    default_dtypes = (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool)
    values = tensor._array()
    if tensor.dtype is dtypes.bfloat16:
        values = values.astype(np.float32)
    if tensor.numel() == 0:
        if tensor.ndim != 1:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if tensor.dtype is not dtypes.get_default_dtype():
            suffixes.append(f"dtype={tensor.dtype}")
        text = "[]"
    else:
        if tensor.dtype not in default_dtypes:
            suffixes.append(f"dtype={tensor.dtype}")
        summarize = tensor.numel() > THRESHOLD
        formatter = _Formatter(
            _summarized(values) if summarize else values, tensor.dtype.is_floating_point
        )
        text = _nested_text(values, indent, summarize, formatter)
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + text, suffixes, indent)
