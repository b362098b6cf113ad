"""engine.amp.GradScaler against torch.amp.GradScaler on the CPU: the same scale trajectory,
the same skipped steps and the same parameters, inf/NaN patterns included, and torch's errors."""

import numpy as np
import pytest
import torch

import engine
import engine.nn as nn
import engine.optim as optim
from engine.amp import GradScaler


def _pair(growth_interval=5, init_scale=2.0**10):
    w = nn.Parameter(engine.tensor([1.0, -2.0, 3.0]))
    tw = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    engine_side = (
        w,
        optim.SGD([w], lr=0.01),
        GradScaler("cpu", init_scale, growth_interval=growth_interval),
    )
    torch_side = (
        tw,
        torch.optim.SGD([tw], lr=0.01),
        torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=growth_interval),
    )
    return engine_side, torch_side


@pytest.mark.parametrize("seed", [0, 1])
def test_scale_trajectory_skips_and_parameters_equal_torchs(seed):
    rng = np.random.default_rng(seed)
    (w, opt, scaler), (tw, topt, tscaler) = _pair()
    scales, skipped = [], 0
    for step in range(3000):
        base = rng.standard_normal(3).astype(np.float32)
        kind = rng.random()
        if kind < 0.03:
            base[rng.integers(3)] = np.inf
        elif kind < 0.05:
            base[rng.integers(3)] = np.nan
        moved = []
        for param, optimizer, grad_scaler, lib in [
            (w, opt, scaler, engine),
            (tw, topt, tscaler, torch),
        ]:
            before = param.detach().numpy().copy()
            optimizer.zero_grad()
            loss = grad_scaler.scale((param * lib.tensor(base)).sum())
            loss.backward()
            grad_scaler.step(optimizer)
            grad_scaler.update()
            moved.append(not np.array_equal(before, param.detach().numpy()))
        assert scaler.get_scale() == tscaler.get_scale(), step
        # the same steps skipped: inf/NaN gradients, or a scale so large the product overflows
        assert moved[0] == moved[1], step
        skipped += not moved[0]
        scales.append(scaler.get_scale())
        # torch's CPU SGD fuses a multiply-add: the last bit may differ
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-5)
    steps = list(zip(scales, scales[1:]))
    assert skipped > 50 and any(b > a for a, b in steps) and any(b < a for a, b in steps)
    assert scaler.state_dict() == tscaler.state_dict()


def test_unscale_then_clip_then_step_like_torch():
    (w, opt, scaler), (tw, topt, tscaler) = _pair()
    for param, optimizer, grad_scaler, clip in [
        (w, opt, scaler, engine.nn.utils.clip_grad_norm_),
        (tw, topt, tscaler, torch.nn.utils.clip_grad_norm_),
    ]:
        grad_scaler.scale((param * 100).sum()).backward()
        grad_scaler.unscale_(optimizer)
        clip([param], 1.0)
        grad_scaler.step(optimizer)
        grad_scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "misuse, message",
    [
        ("unscale twice", "unscale_() has already been called on this optimizer"),
        ("step twice", "step() has already been called since the last update()"),
        ("unscale after step", "unscale_() is being called after step()"),
        ("closure", "Closure use is not currently supported"),
    ],
)
def test_misuse_raises_torchs_error(misuse, message):
    for side in _pair():
        param, optimizer, grad_scaler = side
        grad_scaler.scale((param * 2).sum()).backward()
        with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
            if misuse == "unscale twice":
                grad_scaler.unscale_(optimizer)
                grad_scaler.unscale_(optimizer)
            elif misuse == "step twice":
                grad_scaler.step(optimizer)
                grad_scaler.step(optimizer)
            elif misuse == "unscale after step":
                grad_scaler.step(optimizer)
                grad_scaler.unscale_(optimizer)
            else:
                grad_scaler.step(optimizer, closure=lambda: None)


def test_new_scale_state_dict_and_disabled_scaler():
    (w, opt, scaler), (tw, topt, tscaler) = _pair()
    for param, optimizer, grad_scaler in [(w, opt, scaler), (tw, topt, tscaler)]:
        grad_scaler.scale((param * 2).sum()).backward()
        grad_scaler.step(optimizer)
        grad_scaler.update(new_scale=8.0)
    assert scaler.get_scale() == tscaler.get_scale() == 8.0
    restored = GradScaler("cpu")
    restored.load_state_dict(scaler.state_dict())
    assert restored.state_dict() == tscaler.state_dict()
    off = GradScaler("cpu", enabled=False)
    assert off.get_scale() == 1.0 and off.state_dict() == {} and off.scale(w) is w
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        GradScaler("cpu").load_state_dict({})
