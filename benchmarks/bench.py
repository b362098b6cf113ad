"""``make bench``: the engine's time against PyTorch's, and its Python call counts.

Five workloads run on both libraries from the same code (``lib`` is ``engine`` or ``torch``):
one MLP training step, 200 small ops on 16-element tensors, a 2,000-op chain on 1,000
elements, and a 3x3 convolution of an 8x3x32x32 batch to 16 channels, forward only and forward
plus backward.  The machine is shared and noisy, so the two libraries are measured
*interleaved* in one process (engine, torch, engine, torch, ...), and each row reports the
median of the paired ratios engine/torch with their spread.

Each row runs at 1 and at 2 threads.  NumPy's BLAS reads its thread count once, when it loads,
from ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS``, so each setting runs in a
fresh worker process (``python -m benchmarks.bench --threads N``) started with those variables
at N, which also calls ``torch.set_num_threads(N)``; the worker reports the thread counts it
really got (torch's, and NumPy's BLAS through ``threadpoolctl`` when it is installed).

The 1-thread worker also times chapter 1's scalar engine (``engine.scalar``) against a
micrograd-style recursive backward (``benchmarks/recursive.py``) on the same graphs, finds the
graph depth at which the recursive one raises RecursionError, and, when
``torch.cuda.is_available()``, times torch on CUDA against torch on the CPU for the same
workloads (``torch.cuda.synchronize()`` before and after each timed run).

The call counts (``benchmarks/calls.py``) are deterministic.  Results are printed and written
to ``benchmarks/results.json`` with a description of the machine they come from; ``ratios``
holds the 1-thread rows, ``ratios_2_threads`` the 2-thread ones.  ``--quick`` runs every row
with fewer, shorter pairs (a smoke test), ``--output PATH`` writes elsewhere.
"""

from __future__ import annotations

import os
import sys


def _requested_threads(argv: list[str]) -> int:
    """The N of ``--threads N`` (a worker's thread count), else 1."""
    return int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 1


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if __name__ == "__main__":
    # Set before NumPy and torch load their BLAS and OpenMP pools (a worker is also started
    # with them set; this keeps a worker run by hand honest).
    for _variable in THREAD_VARIABLES:
        os.environ[_variable] = str(_requested_threads(sys.argv))

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import engine  # noqa: E402
from benchmarks import calls, recursive  # noqa: E402

RESULTS = pathlib.Path(__file__).with_name("results.json")
ROOT = pathlib.Path(__file__).resolve().parent.parent
PAIRS = 9  # paired runs per row (the issue asks for at least 7)
SECONDS_PER_RUN = 0.05  # each timed run repeats the workload for about this long
THREAD_COUNTS = (1, 2)

# name: (goal, stretch) for the median ratio engine/torch at 1 thread.
TARGETS = {"mlp_step": (2.0, 1.5), "small_ops": (10.0, 8.0), "deep_chain": (6.0, 5.0)}

SCALAR_CHAIN_DEPTH = 800  # ops: below the default recursion limit of 1,000 with a margin
ITERATIVE_DEPTH = 100_000  # a chain engine.scalar's own backward is shown to get through


def _leaf(lib, values: np.ndarray):
    return calls._leaf(values, lib)


def mlp_step(lib) -> Callable[[], None]:
    """One SGD step of a 64-256-256-10 ReLU MLP on a batch of 256, mean squared error (the
    workload of ``benchmarks/calls.py``, on a bigger batch)."""
    step, _ = calls.mlp_step_workload(batch=256, lib=lib)
    return step


def small_ops(lib) -> Callable[[], None]:
    """200 ops (100 multiply + tanh pairs) on 16-element tensors, then backward."""
    rng = np.random.default_rng(1)
    x = _leaf(lib, rng.standard_normal(16))
    weights = [_leaf(lib, rng.uniform(0.5, 1.5, 16)) for _ in range(100)]

    def run() -> None:
        y = x
        for weight in weights:
            y = (y * weight).tanh()
        y.sum().backward()

    return run


def deep_chain(lib) -> Callable[[], None]:
    """A chain of 2,000 ops (1,000 sine + scale pairs) on 1,000 elements, then backward."""
    x = _leaf(lib, np.linspace(-1.0, 1.0, 1000))

    def run() -> None:
        y = x
        for _ in range(1000):
            y = y.sin() * 1.01
        y.sum().backward()

    return run


def _conv_leaves(lib):
    """An 8x3x32x32 batch, 16 filters of 3x3 and their bias, all requiring grad."""
    rng = np.random.default_rng(2)
    batch = _leaf(lib, rng.standard_normal((8, 3, 32, 32)))
    weight = _leaf(lib, rng.uniform(-0.2, 0.2, (16, 3, 3, 3)))
    bias = _leaf(lib, rng.uniform(-0.2, 0.2, 16))
    return batch, weight, bias


def conv2d_fwd(lib) -> Callable[[], None]:
    """``conv2d`` (padding 1) of an 8x3x32x32 batch with 16 3x3 filters, forward only (the graph
    is recorded, as in training)."""
    batch, weight, bias = _conv_leaves(lib)
    return lambda: lib.nn.functional.conv2d(batch, weight, bias, padding=1)


def conv2d_fwd_bwd(lib) -> Callable[[], None]:
    """The same convolution, then ``.sum().backward()`` into all three leaves."""
    batch, weight, bias = _conv_leaves(lib)
    return lambda: lib.nn.functional.conv2d(batch, weight, bias, padding=1).sum().backward()


WORKLOADS = {
    "mlp_step": mlp_step,
    "small_ops": small_ops,
    "deep_chain": deep_chain,
    "conv2d_fwd": conv2d_fwd,
    "conv2d_fwd_bwd": conv2d_fwd_bwd,
}


class TorchOn:
    """``torch`` with every tensor the workloads create put on ``device``: the ``lib`` that
    runs a workload's torch code on CUDA."""

    float32 = torch.float32
    no_grad = torch.no_grad
    nn = torch.nn

    def __init__(self, device: str):
        self.device = device

    def tensor(self, *args, **kwargs):
        return torch.tensor(*args, device=self.device, **kwargs)


def _seconds(
    function: Callable[[], object], repeats: int, sync: Callable[[], None] | None = None
) -> float:
    """Seconds per call of ``function``; with ``sync`` (``torch.cuda.synchronize``) the clock
    starts after queued work is done and stops after the runs' work is done."""
    if sync is not None:
        sync()
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    if sync is not None:
        sync()
    return (time.perf_counter() - start) / repeats


def _paired(
    first: Callable[[], object],
    second: Callable[[], object],
    pairs: int,
    seconds: float,
    sync_second: Callable[[], None] | None = None,
) -> dict:
    """``first`` and ``second`` timed alternately ``pairs`` times, each run repeating its
    function about ``seconds`` long (counted on ``first``); the median of first/second."""
    for _ in range(2):  # warm-up (caches, first .grad allocations, CUDA kernels)
        first(), second()
    if sync_second is not None:
        sync_second()
    repeats = max(1, int(seconds / max(_seconds(first, 1), 1e-6)))
    ratios, first_times, second_times = [], [], []
    for _ in range(pairs):
        first_time = _seconds(first, repeats)
        second_time = _seconds(second, repeats, sync_second)
        first_times.append(first_time)
        second_times.append(second_time)
        ratios.append(first_time / second_time)
    return {
        "median": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "first_ms": 1e3 * statistics.median(first_times),
        "second_ms": 1e3 * statistics.median(second_times),
        "pairs": pairs,
    }


def paired_ratios(name: str, pairs: int = PAIRS, seconds: float = SECONDS_PER_RUN) -> dict:
    """Engine and torch (CPU) timed alternately ``pairs`` times; the median of engine/torch."""
    row = _paired(WORKLOADS[name](engine), WORKLOADS[name](torch), pairs, seconds)
    row["engine_ms"], row["torch_ms"] = row.pop("first_ms"), row.pop("second_ms")
    return row


def device_ratios(
    name: str, device: str, pairs: int = PAIRS, seconds: float = SECONDS_PER_RUN
) -> dict:
    """torch on the CPU and torch on ``device`` timed alternately; the median of cpu/device
    (how many times faster ``device`` is)."""
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    row = _paired(WORKLOADS[name](torch), WORKLOADS[name](TorchOn(device)), pairs, seconds, sync)
    row["torch_cpu_ms"], row["torch_device_ms"] = row.pop("first_ms"), row.pop("second_ms")
    return row


def scalar_rows(pairs: int = PAIRS, seconds: float = SECONDS_PER_RUN) -> dict:
    """``engine.scalar``'s backward against ``recursive.recursive_backward`` on one graph each
    (built once; backward runs again and again on it): chapter 1's MLP on 16 points (wide) and
    a chain ``SCALAR_CHAIN_DEPTH`` ops deep."""
    rows = {}
    _, loss = recursive.mlp_loss()
    _, end = recursive.chain(SCALAR_CHAIN_DEPTH)
    for name, root in (("scalar_mlp_backward", loss), ("scalar_chain_backward", end)):
        row = _paired(
            root.backward, lambda root=root: recursive.recursive_backward(root), pairs, seconds
        )
        row["engine_ms"], row["recursive_ms"] = row.pop("first_ms"), row.pop("second_ms")
        row["nodes"], row["depth"] = recursive.graph_size(root)
        rows[name] = row
    return rows


def recursion_facts(iterative_depth: int = ITERATIVE_DEPTH) -> dict:
    """The chain depth at which the recursive backward fails, and a depth far beyond it that
    ``engine.scalar`` gets through."""
    assert recursive.iterative_handles(iterative_depth), "engine.scalar's gradient is not finite"
    return {
        "recursion_limit": sys.getrecursionlimit(),
        "recursive_fails_at_depth": recursive.recursion_failure_depth(),
        "engine_scalar_depth_ok": iterative_depth,
    }


def cuda_rows(pairs: int = PAIRS, seconds: float = SECONDS_PER_RUN) -> dict:
    """torch on CUDA against torch on the CPU, each workload; skipped with the reason when
    ``torch.cuda.is_available()`` is false."""
    if not torch.cuda.is_available():
        reason = (
            f"torch {torch.__version__} is built without CUDA"
            if torch.version.cuda is None
            else "torch.cuda.is_available() is False (no CUDA device visible)"
        )
        return {"available": False, "reason": reason}
    rows = {name: device_ratios(name, "cuda", pairs, seconds) for name in WORKLOADS}
    return {
        "available": True,
        "device": torch.cuda.get_device_name(0),
        "cuda": torch.version.cuda,
        "rows": rows,
    }


def _blas_threads() -> list[dict] | None:
    """NumPy's BLAS/OpenMP pools and their thread counts, as ``threadpoolctl`` sees them."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return [
        {"library": pool["internal_api"], "threads": pool["num_threads"]}
        for pool in threadpoolctl.threadpool_info()
        if "numpy" in pool["filepath"]
    ]


def worker(threads: int, quick: bool) -> dict:
    """Everything timed at ``threads`` threads, in this process (started with the thread
    variables set): the engine/torch rows, and at 1 thread the scalar and CUDA rows."""
    torch.set_num_threads(threads)
    pairs, seconds = (3, 0.01) if quick else (PAIRS, SECONDS_PER_RUN)
    result = {
        "threads": threads,
        "torch_threads": torch.get_num_threads(),
        "numpy_blas_threads": _blas_threads(),
        "environment": {variable: os.environ.get(variable) for variable in THREAD_VARIABLES},
        "ratios": {name: paired_ratios(name, pairs, seconds) for name in WORKLOADS},
    }
    if threads == 1:
        result["scalar"] = scalar_rows(pairs, seconds)
        result["recursion"] = recursion_facts(10_000 if quick else ITERATIVE_DEPTH)
        result["cuda"] = cuda_rows(pairs, seconds)
    return result


def run_worker(threads: int, quick: bool) -> dict:
    """``worker(threads)`` in a fresh Python started with the thread variables at ``threads``."""
    environment = dict(os.environ, **{variable: str(threads) for variable in THREAD_VARIABLES})
    command = [sys.executable, "-m", "benchmarks.bench", "--threads", str(threads)]
    output = subprocess.run(
        command + (["--quick"] if quick else []),
        cwd=ROOT,
        env=environment,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(output)


def machine() -> dict:
    """What the numbers were measured on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": torch.__version__,
        "threads": 1,  # of the rows under "ratios"; "ratios_2_threads" ran at 2
        "thread_counts": list(THREAD_COUNTS),
        "thread_setting": (
            "one fresh process per thread count N, started with "
            + ", ".join(f"{variable}=N" for variable in THREAD_VARIABLES)
            + " and calling torch.set_num_threads(N)"
        ),
    }


def _spread(row: dict) -> str:
    return f"{row['min']:.2f}-{row['max']:.2f}x"


def _ratios_at(results: dict, threads: int) -> dict:
    return results["ratios"] if threads == 1 else results[f"ratios_{threads}_threads"]


def print_tables(results: dict) -> None:
    """The tables of ``make bench``, from a results dictionary (as written to results.json)."""
    pairs = next(iter(results["ratios"].values()))["pairs"]
    print(f"Threads: {results['machine']['thread_setting']}.")
    for threads, seen in results["threads_seen"].items():
        blas = seen["numpy_blas"]
        blas_text = (
            ", ".join(f"{pool['library']} {pool['threads']}" for pool in blas)
            if blas is not None
            else "unknown (threadpoolctl is not installed)"
        )
        print(
            f"  worker at {threads}: torch.get_num_threads() = {seen['torch']},"
            f" NumPy's BLAS threads: {blas_text}"
        )

    print(f"\nengine vs torch on the CPU: median of {pairs} paired ratios (interleaved)")
    print(
        f"{'workload':<15} {'threads':>7} {'engine/torch':>12} {'spread':>13} {'engine':>10}"
        f" {'torch':>10}   goal / stretch"
    )
    for name in results["ratios"]:
        for threads in THREAD_COUNTS:
            row = _ratios_at(results, threads)[name]
            goal = (
                f"{TARGETS[name][0]}x / {TARGETS[name][1]}x"
                if name in TARGETS and threads == 1
                else ""
            )
            print(
                f"{name:<15} {threads:>7} {row['median']:>11.2f}x {_spread(row):>13}"
                f" {row['engine_ms']:>8.2f}ms {row['torch_ms']:>8.2f}ms   {goal}".rstrip()
            )
    print("\n2 threads against 1: time at 1 / time at 2 (medians of the two workers, not paired)")
    print(f"{'workload':<15} {'engine':>8} {'torch':>8}")
    for name, one in results["ratios"].items():
        two = _ratios_at(results, 2)[name]
        print(
            f"{name:<15} {one['engine_ms'] / two['engine_ms']:>7.2f}x"
            f" {one['torch_ms'] / two['torch_ms']:>7.2f}x"
        )

    print("\nchapter 1's scalar engine: engine.scalar's backward vs a recursive topological sort")
    print(
        f"{'graph':<22} {'nodes':>6} {'depth':>6} {'engine/recursive':>16} {'spread':>13}"
        f" {'engine':>9} {'recursive':>10}"
    )
    for name, row in results["scalar"].items():
        print(
            f"{name:<22} {row['nodes']:>6} {row['depth']:>6} {row['median']:>15.2f}x"
            f" {_spread(row):>13} {row['engine_ms']:>7.2f}ms {row['recursive_ms']:>8.2f}ms"
        )
    facts = results["recursion"]
    print(
        f"The recursive sort raises RecursionError from a chain {facts['recursive_fails_at_depth']}"
        f" ops deep (sys.getrecursionlimit() = {facts['recursion_limit']}, called at the bottom"
        " of a fresh thread);"
    )
    print(
        "engine.scalar's backward, which does not recurse, got through a chain"
        f" {facts['engine_scalar_depth_ok']:,} ops deep."
    )

    cuda = results["cuda"]
    if not cuda["available"]:
        print(f"\ntorch on CUDA: skipped, {cuda['reason']}.")
        return
    print(
        f"\ntorch on CUDA ({cuda['device']}, CUDA {cuda['cuda']}) vs torch on the CPU at 1"
        f" thread: median of {pairs} paired ratios, torch.cuda.synchronize() around each run"
    )
    print(
        f"{'workload':<15} {'cpu/cuda':>9} {'spread':>13} {'cpu':>10} {'cuda':>10}"
        f" {'engine/cuda':>12}"
    )
    for name, row in cuda["rows"].items():
        engine_ms = results["ratios"][name]["engine_ms"]
        print(
            f"{name:<15} {row['median']:>8.2f}x {_spread(row):>13}"
            f" {row['torch_cpu_ms']:>8.3f}ms {row['torch_device_ms']:>8.3f}ms"
            f" {engine_ms / row['torch_device_ms']:>11.1f}x"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter pairs (smoke test)")
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS, help="where to write")
    parser.add_argument("--threads", type=int, help="run as a worker at this many threads")
    arguments = parser.parse_args(argv)
    if arguments.threads is not None:
        print(json.dumps(worker(arguments.threads, arguments.quick)))
        return

    workers = {}
    for threads in THREAD_COUNTS:
        print(f"timing at {threads} thread(s) in a fresh process ...", flush=True)
        workers[threads] = run_worker(threads, arguments.quick)
    one = workers[1]
    results = {
        "machine": machine(),
        "ratios": one["ratios"],
        "ratios_2_threads": workers[2]["ratios"],
        "threads_seen": {
            str(threads): {
                "torch": result["torch_threads"],
                "numpy_blas": result["numpy_blas_threads"],
                "environment": result["environment"],
            }
            for threads, result in workers.items()
        },
        "scalar": one["scalar"],
        "recursion": one["recursion"],
        "cuda": one["cuda"],
        "calls": {},
        "call_budgets": calls.BUDGETS,
    }
    print()
    print_tables(results)
    print()
    for name, count in calls.all_counts().items():
        results["calls"][name] = count
        print(f"{name:<18} {count:>6} Python calls (budget {calls.BUDGETS[name]})")
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {arguments.output}")


if __name__ == "__main__":
    main()
