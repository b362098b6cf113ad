"""Saved-tensor hooks and gradient checkpointing, against torch and against plain backward."""

import gc
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.nn as nn
from engine import memory
from engine.autograd.graph import saved_tensors_hooks
from engine.utils.checkpoint import checkpoint, checkpoint_sequential


def _program(lib, x, y):
    return ((x * y).exp() + x.tanh() * y).sum()


def test_pack_sees_every_saved_tensor_and_unpack_gives_it_back_like_torch():
    values = np.array([0.5, -1.0, 2.0])
    seen = {"engine": [], "torch": []}
    results = {}
    for name, lib in [("engine", engine), ("torch", torch)]:
        x = lib.tensor(values, requires_grad=True)
        y = lib.tensor(values[::-1].copy(), requires_grad=True)

        def pack(t, name=name):
            seen[name].append(tuple(t.shape))
            return ("packed", t)

        def unpack(box):
            assert box[0] == "packed"
            return box[1]

        with (saved_tensors_hooks if lib is engine else torch.autograd.graph.saved_tensors_hooks)(
            pack, unpack
        ):
            out = _program(lib, x, y)
        out.backward()
        results[name] = (x.grad.tolist(), y.grad.tolist())
    assert seen["engine"] == seen["torch"]
    np.testing.assert_allclose(results["engine"], results["torch"], rtol=1e-15)


def test_nested_hooks_apply_the_innermost_pair_and_unpack_runs_at_backward():
    calls = []
    x = engine.tensor([1.0, 2.0], dtype=engine.float64, requires_grad=True)
    with saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t):
        with saved_tensors_hooks(
            lambda t: calls.append("inner") or t, lambda t: calls.append("unpack") or t
        ):
            out = (x * x).sum()
        other = x.exp().sum()
    assert calls == ["inner", "inner", "outer"]
    out.backward()
    assert calls.count("unpack") == 2
    other.backward()
    np.testing.assert_allclose(x.grad.tolist(), 2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0]))


def test_hooks_that_compress_to_float16_keep_no_full_precision_copy():
    x = engine.randn(256, 256, requires_grad=True)
    memory.reset_peak_stats()
    before = memory.allocated()
    with saved_tensors_hooks(lambda t: t.to(engine.float16), lambda t: t.to(engine.float32)):
        out = (x.tanh() * 3).sum()
    kept = memory.allocated() - before
    assert kept <= 256 * 256 * 2 + 64  # one float16 copy (tanh's result), not float32
    out.backward()
    assert x.grad is not None


def test_an_in_place_change_after_saving_is_still_caught_with_hooks():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        a = x * 1
        out = (a * a).sum()
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def _model(depth, width, dropout):
    engine.manual_seed(0)
    blocks = []
    for _ in range(depth):
        blocks += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            blocks.append(nn.Dropout(0.25))
    return nn.Sequential(*blocks).double()


def _gradients(model, x, run, seed=7):
    for p in model.parameters():
        p.grad = None
    x.grad = None
    engine.manual_seed(seed)
    run(x).pow(2).sum().backward()
    grads = [p.grad.tolist() for p in model.parameters()]
    return grads + ([x.grad.tolist()] if x.requires_grad else [])


@settings(max_examples=12, deadline=None)
@given(
    depth=st.integers(2, 6),
    width=st.integers(1, 5),
    segments=st.integers(1, 3),
    dropout=st.booleans(),
    input_grad=st.booleans(),
    reentrant=st.booleans(),
)
def test_checkpointed_gradients_equal_plain_ones(
    depth, width, segments, dropout, input_grad, reentrant
):
    model = _model(depth, width, dropout)
    x = engine.tensor(np.linspace(-1, 1, 3 * width).reshape(3, width), requires_grad=input_grad)
    plain = _gradients(model, x, model)
    if reentrant and not input_grad:
        # torch's pitfall, kept: the reentrant variant's output does not require grad when
        # no input does, so backward has nothing to differentiate
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            out = checkpoint(model, x, use_reentrant=True)
        assert not out.requires_grad
        return
    runs = [
        lambda t: checkpoint(model, t, use_reentrant=reentrant),
        lambda t: checkpoint_sequential(
            model, min(segments, len(model)), t, use_reentrant=reentrant
        ),
    ]
    for run in runs:
        for a, b in zip(plain, _gradients(model, x, run), strict=True):
            np.testing.assert_array_equal(a, b)


def test_without_preserving_the_rng_state_dropout_draws_a_new_mask():
    model = _model(3, 8, dropout=True)
    x = engine.tensor(np.linspace(-1, 1, 24).reshape(3, 8), requires_grad=True)
    plain = _gradients(model, x, model)
    fresh = _gradients(
        model, x, lambda t: checkpoint(model, t, use_reentrant=False, preserve_rng_state=False)
    )
    assert any(not np.array_equal(a, b) for a, b in zip(plain, fresh, strict=True))


def test_nested_checkpoints_give_plain_gradients():
    def inner(t):
        return (t * 2).tanh()

    def outer(t):
        return checkpoint(inner, t, use_reentrant=False).exp()

    a = engine.tensor([0.1, 0.2, -0.3], dtype=engine.float64, requires_grad=True)
    checkpoint(outer, a, use_reentrant=False).sum().backward()
    nested, a.grad = a.grad.tolist(), None
    outer(a).sum().backward()
    assert nested == a.grad.tolist()


def test_checkpointing_keeps_less_and_memory_returns_to_baseline():
    model = _model(8, 64, dropout=False)
    x = engine.randn(32, 64, dtype=engine.float64)
    gc.collect()  # reference cycles of earlier tests' graphs
    baseline = memory.allocated()
    kept = {}
    for name, run in [
        ("plain", model),
        ("segments", lambda t: checkpoint_sequential(model, 4, t, use_reentrant=False)),
    ]:
        before = memory.allocated()
        out = run(x)
        kept[name] = memory.allocated() - before
        out.sum().backward()
        del out
        model.zero_grad()
        gc.collect()
        assert memory.allocated() == baseline
    # 3 checkpointed segments keep only their inputs; the last one keeps its 4 saves
    assert kept["segments"] < 0.7 * kept["plain"]


def test_use_reentrant_must_be_passed_explicitly_as_torch_warns():
    x = engine.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint(lambda t: t * 2, x)
    with warnings.catch_warnings(record=True) as torch_caught:
        warnings.simplefilter("always")
        torch.utils.checkpoint.checkpoint(lambda t: t * 2, torch.tensor([1.0], requires_grad=True))
    assert [str(w.message) for w in caught] == [str(w.message) for w in torch_caught]


def test_a_block_that_saves_differently_the_second_time_is_reported():
    runs = []

    def moody(t):
        runs.append(1)
        return t.exp() if len(runs) == 1 else t * 2

    x = engine.tensor([1.0], requires_grad=True)
    out = checkpoint(moody, x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="different number of tensors"):
        out.sum().backward()


def test_a_second_backward_with_retain_graph_recomputes_like_torch():
    x = engine.tensor([0.5, 1.0, 1.5], dtype=engine.float64, requires_grad=True)
    xt = torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64, requires_grad=True)
    y = checkpoint(lambda t: (t * t).exp(), x, use_reentrant=False).sum()
    yt = torch.utils.checkpoint.checkpoint(lambda t: (t * t).exp(), xt, use_reentrant=False).sum()
    for _ in range(2):
        y.backward(retain_graph=True)
        yt.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.tolist(), xt.grad.tolist(), rtol=1e-15)


def test_pack_runs_without_recording_a_graph_as_in_torch():
    modes = {}
    for name, lib, hooks in [
        ("engine", engine, saved_tensors_hooks),
        ("torch", torch, torch.autograd.graph.saved_tensors_hooks),
    ]:
        x = lib.ones(3, requires_grad=True)

        def pack(t, name=name, lib=lib):
            modes.setdefault(name, []).append(lib.is_grad_enabled())
            return t

        with hooks(pack, lambda t: t):
            (x * x).sum()
    assert modes["engine"] == modes["torch"] == [False, False]
