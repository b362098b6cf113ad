"""In-place ops and autograd: refuse what cannot be differentiated, re-wire what can.

An in-place op overwrites memory a graph may still need, so torch's rules are:

* a leaf that requires grad (a parameter) may not be modified in place while grad mode is on
  (``with no_grad():`` is how optimizers update weights);
* every in-place write bumps the storage's version counter, so a saved tensor that was
  overwritten is detected when backward unpacks it;
* a non-leaf modified in place gets a new ``grad_fn``: the op that wrote it ("rebasing" its
  history), computed from a copy of its old value; when it is a view, its base is rebased too.
"""

from __future__ import annotations

import numpy as np

from engine.autograd import grad_mode


def check_inplace(tensor, op_name: str) -> None:
    """Raise torch's error for an in-place op (``op_name``) on a leaf that requires grad, or on
    a view of one, while grad mode is on."""
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


def needs_history(tensor, *others) -> bool:
    """Whether an in-place op on ``tensor`` with ``others`` must be recorded in the graph."""
    from engine.tensor import Tensor

    if not grad_mode.is_grad_enabled():
        return False
    return tensor.requires_grad or any(
        isinstance(other, Tensor) and other.requires_grad for other in others
    )


def old_value(tensor):
    """A copy of ``tensor``'s current values that sits where ``tensor`` sits in the graph (same
    grad_fn and output number): what an in-place op's backward may need after the write."""
    from engine.ops import shape as shape_ops

    copy = shape_ops.empty_like_layout(tensor)
    copy._array()[...] = tensor._array()
    copy._grad_fn = tensor._grad_fn
    copy._output_nr = tensor._output_nr
    copy._requires_grad = tensor.requires_grad
    if tensor.requires_grad and tensor._grad_fn is None:
        copy._grad_accumulator = tensor._grad_accumulator
    return copy


def rebase_history(tensor, result) -> None:
    """Make ``tensor`` hold ``result``'s values (written into its storage, version bumped) and
    take ``result``'s place in the graph.

    When ``tensor`` is a view, the write changes its base too, so the base is rebased as well
    (torch's CopySlices): the base's new value is "old base with the view's elements replaced
    by ``result``" (an :class:`~engine.ops.indexing.IndexPut` node), and the view becomes a
    gather from that new base.
    """
    from engine.ops.indexing import Gather, IndexPut

    base = tensor._base
    if base is None:
        tensor._array()[...] = result._array()
        tensor._version_counter.bump()
        tensor._grad_fn = result._grad_fn
        tensor._output_nr = result._output_nr
        tensor._requires_grad = result.requires_grad
        return
    positions = positions_in_base(tensor, base)
    new_base = IndexPut.apply(base, result, positions)
    tensor._array()[...] = result._array()
    tensor._version_counter.bump()
    for target, source in ((base, new_base), (tensor, Gather.apply(new_base, positions))):
        target._grad_fn = source._grad_fn
        target._output_nr = source._output_nr
        target._requires_grad = source.requires_grad
    tensor._view_version = tensor._version


def refresh_view_history(view) -> None:
    """A view whose base was modified in place (through another view or itself) since its
    grad_fn was recorded reads the base's *current* graph: rebuild its history as a gather from
    the base (torch regenerates it the same way, as an as_strided of the base)."""
    from engine.ops.indexing import Gather

    base = view._base
    view._view_version = view._version
    if base is None or not base.requires_grad:
        return
    with grad_mode.enable_grad():
        source = Gather.apply(base, positions_in_base(view, base))
    view._grad_fn = source._grad_fn
    view._output_nr = source._output_nr
    view._requires_grad = True


def positions_in_base(view, base) -> np.ndarray:
    """For each element of ``view``, the flat (row-major) index of the ``base`` element that
    shares its memory; shaped like ``view``."""
    storage_size = base._storage.shape[0]
    owner = np.full(storage_size, -1, dtype=np.int64)
    owner_view = np.lib.stride_tricks.as_strided(
        owner[base.storage_offset() :],
        tuple(base.shape),
        tuple(stride * owner.itemsize for stride in base.stride()),
    )
    owner_view[...] = np.arange(base.numel()).reshape(tuple(base.shape))
    return np.lib.stride_tricks.as_strided(
        owner[view.storage_offset() :],
        tuple(view.shape),
        tuple(stride * owner.itemsize for stride in view.stride()),
    ).copy()
