"""Data parallelism on ``torch.distributed``, for chapter 12: the engine's gradient all-reduce,
a launcher for a few local processes, and the chapter's demo worker.

The engine has no communication layer of its own and does not pretend to: scaling past one
process goes through ``torch.distributed`` (the gloo backend on CPU, NCCL between GPUs), the
library people actually use.  The engine's part is small: its gradients are NumPy arrays, which
``torch.from_numpy`` wraps without a copy, so one ``all_reduce`` per dtype averages them over
the processes (:func:`all_reduce_gradients`).

Why this is a module and not a notebook cell: the ``spawn`` start method (the only one on
macOS and Windows, and the safe one once threads exist) starts a fresh interpreter that imports
the function it runs by module and name, and a function defined in a notebook cell has no
importable name.

torch is imported inside the functions, so ``import engine`` stays free of it (the engine
needs only NumPy); this module is imported explicitly, ``import engine.distributed``.
"""

from __future__ import annotations

import copy
import datetime
import multiprocessing
import os
import pickle
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from engine.nn import Linear, ReLU, Sequential
from engine.nn import functional as F
from engine.ops.creation import tensor
from engine.optim import SGD
from engine.tensor import Tensor

_RESULT = "result.pkl"


def all_reduce_gradients(parameters: Iterable[Tensor], group: Any = None) -> None:
    """Average each parameter's ``.grad`` over the processes of ``group`` (default: all), in
    place of what ``DistributedDataParallel`` does for torch modules.

    Every process must call it with the same parameters in the same order.  The gradients of
    one dtype are packed into one flat buffer and reduced by one ``all_reduce`` (a single
    *bucket*: one message instead of one per parameter), summed, then divided by the world
    size.  A parameter whose ``.grad`` is ``None`` contributes zeros and receives the average,
    as an unused parameter does under DDP with ``find_unused_parameters=True``.
    """
    import torch
    import torch.distributed as dist

    params = list(parameters)
    world_size = dist.get_world_size(group)
    by_dtype: dict[np.dtype, list[tuple[Tensor, np.ndarray]]] = {}
    for p in params:
        grad = (
            np.zeros(p.shape, dtype=p.detach().numpy().dtype)
            if p.grad is None
            else np.asarray(p.grad.numpy())
        )
        by_dtype.setdefault(grad.dtype, []).append((p, grad))
    for dtype, entries in sorted(by_dtype.items(), key=lambda item: str(item[0])):
        flat = np.concatenate([grad.reshape(-1) for _, grad in entries]).astype(dtype)
        try:
            buffer = torch.from_numpy(flat)  # shares memory with flat
        except TypeError:  # bfloat16 (ml_dtypes), which torch cannot wrap: reduce in float32
            buffer = torch.from_numpy(flat.astype(np.float32))
        dist.all_reduce(buffer, op=dist.ReduceOp.SUM, group=group)
        flat[...] = (buffer.numpy() / world_size).astype(dtype)
        offset = 0
        for p, grad in entries:
            p.grad = tensor(flat[offset : offset + grad.size].reshape(grad.shape))
            offset += grad.size


def shard(batch_size: int, rank: int, world_size: int) -> slice:
    """The rows of a batch of ``batch_size`` that process ``rank`` of ``world_size`` takes:
    contiguous, equal shards (``batch_size`` must divide evenly, so that averaging the
    per-process mean losses gives the full batch's mean)."""
    if batch_size % world_size:
        raise ValueError(
            f"a batch of {batch_size} does not split into {world_size} equal shards; "
            "unequal shards need their losses weighted by shard size"
        )
    size = batch_size // world_size
    return slice(rank * size, (rank + 1) * size)


def _loopback_name() -> str | None:
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:  # pragma: no cover - no interface listing on this system
        return None
    return next((name for name in ("lo", "lo0") if name in names), None)


class ProcessFailed(RuntimeError):
    """A process of :func:`launch` raised; ``original`` is its exception when it could be
    sent back (picklable), else ``None``."""

    def __init__(self, message: str, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original


def _record_failure(folder: str, rank: int, error: BaseException | None = None) -> None:
    """Note when this rank failed (the first failure is the cause of the others') and what it
    raised."""
    path = os.path.join(folder, f"failed{rank}")
    if os.path.exists(path):
        return
    try:
        sent = pickle.dumps(error)
    except Exception:  # an exception that does not pickle is reported by its log alone
        sent = pickle.dumps(None)
    with open(path, "wb") as file:
        pickle.dump((time.time(), sent), file)


def _watch_parent(parent: int) -> None:
    """End this process when the launcher is gone, rather than wait in a collective."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _child(
    rank: int,
    world_size: int,
    folder: str,
    function: Callable[..., Any],
    args: tuple,
    timeout_s: float,
) -> None:
    """One process of :func:`launch`: output to a log file, join the group, run, report."""
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    log = open(os.path.join(folder, f"rank{rank}.log"), "w", buffering=1)
    os.dup2(log.fileno(), 1)  # what C++ (gloo, torch's warnings) writes, too
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    try:
        import torch
        import torch.distributed as dist

        torch.set_num_threads(1)  # world_size processes share the machine's cores
        loopback = _loopback_name()
        if loopback is not None:  # this machine only: no network needed
            os.environ.setdefault("GLOO_SOCKET_IFNAME", loopback)
        dist.init_process_group(
            "gloo",
            init_method=f"file://{os.path.join(folder, 'rendezvous')}",
            rank=rank,
            world_size=world_size,
            # Longer than launch()'s deadline: a collective that hangs is then always
            # stopped and reported by the launcher (TimeoutError), never raced by gloo's own
            # timeout firing in one rank while the launcher kills it.
            timeout=datetime.timedelta(seconds=timeout_s + 60),
        )
        try:
            result = function(rank, world_size, *args)
            if rank == 0:
                with open(os.path.join(folder, _RESULT), "wb") as file:
                    pickle.dump(result, file)
            dist.barrier()
        except BaseException as error:
            _record_failure(folder, rank, error)  # before the group closes and fails the others
            raise
        finally:
            dist.destroy_process_group()
    except BaseException as error:
        _record_failure(folder, rank, error)
        traceback.print_exc()
        log.flush()
        os._exit(1)
    log.flush()
    os._exit(0)


def launch(
    function: Callable[..., Any],
    world_size: int = 2,
    args: Sequence[Any] = (),
    *,
    start_method: str = "spawn",
    timeout_s: float = 300.0,
) -> Any:
    """Run ``function(rank, world_size, *args)`` in ``world_size`` new processes joined in a
    gloo process group, and return what rank 0's call returned.

    The processes meet through a ``file://`` rendezvous in a temporary folder (no port, no
    network beyond this machine); each one's output, Python's and C++'s, goes to a log file
    there, shown only when a process fails (a :class:`ProcessFailed` carries its last lines,
    and the exception the first failing process raised).  With
    ``start_method="spawn"`` (the default) ``function`` must be importable by name, like the
    workers of this module; ``"fork"`` (Linux) also runs functions defined in a notebook.
    """
    context = multiprocessing.get_context(start_method)
    with tempfile.TemporaryDirectory(prefix="engine-distributed-") as folder:
        processes = [
            context.Process(
                target=_child, args=(rank, world_size, folder, function, tuple(args), timeout_s)
            )
            for rank in range(world_size)
        ]
        for process in processes:
            process.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(p.is_alive() for p in processes):
            # One failed rank leaves the others waiting in a collective: stop them soon.
            if any(p.exitcode not in (None, 0) for p in processes):
                for process in processes:
                    process.join(2.0)
                break
            processes[0].join(0.05)
        late = [rank for rank, process in enumerate(processes) if process.is_alive()]
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()

        def tail(rank: int) -> str:
            path = os.path.join(folder, f"rank{rank}.log")
            if not os.path.exists(path):
                return "(no output)"
            with open(path) as file:
                return "".join(file.readlines()[-15:])

        def failure(rank: int) -> tuple[float, BaseException | None]:
            path = os.path.join(folder, f"failed{rank}")
            if not os.path.exists(path):
                return float("inf"), None
            with open(path, "rb") as file:
                when, sent = pickle.load(file)
            return when, pickle.loads(sent)

        first = min(range(world_size), key=lambda rank: failure(rank)[0])
        crashed = [
            rank
            for rank, process in enumerate(processes)
            if rank not in late and process.exitcode != 0
        ]
        if failure(first)[0] == float("inf") and late:
            raise TimeoutError(
                f"rank(s) {late} still running after {timeout_s:.0f} s (every process must "
                f"make the same collective calls); rank {late[0]} wrote:\n{tail(late[0])}"
            )
        if failure(first)[0] == float("inf") and crashed:
            first = crashed[0]
        if failure(first)[0] < float("inf") or crashed:
            raise ProcessFailed(
                f"rank {first} of {world_size} failed (exit code "
                f"{processes[first].exitcode}); it wrote:\n{tail(first)}",
                failure(first)[1],
            )
        with open(os.path.join(folder, _RESULT), "rb") as file:
            return pickle.load(file)


# --------------------------------------------------------------------------------- the demos
def digits_mlp(nn_module: Any) -> Any:
    """Chapter 8's model: Linear(64, 64), ReLU, Linear(64, 10) in float64, from ``torch.nn``
    or ``engine.nn`` (pass the module)."""
    return nn_module.Sequential(
        nn_module.Linear(64, 64), nn_module.ReLU(), nn_module.Linear(64, 10)
    ).double()


def _engine_mlp(state: dict[str, np.ndarray]) -> Sequential:
    model = Sequential(Linear(64, 64), ReLU(), Linear(64, 10)).double()
    model.load_state_dict({name: tensor(value) for name, value in state.items()})
    return model


def _max_gap(first: Iterable[np.ndarray], second: Iterable[np.ndarray]) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(first, second, strict=True))


def demo_worker(
    rank: int,
    world_size: int,
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 64,
    steps: int = 3,
) -> dict[str, Any]:
    """Chapter 12's three demos in one process group (run it with :func:`launch`).

    On ``images`` (N, 64) float64 and ``labels`` (N,), ``steps`` SGD or Adam steps on batches
    of ``batch_size``, each process taking its :func:`shard` of every batch:

    1. ``ddp``: torch's ``DistributedDataParallel`` against one process on the whole batch:
       the largest gradient and parameter differences;
    2. ``engine``: the engine's model, gradients averaged by :func:`all_reduce_gradients`,
       against the engine on the whole batch, and against DDP's parameters;
    3. ``zero``: ``ZeroRedundancyOptimizer`` sharding Adam: each rank's parameters and bytes
       of Adam state (``exp_avg`` and ``exp_avg_sq``), plain Adam's bytes, and the parameter
       difference from single-process Adam.
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as torch_F
    from torch.distributed.optim import ZeroRedundancyOptimizer
    from torch.nn.parallel import DistributedDataParallel

    X, y = torch.from_numpy(images), torch.from_numpy(labels)
    batches = [slice(s * batch_size, (s + 1) * batch_size) for s in range(steps)]
    own = shard(batch_size, rank, world_size)

    def mine(batch: slice) -> slice:
        return slice(batch.start + own.start, batch.start + own.stop)

    def params_of(model: Any) -> list[np.ndarray]:
        return [p.detach().numpy().copy() for p in model.parameters()]

    torch.manual_seed(0)
    reference = digits_mlp(torch.nn)
    initial = {
        name: value.detach().numpy().copy() for name, value in reference.state_dict().items()
    }
    results: dict[str, Any] = {"world_size": world_size, "steps": steps, "batch": batch_size}

    # 1. DistributedDataParallel against one process on the whole batch.
    ddp = DistributedDataParallel(copy.deepcopy(reference))
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (ddp, reference)]
    grad_gap = 0.0
    for batch in batches:
        for optimizer in optimizers:
            optimizer.zero_grad()
        torch_F.cross_entropy(ddp(X[mine(batch)]), y[mine(batch)]).backward()
        torch_F.cross_entropy(reference(X[batch]), y[batch]).backward()
        grad_gap = max(
            grad_gap,
            _max_gap(
                [p.grad.numpy() for p in ddp.parameters()],
                [p.grad.numpy() for p in reference.parameters()],
            ),
        )
        for optimizer in optimizers:
            optimizer.step()
    ddp_params = params_of(ddp)
    results["ddp"] = {
        "grad_gap": grad_gap,
        "param_gap": _max_gap(ddp_params, params_of(reference)),
    }

    # 2. The engine's model, data-parallel through all_reduce_gradients.
    parallel, alone = _engine_mlp(initial), _engine_mlp(initial)
    engine_optimizers = [SGD(m.parameters(), lr=0.1) for m in (parallel, alone)]
    X_e, y_e = tensor(images), tensor(labels)
    for batch in batches:
        for optimizer in engine_optimizers:
            optimizer.zero_grad()
        F.cross_entropy(parallel(X_e[mine(batch)]), y_e[mine(batch)]).backward()
        all_reduce_gradients(parallel.parameters())
        F.cross_entropy(alone(X_e[batch]), y_e[batch]).backward()
        for optimizer in engine_optimizers:
            optimizer.step()
    engine_params = [p.detach().numpy().copy() for p in parallel.parameters()]
    results["engine"] = {
        "param_gap": _max_gap(engine_params, [p.detach().numpy() for p in alone.parameters()]),
        "gap_to_ddp": _max_gap(engine_params, ddp_params),
    }

    # 3. ZeroRedundancyOptimizer: each rank keeps Adam's state for its share of the parameters.
    torch.manual_seed(0)
    model = DistributedDataParallel(digits_mlp(torch.nn))
    single = copy.deepcopy(model.module)
    zero = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=torch.optim.Adam, lr=0.01)
    adam = torch.optim.Adam(single.parameters(), lr=0.01)
    for batch in batches:
        zero.zero_grad()
        adam.zero_grad()
        torch_F.cross_entropy(model(X[mine(batch)]), y[mine(batch)]).backward()
        torch_F.cross_entropy(single(X[batch]), y[batch]).backward()
        zero.step()
        adam.step()
    names = {id(p): name for name, p in model.module.named_parameters()}

    def moment_bytes(optimizer: Any) -> int:
        return sum(
            state[key].numel() * state[key].element_size()
            for state in optimizer.state.values()
            for key in ("exp_avg", "exp_avg_sq")
        )

    mine_here = (
        sorted(names[id(p)] for p in zero.optim.state),
        moment_bytes(zero.optim),
    )
    gathered: list[Any] = [None] * world_size
    dist.all_gather_object(gathered, mine_here)
    results["zero"] = {
        "params_per_rank": [names_ for names_, _ in gathered],
        "bytes_per_rank": [size for _, size in gathered],
        "adam_bytes": moment_bytes(adam),
        "param_gap": _max_gap(params_of(model), params_of(single)),
        "numels": {name: p.numel() for name, p in model.module.named_parameters()},
    }
    return results


def run_demos(
    images: np.ndarray,
    labels: np.ndarray,
    world_size: int = 2,
    batch_size: int = 64,
    steps: int = 3,
) -> dict[str, Any]:
    """:func:`demo_worker` in ``world_size`` spawned processes; rank 0's results."""
    return launch(
        demo_worker,
        world_size,
        (
            np.asarray(images, dtype=np.float64),
            np.asarray(labels, dtype=np.int64),
            batch_size,
            steps,
        ),
    )
