"""engine.autograd.graph.saved_storage_bytes: the memory a graph's saved tensors keep alive,
each storage once, parameters left out; against torch's saved_tensors_hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine.autograd.graph import saved_bytes, saved_storage_bytes


def _torch_storages(build, parameters) -> tuple[int, int]:
    """(bytes of every save, bytes of the distinct non-parameter storages) seen by a pack hook."""
    saves = []

    def pack(tensor):
        storage = tensor.untyped_storage()
        saves.append((storage.data_ptr(), storage.nbytes(), tensor.numel() * tensor.element_size()))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        build()
    excluded = {p.untyped_storage().data_ptr() for p in parameters}
    distinct = {ptr: nbytes for ptr, nbytes, _ in saves if ptr not in excluded}
    return sum(n for _, _, n in saves), sum(distinct.values())


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_mlp_activations_match_torch(depth):
    rng = np.random.default_rng(depth)
    values = [rng.standard_normal((16, 16)) for _ in range(depth)]
    data = rng.standard_normal((8, 16))
    results = []
    for lib in (engine, torch):
        weights = [lib.tensor(v, requires_grad=True) for v in values]
        x = lib.tensor(data)
        outputs = []

        def build(lib=lib, weights=weights, x=x, outputs=outputs):
            h = x
            for w in weights:
                h = (h @ w).tanh()
            outputs.append(h)

        if lib is torch:
            results.append(_torch_storages(build, weights))
        else:
            build()
            results.append((saved_bytes(outputs[0]), saved_storage_bytes(outputs[0], weights)))
    assert results[0] == results[1]
    assert results[0][1] == (depth + 1) * 8 * 16 * 8  # input + one tanh output per layer


def test_a_saved_view_keeps_its_whole_storage():
    for lib in (engine, torch):
        x = lib.ones(10, dtype=lib.float64, requires_grad=True)
        y = x * 2
        z = y[:3].exp()  # exp saves its result (fresh, 3 elements)
        w = (y[3:5] ** 2).sum()  # pow saves the view y[3:5]: all of y's storage is kept
        if lib is engine:
            assert saved_storage_bytes(z) == 3 * 8
            assert saved_storage_bytes(w) == 10 * 8
            assert saved_storage_bytes(w, exclude=[y]) == 0
        else:
            assert _torch_storages(lambda x=x: (x * 2)[:3].exp(), [])[1] == 3 * 8
            assert _torch_storages(lambda x=x: ((x * 2)[3:5] ** 2).sum(), [])[1] == 10 * 8


def test_no_graph_saves_nothing():
    x = engine.ones(4, requires_grad=True)
    with engine.no_grad():
        y = (x * x).exp()
    assert saved_storage_bytes(y) == 0 and saved_bytes(y) == 0
