"""Looking at a recorded backward graph: its nodes, and what they saved for backward."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from engine.autograd.function import SAVED_TENSORS_HOOKS, AccumulateGrad, Node

if TYPE_CHECKING:
    from engine.tensor import Tensor


def nodes(output: Tensor) -> list[Node]:
    """The ``grad_fn`` nodes reachable from ``output.grad_fn`` (found without recursion):
    operations newest first, so ``output.grad_fn`` comes first, then the leaves'
    ``AccumulateGrad`` nodes."""
    found, stack, seen = [], [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return sorted(found, key=lambda n: (isinstance(n, AccumulateGrad), -n._sequence_nr()))


def saved_tensors(node: Node) -> list[Tensor]:
    """The tensors ``node`` saved for its backward formula (empty once backward freed them);
    a tensor saved under ``saved_tensors_hooks`` is unpacked, as torch's ``_saved_*`` are."""
    return [
        saved.tensor if saved.unpack_hook is None else saved.unpack_hook(saved.packed)
        for saved in getattr(node, "_saved", [])
        if saved is not None
    ]


@contextlib.contextmanager
def saved_tensors_hooks(pack_hook: Callable, unpack_hook: Callable) -> Iterator[None]:
    """Inside the block, every tensor an op saves for backward is replaced by
    ``pack_hook(tensor)``, and ``unpack_hook(packed)`` must give it back when backward needs it
    (torch's ``torch.autograd.graph.saved_tensors_hooks``).  Contexts nest: the innermost pair
    applies.  Packing to float16, to a file or to nothing at all (recomputing later, as
    ``engine.utils.checkpoint`` does) are all built on this."""
    SAVED_TENSORS_HOOKS.append((pack_hook, unpack_hook))
    try:
        yield
    finally:
        SAVED_TENSORS_HOOKS.pop()


def saved_bytes(output: Tensor) -> int:
    """Bytes of all tensors saved for backward in ``output``'s graph, counted once per save
    (like a ``saved_tensors_hooks`` pack hook in torch, which sees every save)."""
    return sum(
        tensor.numel() * tensor.element_size()
        for node in nodes(output)
        for tensor in saved_tensors(node)
    )


def saved_storage_bytes(output: Tensor, exclude: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct storages that the tensors saved for backward in ``output``'s graph
    keep alive, each storage counted once however many nodes saved it (or a view of it), and
    leaving out the storages of ``exclude`` (pass the parameters, which exist whether or not a
    graph is kept, to get the activation memory a backward pass holds)."""
    excluded = {id(tensor.untyped_storage()) for tensor in exclude}
    storages = {}
    for node in nodes(output):
        for tensor in saved_tensors(node):
            storage = tensor.untyped_storage()
            if id(storage) not in excluded:
                storages[id(storage)] = storage.nbytes
    return sum(storages.values())
