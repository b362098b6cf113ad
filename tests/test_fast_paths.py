"""Each labelled fast path changes no result: with it switched off, every op gives the same
values (bit for bit), dtype, shape and strides, and results never share memory with inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.autograd import backward_engine
from engine.autograd.function import gradient_edge
from engine.ops import iterator

UNARY = ["exp", "tanh", "sigmoid", "relu", "neg", "abs", "sin", "sqrt", "log", "sign"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "eq", "lt", "remainder"]


def _snapshot(tensor):
    return (tensor.dtype, tuple(tensor.shape), tensor.stride(), tensor._array().tobytes())


def _both_ways(monkeypatch, program):
    """``program()`` with the fast paths on, then off (as if deleted)."""
    fast = program()
    with monkeypatch.context() as patch:
        patch.setattr(iterator, "_fast_operands", lambda operands, dtype: None)
        original_wrap = iterator.wrap
        patch.setattr(
            iterator,
            "wrap",
            lambda values, dtype, strides=None, *, fresh=False: original_wrap(
                values, dtype, strides
            ),
        )
        slow = program()
    return fast, slow


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@settings(max_examples=40, deadline=None)
@given(
    shape=shapes, dtype=st.sampled_from([engine.float32, engine.float64]), seed=st.integers(0, 99)
)
def test_elementwise_fast_path_changes_nothing(shape, dtype, seed):
    monkeypatch = pytest.MonkeyPatch()
    rng = np.random.default_rng(seed)
    a = engine.tensor(rng.standard_normal(shape), dtype=dtype)
    b = engine.tensor(rng.standard_normal(shape), dtype=dtype)
    expanded = engine.tensor(rng.standard_normal(()), dtype=dtype).expand(shape)

    def program():
        results = [getattr(engine, name)(a) for name in UNARY]
        for name in BINARY:
            function = getattr(engine, name)
            results += [function(a, b), function(a, expanded), function(expanded, b)]
        results += [a * 2.5, 3 - a, a / 7, a**2, engine.where(a > 0, a, b)]
        return [_snapshot(result) for result in results]

    fast, slow = _both_ways(monkeypatch, program)
    assert fast == slow


def test_fresh_results_never_share_memory_with_inputs():
    a = engine.randn(3, 4)
    for result in (a + 1, a * a, a.exp(), a.sum(0), a @ a.t(), engine.cat([a, a]), a.clone()):
        assert not np.shares_memory(result._storage, a._storage)


def test_one_walk_dependency_count_equals_the_general_one():
    x = engine.randn(3, requires_grad=True)
    w = engine.randn(3, requires_grad=True)
    shared = x * w
    y = (shared.exp() + shared * 2 + x.sin() * shared).sum()
    z = (shared * 3).sum()
    roots = [gradient_edge(y), gradient_edge(z)]
    needed = backward_engine._needed_nodes(roots, None)
    general = backward_engine._count_dependencies(roots, needed)
    assert backward_engine._count_all_dependencies(roots) == general
    assert len(general) > 5
