"""Checks for chapter 12, Performance and scale (exercises/12_performance.ipynb).

Expected values come from NumPy and torch run without the learner's code: distances from an
explicit formula, strides and FLOPs from torch itself (``FlopCounterMode``), gradients from one
process on the whole batch, and ZeroRedundancyOptimizer's partition from its rule (largest
parameter first, to the least-loaded rank), which ``tests/test_distributed.py`` checks against
torch's own optimizer.  The bucketed all-reduce check runs the learner's function in two forked
processes joined by ``torch.distributed`` (gloo, on this machine only), counting the elements of
each ``all_reduce`` call.
"""

from __future__ import annotations

import os

import numpy as np

import engine
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.grading.core import CheckFailed, exercise, expect, explain

CHAPTER = "12_performance"


class _NoLoops(np.ndarray):
    """An array that refuses to be walked element by element or row by row from Python."""

    def __iter__(self):
        raise CheckFailed(
            "your answer iterates over an array in Python (a for loop or a comprehension "
            "over its rows): vectorize it with broadcasting"
        )

    def __getitem__(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(part, (int, np.integer)) for part in parts):
            raise CheckFailed(
                f"your answer indexes an array with an integer ({index!r}), as a Python loop "
                "does: vectorize it with broadcasting"
            )
        return super().__getitem__(index)


@exercise(
    CHAPTER,
    "pairwise_sq_distances",
    "squared Euclidean distances between two sets of points, without a Python loop",
    forbidden=(
        "torch.cdist",
        "scipy.spatial.distance.cdist",
        "sklearn.metrics.pairwise.euclidean_distances",
    ),
    hints=(
        "A[:, None, :] has shape (n, 1, d) and B[None, :, :] has shape (1, m, d): their "
        "difference broadcasts to (n, m, d).",
        "Square, then sum over the last axis. Or expand |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, "
        "which needs one matrix product and less memory.",
    ),
)
def check_pairwise_sq_distances(pairwise_sq_distances) -> str:
    rng = np.random.default_rng(12)
    cases = [(3, 4, 2), (1, 6, 5), (5, 1, 3), (7, 7, 1)]
    for n, m, d in cases:
        A, B = rng.standard_normal((n, d)), rng.standard_normal((m, d))
        if n == m:
            B[0] = A[0]  # a distance of exactly zero
        want = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
        got = pairwise_sq_distances(A.view(_NoLoops), B.view(_NoLoops))
        got = np.asarray(got)
        case = f"pairwise_sq_distances(A of shape {A.shape}, B of shape {B.shape})"
        expect(case, got.shape == (n, m), f"expected shape {(n, m)}, got {got.shape}")
        if not np.allclose(got, want, rtol=1e-9, atol=1e-9):
            raise CheckFailed(f"{case}: expected\n{np.round(want, 4)}\ngot\n{np.round(got, 4)}")
    return f"{len(cases)} pairs of point sets, no Python loop"


@exercise(
    CHAPTER,
    "predict_layouts",
    "predict strides and contiguity of channels-last and permuted tensors",
    kind="predict",
    forbidden=(
        "torch.Tensor.stride",
        "torch.Tensor.is_contiguous",
        "engine.Tensor.stride",
        "engine.Tensor.is_contiguous",
    ),
    hints=(
        "Channels-last keeps the shape (N, C, H, W) and stores the data in the order N, H, W, C: "
        "the last stored dimension, C, has stride 1.",
        "permute changes the shape and reorders the strides with it; contiguous() then writes "
        "the data in the new shape's row-major order.",
    ),
)
def check_predict_layouts(predict_layouts) -> str:
    import torch

    prediction = predict_layouts()
    expect(
        "predict_layouts()",
        isinstance(prediction, tuple) and len(prediction) == 3,
        f"return a tuple of three predictions, got {prediction!r:.80}",
    )
    x = torch.empty(2, 3, 4, 5)
    strides = x.to(memory_format=torch.channels_last).stride()
    permuted = x.permute(0, 2, 3, 1).is_contiguous()
    back = (
        x.permute(0, 2, 3, 1)
        .contiguous()
        .permute(0, 3, 1, 2)
        .is_contiguous(memory_format=torch.channels_last)
    )
    predicted = (
        tuple(prediction[0]) if isinstance(prediction[0], (list, tuple)) else prediction[0],
        prediction[1],
        prediction[2],
    )
    verdicts = [
        explain(
            "x.to(memory_format=torch.channels_last).stride() for x of shape (2, 3, 4, 5)",
            predicted[0],
            strides,
            "Stored as N, H, W, C: C has stride 1, W steps over the 3 channels, H over a row of "
            "5 pixels (15), N over a whole image (60); the shape is still (2, 3, 4, 5).",
        ),
        explain(
            "x.permute(0, 2, 3, 1).is_contiguous()",
            predicted[1],
            permuted,
            "permute only reorders the strides: (60, 5, 1, 20) for shape (2, 4, 5, 3) is not "
            "row-major.",
        ),
        explain(
            "x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)"
            ".is_contiguous(memory_format=torch.channels_last)",
            predicted[2],
            back,
            "contiguous() stores the permuted tensor as N, H, W, C; permuting back to (N, C, H, W) "
            "gives exactly channels-last strides, the usual way to get an NHWC view.",
        ),
    ]
    return " ".join(verdicts)


@exercise(
    CHAPTER,
    "step_flops",
    "count the FLOPs of the forward and backward of a chain of Linear layers, some frozen",
    forbidden=("torch.utils.flop_counter.FlopCounterMode",),
    hints=(
        "A Linear layer from n to m on a batch of b costs 2*b*n*m FLOPs forward; its backward "
        "has two products of that size, one for the weight's gradient, one for the input's.",
        "A frozen layer needs no weight gradient. An input gradient is needed only if some "
        "layer before it (closer to the input) needs a gradient; the batch itself never does.",
    ),
)
def check_step_flops(step_flops) -> str:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    cases = [
        (8, [4, 6, 3], 0),
        (5, [7, 2, 9, 4], 0),
        (5, [7, 2, 9, 4], 1),
        (3, [6, 5, 4, 3, 2], 2),
        (2, [3, 4], 1),
    ]
    for batch, widths, frozen in cases:
        torch.manual_seed(0)
        layers = [torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:])]
        for layer in layers[:frozen]:
            layer.requires_grad_(False)
        model = torch.nn.Sequential(*[m for layer in layers for m in (layer, torch.nn.ReLU())])
        with FlopCounterMode(display=False) as counter:
            out = model(torch.randn(batch, widths[0]))
        forward = counter.get_total_flops()
        with FlopCounterMode(display=False) as counter:
            if out.requires_grad:
                out.sum().backward()
        backward = counter.get_total_flops()
        got = step_flops(batch, list(widths), frozen)
        case = f"step_flops({batch}, {widths}, frozen={frozen})"
        expect(
            case,
            isinstance(got, tuple) and len(got) == 2,
            f"return (forward, backward), got {got!r:.80}",
        )
        if tuple(got) != (forward, backward):
            raise CheckFailed(f"{case}: expected {(forward, backward)}, got {tuple(got)}")
    return f"{len(cases)} chains match FlopCounterMode, frozen layers included"


def _model_and_grads(rank: int, world_size: int, images, labels) -> list:
    """The check's model (and a 2-element extra parameter), backward on this rank's rows."""
    engine.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    extra = engine.zeros(2, dtype=engine.float64, requires_grad=True)
    size = len(labels) // world_size
    rows = slice(rank * size, (rank + 1) * size)
    loss = F.cross_entropy(model(engine.tensor(images[rows])), engine.tensor(labels[rows]))
    (loss + (extra * float(rank + 1)).sum()).backward()
    return [*model.parameters(), extra]


def _bucket_worker(rank: int, world_size: int, candidate, images, labels, caps) -> list:
    import torch.distributed as dist

    original = dist.all_reduce
    results = []
    for cap in caps:
        params = _model_and_grads(rank, world_size, images, labels)
        sizes: list[int] = []

        def counting(tensor, *args, _sizes=sizes, **kwargs):
            _sizes.append(int(tensor.numel()))
            return original(tensor, *args, **kwargs)

        dist.all_reduce = counting
        try:
            candidate(params, cap)
        finally:
            dist.all_reduce = original
        grads = []
        for p in params:
            if not isinstance(p.grad, engine.Tensor):
                raise TypeError(f"a parameter's .grad is {type(p.grad).__name__}, not a Tensor")
            grads.append(np.asarray(p.grad.detach().numpy()).copy())
        results.append((sizes, grads))
    return results


def _bucket_sizes(numels: list[int], cap: int) -> list[int]:
    """Elements per bucket: last parameter first, a new bucket when the next would pass cap."""
    sizes: list[int] = []
    for n in reversed(numels):
        if sizes and sizes[-1] + n <= cap:
            sizes[-1] += n
        else:
            sizes.append(n)
    return sizes


@exercise(
    CHAPTER,
    "bucketed_all_reduce",
    "average the engine's gradients over processes in buckets, as DistributedDataParallel does",
    forbidden=(
        "engine.distributed.all_reduce_gradients",
        "torch.nn.parallel.DistributedDataParallel",
    ),
    hints=(
        "Walk reversed(list(parameters)), keeping the current bucket's parameters and its "
        "element count; when the next gradient would take the count past bucket_cap, reduce "
        "the bucket first and start a new one.",
        "To reduce a bucket: concatenate its gradients flattened, wrap them with "
        "torch.from_numpy, dist.all_reduce (a sum), divide by dist.get_world_size(), then cut "
        "the result back into pieces of the parameters' shapes.",
    ),
    timeout_hint="every process must make the same all_reduce calls, in the same order",
)
def check_bucketed_all_reduce(bucketed_all_reduce) -> str:
    import engine.distributed as distributed

    if not hasattr(os, "fork"):
        raise CheckFailed("this check starts two processes with fork, which Windows lacks")
    rng = np.random.default_rng(3)
    images, labels = rng.standard_normal((12, 6)), rng.integers(0, 3, 12)
    caps = [20, 8, 1, 1000]
    try:
        got = distributed.launch(
            _bucket_worker,
            2,
            (bucketed_all_reduce, images, labels, caps),
            start_method="fork",
            timeout_s=10,
        )
    except TimeoutError:
        raise CheckFailed(
            "the two processes were still waiting after 10 s: every process must make the "
            "same all_reduce calls, in the same order"
        ) from None
    except distributed.ProcessFailed as failure:
        if failure.original is not None:  # the learner's own exception, for the verdict
            raise failure.original from None
        raise
    engine.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    F.cross_entropy(model(engine.tensor(images)), engine.tensor(labels)).backward()
    want = [np.asarray(p.grad.numpy()) for p in model.parameters()] + [np.full(2, 1.5)]
    numels = [w.size for w in want]
    for cap, (sizes, grads) in zip(caps, got, strict=True):
        case = f"bucketed_all_reduce(parameters of {numels} elements, bucket_cap={cap})"
        expected = _bucket_sizes(numels, cap)
        if sizes != expected:
            raise CheckFailed(
                f"{case}: expected all_reduce calls on buckets of {expected} elements (last "
                f"parameter first), got calls on {sizes}"
                + (
                    " (call it as dist.all_reduce, so the check sees each call)"
                    if not sizes
                    else ""
                )
            )
        for index, (g, w) in enumerate(zip(grads, want, strict=True)):
            expect(case, g.shape == w.shape, f"parameter {index}: gradient of shape {g.shape}")
            if np.allclose(g, 2 * w, atol=1e-12) and not np.allclose(w, 0):
                raise CheckFailed(f"{case}: the gradients are twice too large: a sum, not a mean")
            if not np.allclose(g, w, rtol=1e-10, atol=1e-12):
                raise CheckFailed(
                    f"{case}: parameter {index}'s gradient differs from the whole batch's by "
                    f"{np.abs(g - w).max():.2e}"
                )
    return (
        f"buckets {', '.join(str(_bucket_sizes(numels, cap)) for cap in caps)} for caps "
        f"{caps}; gradients equal to one process on the whole batch"
    )


def _digits_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)), rng.integers(0, 3, n)


def _replicas(count: int) -> list[nn.Module]:
    models = []
    for _ in range(count):
        engine.manual_seed(9)
        models.append(nn.Sequential(nn.Linear(4, 3)).double())
    return models


def _weights(model: nn.Module) -> list[np.ndarray]:
    return [np.asarray(p.detach().numpy()).copy() for p in model.parameters()]


@exercise(
    CHAPTER,
    "data_parallel_step",
    "fix a simulated data-parallel step so every replica takes the full-batch step",
    kind="debug",
    forbidden=("engine.distributed.all_reduce_gradients",),
    hints=(
        "Run it with 2 replicas and 8 rows, then with 3 replicas and 10 rows, and compare each "
        "replica's weights with one model stepped on all rows.",
        "The full batch's mean loss is the sum of the per-row losses divided by the number of "
        "rows. What does each replica's mean divide by, and does every row belong to a shard?",
    ),
)
def check_data_parallel_step(data_parallel_step) -> str:
    for world_size, rows in [(2, 8), (3, 10), (4, 6)]:
        X, y = _digits_like(rows, seed=rows)
        (reference,) = _replicas(1)
        sgd = optim.SGD(reference.parameters(), lr=0.5)
        F.cross_entropy(reference(engine.tensor(X)), engine.tensor(y)).backward()
        sgd.step()
        want = _weights(reference)
        replicas = _replicas(world_size)
        optimizers = [optim.SGD(m.parameters(), lr=0.5) for m in replicas]
        data_parallel_step(replicas, optimizers, engine.tensor(X), engine.tensor(y))
        case = f"data_parallel_step with {world_size} replicas and {rows} rows"
        for rank, model in enumerate(replicas):
            got = _weights(model)
            if all(np.allclose(g, w, rtol=1e-10, atol=1e-12) for g, w in zip(got, want)):
                continue
            start = _replicas(1)[0]
            moved = [g - s for g, s in zip(got, _weights(start))]
            expected_move = [w - s for w, s in zip(want, _weights(start))]
            if all(
                np.allclose(m, world_size * e, rtol=1e-8, atol=1e-12)
                for m, e in zip(moved, expected_move)
            ):
                raise CheckFailed(
                    f"{case}: replica {rank} moved {world_size} times too far: the gradients "
                    "are summed over replicas, not averaged"
                )
            raise CheckFailed(
                f"{case}: replica {rank}'s weights differ from one step on the whole batch by "
                f"{max(np.abs(g - w).max() for g, w in zip(got, want)):.2e}"
                + (
                    f" ({rows} rows do not split evenly into {world_size} shards: is every row "
                    "used, and weighted like the others?)"
                    if rows % world_size
                    else ""
                )
            )
    return "every replica equals one full-batch step, also when the rows do not split evenly"


def _zero_partition_reference(numels: list[int], world_size: int) -> list[list[int]]:
    loads = [0] * world_size
    ranks: list[list[int]] = [[] for _ in range(world_size)]
    for index in sorted(range(len(numels)), key=lambda i: numels[i], reverse=True):
        rank = loads.index(min(loads))
        ranks[rank].append(index)
        loads[rank] += numels[index]
    return [sorted(r) for r in ranks]


@exercise(
    CHAPTER,
    "zero_partition",
    "assign parameters to ranks as ZeroRedundancyOptimizer does",
    forbidden=("torch.distributed.optim.ZeroRedundancyOptimizer",),
    hints=(
        "ZeroRedundancyOptimizer goes through the parameters from the largest to the smallest "
        "(equal sizes keep their order) and gives each to the rank holding the fewest elements "
        "so far (the lowest rank on a tie).",
        "Return, for each rank, the indices of its parameters in increasing order.",
    ),
)
def check_zero_partition(zero_partition) -> str:
    cases = [
        ([4096, 64, 640, 10], 2),
        ([5, 5, 5, 5], 2),
        ([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2),
        ([3, 3, 2, 2, 2], 3),
        ([1, 2, 3, 4, 5, 6, 7], 3),
        ([8], 3),
    ]
    for numels, world_size in cases:
        want = _zero_partition_reference(numels, world_size)
        got = zero_partition(list(numels), world_size)
        got = [sorted(int(i) for i in rank) for rank in got] if isinstance(got, list) else got
        if got != want:
            raise CheckFailed(
                f"zero_partition({numels}, {world_size}): expected {want}, got {got!r:.100}"
            )
    return f"{len(cases)} partitions, largest first to the least-loaded rank"
