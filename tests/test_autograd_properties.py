"""Differential tests generated with hypothesis: small random programs over broadcastable,
possibly strided float64 leaves; the engine's gradients must equal torch's to 1e-10."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st

import engine
from engine import autograd

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `autograd_helpers`
from autograd_helpers import assert_grads_match, leaf_pair  # noqa: E402

UNARY = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "exp_tanh": lambda x: x.tanh().exp(),
    "square": lambda x: x * x,
    "neg": lambda x: -x,
    "sin": lambda x: x.sin(),
    "scale": lambda x: 0.5 * x + 1.0,
    "sum_last": lambda x: x.sum(-1, keepdim=True),
    "mean": lambda x: x.mean(),
    "transpose": lambda x: x.transpose(0, -1) if x.ndim else x,
    "flip_view": lambda x: x.unsqueeze(0).squeeze(0),
    "pow3": lambda x: x**3,
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "clamp": lambda x: x.clamp(-0.5, 0.5),
    "reverse_dims": lambda x: x.permute(*reversed(range(x.ndim))) if x.ndim else x,
    "step_slice": lambda x: x[..., ::2] if x.ndim else x,
    "expand_sum": lambda x: x.unsqueeze(0).expand(2, *x.shape).sum(0),
    "reshape_flat": lambda x: x.reshape(-1).reshape(x.shape),
}
BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "safe_div": lambda x, y: x / (1.0 + y * y),
    "maximum": lambda x, y: (torch if isinstance(x, torch.Tensor) else engine).maximum(x, y),
    "add_alpha": lambda x, y: x.add(y, alpha=-0.75),
    "where": lambda x, y: (torch if isinstance(x, torch.Tensor) else engine).where(x > y, x, y * 2),
}


@st.composite
def programs(draw):
    """Leaves of broadcastable shapes and a list of steps over a growing pool of values."""
    base = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    count = draw(st.integers(1, 3))
    shapes = []
    for _ in range(count):
        suffix = base[len(base) - draw(st.integers(0, len(base))) :]
        shapes.append(tuple(size if draw(st.booleans()) else 1 for size in suffix))
    contiguous = [draw(st.booleans()) for _ in shapes]
    steps = []
    for position in range(draw(st.integers(1, 5))):
        pool_size = count + position
        if draw(st.booleans()):
            steps.append(
                (draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, pool_size - 1)))
            )
        else:
            steps.append(
                (
                    draw(st.sampled_from(sorted(BINARY))),
                    draw(st.integers(0, pool_size - 1)),
                    draw(st.integers(0, pool_size - 1)),
                )
            )
    seed = draw(st.integers(0, 2**16))
    return shapes, contiguous, steps, seed


def run_or_error(program_steps, engine_leaves, torch_leaves):
    """Both results, or None when the program is invalid (shapes that do not broadcast): then
    the engine must raise the same exception type as torch."""
    try:
        torch_total = run(program_steps, torch_leaves)
    except Exception as torch_error:  # noqa: BLE001 - compare whatever torch raises
        try:
            run(program_steps, engine_leaves)
        except Exception as engine_error:  # noqa: BLE001
            assert type(engine_error) is type(torch_error), (engine_error, torch_error)
            event("invalid program: both raise the same error")
            return None
        raise AssertionError(f"torch raised {torch_error!r}, the engine did not") from None
    return run(program_steps, engine_leaves), torch_total


def run(program_steps, leaves):
    pool = list(leaves)
    for step in program_steps:
        if step[0] in UNARY:
            pool.append(UNARY[step[0]](pool[step[1]]))
        else:
            pool.append(BINARY[step[0]](pool[step[1]], pool[step[2]]))
    # Every value contributes, with a different weight, so that every path is exercised.
    total = 0.0
    for weight, value in enumerate(pool[len(leaves) :], start=1):
        total = total + value.sum() * (weight / 3)
    return total


@settings(max_examples=2000, deadline=None)
@given(programs())
def test_random_programs_match_torch(program):
    shapes, contiguous, steps, seed = program
    rng = np.random.default_rng(seed)
    pairs = [
        leaf_pair(rng.uniform(-1.5, 1.5, shape), flag)
        for shape, flag in zip(shapes, contiguous, strict=True)
    ]
    ours, theirs = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    totals = run_or_error(steps, ours, theirs)
    if totals is None:
        return
    total, torch_total = totals
    assert abs(total.item() - torch_total.item()) <= 1e-10 * (1 + abs(torch_total.item()))
    assert_grads_match(
        autograd.grad(total, ours, allow_unused=True),
        torch.autograd.grad(torch_total, theirs, allow_unused=True),
    )


@settings(max_examples=400, deadline=None)
@given(programs())
def test_random_programs_second_order_match_torch(program):
    shapes, contiguous, steps, seed = program
    rng = np.random.default_rng(seed)
    pairs = [leaf_pair(rng.uniform(-1.5, 1.5, shape), True) for shape in shapes]
    if run_or_error(steps, [p[0] for p in pairs], [p[1] for p in pairs]) is None:
        return
    results = []
    for module, leaves in ((engine, [p[0] for p in pairs]), (torch, [p[1] for p in pairs])):
        grads = module.autograd.grad(
            run(steps, leaves), leaves, create_graph=True, allow_unused=True
        )
        total = sum((g * g).sum() for g in grads if g is not None)
        if not isinstance(total, module.Tensor) or not total.requires_grad:
            results.append(None)
            continue
        results.append(module.autograd.grad(total, leaves, allow_unused=True))
    if results[0] is None or results[1] is None:
        return  # a program whose gradient is constant: nothing to compare at second order
    cleaned = [None if g is None or g._is_zerotensor() else g for g in results[1]]
    ours = [
        None if mine is None and reference is None else mine
        for mine, reference in zip(results[0], cleaned, strict=True)
    ]
    for index, (mine, reference) in enumerate(zip(ours, cleaned, strict=True)):
        if reference is None and mine is not None:
            assert np.all(mine.numpy() == 0), f"input {index}: torch None, engine nonzero"
            ours[index] = None
        if mine is None and reference is not None:
            assert np.all(reference.numpy() == 0), f"input {index}: engine None, torch nonzero"
            cleaned[index] = None
    assert_grads_match(ours, cleaned, rtol=1e-9, atol=1e-11)
