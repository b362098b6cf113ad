"""A micrograd-style *recursive* backward for ``engine.scalar.Value``, to time chapter 1's
scalar engine against, and the graph depth at which recursion gives up.

``recursive_backward`` differs from ``Value.backward`` only in how it finds a topological
order: a recursive depth-first search (micrograd's ``build_topo``), one Python frame per level
of the graph, instead of ``engine.scalar``'s loop with an explicit stack and a sort by creation
number.  Both zero the intermediate gradients first and run the same ``_backward`` closures, so
they give the same gradients (up to the order in which a node's contributions are summed,
which can move the last bit where a node has several consumers).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable

from engine.scalar import MLP, Value


def recursive_backward(root: Value) -> None:
    """``root.backward()`` with micrograd's recursive topological sort."""
    order: list[Value] = []
    visited: set[int] = set()

    def build(node: Value) -> None:
        if id(node) not in visited:
            visited.add(id(node))
            for child in node._prev:
                build(child)
            order.append(node)  # after all of its inputs

    build(root)
    for node in order:
        if node._prev:  # an intermediate node: its gradient belongs to this call only
            node.grad = 0.0
    root.grad += 1.0
    for node in reversed(order):
        node._backward()


def chain(depth: int) -> tuple[Value, Value]:
    """``(x, y)``: ``y`` is ``x`` through ``depth`` ops, alternately ``* 0.999`` and ``tanh``,
    so the graph is ``depth + 1`` nodes deep (the deepest a graph of that size can be)."""
    x = Value(0.5)
    y = x
    for step in range(depth):
        y = y * 0.999 if step % 2 == 0 else y.tanh()
    return x, y


def mlp_loss(batch: int = 16, seed: int = 0) -> tuple[MLP, Value]:
    """Chapter 1's ``MLP(2, [16, 16, 1])`` and its summed squared error on ``batch`` random
    points: a wide graph, about 1,500 nodes per point and a few dozen deep."""
    rng = random.Random(seed)
    model = MLP(2, [16, 16, 1], seed=seed)
    loss = Value(0.0)
    for _ in range(batch):
        point = [rng.uniform(-1, 1), rng.uniform(-1, 1)]
        error = model(point) - (1.0 if point[0] * point[1] > 0 else -1.0)
        loss = loss + error * error
    return model, loss


def graph_size(root: Value) -> tuple[int, int]:
    """``(nodes, depth)`` of ``root``'s graph, depth counted in nodes on the longest path."""
    from engine.scalar import topological_order

    order = topological_order(root)  # root first, each node before its inputs
    depth = {id(node): 1 for node in order}
    for node in order:
        for child in node._prev:
            depth[id(child)] = max(depth[id(child)], depth[id(node)] + 1)
    return len(order), max(depth.values())


def _fails(depth: int) -> bool:
    _, y = chain(depth)
    try:
        recursive_backward(y)
    except RecursionError:
        return True
    return False


def _in_fresh_thread(function: Callable[[], object]) -> object:
    """``function()`` run at the bottom of a new thread's stack, so that the frames of whoever
    called us (pytest, ``make bench``) do not count against the recursion limit."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def recursion_failure_depth() -> int:
    """The smallest chain depth (ops) at which ``recursive_backward`` raises RecursionError,
    called at the bottom of a fresh thread: deterministic for a given Python and recursion
    limit (``sys.getrecursionlimit()``, 1,000 by default)."""

    def search() -> int:
        low, high = 1, sys.getrecursionlimit() + 10  # low works, high fails
        assert not _fails(low) and _fails(high)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if _fails(middle) else (middle, high)
        return high

    return _in_fresh_thread(search)


def iterative_handles(depth: int) -> bool:
    """Whether ``engine.scalar``'s own ``backward`` gets through a chain ``depth`` ops deep
    (it has no recursion, so only memory limits it): the gradient is checked to be finite."""
    x, y = chain(depth)
    y.backward()
    return x.grad == x.grad and abs(x.grad) < float("inf")
