"""Shared helpers for the autograd tests: build the same leaves in the engine and in torch, run
the same program on both, and compare gradients."""

from __future__ import annotations

import numpy as np
import torch

import engine
from engine.testing import assert_close


def leaf_pair(values: np.ndarray, contiguous: bool = True):
    """An engine leaf and a torch leaf holding ``values`` (float64), requiring grad.  With
    ``contiguous=False`` both are strided views (every other element of a bigger buffer)."""
    values = np.asarray(values, dtype=np.float64)
    if contiguous:
        return (
            engine.tensor(values, dtype=engine.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True),
        )
    padded = np.stack([values, np.zeros_like(values)], axis=-1)
    ours = engine.tensor(padded, dtype=engine.float64)[..., 0].requires_grad_()
    theirs = torch.tensor(padded, dtype=torch.float64)[..., 0].requires_grad_()
    assert not ours.is_contiguous() or ours.numel() <= 1
    return ours, theirs


def assert_grads_match(ours, theirs, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Each engine gradient equals torch's (None where torch has None)."""
    assert len(ours) == len(theirs)
    for index, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        if reference is None:
            assert mine is None, f"input {index}: torch has no gradient, engine has one"
            continue
        assert mine is not None, f"input {index}: engine gradient is None"
        assert_close(mine, reference, rtol=rtol, atol=atol)


def raises_like_torch(engine_call, torch_call, match: str | None = None):
    """Both calls raise the same exception type; returns the engine's message."""
    try:
        torch_call()
    except Exception as error:  # noqa: BLE001 - any exception type torch raises
        torch_type, torch_message = type(error), str(error)
    else:
        raise AssertionError("torch did not raise")
    try:
        engine_call()
    except Exception as error:  # noqa: BLE001
        assert type(error) is torch_type, (
            f"engine raised {type(error).__name__}, torch {torch_type.__name__}"
        )
        message = str(error)
        if match is not None:
            assert match in message and match in torch_message, (message, torch_message)
        return message
    raise AssertionError(f"engine did not raise (torch raised {torch_type.__name__})")
