"""Joining tensors: ``cat`` along an existing dim, ``stack`` along a new one.

Both copy into a new tensor, and both promote dtypes across their inputs like torch does.
Backward hands each input its own block of the gradient (``narrow`` for cat, ``select`` for
stack); the engine casts it back to the input's dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import numpy as np

from engine import dtypes, layout
from engine.autograd import grad_mode
from engine.autograd.function import Function
from engine.ops import shape as shape_ops
from engine.ops import table
from engine.ops.autocast import autocast_op
from engine.ops.indexing import select
from engine.ops.iterator import cast_array, wrap
from engine.ops.table import zero_tangent
from engine.tensor import Tensor


def _common_dtype(tensors: Sequence[Tensor]):
    return reduce(dtypes.promote_types, (tensor.dtype for tensor in tensors))


@autocast_op("cat")
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along ``dim``: all sizes must match except in ``dim``.

    As in torch, 1-D tensors of size 0 are skipped whatever the other tensors' shapes (a legacy
    rule that lets ``cat([torch.empty(0), x])`` grow a tensor from nothing).
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for position, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {position}) cannot be concatenated"
            )
    dtype = _common_dtype(tensors)
    kept = [tensor for tensor in tensors if not (tensor.ndim == 1 and tensor.shape[0] == 0)]
    if not kept:
        return wrap(np.empty((0,)), dtype)
    reference = kept[0]
    axis = layout.wrap_dim(dim, reference.ndim)
    for number, tensor in enumerate(tensors):
        if tensor.ndim == 1 and tensor.shape[0] == 0:
            continue
        if tensor.ndim != reference.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {reference.ndim} and "
                f"{tensor.ndim}"
            )
        for index in range(reference.ndim):
            if index != axis and tensor.shape[index] != reference.shape[index]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {axis}. Expected size "
                    f"{reference.shape[index]} but got size {tensor.shape[index]} for tensor "
                    f"number {number} in the list."
                )
    return Cat.apply(axis, dtype, *tensors)


def _is_skipped(tensor: Tensor) -> bool:
    # torch's legacy rule: 1-D empty tensors take no part in cat.
    return tensor.ndim == 1 and tensor.shape[0] == 0


class Cat(Function):
    """``n`` tensors -> one, joined along ``dim``.  Saves each input's size along ``dim``."""

    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim: int, dtype, *tensors: Tensor) -> Tensor:
        ctx.dim, ctx.dtype = dim, dtype
        if grad_mode.FORWARD_AD.active:  # jvp needs the inputs' shapes for zero tangents
            ctx.tensors = tensors
        ctx.sizes = [None if _is_skipped(tensor) else tensor.shape[dim] for tensor in tensors]
        kept = [tensor for tensor in tensors if not _is_skipped(tensor)]
        arrays = [cast_array(tensor._array(), dtype.numpy_dtype) for tensor in kept]
        return wrap(np.concatenate(arrays, axis=dim), dtype, fresh=True)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        grads, start = [], 0
        for size in ctx.sizes:
            if size is None:
                grads.append(None)
                continue
            grads.append(shape_ops.narrow(grad_output, ctx.dim, start, size))
            start += size
        return (None, None, *grads)

    @staticmethod
    def jvp(ctx, dim_t, dtype_t, *tangents: Tensor | None) -> Tensor:
        # Linear: the tangents joined the same way (zeros for inputs without one).
        tangents = [
            zero_tangent(tensor) if tangent is None else tangent
            for tensor, tangent in zip(ctx.tensors, tangents, strict=True)
        ]
        return Cat.apply(ctx.dim, ctx.dtype, *tangents)


@autocast_op("stack")
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dim ``dim``: n tensors of ``shape`` ->
    ``shape`` with ``n`` inserted at ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    axis = layout.wrap_dim(dim, tensors[0].ndim + 1)
    for number, tensor in enumerate(tensors):
        if tensor.shape != tensors[0].shape:
            raise RuntimeError(
                "stack expects each tensor to be equal size, but got "
                f"{list(tensors[0].shape)} at entry 0 and {list(tensor.shape)} at entry {number}"
            )
    return Stack.apply(axis, *tensors)


class Stack(Function):
    """``n`` tensors of one shape -> one with a new dim of size ``n`` at ``dim``."""

    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        if grad_mode.FORWARD_AD.active:
            ctx.tensors = tensors
        return cat([shape_ops.unsqueeze(tensor, dim) for tensor in tensors], dim)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        count = grad_output.shape[ctx.dim]
        return (None, *(select(grad_output, ctx.dim, index) for index in range(count)))

    @staticmethod
    def jvp(ctx, dim_t, *tangents: Tensor | None) -> Tensor:
        tangents = [
            zero_tangent(tensor) if tangent is None else tangent
            for tensor, tangent in zip(ctx.tensors, tangents, strict=True)
        ]
        return Stack.apply(ctx.dim, *tangents)


# Hand-written entries of the derivative table: they take a variable number of tensors.
table.register("cat", Cat)
table.register("stack", Stack)
