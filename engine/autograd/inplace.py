"""In-place ops and autograd: refuse what cannot be differentiated, re-wire what can.

An in-place op overwrites memory a graph may still need, so torch's rules are:

* a leaf that requires grad (a parameter) may not be modified in place while grad mode is on
  (``with no_grad():`` is how optimizers update weights);
* every in-place write bumps the storage's version counter, so a saved tensor that was
  overwritten is detected when backward unpacks it;
* an inference tensor (made inside ``inference_mode``) may be modified in place only inside it;
* a non-leaf modified in place gets a new ``grad_fn``: the op that wrote it ("rebasing" its
  history), computed from a copy of its old value; when it is a view, its base is rebased too.

This module holds the checks, which know nothing of specific ops; the rebasing, which records
gather and index-put nodes, is in :mod:`engine.ops.inplace`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.autograd import grad_mode

if TYPE_CHECKING:
    from engine.tensor import Tensor


def check_inplace(tensor: Tensor, op_name: str) -> None:
    """Raise torch's error for an in-place op (``op_name``) on a leaf that requires grad, or on
    a view of one, while grad mode is on; and for one on an inference tensor outside
    ``inference_mode``."""
    if tensor._inference and not grad_mode.is_inference_mode_enabled():
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can "
            "make a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details."
        )
    if not grad_mode.is_grad_enabled():
        return
    if tensor.requires_grad and tensor._grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = tensor._base
    if base is not None and base.requires_grad and base._grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


def needs_history(tensor: Tensor, *others: object) -> bool:
    """Whether an in-place op on ``tensor`` with ``others`` must be recorded in the graph."""
    from engine.tensor import Tensor

    if not grad_mode.is_grad_enabled():
        return False
    return tensor.requires_grad or any(
        isinstance(other, Tensor) and other.requires_grad for other in others
    )


def check_no_internal_overlap(tensor: Tensor) -> None:
    """In-place writes must not hit one memory location twice (an expanded dim, stride 0)."""
    for size, stride in zip(tensor.shape, tensor.stride(), strict=True):
        if size > 1 and stride == 0:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )
