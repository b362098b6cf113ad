"""Python call counts of three fixed engine workloads: deterministic measures of overhead.

A Python-level function call is what costs a pure-Python engine most on small tensors, and
unlike a time it does not depend on the machine or its load.  ``count_calls(fn)`` counts the
``call`` events that ``sys.setprofile`` sees while ``fn`` runs (Python frames entered; calls
into C functions are ``c_call`` events and are not counted).  ``tests/test_call_counts.py``
holds the engine to the budgets in ``BUDGETS``; ``make bench`` prints and records them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

import engine

# The gates of the engine-speed work: each workload must stay within its budget.
BUDGETS = {"mul_forward": 50, "mul_sum_backward": 200, "mlp_step": 2500}


def count_calls(function: Callable[[], object]) -> int:
    """The number of Python function calls made while ``function()`` runs."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count - 1  # the call of `function` itself


def _leaf(values: np.ndarray, lib=engine):
    """A float32 leaf that requires grad, in ``lib`` (``engine`` or ``torch``)."""
    return lib.tensor(values, dtype=lib.float32, requires_grad=True)


def mul_forward() -> int:
    """``x * w`` on two 4-element float32 tensors that require grad."""
    x, w = _leaf(np.arange(4.0)), _leaf(np.ones(4))
    x * w  # warm-up: first calls create cached node classes
    return count_calls(lambda: x * w)


def mul_sum_backward() -> int:
    """The backward of ``(x * w + b).sum()``: the whole call minus its forward."""
    x, w, b = _leaf(np.arange(4.0)), _leaf(np.ones(4)), _leaf(np.full(4, 0.5))
    ((x * w + b).sum()).backward()  # warm-up, and .grad exists from now on
    forward = count_calls(lambda: (x * w + b).sum())
    return count_calls(lambda: (x * w + b).sum().backward()) - forward


def mlp_step_workload(batch: int = 64, seed: int = 0, lib=engine):
    """One step of a 64-256-256-10 MLP (ReLU) with a mean squared error loss and a manual SGD
    update under no_grad, in ``lib`` (``engine`` or ``torch``: the same code runs on both);
    returns ``(step, parameters)``."""
    rng = np.random.default_rng(seed)
    sizes = [64, 256, 256, 10]
    parameters = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(fan_in)
        parameters.append(_leaf(rng.uniform(-bound, bound, (fan_in, fan_out)), lib))
        parameters.append(_leaf(rng.uniform(-bound, bound, fan_out), lib))
    inputs = lib.tensor(rng.standard_normal((batch, sizes[0])), dtype=lib.float32)
    targets = lib.tensor(rng.standard_normal((batch, sizes[-1])), dtype=lib.float32)

    def step() -> None:
        hidden = inputs
        for layer in range(0, len(parameters), 2):
            hidden = hidden @ parameters[layer] + parameters[layer + 1]
            if layer + 2 < len(parameters):
                hidden = hidden.relu()
        loss = ((hidden - targets) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            for parameter in parameters:
                parameter -= 0.01 * parameter.grad
                parameter.grad.zero_()

    return step, parameters


def mlp_step() -> int:
    step, _ = mlp_step_workload()
    step()  # warm-up: allocates .grad
    return count_calls(step)


WORKLOADS = {"mul_forward": mul_forward, "mul_sum_backward": mul_sum_backward, "mlp_step": mlp_step}


def all_counts() -> dict[str, int]:
    """Each workload's call count."""
    return {name: workload() for name, workload in WORKLOADS.items()}


if __name__ == "__main__":
    for name, count in all_counts().items():
        print(f"{name:<18} {count:>6} calls (budget {BUDGETS[name]})")
