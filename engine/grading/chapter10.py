"""Checks for chapter 10, Gradient checkpointing (exercises/10_checkpointing.ipynb).

Expected values come from plain backward passes run without the learner's code, from the
engine's allocator counters (``engine.memory``), and from counting calls with forward hooks.
"""

from __future__ import annotations

import gc

import numpy as np

import engine
import engine.nn as nn
from engine import memory
from engine.autograd.graph import saved_tensors_hooks
from engine.grading.core import CheckFailed, exercise, expect, explain
from engine.utils.checkpoint import checkpoint, checkpoint_sequential

CHAPTER = "10_checkpointing"

CHECKPOINTS = (
    "engine.utils.checkpoint.checkpoint",
    "engine.utils.checkpoint.checkpoint_sequential",
    "torch.utils.checkpoint.checkpoint",
    "torch.utils.checkpoint.checkpoint_sequential",
)


def _chain(width: int, depth: int, seed: int = 0) -> nn.Module:
    engine.manual_seed(seed)
    return nn.Sequential(
        *[nn.Sequential(nn.Linear(width, width), nn.Tanh()) for _ in range(depth)]
    ).double()


def _grads(model, x) -> list[np.ndarray]:
    return [np.asarray(p.grad.tolist()) for p in model.parameters()] + [np.asarray(x.grad.tolist())]


@exercise(
    CHAPTER,
    "CheckpointFunction",
    "checkpointing as a custom Function: keep the inputs, run the block again in backward",
    forbidden=CHECKPOINTS,
    hints=(
        "forward(ctx, function, x): keep function and x (save x with ctx.save_for_backward) and "
        "return function(x) computed under engine.no_grad(), so nothing inside is saved.",
        "backward(ctx, grad): take x from ctx.saved_tensors, make a fresh leaf of it "
        "(x.detach().requires_grad_()), run function on it with grad enabled, and backward "
        "the result with grad.",
        "Return one gradient per forward argument: None for the function, and the fresh leaf's "
        ".grad for x. The parameters inside receive theirs from the inner backward.",
    ),
)
def check_checkpoint_function(checkpoint_function) -> str:
    expect(
        "CheckpointFunction",
        isinstance(checkpoint_function, type)
        and issubclass(checkpoint_function, engine.autograd.Function),
        f"expected a subclass of engine.autograd.Function, got {checkpoint_function!r}",
    )
    model = _chain(16, 4)
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    x = engine.tensor(np.linspace(-1, 1, 64).reshape(4, 16), requires_grad=True)
    model(x).pow(2).sum().backward()
    plain = _grads(model, x)
    model.zero_grad()
    x.grad = None
    calls.clear()
    gc.collect()
    before = memory.allocated()
    out = checkpoint_function.apply(model, x)
    kept = memory.allocated() - before - out.numel() * out.element_size()
    out.pow(2).sum().backward()
    case = "CheckpointFunction.apply(model, x) on a 4-block chain"
    expect(case, len(calls) == 2, f"the block ran {len(calls)} time(s); it should run twice")
    for got, want in zip(_grads(model, x), plain, strict=True):
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-12):
            raise CheckFailed(f"{case}: the gradients differ from a plain backward")
    expect(
        case,
        kept <= 64,
        f"{kept} bytes were kept after the forward pass: run the block under no_grad and keep "
        "only its input",
    )
    return "the block runs twice, keeps nothing but its input, and the gradients are exact"


@exercise(
    CHAPTER,
    "segments_for_budget",
    "the number of equal segments that fits a memory budget with the least recomputation",
    hints=(
        "For k segments of n/k blocks the peak is about k + n/k activations, and the "
        "recomputation is n - n/k blocks (the last segment is not checkpointed).",
        "More segments recompute more: try k = 1, 2, ... (divisors of n) and return the first "
        "that fits; None if none does.",
    ),
)
def check_segments_for_budget(segments_for_budget) -> str:
    cases = [
        (16, 8, 4),
        (16, 10, 2),
        (16, 17, 1),
        (16, 7, None),
        (12, 7.5, 3),
        (12, 8, 2),
        (9, 6, 3),
    ]
    for n, budget, want in cases:
        got = segments_for_budget(n, budget)
        if got != want:
            raise CheckFailed(
                f"segments_for_budget({n}, {budget}): expected {want}, got {got!r}"
                + (
                    f" (k = {got} fits, but {want} fits too and recomputes less)"
                    if isinstance(got, int) and want is not None and got > want
                    else ""
                )
            )
    return f"{len(cases)} budgets, the least recomputation that fits each"


@exercise(
    CHAPTER,
    "saved_activation_bytes",
    "count the bytes a computation saves for backward, each storage once, parameters apart",
    forbidden=(
        "engine.autograd.graph.saved_bytes",
        "engine.autograd.graph.saved_storage_bytes",
        "engine.autograd.graph.saved_tensors",
        "engine.autograd.graph.nodes",
    ),
    hints=(
        "engine.autograd.graph.saved_tensors_hooks(pack, unpack) calls pack on every tensor an "
        "op saves: record it there and return it unchanged.",
        "A tanh output is saved twice (by the tanh and by the next product): count each storage "
        "once, keyed by data_ptr(), and leave out the parameters' storages.",
    ),
)
def check_saved_activation_bytes(saved_activation_bytes) -> str:
    results = []
    for width, depth, batch in [(8, 3, 5), (16, 5, 2)]:
        model = _chain(width, depth)
        x = engine.ones(batch, width, dtype=engine.float64, requires_grad=True)
        got = saved_activation_bytes(model, x, list(model.parameters()))
        want = (depth + 1) * batch * width * 8
        if got != want:
            hint = ""
            if got == (2 * depth) * batch * width * 8:
                hint = " (a storage saved twice was counted twice)"
            elif isinstance(got, int) and got > want:
                hint = " (did you count the parameters too?)"
            raise CheckFailed(
                f"saved_activation_bytes for {depth} Linear+Tanh blocks of width {width}, "
                f"batch {batch}: expected {want}, got {got!r}{hint}"
            )
        results.append(got)
    return f"counted {results} bytes: each storage once, parameters apart"


@exercise(
    CHAPTER,
    "dropout_under_checkpoint",
    "predict whether a checkpointed dropout gives the plain gradient, with and without the "
    "random state restored",
    kind="predict",
    hints=(
        "Backward of a checkpoint runs the block again. What does dropout draw the second time?",
        "preserve_rng_state=True saves the generator's state before the block and restores it "
        "for the second run.",
    ),
)
def check_dropout_under_checkpoint(dropout_under_checkpoint) -> str:
    prediction = dropout_under_checkpoint()
    expect(
        "dropout_under_checkpoint()",
        isinstance(prediction, tuple) and len(prediction) == 2,
        f"return a tuple (with restore, without restore), got {prediction!r}",
    )
    engine.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Tanh()).double()
    x = engine.ones(4, 8, dtype=engine.float64)
    outcomes = []
    runs = [
        model,
        lambda t: checkpoint(model, t, use_reentrant=False),
        lambda t: checkpoint(model, t, use_reentrant=False, preserve_rng_state=False),
    ]
    for run in runs:
        model.zero_grad()
        engine.manual_seed(11)
        run(x).sum().backward()
        outcomes.append(np.asarray(model[0].weight.grad.tolist()))
    first = explain(
        "plain gradient with preserve_rng_state=True",
        prediction[0],
        bool(np.array_equal(outcomes[0], outcomes[1])),
        "The generator's state is restored for the recomputation: the same mask is drawn.",
    )
    second = explain(
        "plain gradient with preserve_rng_state=False",
        prediction[1],
        bool(np.array_equal(outcomes[0], outcomes[2])),
        "The second run draws a new mask, so the saved tensors no longer match the output the "
        "rest of the graph used: the gradient is silently different.",
    )
    return f"{first} {second}"


@exercise(
    CHAPTER,
    "forwards_per_step",
    "predict how many block forwards one checkpointed training step runs",
    kind="predict",
    hints=(
        "checkpoint_sequential runs every block once in the forward pass, and checkpoints all "
        "segments but the last.",
        "Each checkpointed segment runs its blocks once more during backward.",
    ),
)
def check_forwards_per_step(forwards_per_step) -> str:
    prediction = forwards_per_step()
    model = _chain(4, 12)
    calls = []
    for block in model:
        block.register_forward_hook(lambda *args: calls.append(1))
    x = engine.ones(2, 4, dtype=engine.float64, requires_grad=True)
    checkpoint_sequential(model, 3, x, use_reentrant=False).sum().backward()
    return explain(
        "block forwards in one step of checkpoint_sequential(model, 3, x) over 12 blocks",
        prediction,
        len(calls),
        "12 in the forward pass, then the first two segments (8 blocks) run again in backward; "
        "the last segment's activations were kept.",
    )


@exercise(
    CHAPTER,
    "offload_hooks",
    "fix saved-tensor hooks that were meant to halve the memory",
    kind="debug",
    hints=(
        "Measure: how many bytes does the graph keep after the forward pass, with and without "
        "your hooks?",
        "Whatever pack keeps a reference to stays alive. What does the list hold?",
    ),
)
def check_offload_hooks(offload_hooks) -> str:
    pair = offload_hooks()
    expect(
        "offload_hooks()",
        isinstance(pair, tuple) and len(pair) == 2,
        f"return (pack, unpack), got {pair!r:.60}",
    )
    pack, unpack = pair
    x = engine.tensor(np.linspace(-1, 1, 100_000) * 0.1, requires_grad=True)

    def chain(t):
        return t.tanh().tanh().tanh().tanh()  # each result saved once, by its tanh

    kept = {}
    grads = {}
    for name, hooks in [("plain", None), ("hooks", (pack, unpack))]:
        x.grad = None
        gc.collect()
        before = memory.allocated()
        if hooks is None:
            out = chain(x)
        else:
            with saved_tensors_hooks(*hooks):
                out = chain(x)
        kept[name] = memory.allocated() - before - out.numel() * out.element_size()
        out.sum().backward()
        del out
        grads[name] = np.asarray(x.grad.tolist())
    case = "offload_hooks() on a chain of four tanh"
    expect(
        case,
        np.allclose(grads["hooks"], grads["plain"], rtol=1e-2),
        "the gradients changed: unpack must give back a float32 tensor with the saved values",
    )
    expect(
        case,
        kept["hooks"] <= 0.7 * kept["plain"],
        f"the graph keeps {kept['hooks']} bytes with the hooks and {kept['plain']} without: "
        "the float32 originals are still alive",
    )
    return f"kept {kept['hooks']} bytes instead of {kept['plain']}, gradients within 1%"
