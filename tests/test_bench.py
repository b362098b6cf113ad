"""The deterministic parts of ``make bench`` (``benchmarks/``): the recursive scalar reference
agrees with ``engine.scalar``, the depth at which it fails is fixed, and the CUDA rows' code
and the tables run (on the CPU here, with made-up times).  No time is asserted."""

from __future__ import annotations

import math
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # for `benchmarks`
from benchmarks import bench, recursive  # noqa: E402


def test_recursive_backward_gives_engine_scalars_gradients():
    model, loss = recursive.mlp_loss(batch=4)
    loss.backward()
    expected = [parameter.grad for parameter in model.parameters()]
    model.zero_grad()
    recursive.recursive_backward(loss)
    got = [parameter.grad for parameter in model.parameters()]
    # Another topological order sums a node's contributions in another order: last bits only.
    assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) for a, b in zip(got, expected))
    assert any(a != 0 for a in expected)


def test_recursive_backward_on_a_chain_is_exact_and_repeatable():
    x, y = recursive.chain(300)
    y.backward()
    expected = x.grad
    x.grad = 0.0
    recursive.recursive_backward(y)
    recursive.recursive_backward(y)  # leaves accumulate, intermediates start from zero
    assert x.grad == 2 * expected
    assert recursive.graph_size(y) == (451, 301)  # 300 ops, 150 constants, 301 deep


def test_recursion_failure_depth_is_deterministic():
    depth = recursive.recursion_failure_depth()
    assert depth == recursive.recursion_failure_depth()
    assert sys.getrecursionlimit() - 30 < depth <= sys.getrecursionlimit()
    assert bench.SCALAR_CHAIN_DEPTH < depth  # the timed chain stays below it
    # From the same stack depth, one op less goes through.
    assert recursive._in_fresh_thread(lambda: recursive._fails(depth))
    assert not recursive._in_fresh_thread(lambda: recursive._fails(depth - 1))
    assert recursive.iterative_handles(3 * depth)


@pytest.mark.parametrize("name", ["small_ops", "conv2d_fwd", "conv2d_fwd_bwd"])
def test_device_rows_run_their_workloads(name):
    """The CUDA rows' code, run with the CPU standing in for the GPU."""
    row = bench.device_ratios(name, "cpu", pairs=1, seconds=0.0)
    assert row["pairs"] == 1 and row["torch_cpu_ms"] > 0 and row["torch_device_ms"] > 0


def test_torch_on_a_device_puts_the_workloads_tensors_there():
    lib = bench.TorchOn("cpu")
    assert lib.tensor([1.0, 2.0], dtype=lib.float32).device.type == "cpu"
    assert bench.conv2d_fwd(lib)().shape == (8, 16, 32, 32)


def _row(**extra):
    return {"median": 2.0, "min": 1.5, "max": 2.5, "pairs": 3, **extra}


def test_tables_print_every_section(capsys):
    ratios = {name: _row(engine_ms=2.0, torch_ms=1.0) for name in bench.WORKLOADS}
    results = {
        "machine": bench.machine(),
        "ratios": ratios,
        "ratios_2_threads": ratios,
        "threads_seen": {
            "1": {"torch": 1, "numpy_blas": [{"library": "openblas", "threads": 1}]},
            "2": {"torch": 2, "numpy_blas": None},
        },
        "scalar": {
            "scalar_chain_backward": _row(engine_ms=1.0, recursive_ms=0.5, nodes=9, depth=7)
        },
        "recursion": {
            "recursion_limit": 1000,
            "recursive_fails_at_depth": 992,
            "engine_scalar_depth_ok": 100_000,
        },
        "cuda": {
            "available": True,
            "device": "a GPU",
            "cuda": "12.8",
            "rows": {name: _row(torch_cpu_ms=1.0, torch_device_ms=0.5) for name in bench.WORKLOADS},
        },
    }
    bench.print_tables(results)
    out = capsys.readouterr().out
    assert "OPENBLAS_NUM_THREADS=N" in out and "threadpoolctl is not installed" in out
    assert out.count("conv2d_fwd_bwd") == 4  # two thread rows, the 2-vs-1 row, the CUDA row
    assert "chain 992 ops deep" in out and "100,000 ops deep" in out
    assert "torch on CUDA (a GPU, CUDA 12.8)" in out
    results["cuda"] = {"available": False, "reason": "no GPU here"}
    bench.print_tables(results)
    assert "torch on CUDA: skipped, no GPU here." in capsys.readouterr().out
