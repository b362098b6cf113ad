"""Looking at a recorded backward graph: its nodes, and what they saved for backward."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from engine.autograd.function import AccumulateGrad, Node

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
    """The tensors ``node`` saved for its backward formula (empty once backward freed them)."""
    return [saved.tensor for saved in getattr(node, "_saved", []) if saved is not None]


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
