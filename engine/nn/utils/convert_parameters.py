"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector and
back (what second-order methods and some optimizers work with)."""

from __future__ import annotations

from collections.abc import Iterable

from engine.ops.join import cat
from engine.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated in order (differentiable: a ``cat``)."""
    return cat([parameter.reshape(-1) for parameter in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Set each parameter's data to the next ``numel()`` elements of ``vec`` (a view of it,
    reshaped); the parameters stay the same objects, leaves outside any graph."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected engine.Tensor, but got: {type(vec).__name__}")
    offset = 0
    for parameter in parameters:
        count = parameter.numel()
        parameter.data = vec[offset : offset + count].view_as(parameter).detach()
        offset += count
