"""Memory accounting: how many bytes of tensor storage are alive, like ``torch.cuda``'s
``memory_allocated`` / ``max_memory_allocated`` / ``reset_peak_memory_stats``.

Every storage (the 1-D NumPy array in ``Tensor._storage``) is registered the first time a
``Tensor`` wraps it: ``Tensor.__init__`` calls :func:`track`, which adds ``storage.nbytes`` to
the running total and attaches a weak reference whose callback subtracts them again when NumPy
frees the array.  The registry is a dict keyed by ``id(storage)``, so the views of a tensor
(which wrap the same storage object) cost one dict lookup and count nothing extra.  A storage
counts its own ``nbytes`` once, even when it is a NumPy view of some other array (as with
``engine.from_numpy``): what is measured is the memory the engine's storages span, not who
allocated it.  So two ``from_numpy`` tensors of one array count the array twice.

The weak-reference callback runs while the dying array still occupies its address, so its
``id`` leaves the registry before a new array can be given the same ``id``.  (A subclass of
``weakref.ref`` does the job of ``weakref.finalize`` for less than half the cost per storage;
a storage seen before costs one dict lookup, about 0.1 microseconds per Tensor.)
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
_allocated = 0
_peak = 0


def _freed(ref: _StorageRef) -> None:
    """Weak-reference callback: the storage is being freed (its id is not yet reusable)."""
    global _allocated
    del _live[ref.key]
    _allocated -= ref.nbytes


def track(storage: np.ndarray) -> None:
    """Register ``storage`` (called by ``Tensor.__init__``); a storage seen before is a no-op."""
    global _allocated, _peak
    key = id(storage)
    if key in _live:
        return
    ref = _StorageRef(storage, _freed)
    ref.key = key
    ref.nbytes = nbytes = storage.nbytes
    _live[key] = ref
    _allocated += nbytes
    if _allocated > _peak:
        _peak = _allocated


def allocated() -> int:
    """Bytes of the engine storages alive now (a storage shared by views counts once)."""
    return _allocated


def max_allocated() -> int:
    """The peak of :func:`allocated` since the start or the last :func:`reset_peak_stats`."""
    return _peak


def reset_peak_stats() -> None:
    """Collect garbage cycles (autograd graphs form them), then set the peak to the current
    :func:`allocated`, so that :func:`max_allocated` measures from here."""
    global _peak
    gc.collect()
    _peak = _allocated
