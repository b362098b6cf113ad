"""Forward-mode automatic differentiation, with ``torch.autograd.forward_ad``'s API.

Inside ``with dual_level():`` a tensor made with :func:`make_dual` carries a *tangent*: the
direction in which its value is being pushed.  Every op whose inputs carry tangents computes
the tangent of its result at the same time as the result (``Function.apply`` calls the op's
JVP, written next to its VJP in the derivative table), so one pass gives the Jacobian-vector
product ``J v`` -- one column of the Jacobian per pass, where reverse mode gives one row.
:func:`unpack_dual` reads a tensor's primal and tangent back; leaving the level drops every
tangent.  As in torch, one level may be open at a time.
"""

from __future__ import annotations

from collections import namedtuple

from engine.autograd import grad_mode
from engine.autograd.function import grad_accumulator, set_tangent
from engine.layout import dense_strides_like
from engine.ops.creation import empty_strided
from engine.tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level"]
__all__ += ["make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What :func:`unpack_dual` returns: ``(primal, tangent)``."


def enter_dual_level() -> int:
    """Open the dual level (level 0); a second one while it is open is an error, as in torch."""
    state = grad_mode.FORWARD_AD
    if state.active:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.active = True
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the dual level: every tensor that had a tangent loses it."""
    state = grad_mode.FORWARD_AD
    for tensor in list(state.duals.values()):
        tensor._tangent = None
    state.duals.clear()
    state.active = False


class dual_level:  # noqa: N801 - torch's name
    """``with dual_level():`` opens the level for the block and closes it afterwards, even
    when the block raises; tangents made inside do not survive it."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc_info) -> None:
        exit_dual_level()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor with ``tensor``'s values (sharing its storage) and ``tangent`` as its tangent.

    The tangent must have the primal's shape; it is converted to the primal's dtype and, when
    its layout differs, copied into the primal's memory order (torch does the same, so that a
    view of the dual tensor reads the matching elements of its tangent).
    """
    if not grad_mode.FORWARD_AD.active:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    if not tensor.dtype.is_floating_point:
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}"
        )
    if not isinstance(tangent, Tensor) or not tangent.dtype.is_floating_point:
        kind = tangent.dtype if isinstance(tangent, Tensor) else type(tangent).__name__
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {kind}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    dual = tensor._view(tensor.shape, tensor.stride(), tensor.storage_offset())
    _same_place_in_graph(dual, tensor)
    dense = dense_strides_like(tensor.shape, tensor.stride())
    if tangent.stride() != dense or tangent.dtype is not tensor.dtype:
        tangent = empty_strided(tensor.shape, dense, dtype=tensor.dtype).copy_(tangent)
    set_tangent(dual, tangent)
    return dual


def _same_place_in_graph(alias: Tensor, tensor: Tensor) -> None:
    """Let ``alias`` (a view of ``tensor``) send its gradients where ``tensor``'s go."""
    alias._requires_grad = tensor.requires_grad
    if tensor._grad_fn is not None:
        alias._grad_fn, alias._output_nr = tensor._grad_fn, tensor._output_nr
    elif tensor._requires_grad:
        alias._grad_accumulator = grad_accumulator(tensor)


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: a view of ``tensor`` without a tangent, and its tangent (None if
    it has none, e.g. outside a dual level)."""
    primal = tensor._view(tensor.shape, tensor.stride(), tensor.storage_offset())
    _same_place_in_graph(primal, tensor)
    return UnpackedDualTensor(primal, tensor._tangent)
