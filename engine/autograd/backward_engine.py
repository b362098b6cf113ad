"""The backward engine: walk the graph from the outputs and call each node once.

Like torch's engine, it first counts, for every node, how many edges lead into it
(``dependencies``), then runs nodes from a ready queue.  A node is ready when every node that
sends it a gradient has run; by then its input buffer holds the SUM of its incoming gradients.
Of the ready nodes, the one with the highest sequence number (the most recently created in the
forward pass) runs first; AccumulateGrad nodes have the highest number of all.  The traversal is
iterative, so a 100,000-op chain does not hit Python's recursion limit.
"""

from __future__ import annotations

import heapq
import itertools
import warnings
from collections.abc import Sequence

from engine.autograd import grad_mode
from engine.autograd.function import AccumulateGrad, BackwardNode, Node, gradient_edge


def _make_root_grads(outputs: Sequence, grad_outputs: Sequence | None) -> list:
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad can be implicitly created only for scalar outputs: got {len(outputs)} "
            f"outputs and {len(grad_outputs)} gradients"
        )
    grads = []
    for index, (output, grad) in enumerate(zip(outputs, grad_outputs, strict=True)):
        if grad is None:
            if not output.requires_grad:
                grads.append(None)
                continue
            if output.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not output.dtype.is_floating_point:
                raise RuntimeError(
                    "grad can be implicitly created only for real scalar outputs but got "
                    f"{output.dtype}"
                )
            grad = ones_like(output)
        elif not isinstance(grad, Tensor):
            grad = full_like(output, grad)
        elif tuple(grad.shape) != tuple(output.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{index}] has a shape of {grad.shape} and "
                f"output[{index}] has a shape of {output.shape}."
            )
        grads.append(grad)
    return grads


def _check_outputs(outputs: Sequence) -> None:
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )


def run_backward(
    outputs: Sequence,
    grad_outputs: Sequence | None,
    *,
    retain_graph: bool | None,
    create_graph: bool,
    inputs: Sequence | None = None,
    accumulate: bool = True,
    allow_unused: bool = True,
) -> list | None:
    """Backpropagate from ``outputs``.  With ``accumulate`` (``Tensor.backward``) gradients are
    added into leaves' ``.grad`` (only those in ``inputs`` when given); otherwise
    (``autograd.grad``) the gradients of ``inputs`` are returned and ``.grad`` is untouched."""
    outputs = list(outputs)
    _check_outputs(outputs)
    root_grads = _make_root_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    root_edges = [gradient_edge(output) for output in outputs]

    # Where the gradients we want arrive: (node, input_nr) for each input.
    targets = None
    if inputs is not None:
        targets = {}
        for position, tensor in enumerate(inputs):
            if not tensor.requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.setdefault(gradient_edge(tensor), []).append(position)
    if targets is None:
        needed = None
        dependencies = _count_all_dependencies(root_edges)
    else:
        needed = _needed_nodes(root_edges, targets)
        dependencies = _count_dependencies(root_edges, needed)

    captured: list = [None] * (len(inputs) if inputs is not None else 0)
    reached = [False] * len(captured)
    buffers: dict[Node, list] = {}
    ready: list = []
    tie_breaker = itertools.count()

    def send(node: Node, input_nr: int, grad) -> None:
        """Add ``grad`` into ``node``'s input buffer; queue the node once all have arrived."""
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * node._num_outputs()
        if grad is not None:
            buffer[input_nr] = grad if buffer[input_nr] is None else buffer[input_nr] + grad
        remaining = dependencies[node] - 1
        dependencies[node] = remaining
        if remaining == 0:
            heapq.heappush(ready, (-node._sequence_nr_value, next(tie_breaker), node))

    with grad_mode.set_grad_enabled(create_graph):
        for (node, input_nr), grad in zip(root_edges, root_grads, strict=True):
            if node in dependencies:
                send(node, input_nr, grad)
        while ready:
            _, _, node = heapq.heappop(ready)
            grads = buffers.pop(node)
            if node._tensor_pre_hooks or node._retained:
                grads = _run_tensor_hooks(node, grads)
            run_node = True
            if targets is not None:
                for input_nr, grad in enumerate(grads):
                    for position in targets.get((node, input_nr), ()):
                        captured[position] = grad
                        reached[position] = True
                # With `inputs`, only leaves in `inputs` are accumulated into, and a captured
                # node runs only when other wanted gradients lie beyond it.
                run_node = node in needed["through"]
                if accumulate and isinstance(node, AccumulateGrad) and (node, 0) in targets:
                    run_node = True
            if not run_node:
                continue
            if grads.count(None) == len(grads):
                next_grads = [None] * len(node.next_functions)
            elif isinstance(node, BackwardNode):
                if None in grads and node._materialize_grads:
                    grads = _materialize(node, grads)
                if grad_mode.ANOMALY_MODE.enabled:
                    next_grads = _apply_detecting_anomalies(node, grads)
                else:
                    next_grads = _validate_outputs(node, node.apply(tuple(grads)))
                if not retain_graph and node._saved:
                    node._release_saved()
            else:
                next_grads = node.apply(tuple(grads))
            for (next_node, input_nr), grad in zip(node.next_functions, next_grads, strict=False):
                if next_node is not None and next_node in dependencies:
                    send(next_node, input_nr, grad)

    if inputs is None:
        return None
    if accumulate:
        # backward(inputs=[non_leaf]) fills the non-leaf's .grad, as in torch.
        for tensor, grad in zip(inputs, captured, strict=True):
            if tensor.grad_fn is not None and grad is not None:
                with grad_mode.set_grad_enabled(create_graph):
                    tensor._grad = grad if tensor._grad is None else tensor._grad + grad
        return None
    for position, was_reached in enumerate(reached):
        if not was_reached and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {position} appears to not have been used in "
                "the graph. Set allow_unused=True if this is the desired behavior."
            )
    return captured


def _materialize(node: BackwardNode, grads: list) -> list:
    """Missing output gradients of a Function's node become zeros (unless the Function asked
    for None with ``ctx.set_materialize_grads(False)``, and then this is not called)."""
    return [
        zeros(shape, dtype=dtype) if grad is None else grad
        for grad, (shape, dtype) in zip(grads, node._output_meta, strict=True)
    ]


def _apply_detecting_anomalies(node: BackwardNode, grads: list) -> tuple:
    """Anomaly mode (torch's ``detect_anomaly``): run the node; if it raises, or returns a NaN
    gradient (when ``check_nan``), warn with the traceback of the forward call that created
    it, then raise."""
    try:
        next_grads = _validate_outputs(node, node.apply(tuple(grads)))
        if grad_mode.ANOMALY_MODE.check_nan:
            for index, grad in enumerate(next_grads):
                if grad is not None and grad.detach().isnan().any().item():
                    raise RuntimeError(
                        f"Function '{node.name()}' returned nan values in its {index}th output."
                    )
    except Exception:
        stack = getattr(node, "_forward_stack", None)
        if stack is None:
            message = (
                f"Error detected in {node.name()}. No forward pass information available. "
                "Enable detect anomaly during forward pass for more information."
            )
        else:
            message = (
                f"Error detected in {node.name()}. Traceback of forward call that caused the "
                "error:\n" + "".join(stack)
            )
        warnings.warn(message, UserWarning, stacklevel=2)
        raise
    return next_grads


def _validate_outputs(node: Node, grads: tuple) -> tuple:
    """torch's ``validate_outputs``: each gradient a node returns must be a Tensor (or None)
    whose shape its input's shape expands to; it is then summed to the input's shape
    (``sum_to``) and cast to the input's dtype.  Any other shape is the node's bug."""
    checked = []
    for index, (grad, meta) in enumerate(zip(grads, node._input_meta, strict=True)):
        if meta is None or grad is None:
            checked.append(None)
            continue
        if not isinstance(grad, Tensor):
            raise TypeError(
                f"function {node.name()} returned a gradient of type {type(grad).__name__} at "
                f"index {index}; expected a Tensor or None"
            )
        shape, dtype = meta
        if grad._shape != shape:
            if not is_expandable_to(shape, grad._shape):
                raise RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {index} - "
                    f"got {list(grad.shape)} but expected shape compatible with {list(shape)}"
                )
            grad = sum_to_shape(grad, shape)
        if grad.dtype is not dtype:
            grad = grad.to(dtype)
        checked.append(grad)
    return tuple(checked)


def _run_tensor_hooks(node: Node, grads: list) -> list:
    """Tensor hooks registered on this node's outputs, then retain_grad (torch runs it last)."""
    for output_nr, hooks in node._tensor_pre_hooks.items():
        for hook in list(hooks.values()):
            if grads[output_nr] is None:
                break
            replacement = hook(grads[output_nr])
            if replacement is not None:
                grads[output_nr] = replacement
    for output_nr, reference in node._retained.items():
        tensor = reference()
        grad = grads[output_nr]
        if tensor is None or grad is None:
            continue
        tensor._grad = grad.clone() if tensor._grad is None else tensor._grad + grad
        if not grad_mode.is_grad_enabled():
            tensor._grad = tensor._grad.detach()
    return grads


def _count_all_dependencies(root_edges: list) -> dict[Node, int]:
    """Fast path of :func:`_needed_nodes` + :func:`_count_dependencies` for a backward without
    ``inputs`` (torch's engine also skips its "needed" pass then): every reachable node runs,
    so one walk counts, for each node, the edges that lead into it plus its root edges."""
    dependencies: dict[Node, int] = {}
    stack = []
    for node, _ in root_edges:
        if node in dependencies:
            dependencies[node] += 1
        else:
            dependencies[node] = 1
            stack.append(node)
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is None:
                continue
            if child in dependencies:
                dependencies[child] += 1
            else:
                dependencies[child] = 1
                stack.append(child)
    return dependencies


def _children(node: Node):
    return (next_node for next_node, _ in node.next_functions if next_node is not None)


def _needed_nodes(root_edges: list, targets: dict | None) -> dict:
    """Which nodes must run.  Without targets: every node reachable from the roots.  With
    targets: nodes from which some target can be reached ("through": the target lies strictly
    beyond them) plus the target nodes themselves (where gradients are captured)."""
    reachable: list[Node] = []
    seen: set[Node] = set()
    stack = [node for node, _ in root_edges]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        reachable.append(node)
        stack.extend(_children(node))
    if targets is None:
        return {"all": seen, "through": seen}
    target_nodes = {node for node, _ in targets}
    # A node leads to a target if one of its children is a target or leads to one.  Process
    # nodes children-first with an explicit post-order walk.
    leads: dict[Node, bool] = {}
    for start in reachable:
        if start in leads:
            continue
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node in leads:
                continue
            if expanded:
                leads[node] = any(
                    child in target_nodes or leads.get(child, False) for child in _children(node)
                )
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if child not in leads)
    through = {node for node, value in leads.items() if value}
    return {"all": through | target_nodes, "through": through}


def _count_dependencies(root_edges: list, needed: dict) -> dict[Node, int]:
    """For each node that will receive gradients: how many edges (from running nodes) lead
    into it, plus one per root edge pointing at it."""
    allowed = needed["all"]
    running = needed["through"]
    dependencies: dict[Node, int] = {}
    stack = []
    for node, _ in root_edges:
        if node in allowed:
            if node not in dependencies:
                stack.append(node)
            dependencies[node] = dependencies.get(node, 0) + 1
    visited: set[Node] = set()
    while stack:
        node = stack.pop()
        if node in visited:
            continue
        visited.add(node)
        if node not in running:
            continue
        for child in _children(node):
            if child in allowed:
                dependencies[child] = dependencies.get(child, 0) + 1
                if child not in visited:
                    stack.append(child)
    return dependencies


# ------------------------------------------------------------ the public entry points
def _as_list(value) -> list | None:
    if value is None:
        return None
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | float | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (only ``inputs`` when given).

    ``grad_tensors`` are the vectors of the vector-Jacobian products, one per tensor (optional
    for single-element tensors).  The graph's saved tensors are freed afterwards unless
    ``retain_graph``; ``create_graph`` records the backward pass itself, for higher derivatives.
    """
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors)
    input_list = _as_list(inputs)
    if input_list is not None and not input_list:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(
        outputs,
        grads,
        retain_graph=retain_graph,
        create_graph=create_graph,
        inputs=input_list,
        accumulate=True,
    )


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | float | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (one per input);
    ``.grad`` fields are not touched.  An input the outputs do not depend on is an error
    unless ``allow_unused`` (its gradient is then None, or zeros with ``materialize_grads``)."""
    output_list = _as_list(outputs)
    input_list = _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = run_backward(
        output_list,
        _as_list(grad_outputs),
        retain_graph=retain_graph,
        create_graph=create_graph,
        inputs=input_list,
        accumulate=False,
        allow_unused=allow_unused,
    )
    if materialize_grads:
        grads = [
            zeros_like(tensor) if value is None else value
            for tensor, value in zip(input_list, grads, strict=True)
        ]
    return tuple(grads)


# The ops are imported last: this module is loaded with the autograd package, which the op
# modules themselves import (for Function), so the ops may not be loaded yet at the top.
from engine.layout import is_expandable_to  # noqa: E402
from engine.ops.creation import full_like, ones_like, zeros, zeros_like  # noqa: E402
from engine.ops.reduction import sum_to_shape  # noqa: E402
from engine.tensor import Tensor  # noqa: E402
