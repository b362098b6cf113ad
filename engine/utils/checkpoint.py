"""Gradient checkpointing: keep a block's inputs instead of everything its ops save, and
compute the block again during backward when its saved tensors are needed.

``checkpoint(function, *args, use_reentrant=False)`` is built on saved-tensor hooks, as torch's
non-reentrant checkpoint is: inside the block every op's saved tensor is *packed* to a number
(its position in the block), so nothing is kept; the first time backward unpacks one of them,
the block runs again (with the random-number state it had the first time, if asked) and every
tensor it saves is kept by position; each unpack then returns the recomputed tensor with the
same position.  The reentrant variant (``use_reentrant=True``, torch 2.13's default when the
argument is not given) is a ``Function`` that runs the block under ``no_grad`` and runs a
backward of its own during the outer backward.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from engine import random as engine_random
from engine.autograd import grad_mode
from engine.autograd.backward_engine import backward as autograd_backward
from engine.autograd.function import Function
from engine.autograd.graph import saved_tensors_hooks
from engine.tensor import Tensor

_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
    "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants."
)


def _detached_like(value):
    """A tensor argument as the recomputation sees it: the same storage, a new leaf that
    requires grad exactly when the original did (so the same ops save the same tensors)."""
    if isinstance(value, Tensor):
        return value.detach().requires_grad_(value.requires_grad)
    return value


class _Recomputation:
    """One checkpointed call: what it needs to run again, and what the second run saved."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state = rng_state
        self.count = 0  # tensors packed by the first run
        self.recomputed: list[Tensor | None] | None = None

    def pack(self, tensor: Tensor) -> int:
        self.count += 1
        return self.count - 1

    def unpack(self, position: int) -> Tensor:
        if self.recomputed is None or self.recomputed[position] is None:
            # first unpack of this backward (a second backward, with retain_graph, runs the
            # block once more, as torch does)
            self.recomputed = self.run_again()
        tensor = self.recomputed[position]
        # Each recomputed tensor is needed once per backward: drop it now, so that a segment's
        # activations are freed one by one as its backward runs, not all at its end.
        self.recomputed[position] = None
        return tensor

    def run_again(self) -> list[Tensor]:
        saved: list[Tensor] = []

        def keep(tensor: Tensor) -> int:
            saved.append(tensor)
            return len(saved) - 1

        current = engine_random.get_rng_state()
        if self.rng_state is not None:
            engine_random.set_rng_state(self.rng_state)
        try:
            args = tuple(_detached_like(value) for value in self.args)
            with grad_mode.enable_grad(), saved_tensors_hooks(keep, saved.__getitem__):
                self.function(*args, **self.kwargs)
        finally:
            engine_random.set_rng_state(current)
        if len(saved) != self.count:
            raise RuntimeError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation.\\nNumber of tensors saved during forward: "
                f"{self.count}\\nNumber of tensors saved during recomputation: {len(saved)}"
            )
        return saved


class _ReentrantCheckpoint(Function):
    """Run the block under no_grad; in backward, run it again with grad and backward it."""

    @staticmethod
    def forward(ctx, function, rng_state, *args):
        ctx.function, ctx.rng_state = function, rng_state
        # The tensor inputs are what this variant keeps: saved like any op's (so saved-tensor
        # hooks see them, and an in-place change before backward is caught), the rest as is.
        ctx.positions = [i for i, value in enumerate(args) if isinstance(value, Tensor)]
        ctx.others = [value for value in args if not isinstance(value, Tensor)]
        ctx.save_for_backward(*(args[i] for i in ctx.positions))
        with grad_mode.no_grad():
            return function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        current = engine_random.get_rng_state()
        if ctx.rng_state is not None:
            engine_random.set_rng_state(ctx.rng_state)
        try:
            tensors, others = iter(ctx.saved_tensors), iter(ctx.others)
            count = len(ctx.positions) + len(ctx.others)
            inputs = tuple(
                _detached_like(next(tensors)) if i in ctx.positions else next(others)
                for i in range(count)
            )
            with grad_mode.enable_grad():
                outputs = ctx.function(*inputs)
        finally:
            engine_random.set_rng_state(current)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [
            (out, grad)
            for out, grad in zip(outputs, grad_outputs, strict=True)
            if isinstance(out, Tensor) and out.requires_grad and grad is not None
        ]
        if pairs:
            autograd_backward([out for out, _ in pairs], [grad for _, grad in pairs])
        grads = tuple(
            value.grad if isinstance(value, Tensor) and value.requires_grad else None
            for value in inputs
        )
        return (None, None, *grads)


def checkpoint(
    function: Callable,
    *args,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    **kwargs,
) -> object:
    """``function(*args, **kwargs)``, keeping for backward only what is needed to run it
    again (torch's ``torch.utils.checkpoint.checkpoint``).  Gradients are the same as without
    checkpointing; the block runs twice.  With ``preserve_rng_state`` the second run draws the
    same random numbers (dropout gives the same mask)."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True  # torch 2.13's default when the argument is not given
    rng_state = engine_random.get_rng_state() if preserve_rng_state else None
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if grad_mode.is_grad_enabled() and not any(
            isinstance(value, Tensor) and value.requires_grad for value in args
        ):
            # The reentrant variant's pitfall, as in torch: its output depends on the inputs
            # only, so the parameters inside get no gradient.
            warnings.warn(
                "None of the inputs have requires_grad=True. Gradients will be None",
                UserWarning,
                stacklevel=2,
            )
        return _ReentrantCheckpoint.apply(function, rng_state, *args)
    frame = _Recomputation(function, args, kwargs, rng_state)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(
    functions: Sequence[Callable],
    segments: int,
    input: Tensor,
    use_reentrant: bool | None = None,
    **kwargs,
) -> Tensor:
    """Run ``functions`` (a list or ``nn.Sequential``) one after the other in ``segments``
    chunks, checkpointing every chunk but the last (as torch does: the last one's saved tensors
    are needed right away by backward)."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments

    def run(start: int, end: int) -> Callable:
        def forward(x):
            for function in functions[start : end + 1]:
                x = function(x)
            return x

        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions) - 1)(input)
