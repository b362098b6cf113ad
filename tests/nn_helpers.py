"""Helpers for the engine.nn tests: the same module in the engine and in torch with the same
float64 weights, and error comparison across the two libraries."""

from __future__ import annotations

import numpy as np
import torch

import engine


def to_engine(value: torch.Tensor, requires_grad: bool = False) -> engine.Tensor:
    """An engine tensor with a torch tensor's values and dtype (float64 stays float64)."""
    array = value.detach().numpy()
    result = engine.tensor(np.array(array), dtype=getattr(engine, str(value.dtype).split(".")[-1]))
    return result.requires_grad_(requires_grad)


def copy_weights(ours: engine.nn.Module, theirs: torch.nn.Module) -> None:
    """Make both modules float64 and give the engine's torch's state."""
    theirs.double()
    ours.double()
    ours.load_state_dict({key: to_engine(value) for key, value in theirs.state_dict().items()})


def torch_message(error: Exception) -> str:
    """torch's message with torch's names replaced by the engine's."""
    return str(error).replace("torch.", "engine.")


def same_error(engine_call, torch_call, compare_message: bool = True) -> str:
    """Both calls raise the same exception type (and message, with torch's names replaced by
    the engine's, when ``compare_message``); returns the engine's message."""
    try:
        torch_call()
    except Exception as error:  # noqa: BLE001 - whatever torch raises
        expected_type, expected = type(error), torch_message(error)
    else:
        raise AssertionError("torch did not raise")
    try:
        engine_call()
    except Exception as error:  # noqa: BLE001
        assert type(error) is expected_type, (type(error), expected_type, error)
        if compare_message:
            assert str(error) == expected, (str(error), expected)
        return str(error)
    raise AssertionError(f"engine did not raise (torch raised {expected_type.__name__})")
