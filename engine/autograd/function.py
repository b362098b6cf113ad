"""Graph nodes and the ``Function`` API: how an op records itself for backward.

Every differentiable op -- the engine's own and a learner's custom ones -- is a subclass of
:class:`Function` with two static methods, ``forward(ctx, *args)`` and
``backward(ctx, *grad_outputs)``.  ``Op.apply(*args)`` runs ``forward`` without recording
anything inside it, and, when grad mode is on and some input requires grad, makes the ``ctx``
a node of the backward graph: the outputs get it as their ``grad_fn``, and its
``next_functions`` point at the nodes that produced the inputs (an :class:`AccumulateGrad` for
a leaf).  As in torch, the ctx *is* the node, so ``ctx.saved_tensors`` and
``grad_fn.next_functions`` live on the same object.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import sys
import traceback
import weakref
from collections.abc import Callable

import numpy as np

from engine import layout
from engine.autograd import grad_mode

# Nodes are numbered in creation order; backward runs the ready node with the highest number
# first, which is the reverse of the order the forward pass created them in.
_sequence_numbers = itertools.count()

# torch gives AccumulateGrad the largest sequence number, so leaves are updated as soon as
# their gradient is complete.
_ACCUMULATE_SEQUENCE_NR = sys.maxsize


class Node:
    """A node of the backward graph (what ``tensor.grad_fn`` holds).

    ``next_functions``: one ``(node, input_nr)`` pair per differentiable input, ``(None, 0)``
    for inputs that do not require grad.  ``apply(grad_outputs)`` maps the gradients of this
    node's outputs to the gradients of its inputs (one per edge).
    """

    def __init__(self, sequence_nr: int | None = None) -> None:
        self._sequence_nr_value = next(_sequence_numbers) if sequence_nr is None else sequence_nr
        self.next_functions: tuple[tuple[Node | None, int], ...] = ()
        # output_nr -> {hook id: hook}: tensor hooks, run on the gradient before this node.
        self._tensor_pre_hooks: dict[int, dict[int, Callable]] = {}
        # output_nr -> weak reference to a non-leaf output that called retain_grad().
        self._retained: dict[int, weakref.ref] = {}

    def name(self) -> str:
        return type(self).__name__

    def _sequence_nr(self) -> int:
        return self._sequence_nr_value

    def _num_outputs(self) -> int:
        """How many forward outputs (gradients this node receives)."""
        return 1

    def apply(self, grad_outputs: tuple) -> tuple:
        raise NotImplementedError

    def __call__(self, *grad_outputs):
        return self.apply(grad_outputs)

    def _release_saved(self) -> None:
        """Free what was saved for backward (after a backward without retain_graph)."""

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    def __init__(self, variable) -> None:
        super().__init__(_ACCUMULATE_SEQUENCE_NR)
        self.variable = variable

    def apply(self, grad_outputs: tuple) -> tuple:
        (grad,) = grad_outputs
        if grad is not None:
            accumulate_into_grad(self.variable, grad)
        return ()


def accumulate_into_grad(variable: Tensor, grad: Tensor) -> None:
    """``variable.grad += grad``: in place when no graph is being built (references to
    ``.grad`` see the update, as in torch), out of place under ``create_graph``.  A first
    gradient is copied into a fresh tensor laid out like the variable: the incoming one may be
    an expanded view or be referenced elsewhere, and ``.grad`` must own its memory."""
    building_graph = grad_mode.GRAD_MODE.enabled
    if variable._grad is None:
        strides = variable._strides
        if strides == layout.contiguous_strides(variable._shape) and not (
            building_graph and grad.requires_grad
        ):
            # Fast path: a row-major variable gets a row-major copy, with no layout to work out
            # (torch steals the incoming gradient when nothing else holds it; we copy it).
            values = np.array(grad._array(), order="C")
            variable._grad = Tensor(values.reshape(-1), variable._shape, strides)
            return
        fresh = variable.new_empty_strided(
            variable.shape, layout.dense_strides_like(variable.shape, variable.stride())
        )
        if building_graph and grad.requires_grad:
            # Recorded (torch's .grad then has grad_fn CopyBackwards), so that create_graph
            # gradients can be differentiated again.
            variable._grad = fresh.copy_(grad)
        else:
            fresh._array()[...] = grad._array()
            variable._grad = fresh
    elif building_graph:
        variable._grad = variable._grad + grad
    else:
        variable._grad._array()[...] += grad._array()
        variable._grad._version_counter.value += 1


# The (pack, unpack) pairs of the open ``saved_tensors_hooks`` contexts, innermost last
# (``engine.autograd.graph.saved_tensors_hooks`` pushes and pops them); only the innermost pair
# applies, as in torch.
SAVED_TENSORS_HOOKS: list[tuple[Callable, Callable]] = []


class SavedTensor:
    """A tensor saved for backward plus the version it had then (to catch in-place edits).

    Inside a ``saved_tensors_hooks(pack, unpack)`` context the tensor itself is not kept: what
    ``pack(tensor)`` returns is, and ``unpack`` turns it back into a tensor when backward needs
    it.  The version check still applies, through the tensor's version counter.
    """

    __slots__ = ("tensor", "packed", "unpack_hook", "counter", "version", "source", "output_of")

    def __init__(self, tensor) -> None:
        if tensor._inference:
            raise RuntimeError(_INFERENCE_SAVED_MESSAGE)
        self.counter = tensor._version_counter
        self.version = self.counter.value
        self.source = id(tensor)  # compared with the op's outputs while it is being recorded
        self.output_of: Node | None = None  # set when the saved tensor is an output of the op
        if SAVED_TENSORS_HOOKS:
            pack, self.unpack_hook = SAVED_TENSORS_HOOKS[-1]
            with grad_mode.no_grad():  # as torch: what pack computes is not recorded
                self.tensor, self.packed = None, pack(tensor)
        else:
            self.tensor, self.packed, self.unpack_hook = tensor, None, None

    def unpack(self):
        tensor = self.tensor if self.unpack_hook is None else self.unpack_hook(self.packed)
        if self.counter.value != self.version:
            raise RuntimeError(_modified_message(tensor, self.version, self.output_of))
        return tensor


_TYPE_NAMES = {
    "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor",
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
}


def _modified_message(tensor, expected_version: int, output_of: Node | None) -> str:
    type_name = _TYPE_NAMES.get(tensor.dtype.name, "Tensor")
    description = f"[engine.{type_name} [{', '.join(str(size) for size in tensor.shape)}]]"
    producer = output_of if output_of is not None else tensor.grad_fn
    if producer is not None:
        # torch names the producing op without the "Backward0" suffix ("output 0 of Exp").
        op_name = re.sub(r"Backward\d*$", "", producer.name())
        description += f", which is output {tensor._output_nr} of {op_name},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {description} is at version {tensor._version}; expected version "
        f"{expected_version} instead. Hint: the tensor was saved for backward and then "
        "overwritten; use the out-of-place op (y = y.add(1) rather than y.add_(1)) or modify a "
        "clone()."
    )


_INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`."
)

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class FunctionCtx:
    """What ``forward`` receives as ``ctx`` when no graph is recorded: saving is a no-op."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *tensors) -> None:
        pass

    def mark_non_differentiable(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass

    def mark_dirty(self, *tensors) -> None:
        pass


class BackwardNode(Node, FunctionCtx):
    """The node (and ctx) of one call of a :class:`Function`; subclassed per Function so that
    its class name is the op's backward name (``MulBackward0``)."""

    _function: type[Function]

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        # Node.__init__ and FunctionCtx.__init__, written out: this runs once per recorded op.
        self._sequence_nr_value = next(_sequence_numbers)
        self.next_functions = ()
        self._tensor_pre_hooks = {}
        self._retained = {}
        self.needs_input_grad = needs_input_grad
        self._saved: list[SavedTensor | None] = []
        self._freed = False
        self._non_differentiable: set[int] = set()
        self._materialize_grads = True
        self._edge_positions: list[int] = []  # which forward args have an edge
        self._input_meta: list[tuple | None] = []  # (shape, dtype) per edge, None if no grad
        self._output_meta: list[tuple] = []  # (shape, dtype) per output

    # ---- ctx API used inside forward / backward
    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; read them back with ``ctx.saved_tensors``."""
        self._saved = [None if tensor is None else SavedTensor(tensor) for tensor in tensors]

    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors; RuntimeError if one was modified in place since it was saved, or
        if the graph was already freed by a backward without ``retain_graph=True``."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        tensors = []
        for saved in self._saved:
            tensors.append(None if saved is None else saved.unpack())
        return tuple(tensors)

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (e.g. indices): they will not require grad."""
        self._non_differentiable.update(id(tensor) for tensor in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether missing output gradients reach backward as zeros (default) or as None."""
        self._materialize_grads = bool(value)

    # ---- node API used by the backward engine
    def _num_outputs(self) -> int:
        return len(self._output_meta)

    def _release_saved(self) -> None:
        if self._saved:
            self._freed = True
            self._saved = []

    def apply(self, grad_outputs: tuple) -> tuple:
        """Run the Function's ``backward`` and return one gradient per edge, as it returned
        them (the backward engine then sums each to its input's shape and casts its dtype).
        Missing output gradients arrive as zeros when ``materialize_grads`` (the engine fills
        them in before calling, see :func:`engine.autograd.backward_engine.run_backward`)."""
        grads = self._function.backward(self, *grad_outputs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        expected = len(self.needs_input_grad)
        if len(grads) < expected or any(grad is not None for grad in grads[expected:]):
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients (expected "
                f"{expected}, got {len(grads)})"
            )
        edge_grads = []
        for position, meta in zip(self._edge_positions, self._input_meta, strict=True):
            edge_grads.append(None if meta is None else grads[position])
        return tuple(edge_grads)


class Function:
    """Base class of differentiable ops: subclass it with static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)`` and call ``YourOp.apply(*args)``.

    ``backward`` returns one gradient per ``forward`` argument (None for arguments that are not
    tensors or need no gradient), each shaped like its argument.  ``node_name`` sets the name of
    the graph node (default ``"<ClassName>Backward"``, as torch names custom functions).
    """

    node_name: str | None = None
    # Elementwise binary ops give a Python-number operand an empty edge, like torch's
    # `(x * 2).grad_fn.next_functions == ((AccumulateGrad, 0), (None, 0))`.
    numbers_are_inputs: bool = False
    # Positions of tensor arguments that never get a gradient and no edge (where's condition).
    non_differentiable_arguments: tuple[int, ...] = ()

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, ...)")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode: the tangents of the outputs from the tangents of the inputs (one per
        ``forward`` argument, None where there is none), as torch's ``Function.jvp``."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def _node_class(cls) -> type[BackwardNode]:
        node_class = cls.__dict__.get("_node_class_cache")
        if node_class is None:
            name = cls.__dict__.get("node_name") or f"{cls.__name__}Backward"
            node_class = type(name, (BackwardNode,), {"_function": cls})
            cls._node_class_cache = node_class
        return node_class

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and, if a gradient will be needed, record the node."""
        needs = []
        for argument in args:
            if isinstance(argument, Tensor):
                # The property refreshes a view's history; a non-view can skip it.
                needs.append(
                    argument.requires_grad
                    if argument._view_version is not None
                    else argument._requires_grad
                )
            else:
                needs.append(False)
        needs_input_grad = tuple(needs)
        mode = grad_mode.GRAD_MODE
        grad_enabled = mode.enabled
        recording = grad_enabled and True in needs
        if recording:
            node_class = cls.__dict__.get("_node_class_cache") or cls._node_class()
            ctx = node_class(needs_input_grad)
        else:
            ctx = FunctionCtx(needs_input_grad)
        # forward runs with grad mode off (nothing inside it is recorded).  Fast path, as
        # torch's AutoGradMode guard: the flag is flipped and restored in place, instead of
        # entering a no_grad() context manager for every op.
        if grad_enabled:
            mode.enabled = False
            try:
                outputs = cls.forward(ctx, *args, **kwargs)
            finally:
                mode.enabled = True
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        output_list = [outputs] if single else list(outputs)
        if grad_mode.FORWARD_AD.active:
            _forward_tangents(cls, ctx, args, output_list)
        if recording:
            _connect(ctx, args, output_list)
            if grad_mode.ANOMALY_MODE.enabled:
                ctx._forward_stack = forward_stack()
        if grad_enabled:
            for output in output_list:
                if isinstance(output, Tensor) and output._base is not None:
                    output._view_version = output._version_counter.value
        return output_list[0] if single else tuple(output_list)


def _forward_tangents(function: type[Function], ctx, args: tuple, outputs: list) -> None:
    """Forward mode: when some input has a tangent, the outputs get theirs from the Function's
    ``jvp``, computed with forward mode off (tangents of tangents are not tracked)."""
    tangents = []
    for argument in args:
        tangents.append(argument._tangent if isinstance(argument, Tensor) else None)
    if tangents.count(None) == len(tangents):
        return
    state = grad_mode.FORWARD_AD
    state.active = False
    try:
        result = function.jvp(ctx, *tangents)
    finally:
        state.active = True
    output_tangents = result if isinstance(result, tuple) else (result,)
    for output, tangent in zip(outputs, output_tangents, strict=False):
        if tangent is None or not isinstance(output, Tensor) or not output.dtype.is_floating_point:
            continue
        set_tangent(output, tangent)


def set_tangent(tensor: Tensor, tangent: Tensor | float) -> None:
    """Give ``tensor`` the tangent ``tangent`` at the open dual level: a number or a tensor
    that broadcasts to it, converted to its shape and dtype (as torch's forward AD checks)."""
    if not isinstance(tangent, Tensor):
        tangent = tensor.new_zeros(tensor._shape) + tangent
    if tangent._shape != tensor._shape:
        tangent = tangent.expand(tensor._shape).contiguous()
    if tangent.dtype is not tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    tensor._tangent = tangent
    grad_mode.FORWARD_AD.duals[id(tensor)] = tensor


def _connect(node: BackwardNode, args: tuple, outputs: list) -> None:
    """Make ``node`` the grad_fn of ``outputs`` and link it to the nodes of ``args``."""
    function = node._function
    edges, positions, input_meta = [], [], []
    for position, argument in enumerate(args):
        if position in function.non_differentiable_arguments:
            continue
        if isinstance(argument, Tensor):
            if node.needs_input_grad[position]:  # forward ran with grad off: still valid
                edges.append(gradient_edge(argument))
                input_meta.append((argument._shape, argument.dtype))
            else:
                edges.append((None, 0))
                input_meta.append(None)
            positions.append(position)
        elif function.numbers_are_inputs and not isinstance(argument, str):
            edges.append((None, 0))
            input_meta.append(None)
            positions.append(position)
    node.next_functions = tuple(edges)
    node._edge_positions = positions
    node._input_meta = input_meta
    for output_nr, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            continue
        marked = id(output) in node._non_differentiable
        for argument in args:
            if argument is output:
                # forward returned an input unchanged: the output must be a new tensor object
                # (an alias of the same storage) so that the input keeps its own grad_fn.
                output = output._view(output._shape, output._strides, output._storage_offset)
                outputs[output_nr] = output
                break
        node._output_meta.append((output._shape, output.dtype))
        if marked or not output.dtype.is_floating_point:
            continue
        output._grad_fn = node
        output._output_nr = output_nr
        output._requires_grad = True
    produced = {id(output) for output in outputs if isinstance(output, Tensor)}
    for saved in node._saved:
        if saved is not None and saved.source in produced:
            saved.output_of = node


_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def forward_stack() -> list[str]:
    """The Python stack of the op being recorded, as ``traceback.format_stack`` lines, without
    the engine's own frames (torch's ops are C++, so its stack shows only the caller's code).
    Kept on each node while anomaly detection is on."""
    return [
        line
        for frame, line in zip(traceback.extract_stack(), traceback.format_stack(), strict=True)
        if not frame.filename.startswith(_ENGINE_DIR)
    ]


class DelayedError(Function):
    """The node that :func:`once_differentiable` puts on the gradients it returns under
    ``create_graph``: differentiating through it raises (torch's ``DelayedError``)."""

    node_name = "Error"  # torch's node: type(grad_fn).__name__ == "Error"

    @staticmethod
    def forward(ctx, *tensors):
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(backward: Callable) -> Callable:
    """Decorate a Function's ``backward`` that is not itself differentiable (torch's
    ``torch.autograd.function.once_differentiable``): it runs under ``no_grad``, and when a
    graph of the backward pass is being built (``create_graph=True``) and some incoming
    gradient requires grad, its results are routed through a :class:`DelayedError` node, so
    that a double backward fails loudly instead of silently giving zero."""

    @functools.wraps(backward)
    def wrapper(ctx, *args, **kwargs):
        with grad_mode.no_grad():
            outputs = backward(ctx, *args, **kwargs)
        if not grad_mode.is_grad_enabled():
            return outputs
        if not any(isinstance(arg, Tensor) and arg.requires_grad for arg in args):
            return outputs
        single = not isinstance(outputs, tuple)
        values = (outputs,) if single else outputs
        aliases = []
        for value in values:
            if isinstance(value, Tensor):
                value = value.detach()
                value.requires_grad = True
            aliases.append(value)
        errors = DelayedError.apply(*aliases)
        return errors if single or isinstance(errors, tuple) else (errors,)

    return wrapper


def gradient_edge(tensor: Tensor) -> tuple[Node, int]:
    """The ``(node, input_nr)`` a gradient for ``tensor`` flows into: its grad_fn, or the
    AccumulateGrad node of a leaf (one per leaf, created on first use)."""
    grad_fn = tensor.grad_fn if tensor._view_version is not None else tensor._grad_fn
    if grad_fn is not None:
        return (grad_fn, tensor._output_nr)
    accumulator = tensor._grad_accumulator
    return (accumulator if accumulator is not None else grad_accumulator(tensor), 0)


def grad_accumulator(tensor: Tensor) -> AccumulateGrad:
    """The AccumulateGrad node of the leaf ``tensor``, created on first use and kept on the
    tensor, so that every gradient for the leaf flows into the same node (torch's
    ``grad_accumulator``)."""
    accumulator = tensor._grad_accumulator
    if accumulator is None:
        accumulator = AccumulateGrad(tensor)
        tensor._grad_accumulator = accumulator
    return accumulator


# Tensor is one layer down, but imported last: loading engine.tensor loads the op modules
# (Tensor's methods are the ops), and they need this module's classes to exist already.
# An import at the top of a function would run on every op; this one runs once.
from engine.tensor import Tensor  # noqa: E402
