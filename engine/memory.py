"""Memory accounting: how many bytes of tensor storage are alive, like ``torch.cuda``'s
``memory_allocated`` / ``max_memory_allocated`` / ``reset_peak_memory_stats``.

Every storage (the 1-D NumPy array in ``Tensor._storage``) is registered the first time a
``Tensor`` wraps it: ``Tensor.__init__`` calls :func:`track`, which adds ``storage.nbytes`` to
the running total and keeps a weak reference that reports when NumPy frees the array.  The
registry is a dict keyed by ``id(storage)``; views wrap their base's storage object, and
``Tensor.__init__`` does not call :func:`track` for them at all, so they count nothing extra.
A storage counts its own ``nbytes`` once, even when it is a NumPy view of some other array (as with
``engine.from_numpy``): what is measured is the memory the engine's storages span, not who
allocated it.  So two ``from_numpy`` tensors of one array count the array twice.

Freeing runs no Python code: the weak reference's callback is a list's ``append``, and the
bytes are subtracted by the next :func:`track` (before it looks an ``id`` up, so the ``id`` of a
freed array, which NumPy may give to the next one, is gone by then) or query.  The peak is
exact: it can only grow in :func:`track`, where the frees are settled first.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np

__all__ = ["allocated", "max_allocated", "reset_peak_stats", "track"]


class _StorageRef(weakref.ref):
    """A weak reference to a registered storage that remembers its key and size."""

    __slots__ = ("key", "nbytes")


# id(storage) -> its weak reference, for every registered storage that is alive.
_live: dict[int, _StorageRef] = {}
# References of storages NumPy has freed, not yet subtracted.  The weak reference's callback is
# this list's C-level ``append``, so freeing a storage runs no Python code; the next
# :func:`track` or query settles them.
_freed: list[_StorageRef] = []
_allocated = 0
_peak = 0


def _settle() -> None:
    """Subtract the storages freed since the last call (and forget their ids)."""
    global _allocated
    while _freed:
        ref = _freed.pop()
        del _live[ref.key]
        _allocated -= ref.nbytes


def track(storage: np.ndarray) -> None:
    """Register ``storage`` (called by ``Tensor.__init__`` for a new storage); a storage seen
    before is a no-op.  Freed storages are settled first, so that the id of a freed array,
    which NumPy may give to the next one, is no longer in the registry."""
    global _allocated, _peak
    if _freed:
        _settle()
    key = id(storage)
    if key in _live:
        return
    ref = _StorageRef(storage, _freed.append)
    ref.key = key
    ref.nbytes = nbytes = storage.nbytes
    _live[key] = ref
    _allocated += nbytes
    if _allocated > _peak:
        _peak = _allocated


def allocated() -> int:
    """Bytes of the engine storages alive now (a storage shared by views counts once)."""
    _settle()
    return _allocated


def max_allocated() -> int:
    """The peak of :func:`allocated` since the start or the last :func:`reset_peak_stats`."""
    return _peak


def reset_peak_stats() -> None:
    """Collect garbage cycles (autograd graphs form them), then set the peak to the current
    :func:`allocated`, so that :func:`max_allocated` measures from here."""
    global _peak
    gc.collect()
    _settle()
    _peak = _allocated
