"""The engine's Python call counts stay within their budgets (``benchmarks/calls.py``).

Counts of Python function calls are deterministic (the same on every machine and under any
load), so unlike times they can gate: each workload must stay within ``calls.BUDGETS``.  A
change that adds overhead to every op shows up here as a failing count, with the number."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # for `benchmarks`
from benchmarks import calls  # noqa: E402


@pytest.mark.parametrize("name", list(calls.WORKLOADS))
def test_call_count_within_budget(name):
    count = calls.WORKLOADS[name]()
    assert count <= calls.BUDGETS[name], (
        f"{name}: {count} Python calls, budget {calls.BUDGETS[name]} (see benchmarks/calls.py)"
    )


def test_counting_counts():
    def three_calls():
        def inner():
            return None

        inner()
        inner()
        inner()

    assert calls.count_calls(three_calls) == 3  # the calls made inside three_calls
